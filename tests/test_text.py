"""The one text module: the zh / en chooser, the HTML escaper, and the words for the codes computations return."""

from __future__ import annotations

import importlib

import pytest
from hypothesis import given, strategies as st

from digiops import text
from digiops.text import (FUNNEL_STAGES, KPI_STATUS, SEVERITY, SMART_CRITERIA, SMART_FINDINGS, STATUS_COLOURS,
                          VARIANCE_METHODS, escape_html, in_language, term)

TABLES = {"KPI_STATUS": KPI_STATUS, "SEVERITY": SEVERITY, "FUNNEL_STAGES": FUNNEL_STAGES,
          "SMART_CRITERIA": SMART_CRITERIA, "SMART_FINDINGS": SMART_FINDINGS, "VARIANCE_METHODS": VARIANCE_METHODS}


def test_the_chooser_picks_chinese_for_zh_and_english_otherwise():
    assert in_language("zh", "客户", "Customer") == "客户"
    assert in_language("en", "客户", "Customer") == "Customer"
    assert in_language("", "客户", "Customer") == "Customer"  # anything but zh reads English


@pytest.mark.parametrize("language, expected", [("zh", "已达标"), ("en", "met")])
def test_a_code_is_worded_in_each_language(language, expected):
    assert term(language, SEVERITY, "none") == expected


def test_an_unknown_code_is_shown_as_it_is():
    assert term("zh", KPI_STATUS, "purple") == "purple"


@pytest.mark.parametrize("name", sorted(TABLES))
def test_every_code_has_a_chinese_and_an_english_word(name):
    for code, words in TABLES[name].items():
        assert isinstance(words, tuple) and len(words) == 2, code
        zh, en = words
        assert zh and en and zh != en, code  # each language has its own words


def test_the_status_colours_cover_every_kpi_status_once():
    assert set(STATUS_COLOURS) == set(KPI_STATUS) == set(text.STATUS_MARKS)


def test_the_status_marks_are_distinct_shapes_every_chinese_font_has():
    marks = [text.STATUS_MARKS[status] for status in ("green", "amber", "red")]

    assert len(set(marks)) == 3  # told apart without colour, on black-and-white paper
    for mark in marks:
        mark.encode("gb2312")  # in every Chinese font: no emoji font needed, no empty box


def test_the_escaper_escapes_markup_and_quotes():
    assert escape_html('<script>alert("x")</script> & \'co\'') == (
        "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#x27;co&#x27;")
    assert escape_html("<b>5 > 3 & 'ok'</b>", quote=False) == "&lt;b&gt;5 &gt; 3 &amp; 'ok'&lt;/b&gt;"
    assert escape_html(None) == "None" and escape_html(1.5) == "1.5"


@given(st.text())
def test_escaped_text_holds_no_markup_character(value):
    escaped = escape_html(value)
    assert not {"<", ">", '"', "'"} & set(escaped)
    assert escaped.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"').replace(
        "&#x27;", "'").replace("&amp;", "&") == value


def test_one_module_chooses_and_escapes():
    from digiops import context, summary
    from digiops.dashboard import views

    with pytest.raises(ModuleNotFoundError):
        importlib.import_module("digiops.i18n")
    for module in (context, summary, views):
        assert not hasattr(module, "esc") and not hasattr(module, "t")
    assert context.escape_html is escape_html and context.in_language is in_language
