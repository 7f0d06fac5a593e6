"""Searchable Chinese in Chromium's PDFs: each glyph's text names the ideograph, not a radical that looks the same.

Chromium (Skia) writes a font's ToUnicode CMap by mapping every glyph back to one code point. Noto Sans CJK draws a
radical and the ideograph it stands for with one glyph (门 U+95E8 and ⻔ U+2ED4 share a glyph, so do 示 U+793A and
⽰ U+2F70), and Skia names the radical: the PDF shows 门店, but searching, copying or ``pypdf``'s ``extract_text``
give ⻔店. :func:`searchable` rewrites the text layer only: every CMap destination in the Kangxi Radicals
(U+2F00–U+2FDF) or CJK Radicals Supplement (U+2E80–U+2EFF) block becomes the ideograph it stands for. Glyphs,
content streams and fonts are not touched, so every page looks as it did.

Which ideograph a radical stands for is read from the fonts, not from Unicode: the Supplement block has no
decomposition at all, and for ⼾ (U+2F3E) Unicode's compatibility mapping (戶) is not the glyph the Simplified
Chinese font draws (户, as in 客户). ``resources/cjk_radicals.json`` holds, per Noto CJK region (SC, TC, HK, JP,
KR), every radical whose glyph is also an ideograph's in that region's fonts; it was built once from the installed
Noto Sans and Serif CJK collections (Debian's ``fonts-noto-cjk``) with :func:`table_from_fonts`::

    python -c 'from digiops.deliver import pdftext; pdftext.write_table(pdftext.installed_fonts())'

A Kangxi radical missing from the table falls back to its NFKC form. The region is the one named by the document's
CJK font names (``NotoSansCJKsc-Regular``, ``Noto Sans CJK SC``); a document naming none, or several, reads as SC.

pypdf appends the rewritten CMaps to the PDF as an incremental update: the original bytes stay as they were, and the
update redefines only the ToUnicode streams it changed (about half a second for a report of a dozen pages).

Example:
    >>> cmap = b"1 beginbfchar\\n<6E> <2ED4>\\nendbfchar"
    >>> rewrite_cmap(cmap, ideographs("SC")).decode()
    '1 beginbfchar\\n<6E> <95E8>\\nendbfchar'
    >>> chr(0x95E8)
    '门'
"""

from __future__ import annotations

import io as _io
import json
import re
import subprocess
import unicodedata
from collections.abc import Iterable, Mapping
from functools import lru_cache
from pathlib import Path

from digiops import io, paths
from digiops.errors import StageError

__all__ = ["ideographs", "installed_fonts", "rewrite_cmap", "searchable", "table_from_fonts", "write_table"]

TABLE = paths.RESOURCES_DIR / "cjk_radicals.json"
REGIONS = ("SC", "TC", "HK", "JP", "KR")
DEFAULT_REGION = "SC"
SUPPLEMENT = range(0x2E80, 0x2F00)
KANGXI = range(0x2F00, 0x2FE0)

#: A CJK font's region in its PostScript or family name: NotoSansCJKsc-Bold, Noto Serif CJK TC, SourceHanSansJP.
_REGION_IN_NAME = re.compile(r"(?:CJK|Han ?Sans|Han ?Serif) ?(SC|TC|HK|JP|KR)(?![A-Za-z])", re.IGNORECASE)
_FONT_NAME = re.compile(rb"/(?:BaseFont|FontName|FontFamily)\s*[/(]([^/()<>\[\]\r\n]{1,100})")
_TO_UNICODE = re.compile(rb"/ToUnicode\s*(\d+)\s+(\d+)\s+R")
_STARTXREF = re.compile(rb"startxref\s+(\d+)\s+%%EOF\s*$")
_HEX = rb"<([0-9A-Fa-f\s]*)>"
_SECTION = re.compile(rb"beginbf(char|range)(.*?)endbf\1", re.DOTALL)
_CHAR_ENTRY = re.compile(rb"\s*" + _HEX + rb"\s*" + _HEX)
_RANGE_ENTRY = re.compile(rb"\s*" + _HEX + rb"\s*" + _HEX + rb"\s*(?:" + _HEX + rb"|\[((?:\s*<[0-9A-Fa-f\s]*>)*)\s*\])")
_ARRAY_ITEM = re.compile(_HEX)


def searchable(pdf: bytes) -> bytes:
    """The PDF with every ToUnicode CMap naming ideographs where it named radicals (see the module docstring).

    Only CMap destinations in the two radical blocks change; a CMap that cannot be parsed is left as it was, and a
    PDF with nothing to change (no CJK text, or CJK without radicals) is returned as the very same object.

    Args:
        pdf: a PDF file's bytes, as ``page.pdf()`` returns them.

    Returns:
        The same PDF, plus an incremental update (pypdf's) redefining the rewritten ToUnicode streams.

    Raises:
        StageError: when the bytes are not a PDF pypdf can read.
    """
    from pypdf import PdfReader, PdfWriter
    from pypdf.errors import PdfReadError
    from pypdf.generic import StreamObject

    if b"/ToUnicode" not in pdf and b"/ObjStm" not in pdf:
        return pdf
    try:
        reader = PdfReader(_io.BytesIO(pdf))
        if reader.is_encrypted:  # its streams are encrypted; an update would have to encrypt the CMaps too
            return pdf
        # Font dictionaries are found as text, not parsed: Chromium's Type3 fonts carry /Differences and /Widths
        # arrays hundreds of entries long, and parsing every one would cost most of a second per PDF.
        haystacks = [pdf] + [reader.get_object(number).get_data()  # type: ignore[union-attr]
                             for number in sorted({stream for stream, _ in reader.xref_objStm.values()})]
    except (PdfReadError, ValueError, AttributeError) as error:
        raise StageError("deliver.pdf", f"the printed PDF cannot be read: {type(error).__name__}: {error}",
                         fix="print the report again; if it fails again, open the HTML in Chromium and print it "
                             "from there") from error
    table = ideographs(_document_region(haystacks))
    writer = PdfWriter(reader, incremental=True)  # pypdf appends what changed; the printed bytes stay as they are
    changed = 0
    for number, _ in sorted({(int(n), int(g)) for text in haystacks for n, g in _TO_UNICODE.findall(text)}):
        try:
            stream = writer.get_object(number)
            if not isinstance(stream, StreamObject):
                continue
            cmap = stream.get_data()
        except Exception:  # noqa: BLE001 - a stream pypdf cannot decode keeps its text layer as it was
            continue
        new_cmap = rewrite_cmap(cmap, table)
        if new_cmap is not cmap:
            stream.set_data(new_cmap)
            changed += 1
    if not changed:
        return pdf
    out = _io.BytesIO()
    writer.write(out)
    return out.getvalue()


def rewrite_cmap(cmap: bytes, table: Mapping[int, int]) -> bytes:
    """The CMap with each destination code point found in ``table`` replaced by its value.

    ``bfchar`` destinations are rewritten in place; a ``bfrange`` with a rewritten destination is spelled as an
    array (``<lo> <hi> [<dst> …]``), so every section keeps its entry count. Everything else is kept byte for byte.

    Args:
        cmap: the decoded ToUnicode CMap program.
        table: code point → code point, as :func:`ideographs` returns it.

    Returns:
        The rewritten CMap, or ``cmap`` itself when nothing changed or the CMap cannot be parsed.

    Example:
        >>> rewrite_cmap(b"1 beginbfrange <01> <02> <2F70> endbfrange", {0x2F70: 0x793A})
        b'1 beginbfrange <01> <02> [<793A> <2F71>] endbfrange'
    """
    sections = list(_SECTION.finditer(cmap))
    if len(sections) != cmap.count(b"beginbf"):  # a section without its end: malformed, leave it
        return cmap
    edits: list[tuple[int, int, bytes]] = []
    for section in sections:
        entry = _CHAR_ENTRY if section.group(1) == b"char" else _RANGE_ENTRY
        body, start = section.group(2), section.start(2)
        position = 0
        while (match := entry.match(body, position)) is not None:
            edits += [(start + s, start + e, new) for s, e, new in _entry_edits(match, table)]
            position = match.end()
        if body[position:].strip():
            return cmap
    if not edits:
        return cmap
    rewritten = bytearray(cmap)
    for begin, end, new in reversed(edits):
        rewritten[begin:end] = new
    return bytes(rewritten)


@lru_cache(maxsize=len(REGIONS))
def ideographs(region: str = DEFAULT_REGION) -> dict[int, int]:
    """Radical code point → the ideograph it stands for in ``region``'s Noto CJK fonts (SC, TC, HK, JP or KR).

    The font-derived table of ``resources/cjk_radicals.json``, completed with the NFKC form of the Kangxi radicals
    the fonts draw with a glyph of their own.

    Example:
        >>> chr(ideographs("SC")[0x2F3E]), chr(ideographs("JP")[0x2F3E]), chr(ideographs("SC")[0x2ED4])
        ('户', '戸', '门')
    """
    regions = json.loads(TABLE.read_text(encoding="utf-8"))["regions"]
    table = {ord(radical): ord(ideograph) for radical, ideograph in regions[region.upper()].items()}
    for code in KANGXI:
        if code not in table and len(nfkc := unicodedata.normalize("NFKC", chr(code))) == 1 and nfkc != chr(code):
            table[code] = ord(nfkc)
    return table


def table_from_fonts(fonts: Iterable[Path]) -> dict[str, dict[str, str]]:
    """Region → {radical: ideograph} for every radical that shares its glyph with a unified ideograph.

    Reads each font's best cmap (every face of a ``.ttc`` collection); the region comes from the face's name
    (``Noto Sans CJK SC Bold`` → SC), faces naming none are skipped. Used once, to write ``cjk_radicals.json``.

    Args:
        fonts: font files (``.ttc``, ``.otc``, ``.otf``, ``.ttf``).

    Returns:
        The table, radicals and ideographs as one-character strings, sorted by radical.
    """
    from fontTools.ttLib import TTCollection, TTFont

    found: dict[str, dict[str, str]] = {}
    for font in fonts:
        collection = Path(font).suffix.lower() in (".ttc", ".otc")
        with (TTCollection(font, lazy=True) if collection else TTFont(font, lazy=True)) as opened:
            for face in (opened.fonts if collection else [opened]):
                named = _REGION_IN_NAME.search(face["name"].getDebugName(4) or "")
                if named is None:
                    continue
                cmap = face.getBestCmap()
                sharing: dict[str, list[int]] = {}
                for code, glyph in cmap.items():
                    sharing.setdefault(glyph, []).append(code)
                region = found.setdefault(named.group(1).upper(), {})
                for code, glyph in cmap.items():
                    if code in SUPPLEMENT or code in KANGXI:
                        unified = sorted(other for other in sharing[glyph] if _unified(other))
                        if unified:
                            region.setdefault(chr(code), chr(unified[0]))
    return {region: dict(sorted(table.items())) for region, table in sorted(found.items())}


def installed_fonts() -> list[Path]:
    """The Noto Sans and Serif CJK font files fontconfig knows (``fc-list``), for :func:`table_from_fonts`."""
    listed = "".join(subprocess.run(["fc-list", "-f", "%{file}\n", f":family={family}"], capture_output=True,
                                    text=True, check=True).stdout for family in ("Noto Sans CJK SC", "Noto Serif CJK SC"))
    return sorted({Path(line) for line in listed.splitlines() if line.strip()})


def write_table(fonts: Iterable[Path], target: Path = TABLE) -> Path:
    """Write :func:`table_from_fonts` of ``fonts`` to ``target`` (one line per region, readable in a diff)."""
    fonts = list(fonts)
    table = table_from_fonts(fonts)
    lines = [f"  {json.dumps(region)}: {json.dumps(entries, ensure_ascii=False)}" for region, entries in table.items()]
    about = ("CJK radical -> the unified ideograph drawn with the same glyph, per Noto CJK region; built by "
             "digiops.deliver.pdftext.write_table from " + ", ".join(sorted(Path(font).name for font in fonts)))
    return io.write_text(target, '{\n "about": ' + json.dumps(about) + ',\n "regions": {\n' + ",\n".join(lines)
                         + "\n }\n}\n")


def _unified(code: int) -> bool:
    """A unified ideograph (URO, extension A, extensions B and later), not a compatibility one."""
    return 0x4E00 <= code <= 0x9FFF or 0x3400 <= code <= 0x4DBF or (0x20000 <= code <= 0x3FFFF
                                                                     and not 0x2F800 <= code <= 0x2FA1F)


def _document_region(haystacks: list[bytes]) -> str:
    named = {match.group(1).upper() for text in haystacks for name in _FONT_NAME.findall(text)
             if (match := _REGION_IN_NAME.search(name.decode("latin-1")))}
    return named.pop() if len(named) == 1 else DEFAULT_REGION


def _entry_edits(entry: re.Match, table: Mapping[int, int]) -> list[tuple[int, int, bytes]]:
    """(start, end, replacement) within the section body for one bfchar or bfrange entry."""
    if entry.re is _CHAR_ENTRY:
        new = _rewritten_hex(entry.group(2), table)
        return [] if new is None else [(entry.start(2), entry.end(2), new)]
    if entry.group(4) is not None:  # <lo> <hi> [<dst> …]
        edits = []
        for item in _ARRAY_ITEM.finditer(entry.group(4)):
            new = _rewritten_hex(item.group(1), table)
            if new is not None:
                edits.append((entry.start(4) + item.start(1), entry.start(4) + item.end(1), new))
        return edits
    low, high, first = (re.sub(rb"\s", b"", entry.group(i)) for i in (1, 2, 3))
    try:
        count = int(high, 16) - int(low, 16) + 1
        start = int(first, 16)
    except ValueError:
        return []
    width = max(4, len(first))
    destinations = [b"%0*X" % (width, start + offset) for offset in range(max(count, 0))]
    rewritten = [_rewritten_hex(destination, table) for destination in destinations]
    if all(new is None for new in rewritten):
        return []
    array = b" ".join(b"<" + (new or old) + b">" for old, new in zip(destinations, rewritten))
    return [(entry.start(3) - 1, entry.end(3) + 1, b"[" + array + b"]")]


def _rewritten_hex(digits: bytes, table: Mapping[int, int]) -> bytes | None:
    """The UTF-16BE destination ``digits`` with its radicals replaced, or None when it has none."""
    compact = re.sub(rb"\s", b"", digits)
    if not compact or len(compact) % 4:
        return None
    try:
        text = bytes.fromhex(compact.decode("ascii")).decode("utf-16-be", "surrogatepass")
    except ValueError:
        return None
    replaced = text.translate(table)
    if replaced == text:
        return None
    new = replaced.encode("utf-16-be", "surrogatepass").hex().encode("ascii")
    return new.upper() if compact.upper() == compact else new
