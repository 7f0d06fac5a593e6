"""What client text becomes in the archive's pages: Markdown rendered without raw HTML, remote images or outside
links, chrome escaped, and a Content-Security-Policy on every page so that a page fetches nothing and runs nothing.
"""

from __future__ import annotations

import nbformat
import pandas as pd
import pytest
from bs4 import BeautifulSoup

from digiops import archive
from digiops.context import CONTENT_SECURITY_POLICY
from digiops.labels.report import catalog_html

SCRIPT = "<script>window.__pwned = 1</script>"
IMAGE = '<img src="x" onerror="window.__pwned = 1" class="planted">'


def markdown(source: str) -> BeautifulSoup:
    return BeautifulSoup(archive.ReportExporter().markdown2html({}, source), "html.parser")


def policy(page: str) -> str | None:
    meta = BeautifulSoup(page, "html.parser").find("meta", attrs={"http-equiv": "Content-Security-Policy"})
    return meta and meta["content"]


@pytest.mark.parametrize("source", [
    "![x](http://127.0.0.1:9/x.png)", "[点我](javascript:window.__pwned=1)", "[x](http://127.0.0.1:9/)",
    "<http://127.0.0.1:9/auto>", "bare http://127.0.0.1:9/bare", IMAGE, f"para\n\n{SCRIPT}\n", "[x](//127.0.0.1:9/)",
    "[r][1]\n\n[1]: http://127.0.0.1:9/ref", "```mermaid\n<img src=x onerror=alert(1)>\n```",
])
def test_report_markdown_loads_nothing_runs_nothing_and_links_nowhere_outside(source):
    page = markdown(source)

    assert page.find_all(["img", "script", "a"]) == [], str(page)


def test_report_markdown_keeps_embedded_images_and_links_inside_the_archive():
    page = markdown("![chart](data:image/png;base64,iVBORw0KGgo=) [labels](labels.html#rfm) [top](#top)")

    assert page.find("img")["src"].startswith("data:image/png")
    assert [a["href"] for a in page.find_all("a")] == ["labels.html#rfm", "#top"]


def test_a_rendered_report_carries_the_policy_before_anything_else(tmp_path):
    notebook = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("ctx.md(...)")
    shown = {"text/markdown": f"# 客户 ![x](http://127.0.0.1:9/x.png) {IMAGE}", "text/plain": "<Markdown>"}
    cell.outputs = [nbformat.v4.new_output("display_data", data=shown)]
    notebook.cells = [nbformat.v4.new_markdown_cell(f"## 来源 {IMAGE}"), cell]
    nbformat.write(notebook, tmp_path / "report.ipynb")

    page = archive.render_notebook(tmp_path / "report.ipynb", tmp_path / "report.html", {}).read_text(encoding="utf-8")

    soup = BeautifulSoup(page, "html.parser")
    assert soup.head.find("meta", attrs={"http-equiv": True}) is soup.head.find("meta")  # first in <head>
    assert policy(page) == archive.report_policy(archive.table_script())
    assert policy(page).startswith(CONTENT_SECURITY_POLICY + "; script-src 'sha256-")  # that one script, no other
    assert [s.string for s in soup.find_all("script")] == [archive.table_script()]
    assert soup.find_all("img") == [] and soup.find(class_="planted") is None
    assert f"客户 x {IMAGE}" in soup.get_text()  # a remote image shows its alt text; raw HTML shows as text


def test_the_client_index_escapes_the_client_name_and_carries_the_policy(tmp_path):
    page = archive.write_client_index(tmp_path / "acme", f"示例{SCRIPT}{IMAGE}", "zh").read_text(encoding="utf-8")

    soup = BeautifulSoup(page, "html.parser")
    assert soup.find_all(["script", "img"]) == [] and SCRIPT in soup.find("h1").get_text()
    assert policy(page) == CONTENT_SECURITY_POLICY


def test_the_catalog_page_escapes_every_cell_and_carries_the_policy():
    page = catalog_html(pd.DataFrame({f"标签{IMAGE}": [SCRIPT]}), f"标签目录 · {SCRIPT}")

    soup = BeautifulSoup(page, "html.parser")
    assert soup.find_all(["script", "img"]) == [] and soup.find("td").get_text() == SCRIPT
    assert policy(page) == CONTENT_SECURITY_POLICY
