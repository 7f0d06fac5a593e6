"""Injection: a client whose names, tag names and free text carry HTML, script, Markdown and Jinja syntax, and
spreadsheet formulas. Every rendered page is opened in headless Chromium: no planted script runs, no planted element
appears; every CSV / XLSX the run exports neutralizes formula cells.
"""

from __future__ import annotations

import csv
import re
import shutil
from pathlib import Path

import pytest
from openpyxl import load_workbook

from digiops import demo, paths
from digiops.runner import run_engagement
from tests.browser import launch, need_chromium

pytestmark = [pytest.mark.hardening, pytest.mark.slow, pytest.mark.browser]
SCRIPT = "<script>window.__pwned = (window.__pwned || 0) + 1</script>"
IMAGE = '<img src="x" onerror="window.__pwned = (window.__pwned || 0) + 1" class="planted">'
MARKUP = "{{ 7*7 }} {% raw %} **粗体** [点我](javascript:window.__pwned=1) <b class=\"planted\">b</b>"
FORMULA = '=HYPERLINK("http://attacker.example","点我")'


def plant(client: Path) -> None:
    """The demo engagement on a small generated client, with hostile text in every place a client controls."""
    for name in ("engagement.yaml", "tag_catalog.yaml", "kpi_tree.yaml"):
        shutil.copy(paths.demo_client_dir() / name, client / name)
    engagement = (client / "engagement.yaml").read_text(encoding="utf-8")
    engagement = engagement.replace("name_zh: 示例茶饮", f"name_zh: '示例茶饮{SCRIPT}'")
    engagement = engagement.replace("name_en: Demo Tea Co.", f"name_en: 'Demo {IMAGE}'")
    engagement = re.sub(r"^engagement: .*$", f"engagement: '{MARKUP}'", engagement, count=1, flags=re.M)
    (client / "engagement.yaml").write_text(engagement, encoding="utf-8")
    catalog = (client / "tag_catalog.yaml").read_text(encoding="utf-8")
    catalog = re.sub(r"(name_zh: )(.*)", lambda m: f"{m.group(1)}'{m.group(2).strip(chr(39))}{SCRIPT}'", catalog,
                     count=3)
    (client / "tag_catalog.yaml").write_text(catalog, encoding="utf-8")
    crm = client / "raw" / "crm_customers.csv"
    lines = crm.read_bytes().decode("gb18030").split("\r\n")
    header = next(i for i, line in enumerate(lines) if line.startswith('"客户编号"') or line.startswith("客户编号"))
    for i in range(header + 1, min(header + 40, len(lines) - 1)):
        cells = next(csv.reader([lines[i]]))
        cells[1] = [SCRIPT, IMAGE, MARKUP, FORMULA][i % 4]  # the name column
        lines[i] = ",".join('"' + c.replace('"', '""') + '"' for c in cells)
    crm.write_bytes("\r\n".join(lines).encode("gb18030"))
    actions = client / "raw" / "action_log.csv"
    rows = list(csv.reader(actions.read_text(encoding="utf-8").splitlines()))
    for row in rows[1:4]:
        row[-1] = FORMULA
        row[1] = row[1] + IMAGE
    with open(actions, "w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows(rows)


def exported_cells(run_dir: Path):
    for path in sorted((run_dir / "outputs").rglob("*.csv")):
        with open(path, encoding="utf-8-sig", newline="") as handle:
            for row in csv.reader(handle):
                yield path.name, from_text(row)
    for path in sorted((run_dir / "outputs").rglob("*.xlsx")):
        for sheet in load_workbook(path, read_only=True).worksheets:
            for row in sheet.iter_rows(values_only=True):
                yield path.name, [v for v in row if isinstance(v, str)]


def from_text(row: list[str]) -> list[str]:
    """Numbers in a CSV are text too; a negative number is data, not a formula."""
    return [cell for cell in row if not re.fullmatch(r"-?\d+(\.\d+)?(e-?\d+)?", cell)]


def test_hostile_client_text_is_inert_in_every_page_and_export(tmp_path):
    need_chromium()
    from playwright.sync_api import sync_playwright

    client = tmp_path / "hostile"
    demo.generate(client, people=300)
    plant(client)
    result = run_engagement(client, out=tmp_path / "reports", log=lambda _: None)
    assert result.status == "succeeded", [(s["name"], s.get("error")) for s in result.stages]

    pages = sorted(result.run_dir.glob("*.html")) + [result.run_dir.parent / "index.html"]
    fired = {}
    with sync_playwright() as playwright:
        browser = launch(playwright)
        page = browser.new_page()
        page.route("**/*", lambda route: route.continue_() if route.request.url.startswith("file:")
                   else route.abort())
        for html in pages:
            page.goto(html.as_uri())
            page.wait_for_load_state("load")
            fired[str(html.relative_to(result.run_dir.parent))] = page.evaluate(
                "() => [window.__pwned || 0, document.querySelectorAll('.planted').length,"
                " [...document.querySelectorAll('a[href^=\"javascript\"]')].length,"
                " document.body.innerText.includes('<script>')]")
        browser.close()

    assert {name: f[:3] for name, f in fired.items()} == {name: [0, 0, 0] for name in fired}
    run = result.run_dir.name
    assert fired["index.html"][3] and fired[f"{run}/labels.html"][3]  # the planted text is shown, as text
    print(f"\ninjection: {len(fired)} pages opened in Chromium, planted script fired 0 times")
    for name, cells in exported_cells(result.run_dir):
        dangerous = [c for c in cells if c.startswith(("=", "+", "-", "@"))]
        assert dangerous == [], (name, dangerous[:5])
