"""The demo engagement end to end, as `make demo` runs it: the archive it leaves, checked page by page.

Personal data (issue 9): every HTML page and executed notebook of the run is scanned for the demo client's raw
personal values — phones in every format, emails, names, id numbers, addresses: zero unmasked hits. The unmasked
values may only be in the client folder and the run's Parquet outputs.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import ahocorasick
import pandas as pd
import pytest

from digiops.canonical import PERSON_BEARING_KINDS
from digiops.engagement import load_engagement
from digiops.merge.clerical import header
from digiops.sources import canonical_frame
from tests.test_runner import external_references

pytestmark = pytest.mark.slow
STAGES = ["inventory", "merge", "labels", "kpi", "maturity", "summary", "deliver"]  # maturity reads the others as evidence
PERSONAL = ("phone", "email", "full_name", "national_id", "address")


def personal_values() -> dict[str, str]:
    """Every raw personal value of the demo client (needle → field), in the shapes a page could show it."""
    engagement = load_engagement("demo")
    needles: dict[str, str] = {}
    for name in engagement.sources_of_kind(*PERSON_BEARING_KINDS):
        frame = canonical_frame(engagement, name)
        for field in PERSONAL:
            if field not in frame:
                continue
            for value in frame[field].dropna().unique():
                text = str(value).strip()
                if "*" in text or "＊" in text:
                    continue  # masked by the platform already (梁**, 138****5678): what a page shows masked too
                compact = re.sub(r"\s+", "", text)
                if field == "phone":
                    digits = re.sub(r"\D", "", text)
                    forms = {text, digits[-11:]} if len(digits) >= 11 else set()
                    forms |= {"+86" + digits[-11:]} if forms else set()
                elif field == "full_name":
                    hanzi = bool(re.search(r"[\u4e00-\u9fff]", compact))
                    forms = {compact} if (hanzi and len(compact) >= 3) or len(compact) >= 8 else set()
                else:
                    forms = {text} if len(compact) >= 6 else set()
                needles.update({f: field for f in forms if f and not f.isspace()})
    return needles


def scanned_pages(run_dir: Path) -> list[Path]:
    return sorted(run_dir.glob("*.html")) + sorted((run_dir / "notebooks").glob("*.ipynb"))


def test_every_stage_succeeded_and_is_archived(demo_run):
    manifest = json.loads((demo_run / "manifest.json").read_text(encoding="utf-8"))

    assert [s["name"] for s in manifest["stages"]] == STAGES
    assert all(s["status"] == "succeeded" for s in manifest["stages"])
    for stage in STAGES:
        assert (demo_run / f"{stage}.html").stat().st_size > 10_000
    assert (demo_run / "index.html").read_bytes() == (demo_run / "summary.html").read_bytes()


def test_no_page_fetches_anything_from_another_host(demo_run):
    for page in sorted(demo_run.glob("*.html")):
        assert external_references(page.read_text(encoding="utf-8")) == [], page.name


@pytest.mark.hardening
def test_no_unmasked_personal_value_in_any_page_or_notebook(demo_run):
    needles = personal_values()
    automaton = ahocorasick.Automaton()
    for needle, field in needles.items():
        automaton.add_word(needle, (needle, field))
    automaton.make_automaton()
    hits = []
    for page in scanned_pages(demo_run):
        text = page.read_text(encoding="utf-8")
        hits += [(page.name, field, needle) for _, (needle, field) in automaton.iter(text)]

    assert len(needles) > 10_000  # the scan looks for the real thing
    assert hits == [], hits[:20]
    print(f"\npersonal data: {len(needles):,} raw values searched in {len(scanned_pages(demo_run))} pages and "
          f"notebooks, {len(hits)} unmasked hits")


@pytest.mark.hardening
def test_birth_dates_show_the_year_at_most(demo_run):
    """A birth date shows its year at most in pages, notebooks and the review workbook (issue 18: the national-id
    rule once showed ``1973**4-24``)."""
    customers = pd.read_parquet(demo_run / "outputs" / "merge" / "customers.parquet")
    born = pd.to_datetime(customers["birth_date"].dropna())
    needles = {d.strftime(f) for d in born for f in ("%Y-%m-%d", "%Y/%m/%d", "%Y年%m月%d日")}
    needles |= {f"{d.year}**{d.strftime('%m-%d')[1:]}" for d in born}  # the old leak's shape
    automaton = ahocorasick.Automaton()
    for needle in needles:
        automaton.add_word(needle, needle)
    automaton.make_automaton()
    hits = [(page.name, n) for page in scanned_pages(demo_run) for _, n in automaton.iter(page.read_text("utf-8"))]
    review = pd.read_excel(demo_run / "outputs" / "merge" / "review_pairs.xlsx", dtype=str)

    assert len(needles) > 1_000
    assert hits == [], hits[:20]
    language = load_engagement("demo").language  # the workbook's headers are in the report language
    shown = review[[header("birth_date_l", language), header("birth_date_r", language)]].stack().dropna()
    assert len(shown) and shown.str.fullmatch(r"\d{4}").all(), shown.head().tolist()


def test_unmasked_values_stay_in_parquet_outputs(demo_run):
    customers = pd.read_parquet(demo_run / "outputs" / "merge" / "customers.parquet")

    assert customers["phone"].dropna().str.fullmatch(r"\+861\d{10}").all()  # kept whole for the client's use
    manifest_text = (demo_run / "manifest.json").read_text(encoding="utf-8")
    assert not re.search(r'"[^"]*(password|token|secret)[^"]*"\s*:', manifest_text, re.I)


#: what a reader must never see on a report page: pandas' and Python's words for a missing value, a Python repr,
#: the project's internal references
UNREADABLE = {"nan": r"(?<![\w.])nan(?![\w])", "None": r"(?<![\w.])None(?![\w])", "NaT": r"\bNaT\b", "<NA>": r"<NA>",
              "a Python dict": r"\{'\w+': ", "a Python list": r"\['\w+', '",
              "an internal reference": r"DOMAIN\.md|STYLE\.md|种子 ?0\d\d|\bseeds? 0\d\d|\bissue \d+"}


def readable_text(page: Path) -> tuple[str, list[str], str]:
    """(visible text, H1 texts, <title>) of a page, scripts and styles left out."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")
    for hidden in soup(["script", "style"]):
        hidden.decompose()
    title = soup.title.get_text(strip=True) if soup.title else ""
    return soup.get_text("\n"), [h.get_text(" ", strip=True) for h in soup.find_all("h1")], title


def test_every_page_reads_as_prose_and_tables_for_a_person(demo_run):
    """Issue 21: no `nan`, `None`, Python repr or internal reference on any page; each page titled for its tab
    (not "Notebook") with one H1."""
    found = {}
    for page in sorted(demo_run.glob("*.html")):
        text, headings, title = readable_text(page)
        problems = [f"{len(re.findall(pattern, text))} × {name}" for name, pattern in UNREADABLE.items()
                    if re.search(pattern, text)]
        problems += [f"title {title!r}"] if title in ("", "Notebook") else []
        problems += [f"{len(headings)} H1 headings"] if len(headings) != 1 else []
        if problems:
            found[page.name] = problems
    assert found == {}
