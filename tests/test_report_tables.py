"""A report's long tables as a reader uses them in the browser and on paper (issue 21): sorted by a click (numbers as
numbers, missing values last), filtered by a search with a row count, downloaded whole as CSV, printed on A4 with
the client and run on every page, page numbers, and nothing cut off.

The report is a small executed notebook rendered by :func:`digiops.archive.render_notebook`, opened from disk in
Debian's Chromium under the page's own Content-Security-Policy.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import re

import nbformat
import pandas as pd
import pytest
from bs4 import BeautifulSoup

from digiops import archive
from digiops.context import escaped_styler
from digiops.deliver.pdftext import searchable
from digiops.printing import print_header_css

CLIENT = "示例零售"
RUN_ID = "20261202T173149-418106-f7975e"
ROWS = 30
REGIONS = ("华东", "华北", "华南")
FORMULA = '=HYPERLINK("http://x.example","点我")'


def sales(i: int) -> float | None:
    return None if i % 7 == 3 else float((i * 7919) % 100_000 - 20_000)


def stores() -> pd.DataFrame:
    """30 stores; sales like "1,234" with "–" where missing, a rate like "12.5%", a formula typed into a note."""
    frame = pd.DataFrame({
        "门店": [f"门店 {i:02d}" for i in range(ROWS)],
        "大区": [REGIONS[i % 3] for i in range(ROWS)],
        "销售额": ["–" if sales(i) is None else f"{sales(i):,.0f}" for i in range(ROWS)],
        "达成率": [f"{(i * 37) % 150 / 10:.1f}%" for i in range(ROWS)],
        "备注": [FORMULA if i == 5 else "" for i in range(ROWS)],
    }, index=pd.Index(range(ROWS), name="序号"))
    return frame


def html_output(html: str) -> nbformat.NotebookNode:
    return nbformat.v4.new_output("display_data", data={"text/html": html, "text/plain": "<table>"})


def markdown_output(text: str) -> nbformat.NotebookNode:
    return nbformat.v4.new_output("display_data", data={"text/markdown": text, "text/plain": "<Markdown>"})


def plain_table(rows: int) -> str:
    """A summary-page table: ``display(HTML(...))``, no <thead>, the header a row of <th>."""
    body = "".join(f"<tr><td>分群 {i}</td><td>{(i * 331) % 5000:,}</td><td>{i * 3.3:.1f}%</td></tr>"
                   for i in range(rows))
    return f'<table class="dg-table"><tr><th>RFM 分群</th><th>人数</th><th>占比</th></tr>{body}</table>'


def report_notebook() -> nbformat.NotebookNode:
    frame = stores()
    spanned = pd.DataFrame({"金额": range(12)}, index=pd.MultiIndex.from_product([REGIONS, range(4)],
                                                                                 names=["大区", "门店"]))
    wide = pd.DataFrame({f"第{j:02d}列 指标名称较长": [f"{i * j * 1234.5:,.1f}" for i in range(12)]
                         for j in range(1, 15)})
    cells = [
        nbformat.v4.new_markdown_cell("## 门店销售\n\n各门店本月销售。"),
        nbformat.v4.new_code_cell("stores", outputs=[html_output(escaped_styler(frame.style).to_html())]),
        nbformat.v4.new_code_cell("small", outputs=[html_output(escaped_styler(frame.head(3).style).to_html())]),
        nbformat.v4.new_code_cell("ctx.md(...)", outputs=[markdown_output("## 客户分群")]),
        nbformat.v4.new_code_cell("HTML(...)", outputs=[html_output(plain_table(12))]),
        nbformat.v4.new_markdown_cell("## 明细"),
        nbformat.v4.new_code_cell("spanned", outputs=[html_output(escaped_styler(spanned.style).to_html())]),
        nbformat.v4.new_code_cell("wide", outputs=[html_output(escaped_styler(wide.style.hide(axis="index"))
                                                               .to_html())]),
    ]
    notebook = nbformat.v4.new_notebook()
    notebook.cells = cells
    return notebook


def meta(language: str) -> dict:
    zh = language == "zh"
    return {"language": language, "title": f"{CLIENT} · {'门店复盘' if zh else 'Store review'}", "client": CLIENT,
            "engagement": "测试项目", "period": "2026-01 ~ 2026-06", "run_id": RUN_ID, "generated": "2026-12-02 17:31",
            "stage": "kpi", "nav": [{"name": "run", "title": "≡", "href": "run.html", "status": "succeeded"}],
            "client_index": "../index.html",
            "footer": {"git_commit": "abc1234", "parameter_hash": "p" * 16, "versions": {"digiops": "0.1", "pandas": "3"},
                       "inputs": [{"path": f"raw/file{i}.csv", "bytes": 100 + i, "sha256": "0" * 64}
                                  for i in range(12)]}}


def render(folder, language: str = "zh"):
    folder.mkdir(parents=True, exist_ok=True)
    nbformat.write(report_notebook(), folder / "report.ipynb")
    return archive.render_notebook(folder / "report.ipynb", folder / "report.html", meta(language))


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    return render(tmp_path_factory.mktemp("zh"))


# --- the page as written --------------------------------------------------------------------------------------


def test_the_policy_names_the_one_script_the_page_carries(report):
    page = BeautifulSoup(report.read_text(encoding="utf-8"), "html.parser")
    scripts = page.find_all("script")
    policy = page.find("meta", attrs={"http-equiv": "Content-Security-Policy"})["content"]

    assert len(scripts) == 1 and scripts[0].string == archive.table_script()
    digest = base64.b64encode(hashlib.sha256(scripts[0].string.encode("utf-8")).digest()).decode("ascii")
    assert f"script-src 'sha256-{digest}'" in policy
    assert "unsafe-inline'" not in policy.split("script-src", 1)[1]


HOSTILE = 'Tea "&" Co\\ </style><script>window.__pwned = 1</script>\n广告'


def test_the_print_header_keeps_client_text_inside_its_css_string():
    css = print_header_css(HOSTILE, RUN_ID)

    string = re.search(r'content: (".*?(?<!\\)")', css).group(1)
    assert "</" not in css.lower() and "<" not in css and "\n" not in css
    assert string.count('"') == 2  # the name's own quotes are escapes, not the string's end
    assert print_header_css("", "") == ""


def test_the_rendered_page_carries_its_print_header(report):
    assert print_header_css(CLIENT, RUN_ID) in report.read_text(encoding="utf-8")


# --- in the browser -------------------------------------------------------------------------------------------


WATCH_POLICY = """window.__violations = [];
document.addEventListener("securitypolicyviolation", (e) => window.__violations.push(e.violatedDirective));"""


@pytest.fixture
def page(browser, report):
    context = browser.new_context(accept_downloads=True)
    tab = context.new_page()
    tab.add_init_script(WATCH_POLICY)
    tab.errors = []
    tab.on("console", lambda message: tab.errors.append(message.text) if message.type == "error" else None)
    tab.on("pageerror", lambda error: tab.errors.append(str(error)))
    tab.goto(report.as_uri())
    yield tab
    context.close()


def column(page, table: str, index: int) -> list[str]:
    """The texts of one column of a table's body, top to bottom as shown."""
    return page.eval_on_selector_all(f"{table} tbody tr", f"rows => rows.map(r => r.cells[{index}].textContent.trim())")


def amount(text: str) -> float:
    return float(text.replace(",", ""))


def download(page, table: str) -> list[list[str]]:
    with page.expect_download() as started:
        page.click(f"xpath=//table[@id='{table}']/preceding-sibling::div[@class='dg-tools'][1]/button")
    raw = started.value.path().read_bytes()
    assert raw.startswith("\ufeff".encode("utf-8"))
    return list(csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline="")))


@pytest.mark.browser
def test_the_script_runs_under_the_policy_without_an_error(page):
    assert page.locator(".dg-tools").count() == 4  # stores, segments, spanned, wide: not the small one, not the footer
    assert page.errors == [] and page.evaluate("window.__violations") == []


@pytest.mark.browser
def test_a_click_sorts_a_numeric_column_as_numbers_both_ways_with_missing_values_last(page):
    table = page.locator("table").first
    table_id = table.get_attribute("id")
    header = page.locator(f"#{table_id} thead th", has_text="销售额")
    shown = [sales(i) for i in range(ROWS) if sales(i) is not None]

    header.click()
    ascending = column(page, f"#{table_id}", 3)  # cell 0 is the row's index <th>
    header.click()
    descending = column(page, f"#{table_id}", 3)

    assert [amount(t) for t in ascending if t != "–"] == sorted(shown)
    assert [amount(t) for t in descending if t != "–"] == sorted(shown, reverse=True)
    assert ascending[-4:] == descending[-4:] == ["–"] * 4
    assert header.get_attribute("aria-sort") == "descending"
    # each row keeps its own index cell: row n is still store n
    rows = page.eval_on_selector_all(f"#{table_id} tbody tr",
                                     "rows => rows.map(r => [r.cells[0].textContent.trim(), r.cells[1].textContent])")
    assert all(name == f"门店 {int(index):02d}" for index, name in rows)


@pytest.mark.browser
def test_a_percentage_column_sorts_by_its_value(page):
    table_id = page.locator("table").first.get_attribute("id")

    page.locator(f"#{table_id} thead th", has_text="达成率").click()

    rates = [float(t.rstrip("%")) for t in column(page, f"#{table_id}", 4)]
    assert rates == sorted(rates) and rates != [float(t.rstrip("%")) for t in stores()["达成率"]]


@pytest.mark.browser
def test_the_search_box_filters_rows_and_counts_them_in_the_page_language(page):
    tools = page.locator(".dg-tools").first

    tools.locator("input").fill("华东")

    visible = page.locator("table").first.locator("tbody tr:visible")
    assert visible.count() == 10
    assert all("华东" in text for text in visible.all_inner_texts())
    assert tools.locator(".dg-count").inner_text() == "显示 10 / 30 行"
    assert tools.locator("button").inner_text() == "下载 CSV"


@pytest.mark.browser
def test_the_download_holds_the_whole_table_even_when_filtered(page):
    table_id = page.locator("table").first.get_attribute("id")
    page.locator(".dg-tools input").first.fill("门店 07")

    rows = download(page, table_id)

    header, names = rows[:2], rows[2:]
    assert header[0][1:] == ["门店", "大区", "销售额", "达成率", "备注"] and header[1][0] == "序号"
    assert len(names) == ROWS and [r[1] for r in names] == list(stores()["门店"])
    assert [r[3] for r in names] == list(stores()["销售额"])  # "1,234" and "–" as shown, negatives not prefixed
    assert names[5][5] == "'" + FORMULA  # a formula is text in a spreadsheet


@pytest.mark.browser
def test_a_plain_html_table_gets_its_header_repeated_and_its_tools(page):
    table = page.locator("table.dg-table").first

    assert table.locator("thead th").count() == 3
    table.locator("thead th", has_text="人数").click()
    counts = [amount(t) for t in table.locator("tbody tr td:nth-child(2)").all_inner_texts()]
    assert counts == sorted(counts) and len(counts) == 12


@pytest.mark.browser
def test_a_spanned_table_can_be_searched_and_downloaded_but_not_sorted(page):
    table = page.locator("table").nth(3)  # stores, small, segments, spanned
    table_id = table.get_attribute("id")

    assert table.locator("th.dg-sortable").count() == 0
    rows = download(page, table_id)
    assert len(rows) == 2 + 12 and {len(r) for r in rows} == {3}
    assert [r[0] for r in rows[2:]] == [region for region in REGIONS for _ in range(4)]


@pytest.mark.browser
def test_an_english_report_speaks_english_although_the_client_name_is_chinese(browser, tmp_path):
    context = browser.new_context()
    tab = context.new_page()
    tab.goto(render(tmp_path, "en").as_uri())

    assert tab.locator(".dg-tools button").first.inner_text() == "Download CSV"
    assert tab.locator(".dg-count").first.inner_text() == "30 of 30 rows"
    context.close()


# --- on paper -------------------------------------------------------------------------------------------------


@pytest.mark.browser
def test_a_hostile_client_name_prints_as_text_in_the_page_header(browser, tmp_path):
    from pypdf import PdfReader

    page_file = tmp_path / "page.html"
    page_file.write_text(f"""<!DOCTYPE html><html><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{archive.report_policy(archive.table_script())}">
<style>{archive.chrome_css()}\n{print_header_css(HOSTILE, RUN_ID)}</style></head>
<body><main><h1>report</h1></main></body></html>""", encoding="utf-8")
    context = browser.new_context()
    tab = context.new_page()
    tab.goto(page_file.as_uri())

    header = PdfReader(io.BytesIO(searchable(tab.pdf(format="A4")))).pages[0].extract_text()

    assert tab.evaluate("window.__pwned") is None and "report" in header
    assert re.sub(r"\s+", " ", header).startswith(f'Tea "&" Co\\ </style><script>window.__pwned = 1</script> 广告 · {RUN_ID}')
    context.close()



@pytest.mark.browser
def test_the_printed_report_is_a4_with_client_run_and_page_numbers_on_every_page(page):
    from pypdf import PdfReader

    page.add_style_tag(content=print_header_css(CLIENT, RUN_ID))  # what the archive adds to each page

    pdf = PdfReader(io.BytesIO(searchable(page.pdf(format="A4"))))  # as digiops.deliver.pdf prints it

    texts = [re.sub(r"\s+", " ", p.extract_text()) for p in pdf.pages]
    total = len(pdf.pages)
    assert total >= 3  # a page break before each section after the first
    assert all(round(float(p.mediabox.width) / 72 * 25.4) == 210 for p in pdf.pages)
    assert all(f"{CLIENT} · {RUN_ID}" in text for text in texts)
    assert all(f"{n} / {total}" in text for n, text in enumerate(texts, start=1))
    # each section after the first starts a page: no page holds the end of one table and the start of the next
    assert not any("门店 29" in text and "RFM 分群" in text for text in texts)
    assert not any("分群 11" in text and "金额" in text for text in texts)
    everything = "\n".join(texts)
    assert "下载 CSV" not in everything  # the toolbar is for the screen
    assert "门店 29" in everything  # a long table is printed whole
    assert "raw/file11.csv" in everything  # the footer's provenance is printed open
    # a wide table keeps its last columns: Chromium leaves out of the PDF what falls off the paper
    flat = re.sub(r"\s+", "", everything)  # its headers wrap inside their cells
    assert all(f"第{j:02d}列" in flat for j in range(1, 15))
