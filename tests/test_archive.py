"""Report versions: the internal page shows every section, the client page leaves the technical ones out; the
consultant's commentary sits under its section's heading; the engagement's branding is in the chrome."""

from __future__ import annotations

import nbformat
from bs4 import BeautifulSoup

from digiops import archive, sections

META = {"language": "zh", "title": "示例 · 合并", "client": "示例", "engagement": "e", "period": "p", "run_id": "r1",
        "generated": "g", "stage": "merge", "nav": [], "client_index": None,
        "branding": {"consultancy": "某咨询 <b>", "primary": "#112233", "accent": "#445566",
                     "logo": "data:image/png;base64,iVBORw0KGgo="},
        "footer": {"git_commit": "abc", "versions": {"digiops": "1"}, "parameter_hash": "h",
                   "inputs": [{"path": "raw/crm.csv", "bytes": 1, "sha256": "0" * 64}]}}


def _cell(key: str, heading: str, text: str) -> nbformat.NotebookNode:
    cell = nbformat.v4.new_code_cell("ctx.md(...)", metadata={"tags": [sections.TAG_PREFIX + key]})
    cell.outputs = [nbformat.v4.new_output("display_data", data={"text/markdown": f"## {heading}\n\n{text}"})]
    return cell


def _render(tmp_path, client_version: bool, comments: dict[str, str] | None = None) -> BeautifulSoup:
    notebook = nbformat.v4.new_notebook(cells=[_cell("merge.accounting", "去向", "每一行都有去向。"),
                                               _cell("merge.model", "匹配模型", "权重表在这里。"),
                                               _cell("merge.quarantine", "隔离", "隔离原因。")])
    nbformat.write(notebook, tmp_path / "merge.ipynb")
    page = archive.render_notebook(tmp_path / "merge.ipynb", tmp_path / "out.html", META,
                                   client_version=client_version, comments=comments)
    return BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")


def test_the_client_version_leaves_out_technical_sections_and_the_input_files(tmp_path):
    internal, client = _render(tmp_path, False), _render(tmp_path, True)

    assert sections.BY_KEY["merge.model"].technical and not sections.BY_KEY["merge.quarantine"].technical
    assert "权重表在这里" in internal.get_text() and "raw/crm.csv" in internal.get_text()
    assert "权重表在这里" not in client.get_text() and "匹配模型" not in client.get_text()
    assert "隔离原因" in client.get_text() and "raw/crm.csv" not in client.get_text()
    assert [a.get_text() for a in client.select("#dg-toc a")] == ["去向", "隔离"]


def test_commentary_sits_under_its_heading_and_is_inert(tmp_path):
    comments = {"merge.quarantine": "**重点**：先修手机号。<script>x()</script>", "merge.model": "内部说明"}
    internal, client = _render(tmp_path, False, comments), _render(tmp_path, True, comments)

    box = client.find(class_="dg-commentary")
    assert box["data-section"] == "merge.quarantine" and box.find_previous("h2").get_text(strip=True) == "隔离"
    assert box.find("strong").get_text() == "重点" and "<script>x()</script>" in box.get_text()
    assert len(client.select(".dg-commentary")) == 1  # the technical section's comment stays internal
    assert [b["data-section"] for b in internal.select(".dg-commentary")] == ["merge.model", "merge.quarantine"]
    assert [s.string for s in client.find_all("script")] == [archive.table_script()]


def test_branding_shows_logo_consultancy_and_colours_escaped(tmp_path):
    page = _render(tmp_path, True)

    assert page.select_one(".dg-logo")["src"].startswith("data:image/png;base64,")
    assert page.select_one(".dg-consultancy").get_text() == "某咨询 <b>"
    assert "--dg-primary: #112233" in str(page) and page.select_one(".dg-consultancy b") is None
