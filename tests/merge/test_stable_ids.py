"""Customer ids that last between runs (digiops.merge.stable_ids): the rule on small crosswalks, and a rerun of a
demo-generated client whose exports grew by 5 % and were re-sorted."""

from __future__ import annotations

import csv
import io as text_io
import random
import shutil
from pathlib import Path

import duckdb
import openpyxl
import pandas as pd
import pytest

from digiops.engagement import load_engagement
from digiops.merge.pipeline import run_merge
from digiops.merge.stable_ids import PreviousIds, carry_forward
from digiops.paths import demo_client_dir

MERGE_KINDS = ("customers", "leads", "orders", "shipments")


def _carry(tmp_path: Path, before: dict[str, str], now: dict[str, str], last: int = 0):
    """Records ``crm:<id>`` with their previous and current cluster ids → (ids now, id_changes, counts)."""
    pd.DataFrame({"source": "crm", "record_id": list(before), "customer_id": list(before.values())}).to_parquet(
        tmp_path / "before.parquet")
    con = duckdb.connect()
    con.register("_now", pd.DataFrame({"source": "crm", "record_id": list(now), "customer_id": list(now.values())}))
    con.execute("CREATE TABLE crosswalk_all AS SELECT * FROM _now")
    counts = carry_forward(con, PreviousIds(tmp_path / "before.parquet", last))
    ids = dict(con.execute("SELECT record_id, customer_id FROM crosswalk_all").fetchall())
    changes = con.execute("SELECT * FROM id_changes").df()
    return ids, changes, counts


def test_a_cluster_that_grew_keeps_its_id_and_new_people_are_numbered_after_the_last(tmp_path):
    ids, changes, counts = _carry(tmp_path, {"1": "C0000007", "2": "C0000007", "3": "C0000002"},
                                  {"1": "C0000001", "2": "C0000001", "9": "C0000001", "3": "C0000002",
                                   "4": "C0000003"}, last=12)

    assert ids == {"1": "C0000007", "2": "C0000007", "9": "C0000007", "3": "C0000002", "4": "C0000013"}
    assert changes.empty and counts["ids_kept"] == 2 and counts["ids_new"] == 1
    assert counts["last_customer_number"] == 13  # a retired C0000008…C0000012 is never handed out again


def test_when_clusters_merge_the_id_with_most_prior_records_survives_and_the_others_retire(tmp_path):
    ids, changes, counts = _carry(tmp_path, {"1": "C0000001", "2": "C0000002", "3": "C0000002"},
                                  {"1": "C0000001", "2": "C0000001", "3": "C0000001"})

    assert set(ids.values()) == {"C0000002"}
    assert changes.to_dict("records") == [{"source": "crm", "record_id": "1", "previous_customer_id": "C0000001",
                                           "customer_id": "C0000002", "reason": "merged"}]
    assert counts["ids_retired"] == 1 and counts["records_changed_id"] == 1


def test_when_a_cluster_splits_the_larger_part_keeps_the_id_and_the_other_gets_a_new_one(tmp_path):
    ids, changes, counts = _carry(tmp_path, {"1": "C0000005", "2": "C0000005", "3": "C0000005"},
                                  {"1": "C0000001", "2": "C0000002", "3": "C0000002"}, last=5)

    assert ids == {"1": "C0000006", "2": "C0000005", "3": "C0000005"}
    assert changes[["record_id", "customer_id", "reason"]].to_dict("records") == [
        {"record_id": "1", "customer_id": "C0000006", "reason": "split"}]


def test_without_a_previous_run_the_numbering_stands(tmp_path):
    con = duckdb.connect()
    con.execute("CREATE TABLE crosswalk_all AS SELECT * FROM (VALUES ('a', '1', 'C0000002'), ('a', '2', 'C0000001'))"
                " t(source, record_id, customer_id)")

    counts = carry_forward(con, None)

    assert con.execute("SELECT customer_id FROM crosswalk_all ORDER BY record_id").fetchall() == [
        ("C0000002",), ("C0000001",)]
    assert counts["last_customer_number"] == 2 and con.execute("SELECT count(*) FROM id_changes").fetchall() == [(0,)]


# --- a rerun of a demo-generated client ----------------------------------------------------------------------------
def _rewrite_rows(path: Path, source, keep) -> None:
    """Rewrite the data rows of one export (CSV in its encoding, or the mapped XLSX sheet), its header rows kept:
    ``keep(columns, rows)`` gives the rows to write."""
    header = source.header_row
    if path.suffix == ".xlsx":
        book = openpyxl.load_workbook(path)
        sheet = book[source.sheet] if source.sheet else book.worksheets[0]
        columns = [str(c) for c in next(sheet.iter_rows(min_row=header, max_row=header, values_only=True))]
        rows = [list(r) for r in sheet.iter_rows(min_row=header + 1, values_only=True)]
        sheet.delete_rows(header + 1, len(rows))
        for row in keep(columns, rows):
            sheet.append(row)
        book.save(path)
        return
    encoding = "utf-8-sig" if source.encoding == "auto" else source.encoding
    lines = path.read_bytes().decode(encoding).splitlines(keepends=True)
    head, body = "".join(lines[:header]), "".join(lines[header:])
    columns = next(csv.reader(text_io.StringIO(lines[header - 1])))
    out = text_io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(keep(columns, list(csv.reader(text_io.StringIO(body)))))
    path.write_bytes((head + out.getvalue()).encode(encoding))


def _export(client: Path, folder: Path, keep) -> Path:
    """A copy of ``client`` whose merge sources keep ``keep(source name, id column, columns, rows)``."""
    shutil.copytree(client, folder)
    engagement = load_engagement(folder / "engagement.yaml")
    for name, source in engagement.sources.items():
        if source.kind in MERGE_KINDS:
            _rewrite_rows(engagement.source_path(name), source,
                          lambda columns, rows, n=name, s=source: keep(n, s.id_column, columns, rows))
    return folder


@pytest.fixture(scope="module")
def grown_client(tmp_path_factory) -> tuple[Path, Path]:
    """A demo-generated client's exports at two reviews: the later one holds 5 % more people (every record of
    them appended) and every export re-sorted."""
    from digiops.demo import generate

    root = tmp_path_factory.mktemp("reviews")
    client = root / "client"
    generate(client, people=4000, seed=5)
    for name in ("engagement.yaml", "tag_catalog.yaml", "kpi_tree.yaml"):
        shutil.copy(demo_client_dir() / name, client / name)
    truth = pd.read_csv(client / "truth" / "identity.csv", dtype=str)
    people = sorted(truth["person_id"].dropna().unique())
    newcomers = set(random.Random(1).sample(people, round(len(people) * 0.05 / 1.05)))
    appended = set(truth.loc[truth["person_id"].isin(newcomers), ["source", "record_id"]].itertuples(
        index=False, name=None))

    def earlier_rows(name, id_column, columns, rows):
        at = columns.index(id_column)
        return [r for r in rows if (name, str(r[at])) not in appended]

    shuffle = random.Random(2)
    earlier = _export(client, root / "earlier", earlier_rows)
    later = _export(client, root / "later", lambda name, id_column, columns, rows: shuffle.sample(rows, len(rows)))
    return earlier, later


@pytest.mark.slow
def test_a_rerun_with_5_percent_more_people_and_resorted_exports_keeps_the_ids_of_records_seen_before(grown_client):
    earlier, later = grown_client
    first = run_merge(load_engagement(earlier / "engagement.yaml"))
    second = run_merge(load_engagement(later / "engagement.yaml"),
                       previous=PreviousIds(first.file("crosswalk"), first.headline["last_customer_number"]))

    before = first.crosswalk.set_index(["source", "record_id"])["customer_id"]
    after = second.crosswalk.set_index(["source", "record_id"])["customer_id"]
    seen = before.index.intersection(after.index)
    kept = float((before[seen] == after[seen]).mean())
    print(f"records seen before: {len(seen)} of {len(after)}, kept their id: {kept:.5f}, changes: "
          f"{second.id_changes['reason'].value_counts().to_dict()}")
    assert len(seen) == len(before) and len(after) > 1.03 * len(before) and kept >= 0.999
    assert len(second.id_changes) == int((before[seen] != after[seen]).sum())
    fresh = set(after) - set(before)  # ids of this run no record had before: new people, numbered after the last
    assert fresh and min(int(i[1:]) for i in fresh) > first.headline["last_customer_number"]
