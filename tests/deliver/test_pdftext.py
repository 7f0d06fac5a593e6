"""Issue 21: the Chinese of Chromium's PDFs reads back as the ideographs shown, not as radicals drawn alike.

A client searching a PDF for 门店 must find it, and copying 客户 must paste 客户: pypdf's extraction (which reads
the ToUnicode CMaps, as viewers do) stands in for both. Hand-made PDFs pin each kind of CMap entry; a page printed
by headless Chromium with Noto Sans CJK shows the problem is real and that :func:`searchable` removes it.
"""

from __future__ import annotations

import io
import re
import zlib
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pypdf import PdfReader

from digiops.deliver.pdftext import ideographs, rewrite_cmap, searchable, table_from_fonts
from digiops.errors import StageError

NOTO_SANS_CJK = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")
WORDS = ["门店", "示例", "客户", "目录", "个人信息", "生成时间", "漏斗", "预警", "长期", "风险"]
RADICAL = re.compile("[\u2e80-\u2eff\u2f00-\u2fdf]")
SC_FONT = b"/FontName /AAAAAA+NotoSansCJKsc-Regular /FontFamily (Noto Sans CJK SC)"


def cmap(body: str) -> bytes:
    """A ToUnicode CMap program as Skia writes it, with ``body`` as its bfchar / bfrange sections."""
    return ("/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n/CIDSystemInfo\n<<  /Registry (Adobe)\n"
            "/Ordering (UCS)\n/Supplement 0\n>> def\n/CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n"
            "1 begincodespacerange\n<00> <FF>\nendcodespacerange\n" + body + "\nendcmap\n"
            "CMapName currentdict /CMap defineresource pop\nend\nend\n").encode("ascii")


def stream(data: bytes, compress: bool = True) -> bytes:
    data = zlib.compress(data) if compress else data
    return (b"<< /Length %d%s >>\nstream\n" % (len(data), b" /Filter /FlateDecode" if compress else b"")
            + data + b"\nendstream")


def tiny_pdf(to_unicode: bytes, shown: bytes, *, font_names: bytes = SC_FONT, xref_stream: bool = False) -> bytes:
    """A one-page PDF showing the one-byte codes ``shown`` in a Type3 font (a square per code, as Chromium prints
    CFF fonts) whose ToUnicode CMap is ``to_unicode``; its cross-reference section is a table or a stream."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 400 100] /Resources << /Font << /F1 4 0 R >> >> "
        b"/Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type3 /FontBBox [0 0 1000 1000] /FontMatrix [0.001 0 0 0.001 0 0] "
        b"/CharProcs << /g 6 0 R >> /Encoding << /Type /Encoding /Differences [0 " + b"/g " * 256 + b"] >> "
        b"/FirstChar 0 /LastChar 255 /Widths [" + b"1000 " * 256 + b"] /ToUnicode 7 0 R /FontDescriptor 8 0 R >>",
        stream(b"BT /F1 20 Tf 10 40 Td <" + shown.hex().encode() + b"> Tj ET"),
        stream(b"1000 0 0 0 1000 1000 d1 100 0 800 800 re f", compress=False),
        stream(to_unicode),
        b"<< /Type /FontDescriptor " + font_names + b" /Flags 4 /ItalicAngle 0 /StemV 80 >>",
    ]
    out = bytearray(b"%PDF-1.5\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    where = len(out)
    if xref_stream:
        size = len(objects) + 2
        rows = b"\x00\x00\x00\x00\x00\xff\xff" + b"".join(b"\x01" + o.to_bytes(4, "big") + b"\x00\x00"
                                                             for o in offsets + [where])
        out += (b"%d 0 obj\n<< /Type /XRef /Size %d /W [1 4 2] /Root 1 0 R /Length %d >>\nstream\n"
                % (size - 1, size, len(rows)) + rows + b"\nendstream\nendobj\n")
    else:
        out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
        out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
        out += b"trailer\n<< /Size %d /Root 1 0 R >>\n" % (len(objects) + 1)
    return bytes(out + b"startxref\n%d\n%%%%EOF\n" % where)


def extracted(pdf: bytes) -> str:
    return "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def radicals(text: str) -> list[str]:
    return RADICAL.findall(text)


# --- hand-made PDFs -------------------------------------------------------------------------------------------


def test_radicals_named_by_a_bfchar_cmap_read_back_as_the_ideographs_shown():
    # ⻔ (Supplement, no decomposition) 店, ⽰ (Kangxi) 例: the text layer Chromium writes for 门店示例
    pdf = tiny_pdf(cmap("4 beginbfchar\n<01> <2ED4>\n<02> <5E97>\n<03> <2F70>\n<04> <4F8B>\nendbfchar"),
                   b"\x01\x02\x03\x04")
    assert extracted(pdf) == "⻔店⽰例"

    fixed = searchable(pdf)

    assert extracted(fixed) == "门店示例"
    assert fixed.startswith(pdf)  # glyphs, fonts and page content: the very bytes printed, so the page looks the same
    redefined = re.findall(rb"(\d+) 0 obj\s*<<(.*?)>>", fixed[len(pdf):], re.S)
    assert [n for n, body in redefined if b"/XRef" not in body] == [b"7"]  # the ToUnicode CMap only
    assert len(PdfReader(io.BytesIO(fixed), strict=True).pages) == 1


def test_a_bfrange_reaching_into_the_radicals_is_spelled_out_entry_by_entry():
    pdf = tiny_pdf(cmap("2 beginbfrange\n<01> <04> <2F00>\n<05> <06> <0041>\nendbfrange"), b"\x01\x02\x03\x04\x05\x06")
    assert extracted(pdf) == "⼀⼁⼂⼃AB"

    fixed = searchable(pdf)

    assert extracted(fixed) == "一丨丶丿AB"
    new_cmap = PdfReader(io.BytesIO(fixed)).get_object(7).get_data()
    assert b"<01> <04> [<4E00> <4E28> <4E36> <4E3F>]" in new_cmap
    assert b"<05> <06> <0041>" in new_cmap and b"2 beginbfrange" in new_cmap  # the entry count still holds


def test_an_array_bfrange_and_a_multi_unit_destination_are_rewritten_in_place():
    rewritten = rewrite_cmap(cmap("1 beginbfrange\n<01> <02> [<2ED4> <0041>]\nendbfrange\n"
                                  "1 beginbfchar\n<03> <00412F70>\nendbfchar"), ideographs("SC"))

    assert b"<01> <02> [<95E8> <0041>]" in rewritten
    assert b"<03> <0041793A>" in rewritten


@pytest.mark.parametrize(("font_names", "customer"), [
    (SC_FONT, "客户"),
    (b"/FontName /AAAAAA+NotoSansCJKjp-Regular /FontFamily (Noto Sans CJK JP)", "客戸"),
    (b"/FontName /AAAAAA+DejaVuSans", "客户"),  # no region named: the reports' Simplified Chinese
])
def test_the_fonts_region_decides_which_ideograph_a_shared_glyph_stands_for(font_names, customer):
    # ⼾ U+2F3E: NFKC says 戶, but the SC font draws it with 户's glyph (客户, customer) and the JP font with 戸's
    pdf = tiny_pdf(cmap("2 beginbfchar\n<01> <5BA2>\n<02> <2F3E>\nendbfchar"), b"\x01\x02", font_names=font_names)

    assert extracted(searchable(pdf)) == customer


def test_a_pdf_without_cjk_comes_back_as_it_was():
    pdf = tiny_pdf(cmap("1 beginbfrange\n<20> <7E> <0020>\nendbfrange"), b"Report 2026")

    assert searchable(pdf) is pdf


def test_a_malformed_cmap_is_left_as_it_was():
    broken = cmap("2 beginbfchar\n<01> <2ED4>\n<02> 5E97\nendbfchar")  # a destination without its brackets
    unended = cmap("1 beginbfchar\n<01> <2ED4>\n")
    pdf = tiny_pdf(broken, b"\x01")

    assert rewrite_cmap(broken, ideographs()) is broken
    assert rewrite_cmap(unended, ideographs()) is unended
    assert searchable(pdf) is pdf


def test_a_pdf_ending_in_a_cross_reference_stream_is_updated_with_one():
    pdf = tiny_pdf(cmap("2 beginbfchar\n<01> <2ED8>\n<02> <9669>\nendbfchar"), b"\x01\x02", xref_stream=True)
    assert extracted(pdf) == "⻘险"

    fixed = searchable(pdf)

    assert extracted(fixed) == "青险"
    update = fixed[len(pdf):]
    assert b"/Type /XRef" in update and b"\nxref\n" not in update
    assert len(PdfReader(io.BytesIO(fixed), strict=True).pages) == 1


def test_bytes_that_are_not_a_pdf_are_refused_with_a_fix():
    with pytest.raises(StageError, match="cannot be read.*fix: print the report again"):
        searchable(b"<html>/ToUnicode 7 0 R</html>")


@given(st.dictionaries(st.integers(0, 255), st.one_of(st.integers(0x2E80, 0x2FDF), st.integers(0x20, 0x9FFF)),
                       min_size=1, max_size=40))
def test_only_destinations_in_the_radical_blocks_change(mapping):
    table = ideographs("SC")
    body = "".join(f"<{code:02X}> <{target:04X}>\n" for code, target in mapping.items())
    original = cmap(f"{len(mapping)} beginbfchar\n{body}endbfchar")

    rewritten = rewrite_cmap(original, table)

    section = re.search(rb"beginbfchar(.*)endbfchar", rewritten, re.DOTALL).group(1)
    entries = dict(re.findall(rb"<([0-9A-F]{2})> <([0-9A-F]+)>", section))
    assert {int(code, 16): bytes.fromhex(target.decode()).decode("utf-16-be") for code, target in entries.items()} \
        == {code: chr(table.get(target, target)) for code, target in mapping.items()}
    assert re.sub(rb"<[0-9A-F]+>", b"", rewritten) == re.sub(rb"<[0-9A-F]+>", b"", original)


@pytest.mark.skipif(not NOTO_SANS_CJK.exists(), reason="Noto Sans CJK is not installed (fonts-noto-cjk)")
def test_the_committed_table_is_what_the_installed_noto_fonts_share():
    from_font = table_from_fonts([NOTO_SANS_CJK])
    for region, entries in from_font.items():
        committed = ideographs(region)
        assert {r: i for r, i in entries.items() if chr(committed[ord(r)]) != i} == {}, region
    assert from_font["SC"]["⻔"] == "门" and from_font["SC"]["⼾"] == "户" and from_font["JP"]["⼾"] == "戸"


# --- printed by Chromium --------------------------------------------------------------------------------------


def print_pdf(browser, html: str | Path) -> bytes:
    """``html`` (markup or a file) printed as the deliver stage prints: A4, backgrounds, the page's CSS size."""
    page = browser.new_page()
    try:
        if isinstance(html, Path):
            page.goto(html.resolve().as_uri(), wait_until="load")
        else:
            page.set_content(html, wait_until="load")
        return page.pdf(format="A4", print_background=True, prefer_css_page_size=True)
    finally:
        page.close()


@pytest.mark.browser
def test_chromiums_pdf_of_chinese_words_reads_back_as_those_words(browser):
    words = " ".join(WORDS)
    printed = print_pdf(browser, f"""<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"></head>
        <body style="font-family: 'Noto Sans CJK SC', sans-serif"><h1>{words}</h1><p>{words}</p></body></html>""")
    raw = extracted(printed)
    assert radicals(raw), "Chromium no longer names radicals: issue 21 may be fixed upstream"
    assert "门店" not in raw

    fixed = searchable(printed)

    assert extracted(fixed).split() == WORDS + WORDS  # bold heading and regular paragraph alike
    assert len(PdfReader(io.BytesIO(fixed)).pages) == len(PdfReader(io.BytesIO(printed)).pages) == 1
    assert fixed.startswith(printed)
