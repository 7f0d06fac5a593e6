"""What client text becomes in a report through the stage context: tables (pandas Stylers) and narrative (ctx.md).

Client values (names, file names, column and tag names, free text) must reach a page as text: escaped for HTML and,
in narrative, for Markdown; no image, link or script can come from them.
"""

from __future__ import annotations

from types import SimpleNamespace

import pandas as pd
import pytest
from bs4 import BeautifulSoup
from IPython.core.formatters import DisplayFormatter
from nbconvert.filters.markdown_mistune import markdown2html_mistune

from digiops import context
from digiops.context import StageContext, inert_markdown, md_text

SCRIPT = "<script>window.__pwned = 1</script>"
IMAGE = "![x](http://127.0.0.1:9/x.png)"


@pytest.fixture
def shell(monkeypatch):
    """A kernel's display machinery without a kernel: what a report notebook's cell output goes through."""
    shell = SimpleNamespace(display_formatter=DisplayFormatter())
    monkeypatch.setattr("IPython.get_ipython", lambda: shell)
    with pd.option_context("styler.format.escape", None):
        context._safe_display_defaults()
        yield shell


def shown_html(shell, styler) -> str:
    data, _ = shell.display_formatter.format(styler)
    return data["text/html"]


def hostile_frame() -> pd.DataFrame:
    return pd.DataFrame({"source": [SCRIPT, "crm & co"], f"<b class=planted>{SCRIPT}</b>": [0.123, None],
                         "share": [0.5, 0.25]}, index=pd.Index(["<i>a</i>", "b"], name="<u>idx</u>"))


# --- tables -----------------------------------------------------------------------------------------------------
def test_a_styler_formatted_with_precision_shows_script_as_text(shell):
    html = shown_html(shell, hostile_frame().style.format(precision=1, na_rep="–"))

    soup = BeautifulSoup(html, "html.parser")
    assert soup.find("script") is None and soup.find("b") is None and soup.find("i") is None
    assert soup.find("u") is None
    cells = [td.get_text() for td in soup.find_all("td")]
    assert SCRIPT in cells and "crm & co" in cells  # shown as text, escaped exactly once
    assert "0.1" in cells and "–" in cells  # the number format and na_rep are kept
    assert f"<b class=planted>{SCRIPT}</b>" in [th.get_text() for th in soup.find_all("th")]


@pytest.mark.parametrize("format_call", [
    lambda s: s.format({"share": "{:.1%}"}),  # a per-column dict turns escaping off for every column
    lambda s: s.format("{}", subset=["source"]),
    lambda s: s.format(precision=2).format_index(str.upper, axis=0),
    lambda s: s.format(lambda v: f"«{v}»" if isinstance(v, str) else v, na_rep=""),
])
def test_every_way_of_formatting_a_styler_keeps_client_text_escaped(shell, format_call):
    html = shown_html(shell, format_call(hostile_frame().style))

    soup = BeautifulSoup(html, "html.parser")
    assert (soup.find("script"), soup.find("b"), soup.find("i"), soup.find("u")) == (None, None, None, None)
    assert "&amp;amp;" not in html and "&amp;lt;" not in html  # never escaped twice


def test_escaping_a_styler_is_idempotent_and_keeps_deliberate_markup(shell):
    styler = hostile_frame().style.format({"share": "<b>{:.0%}</b>"}, escape="html")

    first, second = shown_html(shell, styler), shown_html(shell, styler)

    assert first == second
    assert "<b>50%</b>" in first  # the notebook's own markup around a number
    assert "&lt;script&gt;" in first and "&amp;lt;" not in first


def test_a_plain_styler_escapes_labels_too(shell):
    html = shown_html(shell, hostile_frame().style)

    assert "<script>" not in html and "<i>a</i>" not in html and "&lt;i&gt;a&lt;/i&gt;" in html


# --- narrative ----------------------------------------------------------------------------------------------------
@pytest.fixture
def stage(monkeypatch, tmp_path):
    """A stage context of a client whose name carries a Markdown image, a link and a script; what ctx.md shows."""
    name = f"示例茶饮{IMAGE}[点我](http://127.0.0.1:9/link) <http://127.0.0.1:9/auto> {SCRIPT} **粗** _斜_"
    engagement = SimpleNamespace(language="zh", client_name=lambda: name)
    shown = []
    monkeypatch.setattr("IPython.display.display", lambda *objects, **_: shown.extend(objects))
    return StageContext(engagement, "inventory", tmp_path), shown


def rendered(markdown: str) -> BeautifulSoup:
    """Markdown as nbconvert renders an output by default (raw HTML and every link and image kept)."""
    return BeautifulSoup(markdown2html_mistune(markdown), "html.parser")


def test_md_of_a_client_name_with_a_markdown_image_makes_no_image_link_or_script(stage):
    ctx, shown = stage

    ctx.md(f"# 数据盘点 · {ctx.client_name}", f"# Data inventory · {ctx.client_name}")

    page = rendered(shown[0].data)
    assert page.find_all(["img", "script"]) == []
    assert [a.get("class") for a in page.find_all("a")] == [["anchor-link"]]  # only the heading's own anchor
    heading = page.find("h1").get_text()
    assert IMAGE in heading and SCRIPT in heading and "http://127.0.0.1:9/auto" in heading


def test_md_text_keeps_a_client_value_literal_inside_the_narrative(stage):
    ctx, shown = stage

    process, path = "# 流程 | a", "1. 接单 → `ERP`\n- 发货 $5 ~~x~~"  # value-stream names a client wrote

    ctx.md(f"# 标签体系 · {ctx.md_text(ctx.client_name)}")
    ctx.md(f"- **{ctx.md_text(process)}**：{ctx.md_text(path)}")

    heading = rendered(shown[0].data).find("h1")
    assert heading.find(["strong", "em", "img"]) is None
    assert "**粗** _斜_" in heading.get_text() and IMAGE in heading.get_text()
    item = rendered(shown[1].data)
    assert [li.get_text() for li in item.find_all("li")] == ["# 流程 | a：1. 接单 → `ERP` - 发货 $5 ~~x~~"]
    assert item.find(["code", "del", "table", "h1", "ol"]) is None and len(item.find_all("strong")) == 1


@pytest.mark.parametrize("text", [
    "[点我](javascript:window.__pwned=1)", "[ref][1]\n\n[1]: http://127.0.0.1:9/ref", "<http://127.0.0.1:9/auto>",
    "see http://127.0.0.1:9/bare and HTTPS://127.0.0.1:9/upper", "![x](x.png)", "<img src=x onerror=alert(1)>",
    "[^1]\n\n[^1]: http://127.0.0.1:9/note", "- [x] http://127.0.0.1:9/task",
])
def test_inert_markdown_forms_no_link_image_or_tag(text):
    page = rendered(inert_markdown(text))

    assert page.find_all(["a", "img", "script"]) == []


def test_the_narrative_keeps_its_own_markdown():
    page = rendered(inert_markdown("## 来源一览\n\n- **粗体** 与 `code`\n\n> 注意：a & b"))

    assert page.find("h2").get_text().startswith("来源一览")
    assert page.find("strong").get_text() == "粗体" and page.find("code").get_text() == "code"
    assert page.find("blockquote").get_text().strip() == "注意：a & b"


def test_md_text_of_plain_text_is_unchanged():
    assert md_text("示例茶饮 Demo Tea Co. (2026) · 华东") == "示例茶饮 Demo Tea Co. (2026) · 华东"
