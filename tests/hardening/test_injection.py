"""Injection: a client whose every string — names, source and file names, column names, tag and value names, KPI
names, region names, order statuses, questionnaire and value-stream text, free text — carries HTML, script, Markdown
images and links, Jinja syntax and spreadsheet formulas. Every rendered page is opened in headless Chromium, once with
its Content-Security-Policy switched off (escaping alone must hold) and once as a reader opens it: no planted script
runs, no planted element appears, no request leaves the archive; every CSV / XLSX the run exports neutralizes
formula cells.
"""

from __future__ import annotations

import csv
import re
import shutil
from pathlib import Path

import pytest
import yaml
from openpyxl import load_workbook

from digiops import demo, paths
from digiops.runner import run_engagement
from tests.browser import launch, need_chromium

pytestmark = [pytest.mark.hardening, pytest.mark.slow, pytest.mark.browser]
SCRIPT = "<script>window.__pwned = (window.__pwned || 0) + 1</script>"
IMAGE = '<img src="x" onerror="window.__pwned = (window.__pwned || 0) + 1" class="planted">'
BARE = "<img src=x onerror=window.__pwned=(window.__pwned||0)+1 class=planted>"  # no slash, no quote: file names
MARKUP = "{{ 7*7 }} {% raw %} **粗体** [点我](javascript:window.__pwned=1) <b class=\"planted\">b</b>"
REMOTE = ("![x](http://127.0.0.1:9/x.png)[点我](http://127.0.0.1:9/link) <http://127.0.0.1:9/auto> "
          "http://127.0.0.1:9/bare")  # Markdown that would fetch or link outside the archive
FORMULA = '=HYPERLINK("http://attacker.example","点我")'
PRODUCTS = f"products{BARE}"  # a source name
PRODUCTS_FILE = f"raw/商品 {BARE}.csv"  # a raw export's file name
REGION = f"华东{BARE}"  # a region: unit of KPI targets, column label of the KPI matrix

# Every element a planted string could become, and every way a page could reach outside the archive: a link
# counts when it leads anywhere but another file of the archive (javascript:, http:, mailto:, …).
# (the one script of a report, tables.js, is the archive's own: the CSP names its hash)
PLANTED = (".planted, script:not([data-digiops=tables]), iframe, object, embed, link, base, form, [onerror], [onload], "
           "img:not([src^='data:'])")
PROBE = f"""() => [window.__pwned || 0,
    [...document.querySelectorAll("{PLANTED}"), ...[...document.links].filter(a => a.protocol !== 'file:')]
        .map(e => e.outerHTML.slice(0, 120)),
    document.querySelector("meta[http-equiv='Content-Security-Policy']")?.content || '', document.body.innerText]"""


def rewrite_csv(path: Path, change, encoding: str = "utf-8") -> None:
    """Change the rows of a raw CSV export (header included) in place, in its encoding."""
    with open(path, encoding=encoding, newline="") as handle:
        rows = list(csv.reader(handle))
    rows = change(rows) or rows
    with open(path, "w", encoding=encoding, newline="") as handle:
        csv.writer(handle).writerows(rows)


def edit_yaml(path: Path, change) -> None:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


def plant(client: Path) -> None:
    """The demo engagement on a small generated client, with hostile text in every place a client controls."""
    for name in ("engagement.yaml", "tag_catalog.yaml", "kpi_tree.yaml", "logo.png"):
        shutil.copy(paths.demo_client_dir() / name, client / name)
    raw = client / "raw"
    # the consultant's commentary, and the consultancy's name, shown in every page, the PDFs and the deck
    (client / "commentary.md").write_text(f"## summary.kpi\n{SCRIPT} {IMAGE} {MARKUP} {REMOTE}\n\n"
                                          f"## kpi.variance\n### zh\n{BARE} {REMOTE}\n", encoding="utf-8")

    def engagement(data: dict) -> None:
        data["client"].update(name_zh=f"示例茶饮{SCRIPT}{REMOTE}", name_en=f"Demo {IMAGE}")
        data["engagement"] = MARKUP
        sources = data["sources"]
        products = sources.pop("products")
        products.update(path=PRODUCTS_FILE, description=f"{MARKUP} {REMOTE}")
        sources[PRODUCTS] = products
        stores = sources["stores"]["columns"]
        stores[f"门店名称{IMAGE}"] = stores.pop("门店名称")
        data["maturity"].update(question_bank="question_bank.yaml", question_bank_mode="replace")
        data["deliver"]["branding"]["consultancy"] = f"咨询{SCRIPT}{IMAGE}"
    edit_yaml(client / "engagement.yaml", engagement)
    (raw / "products.csv").rename(client / PRODUCTS_FILE)

    def catalog(data: dict) -> None:
        for tag in data["tags"][:3]:
            tag["name"] = {"zh": tag["name"]["zh"] + SCRIPT, "en": tag["name"]["en"] + IMAGE}
            tag["definition"] = f"{tag['definition']} {MARKUP} {REMOTE}"
            for value in tag.get("values", [])[:2]:
                value["name"] = {"zh": value["name"]["zh"] + BARE + REMOTE, "en": value["name"]["en"] + IMAGE}
    edit_yaml(client / "tag_catalog.yaml", catalog)

    def kpi_tree(data: dict) -> None:
        for node in data["strategic_goals"] + data["kpis"]:
            node.update(name_zh=f"{node['name_zh']}{SCRIPT}{REMOTE}", name_en=f"{node['name_en']}{IMAGE}")
    edit_yaml(client / "kpi_tree.yaml", kpi_tree)

    bank = yaml.safe_load(paths.resource("maturity/question_bank.yaml").read_text(encoding="utf-8"))
    for question in bank["questions"]:
        question.update(text_zh=question["text_zh"] + SCRIPT + REMOTE, text_en=question["text_en"] + IMAGE)
    (client / "question_bank.yaml").write_text(yaml.safe_dump(bank, allow_unicode=True, sort_keys=False),
                                               encoding="utf-8")
    book = load_workbook(raw / "maturity_answers.xlsx")
    for row in book["答卷"].iter_rows(min_row=2):
        if row[1].value == "信息技术部":
            row[1].value = f"信息技术部{IMAGE}"
    book.save(raw / "maturity_answers.xlsx")

    crm = raw / "crm_customers.csv"
    lines = crm.read_bytes().decode("gb18030").split("\r\n")
    header = next(i for i, line in enumerate(lines) if line.startswith('"客户编号"') or line.startswith("客户编号"))
    for i in range(header + 1, min(header + 40, len(lines) - 1)):
        cells = next(csv.reader([lines[i]]))
        cells[1] = [SCRIPT, IMAGE, MARKUP, FORMULA][i % 4]  # the name column
        lines[i] = ",".join('"' + c.replace('"', '""') + '"' for c in cells)
    crm.write_bytes("\r\n".join(lines).encode("gb18030"))

    def actions(rows):
        for row in rows[1:4]:
            row[-1] = FORMULA
            row[1] = row[1] + IMAGE
            row[2] = row[2] + REMOTE
    rewrite_csv(raw / "action_log.csv", actions)

    def stores(rows):
        rows[0][1] = f"门店名称{IMAGE}"  # a mapped column
        for row in rows[1:]:
            row[2] = REGION if row[2] == "华东" else row[2]
    rewrite_csv(raw / "stores.csv", stores)
    rewrite_csv(raw / "kpi_targets.csv", lambda rows: [[REGION if c == "华东" else c for c in r] for r in rows])

    def mall_orders(rows):
        rows[0] = [f"{c}{BARE}" if c == "商品名称" else c for c in rows[0]]  # an unmapped column
        status = rows[0].index("订单状态")
        for row in rows[1:4]:
            row[status] = f"已完成{BARE}"  # a status no state knows: the merge's table of unknown statuses
    rewrite_csv(raw / "mall_orders.csv", mall_orders, encoding="utf-8-sig")

    def value_stream(rows):
        for row in rows[1:]:
            row[0], row[1] = row[0] + REMOTE + BARE, row[1] + IMAGE  # process and node: narrative and tables
    rewrite_csv(raw / "value_stream.csv", value_stream)
    rewrite_csv(raw / "maturity_indicators.csv", lambda rows: rows[:1] + [r[:2] + [r[2] + MARKUP] for r in rows[1:]])


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


def open_pages(playwright, pages: list[Path], root: Path, *, bypass_csp: bool) -> dict[str, dict]:
    """Each page in Chromium: the planted script's count, planted elements, requests that left the archive."""
    browser = launch(playwright)
    page = browser.new_context(bypass_csp=bypass_csp).new_page()
    outside: list[str] = []
    page.on("request", lambda request: outside.append(request.url)
            if not request.url.startswith(("file:", "data:")) else None)
    page.route("**/*", lambda route: route.continue_() if route.request.url.startswith(("file:", "data:"))
               else route.abort())
    seen = {}
    for html in pages:
        outside.clear()
        page.goto(html.as_uri())
        page.wait_for_load_state("load")
        page.wait_for_timeout(50)  # an onerror handler runs after the failed load
        fired, planted, policy, text = page.evaluate(PROBE)
        seen[str(html.relative_to(root))] = {"fired": fired, "planted": planted, "requests": list(outside),
                                             "policy": policy, "text": text}
    browser.close()
    return seen


def test_hostile_client_text_is_inert_in_every_page_and_export(tmp_path):
    need_chromium()
    from playwright.sync_api import sync_playwright

    client = tmp_path / "hostile"
    demo.generate(client, people=300)
    plant(client)
    result = run_engagement(client, out=tmp_path / "reports", log=lambda _: None)
    assert result.status == "succeeded", [(s["name"], s.get("error")) for s in result.stages]

    root = result.run_dir.parent
    pages = (sorted(result.run_dir.glob("*.html")) + [root / "index.html"]
             + sorted((result.run_dir / "outputs").rglob("*.html")))
    with sync_playwright() as playwright:
        escaped = open_pages(playwright, pages, root, bypass_csp=True)  # escaping alone
        guarded = open_pages(playwright, pages, root, bypass_csp=False)  # as a reader opens the page

    for seen in (escaped, guarded):
        assert {name: (p["fired"], p["planted"], p["requests"]) for name, p in seen.items()} == {
            name: (0, [], []) for name in seen}
    assert {name: bool(p["policy"]) for name, p in guarded.items()} == {name: True for name in guarded}
    run = result.run_dir.name
    text = {name: p["text"] for name, p in escaped.items()}
    assert "<script>" in text["index.html"] and "<script>" in text[f"{run}/labels.html"]  # shown, as text
    assert "![x](http://127.0.0.1:9/x.png)" in text[f"{run}/inventory.html"]  # the client name's Markdown
    assert PRODUCTS_FILE in text[f"{run}/inventory.html"] and BARE in text[f"{run}/merge.html"]
    assert REGION in text[f"{run}/kpi.html"]  # a column label of the KPI matrix
    assert "订单履约![x](http://127.0.0.1:9/x.png)" in text[f"{run}/maturity.html"]  # value-stream narrative
    print(f"\ninjection: {len(pages)} pages opened twice in Chromium (without and with their CSP): planted script "
          f"fired {sum(p['fired'] for s in (escaped, guarded) for p in s.values())} times, "
          f"{sum(len(p['planted']) for s in (escaped, guarded) for p in s.values())} planted elements, "
          f"{sum(len(p['requests']) for s in (escaped, guarded) for p in s.values())} requests outside the archive")
    for name, cells in exported_cells(result.run_dir):
        dangerous = [c for c in cells if c.startswith(("=", "+", "-", "@"))]
        assert dangerous == [], (name, dangerous[:5])
