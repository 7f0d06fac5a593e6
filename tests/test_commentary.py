"""The consultant's commentary file: parsed per section and language, wrong headings refused with the line."""

from __future__ import annotations

import pytest

from digiops import commentary
from digiops.engagement import load_engagement
from digiops.errors import EngagementError
from tests.conftest import write_engagement


def test_sections_split_by_language_with_shared_text_shown_in_both():
    text = ("intro ignored\n<!-- a note\n## kpi.situation -->\n## kpi.situation\nBoth languages.\n### zh\n中文评论。\n"
            "### en\nEnglish comment.\n\n## summary.kpi\n只有一种。\n")
    comments = commentary.parse(text, "commentary.md")
    assert comments == {"kpi.situation": {"": "Both languages.", "zh": "中文评论。", "en": "English comment."},
                        "summary.kpi": {"": "只有一种。"}}
    zh = commentary.in_language(comments, "zh")
    assert zh["kpi.situation"] == "Both languages.\n\n中文评论。" and "English" not in zh["kpi.situation"]
    assert commentary.in_language(comments, "en")["summary.kpi"] == "只有一种。"


@pytest.mark.parametrize("text, line, words", [
    ("\n## kpi.situaton\ntext\n", 2, ["kpi.situaton", "does not exist", "did you mean 'kpi.situation'"]),
    ("## kpi.funnel\n### fr\ntexte\n", 2, ["### fr", "not a language", "### zh or ### en"]),
    ("## kpi.funnel\na\n## kpi.funnel\nb\n", 3, ["commented twice", "line 1"]),
])
def test_a_wrong_heading_is_refused_naming_file_line_and_fix(text, line, words):
    with pytest.raises(EngagementError) as caught:
        commentary.parse(text, "commentary.md")
    message = str(caught.value)
    assert "commentary.md" in message and f"line {line}" in message
    assert all(word in message for word in words), message


def test_validate_names_a_missing_commentary_file_and_a_logo_that_is_no_image(client_dir):
    from digiops.cli import validate_all

    write_engagement(client_dir, "deliver:\n  commentary: notes.md\n  branding: {logo: logo.png}\n")
    (client_dir / "logo.png").write_text("not an image", encoding="utf-8")
    problems = [str(p) for p in validate_all(str(client_dir / "engagement.yaml"))]
    assert any("commentary file does not exist" in p for p in problems), problems
    assert any("logo 'logo.png' is not a PNG or JPEG" in p for p in problems), problems
    (client_dir / "notes.md").write_text("## kpi.nowhere\n", encoding="utf-8")
    assert any("section 'kpi.nowhere' does not exist" in str(p)
               for p in validate_all(str(client_dir / "engagement.yaml")))


def test_the_demo_commentary_names_real_sections():
    comments = commentary.load(load_engagement("demo"))
    assert {"summary.kpi", "merge.model"} <= set(comments)
