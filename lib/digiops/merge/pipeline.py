"""The merge stage end to end: prepare every source, resolve customers, build golden records and the whole link,
measure data quality and account for every raw row. The notebook calls :func:`run_merge` once and
:func:`write_outputs` once; everything it shows comes from the returned :class:`MergeResult`.

Memory stays bounded by the largest source, not the client: each source is read, cleaned and measured on its
own and written to Parquet (:mod:`digiops.merge.prepare`); every later step is DuckDB SQL over those files in an
in-memory database with a memory limit, which spills to the work folder beyond it. Python touches only what it
must: one call per distinct name for the name features, and the few pairs and profiles the report shows.

With ``engine: spark`` the same SQL runs on Spark (:func:`digiops.engines.make_table`, :func:`~digiops.engines.fetch`,
:func:`~digiops.engines.write_parquet`): every table is written by the executors as Parquet in the work folder, the
stage's DuckDB holds only views over those files, and the driver receives counts and the pairs and profiles
the report shows (``docs/scale-out.md``, *Where each step runs*).
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from functools import cached_property, partial
from pathlib import Path

import pandas as pd

from digiops import engines, io, tables
from digiops.canonical import PERSON_BEARING_KINDS
from digiops.engagement import Engagement
from digiops.errors import SourceError, StageError
from digiops.merge import normalize as nz
from digiops.merge.clean import QUARANTINE_COLUMNS
from digiops.merge.identity import (MATCH_INPUT_FIELDS, UID, LinkModel, features_sql, link_profiles, profiles_sql,
                                    record_key)
from digiops.merge.keys import COUNT_COLUMNS as KEY_COUNT_COLUMNS, key_edges_sql, key_spaces, key_sql
from digiops.merge.prepare import PreparedSource, prepare_all
from digiops.merge.quality import QUALITY_COLUMNS, consistency
from digiops.merge.clerical import read_decisions, review_pairs, review_workbook
from digiops.settings.merge import MergeSettings
from digiops.merge.stable_ids import ID_CHANGE_COLUMNS, PreviousIds, carry_forward
from digiops.merge.survivorship import golden_sql
from digiops.runfolder import RunFolder
from digiops.sql import column, literal, scan
from digiops.merge.wholelink import (UNKNOWN_STATUS_COLUMNS, build_products, channel_of, order_journey,
                                    orders_sql, shipments_sql, unknown_statuses)

MERGE_KINDS = ("customers", "leads", "orders", "shipments", "products", "stores")
PERSON_INPUT = ("full_name", "given_name", "family_name", "phone", "email", "national_id")
#: Columns of the person table (besides source, record_id, kind, _row, _when, _test) and their SQL types.
PERSON_COLUMNS = {**{c: "VARCHAR" for c in MATCH_INPUT_FIELDS}, "birth_date": "DATE", "province": "VARCHAR",
                  "address": "VARCHAR", "member_id": "VARCHAR", "member_level": "VARCHAR",
                  "registered_at": "TIMESTAMP"}
#: DuckDB's share of the memory goal (8 GB for a million people; the rest is Python's and Splink's), and never more
#: than two fifths of the machine's memory.
DUCKDB_MEMORY = os.environ.get("DIGIOPS_DUCKDB_MEMORY") or \
    f"{min(6.0, 0.4 * os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 1e9):.1f}GB"

#: Work folders of runs without a folder of their own: ``digiops-merge-<pid>-<random>`` in the temporary directory
#: (on Spark in the run folder's :data:`WORK`).
WORKSPACE_PREFIX = "digiops-merge-"
WORK = "work"
#: A record's label in review files and the report: ``source:record_id`` (``o`` is table ``profile_of``).
_LABEL = "o.source || ':' || o.record_id"


@dataclass
class MergeResult:
    """Everything the merge stage produced (the outputs of ``docs/architecture.md`` plus what the report shows).

    The large tables (crosswalk, customers, orders, shipments) stay in Parquet files in ``folder`` and are read on
    first use; ``counts`` has their headline figures without reading them.
    """

    prepared: dict[str, PreparedSource]
    folder: Path
    products: pd.DataFrame
    data_quality: pd.DataFrame
    review_pairs: pd.DataFrame
    accounting: pd.DataFrame
    headline: dict[str, int]
    #: orders counted as paid although no ``merge.order_states`` marker knows their status, per source and status
    unknown_statuses: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=UNKNOWN_STATUS_COLUMNS))
    #: the key links (:mod:`digiops.merge.keys`) per link, source and field: rows with a key, linked, no partner
    key_links: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=KEY_COUNT_COLUMNS))
    #: previously seen records whose customer id changed, and why (:mod:`digiops.merge.stable_ids`)
    id_changes: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=ID_CHANGE_COLUMNS))
    model: LinkModel | None = None
    profiles: pd.DataFrame | None = None
    timings: dict[str, float] = field(default_factory=dict)
    workspace: object | None = None  # the temporary folder's handle: removed with the result

    def file(self, name: str) -> Path:
        return self.folder / f"{name}.parquet"

    @cached_property
    def crosswalk(self) -> pd.DataFrame:
        return pd.read_parquet(self.file("crosswalk"))

    @cached_property
    def customers(self) -> pd.DataFrame:
        """The golden records (:data:`digiops.tables.SCHEMAS`; ``birth_date`` as dates)."""
        return pd.read_parquet(self.file("customers"))

    @cached_property
    def orders(self) -> pd.DataFrame:
        return pd.read_parquet(self.file("orders"))

    @cached_property
    def shipments(self) -> pd.DataFrame:
        return pd.read_parquet(self.file("shipments"))

    @cached_property
    def quarantine(self) -> pd.DataFrame:
        """Every quarantined row (a check by hand, tests: the report counts them over the file and shows
        :meth:`quarantine_head`)."""
        return pd.read_parquet(self.file("quarantine"))

    def quarantine_head(self, rows: int = 10) -> pd.DataFrame:
        """The first ``rows`` quarantined rows, read from the file without the rest."""
        return next(io.parquet_frames(self.file("quarantine"), rows),
                    pd.DataFrame(columns=QUARANTINE_COLUMNS)).head(rows)

    def counts(self) -> dict[str, int]:
        """Headline figures for the run manifest."""
        return dict(self.headline)

    def journey(self, order_id: str | None = None) -> pd.DataFrame:
        """One order from channel to delivery (the first shipped order of a known customer by default), read
        from the files without loading every order — personal fields unmasked: mask before display."""
        import duckdb

        with duckdb.connect() as con:
            orders, shipments = scan(self.file("orders")), scan(self.file("shipments"))
            if order_id is None:
                found = con.execute(f"SELECT o.order_id FROM {orders} o SEMI JOIN "
                                    f"{shipments} s ON s.order_id = o.order_id "
                                    "WHERE o.customer_id IS NOT NULL LIMIT 1").fetchall()
                if not found:
                    return pd.DataFrame(columns=["step", "value"])
                order_id = found[0][0]
            order = con.execute(f"SELECT * FROM {orders} WHERE order_id = ?", [order_id]).df()
            shipment = con.execute(f"SELECT * FROM {shipments} WHERE order_id = ?", [order_id]).df()
        return order_journey(order, shipment, self.products, self.customers, order_id)


# --- the stage ----------------------------------------------------------------------------------------------------
def _connect(folder: Path):
    """The stage's DuckDB: in memory up to :data:`DUCKDB_MEMORY`, spilling to ``folder/spill`` beyond it. (A
    database file was 1.4x slower at a million people: every intermediate table was compressed and written.)"""
    import duckdb

    con = duckdb.connect(":memory:")
    con.execute("SET enable_progress_bar = false")
    con.execute(f"SET memory_limit = '{DUCKDB_MEMORY}'")
    con.execute(f"SET temp_directory = {literal(str(folder / 'spill'))}")
    con.execute("SET preserve_insertion_order = false")
    return con


def _person_query(prepared: dict[str, PreparedSource], names: list[str], position: dict[str, int]) -> str:
    """One row per cleaned record of the person sources, every person column present (null when not mapped)."""
    parts = []
    for name in names:
        source = prepared[name]
        typed = ", ".join(f"{column(source.columns, c, kind)} AS {c}" for c, kind in PERSON_COLUMNS.items())
        parts.append(f"SELECT source, record_id, {literal(source.kind)} AS kind, {position[name]} AS _position, "
                     f"_row, _when, coalesce(_test, false) AS _test, {typed} "
                     f"FROM {source.scan}")
    return " UNION ALL ".join(parts)


def _key_target(con, settings: MergeSettings, name: str, keyed: PreparedSource,
                people: dict[str, PreparedSource],
                engine: engines.EngineSettings | None = None) -> tuple[str, str] | None:
    """(source, field) a customer_key names: configured, else the customers source whose member ids it hits most."""
    if name in settings.customer_keys:
        link = settings.customer_keys[name]
        return (link.source, link.field) if link.source else None
    keys = f"SELECT DISTINCT {key_sql('customer_key')} AS k FROM {keyed.scan} WHERE customer_key IS NOT NULL"
    total = engines.fetch(con, f"SELECT count(*) FROM ({keys})", engine)[0][0]
    best, best_share = None, 0.0
    for person, source in people.items():
        for field_name in ("member_id", "record_id"):
            if field_name in source.columns and total and person != name:
                hits = engines.fetch(con, f"SELECT count(*) FROM ({keys}) k SEMI JOIN {source.scan} p "
                                          f"ON {key_sql(f'p.{field_name}')} = k.k", engine)[0][0]
                if hits / total > best_share:
                    best, best_share = (person, field_name), hits / total
    return best if best_share >= 0.5 else None


def remove_orphaned_workspaces(root: Path | None = None) -> list[Path]:
    """Remove the work folders of merge runs whose process is gone (killed: a finished run removes its own).

    A folder is named after its process id; one whose process still runs, or that cannot be read, is left alone.
    At a million people a folder holds about 2 GB of prepared sources and spilled tables. Returns what was removed.
    """
    removed = []
    for path in Path(root or tempfile.gettempdir()).glob(f"{WORKSPACE_PREFIX}*-*"):
        pid = path.name[len(WORKSPACE_PREFIX):].split("-", 1)[0]
        if not pid.isdigit() or not path.is_dir():
            continue
        try:
            os.kill(int(pid), 0)
            continue  # still running
        except ProcessLookupError:
            pass
        except PermissionError:
            continue  # another user's live process
        shutil.rmtree(path, ignore_errors=True)
        removed.append(path)
    return removed


def run_merge(engagement: Engagement, settings: MergeSettings | None = None, *,
              folder: Path | None = None, previous: PreviousIds | None = None,
              work_root: Path | None = None) -> MergeResult:
    """Run the whole merge stage on an engagement (never reads truth).

    Args:
        folder: where the work files go (a temporary folder, removed with the result, by default).
        work_root: where that temporary folder is made (the system's temporary directory by default; on Spark the
            run folder, which the executors reach).
        previous: the client's previous run, whose customer ids this run carries forward
            (:mod:`digiops.merge.stable_ids`); ``None`` numbers the customers afresh.
    """
    settings = settings or engagement.merge
    as_of = settings.as_of or nz.today()
    timings: dict[str, float] = {}
    workspace = None
    if folder is None:
        remove_orphaned_workspaces(work_root)
        if work_root is not None:
            work_root.mkdir(parents=True, exist_ok=True)
        workspace = tempfile.TemporaryDirectory(prefix=f"{WORKSPACE_PREFIX}{os.getpid()}-", dir=work_root)
        folder = Path(workspace.name)
    folder.mkdir(parents=True, exist_ok=True)

    clock = time.perf_counter()
    names = [n for n, s in engagement.sources.items() if s.kind in MERGE_KINDS]
    prepared = prepare_all(engagement, names, folder / "sources", as_of=as_of, earliest=settings.earliest_date,
                           test_markers=settings.test_markers, timezone=settings.timezone)
    timings["prepare"] = time.perf_counter() - clock

    kind = {n: engagement.sources[n].kind for n in names}
    position = {n: i for i, n in enumerate(names)}
    people = {n: s for n, s in prepared.items() if kind[n] in PERSON_BEARING_KINDS
              and any(c in s.columns for c in PERSON_INPUT)}
    linkable = {n: s for n, s in prepared.items() if kind[n] in PERSON_BEARING_KINDS}
    con = _connect(folder)
    try:
        model, profiles, review, key_counts = _resolve(con, engagement, settings, prepared, people, linkable, kind,
                                                       position, timings)
        # Without a person source a customer is called by its key, the same in every run: nothing to carry.
        clock = time.perf_counter()
        ids = carry_forward(con, previous if people else None, engine=engagement.engine)
        id_changes = engines.fetch_frame(con, "SELECT * FROM id_changes ORDER BY source, record_id", engagement.engine)
        timings["stable_ids"] = time.perf_counter() - clock
        _write_table(con, "SELECT * FROM crosswalk_all", folder / "crosswalk.parquet", "crosswalk", engagement.engine,
                     order_by=("_position", "_row"))

        clock = time.perf_counter()
        _customers(con, engagement, settings, prepared, people, kind, folder / "customers.parquet")
        con.execute("DROP VIEW IF EXISTS person")
        timings["survivorship"] = time.perf_counter() - clock

        clock = time.perf_counter()
        source_of = lambda k: {n: (s.scan, s.columns) for n, s in prepared.items()  # noqa: E731
                               if kind[n] == k}
        stores = [s.clean() for n, s in prepared.items() if kind[n] == "stores"]
        engine = engagement.engine
        orders = orders_sql(con, source_of("orders"), "crosswalk_all", pd.concat(stores) if stores else None,
                            order_channels=settings.order_channels, region_by_province=settings.region_by_province,
                            order_states=settings.order_states, engine=engine)
        _write_table(con, orders, folder / "orders.parquet", "orders", engine, order_by=("_position", "_row"))
        # the merge's own files, read where the engine runs
        written = {name: scan(folder / f"{name}.parquet") for name in ("orders", "customers")}
        unknown = unknown_statuses(engines.fetch_frame(
            con, f"SELECT source, status, count(DISTINCT order_id) AS orders, CAST(sum(amount) AS DOUBLE) AS amount "
                 f"FROM {written['orders']} WHERE state = 'paid' AND status IS NOT NULL GROUP BY source, status",
            engine), settings.order_states)
        shipments, lost = shipments_sql(con, source_of("shipments"), source_of("orders"), as_of=as_of,
                                        failed_markers=settings.failed_markers, engine=engine)
        engines.make_table(con, "shipments", shipments, engine)
        _write_table(con, "SELECT * FROM shipments", folder / "shipments.parquet", "shipments", engine,
                     order_by=("_position", "_row"))
        quarantined = _write_quarantine(con, prepared, lost, folder / "quarantine.parquet", engine)
        products = build_products([s.clean() for n, s in prepared.items() if kind[n] == "products"])
        timings["whole_link"] = time.perf_counter() - clock

        used = {"orders": f"SELECT source, count(*) FROM {written['orders']} GROUP BY 1",
                "shipments": "SELECT _source, count(*) FROM shipments GROUP BY 1",
                "people": "SELECT source, count(*) FROM crosswalk_all GROUP BY 1"}
        used = {k: dict(engines.fetch(con, q, engine)) for k, q in used.items()}
        accounting = account(prepared, quarantined, used, kind)

        clock = time.perf_counter()
        quality = pd.concat([s.quality for s in prepared.values()], ignore_index=True)
        if len(quality):
            quality = consistency(con, quality, {n: scan(s.consistency_file) for n, s in prepared.items()},
                                  "crosswalk_all", written["customers"], engine)
        quality = quality.reindex(columns=QUALITY_COLUMNS)
        timings["quality"] = time.perf_counter() - clock
        headline = {"records": sum(used["people"].values()),
                    "customers": engines.fetch(con, "SELECT count(DISTINCT customer_id) FROM crosswalk_all",
                                               engine)[0][0],
                    "quarantined": sum(quarantined.values()),
                    "orders": engines.fetch(con, f"SELECT count(DISTINCT order_id) FROM {written['orders']}",
                                            engine)[0][0],
                    "order_lines": sum(used["orders"].values()),
                    "shipments": sum(used["shipments"].values()), "rows_in": int(accounting["rows_in"].sum()),
                    "review_pairs": len(review), "unknown_statuses": len(unknown),
                    "unknown_status_orders": int(unknown["orders"].sum()),
                    "key_links_made": int(key_counts["linked"].sum()),
                    "keys_without_partner": int(key_counts["no_partner"].sum()),
                    # how the people were linked: a client below merge.min_profiles_for_model gets exact rules
                    "profiles": model.n_profiles if model is not None else 0,
                    "deterministic_linking": int(model is not None and model.method == "deterministic"), **ids}
    finally:
        con.close()
    # spill files are work files; the Parquet outputs stay with the result
    shutil.rmtree(folder / "spill", ignore_errors=True)
    return MergeResult(prepared=prepared, folder=folder, products=products, data_quality=quality,
                       review_pairs=review, accounting=accounting,
                       headline={k: int(v) for k, v in headline.items()}, unknown_statuses=unknown,
                       key_links=key_counts, id_changes=id_changes, model=model,
                       profiles=profiles, timings=timings, workspace=workspace)


def _key_links(con, settings: MergeSettings, people: dict[str, PreparedSource],
               linkable: dict[str, PreparedSource], kind: dict[str, str], position: dict[str, int],
               engine: engines.EngineSettings | None = None) -> pd.DataFrame:
    """The certain links of :mod:`digiops.merge.keys` between records: table ``key_edges`` (``unique_id_l``,
    ``unique_id_r``: record keys). Returns the links' counts per source and field.

    Run before the features are built: its 27 M keys at a million people then have the stage's memory to
    themselves (a quarter faster than beside the feature tables, which pushed them to spill)."""
    columns = {n: s.columns for n, s in linkable.items()}
    targets = {}
    declared = {link.ends[0] for link in settings.key_links}
    for name, source in linkable.items():
        if "customer_key" in source.columns and (name, "customer_key") not in declared:
            target = _key_target(con, settings, name, source, people, engine)
            if target is not None:
                targets[name] = target
    channels = {n: channel_of(n, settings.order_channels.get(n)) for n in linkable if kind[n] == "orders"}
    spaces = key_spaces(settings, {n: kind[n] for n in linkable}, columns, channels, targets)
    return key_edges_sql(con, spaces, {n: s.scan for n, s in linkable.items()}, columns,
                         {n: (lambda row, p=position[n]: record_key(str(p), row)) for n in linkable}, engine)


def _profile_key_links(con, linkable: dict[str, PreparedSource], position: dict[str, int],
                       engine: engines.EngineSettings | None = None) -> None:
    """The key links of :func:`_key_links` in profile space (after :func:`profiles_sql`): table
    ``profile_key_edges`` (``unique_id_l``, ``unique_id_r``: a record's profile, or the record itself when it has
    none) and table ``key_nodes`` (``unique_id``, ``source``, ``record_id``, ``_position``, ``_row``: the linked
    records without a profile, such as receipts that carry only a member card)."""
    make = partial(engines.make_table, con, engine=engine)
    make("key_node_ids", f"""
        SELECT {UID} FROM (SELECT {UID}_l AS {UID} FROM key_edges UNION SELECT {UID}_r FROM key_edges)
        ANTI JOIN profile_of USING ({UID})""")
    # their source and record id, from the sources they are in (the key tables carry integers and keys only)
    positions = {p for p, in engines.fetch(con, f"SELECT DISTINCT ({UID} >> 40)::INTEGER FROM key_node_ids", engine)}
    found = [n for n in linkable if position[n] in positions]
    records = " UNION ALL ".join(
        f"SELECT {record_key(str(position[n]), '_row')} AS {UID}, {literal(n)} AS source, record_id, "
        f"{position[n]} AS _position, _row FROM {linkable[n].scan}" for n in found)
    make("key_nodes", f"SELECT r.* FROM ({records}) r SEMI JOIN key_node_ids USING ({UID})" if found else
         f"SELECT NULL::BIGINT AS {UID}, NULL::VARCHAR AS source, NULL::VARCHAR AS record_id, "
         "NULL::INTEGER AS _position, NULL::BIGINT AS _row WHERE false")
    make("profile_key_edges", f"""
        SELECT DISTINCT coalesce(a.profile, e.{UID}_l) AS {UID}_l, coalesce(b.profile, e.{UID}_r) AS {UID}_r
        FROM key_edges e LEFT JOIN profile_of a ON a.{UID} = e.{UID}_l LEFT JOIN profile_of b ON b.{UID} = e.{UID}_r
        WHERE coalesce(a.profile, e.{UID}_l) <> coalesce(b.profile, e.{UID}_r)""")
    for table in ("key_edges", "key_node_ids"):
        engines.drop_table(con, table)


def _resolve(con, engagement: Engagement, settings: MergeSettings, prepared: dict[str, PreparedSource],
             people: dict[str, PreparedSource], linkable: dict[str, PreparedSource], kind: dict[str, str],
             position: dict[str, int], timings: dict[str, float]):
    """Identity resolution: table ``crosswalk_all`` (source, record_id, customer_id, match_probability, _position,
    _row) for the person sources and the records a key links to them, and the model, profiles, review pairs and
    the key links' counts."""
    clock = time.perf_counter()
    if not people:
        _key_only(con, {n: s for n, s in linkable.items() if "customer_key" in s.columns}, position,
                  engagement.engine)
        timings["identity"] = time.perf_counter() - clock
        return None, None, pd.DataFrame(), pd.DataFrame(columns=KEY_COUNT_COLUMNS)
    key_counts = _key_links(con, settings, people, linkable, kind, position, engagement.engine)
    # a view over the prepared files: a copy of 12 M records would only push the steps after it to spill
    person = _person_query(prepared, list(people), position)
    # (on Spark the executors read the prepared files and make the features and profiles)
    engines.make_view(con, "person", person, engagement.engine)
    features_sql(con, "person", engagement.engine)
    profiles_sql(con, engagement.engine)
    _profile_key_links(con, linkable, position, engagement.engine)
    timings["features"] = time.perf_counter() - clock
    decisions = profiled = None  # the reviewer's decisions by record label, and by profile id
    if settings.review_file:
        path = engagement.folder / settings.review_file
        if not path.is_file():
            raise SourceError(engagement.file.name, f"review file '{settings.review_file}' does not exist",
                              field="merge.review_file", fix="give the path of a reviewed review_pairs.xlsx")
        decisions = read_decisions(path, settings.review_file)
        con.register("_decided", pd.DataFrame({"label": pd.concat([decisions["unique_id_l"],
                                                                   decisions["unique_id_r"]]).astype(str).unique()}))
        # a record is its profile, or itself when only a key links it (an order without personal fields)
        to_profile = dict(con.execute(f"SELECT d.label, o.profile FROM profile_of o JOIN _decided d "
                                      f"ON d.label = {_LABEL} UNION ALL SELECT d.label, o.{UID} FROM key_nodes o "
                                      f"JOIN _decided d ON d.label = {_LABEL}").fetchall())
        con.unregister("_decided")
        # a record not in this run stays null: link_profiles reports it as not found
        profiled = decisions.assign(**{side: decisions[side].map(to_profile).astype("Int64")
                                       for side in ("unique_id_l", "unique_id_r")})
    model = link_profiles(con, "profiles", link_fields=settings.link_fields, blocking_rules=settings.blocking_rules,
                          match_threshold=settings.match_threshold, review_lower=settings.review_lower,
                          u_max_pairs=settings.u_max_pairs, seed=settings.seed, decisions=profiled,
                          engine=engagement.engine, min_profiles=settings.min_profiles_for_model,
                          key_edges="profile_key_edges", key_nodes="key_nodes")
    # decided profile pairs are listed for review no more; the report names each decision by the reviewer's labels
    decided = {}
    if decisions is not None:
        decided = {tuple(sorted((left, right))): decision for left, right, decision
                   in model.decisions[["unique_id_l", "unique_id_r", "decision"]].dropna().itertuples(index=False)}
        model.decisions = decisions.assign(applied=model.decisions["applied"].to_numpy())
    threshold = float(settings.match_threshold)
    # A record's best link is its profile's strongest accepted pair; 1.0 when identical records share a profile.
    # Staff test orders are no customer: they are kept out of matching (a placeholder name and the shop's own
    # address would pull them into real customers) and all go to one test account, numbered first.
    engines.make_table(con, "crosswalk_all", f"""
        WITH best AS (
            SELECT profile, max(p) AS p FROM (
                SELECT {UID}_l AS profile, match_probability AS p FROM pairs WHERE match_probability >= {threshold!r}
                UNION ALL
                SELECT {UID}_r, match_probability FROM pairs WHERE match_probability >= {threshold!r}
                UNION ALL
                SELECT {UID}_l, 1.0 FROM profile_key_edges UNION ALL SELECT {UID}_r, 1.0 FROM profile_key_edges)
            GROUP BY profile),
        linked AS (
            SELECT p.source, p.record_id, c.cluster, CASE WHEN p.shared > 1 THEN 1.0 ELSE b.p END
                       AS match_probability, p._position, p._row
            FROM profile_of p JOIN clusters c ON c.profile = p.profile LEFT JOIN best b ON b.profile = p.profile
            UNION ALL
            SELECT k.source, k.record_id, c.cluster, 1.0, k._position, k._row
            FROM key_nodes k JOIN clusters c ON c.profile = k.{UID}
            -- records a key links only to each other (a refund receipt and its walk-in sale) stay anonymous
            WHERE c.cluster IN (SELECT c2.cluster FROM clusters c2 SEMI JOIN profile_of o ON o.profile = c2.profile)
            UNION ALL
            SELECT source, record_id, NULL, 1.0, _position, _row FROM features WHERE _test),
        numbered AS (
            SELECT cluster, printf('C%07d', row_number() OVER (ORDER BY cluster NULLS FIRST)) AS customer_id
            FROM (SELECT DISTINCT cluster FROM linked))
        SELECT l.source, l.record_id, n.customer_id, l.match_probability, l._position, l._row
        FROM linked l JOIN numbered n ON n.cluster IS NOT DISTINCT FROM l.cluster""", engagement.engine)
    # What the report shows: the review band (closest to the threshold first), and a sure match, the pair nearest
    # the threshold and the weakest pair as examples; with the profiles they name.
    order = f"abs(match_probability - {threshold!r}), {UID}_l, {UID}_r"
    shown = con.sql(f"""
        (SELECT * FROM pairs WHERE match_probability >= {float(settings.review_lower)!r}
             AND match_probability < {threshold!r} ORDER BY {order}
             LIMIT {int(settings.max_review_pairs) + len(decided)})
        UNION (SELECT * FROM pairs ORDER BY match_probability DESC, {UID}_l, {UID}_r LIMIT 1)
        UNION (SELECT * FROM pairs ORDER BY {order} LIMIT 1)
        UNION (SELECT * FROM pairs ORDER BY match_probability, {UID}_l, {UID}_r LIMIT 1)""").df()
    if decided:
        shown["decision"] = [decided.get(tuple(sorted((int(a), int(b))))) for a, b in
                             zip(shown[f"{UID}_l"], shown[f"{UID}_r"])]
    con.register("_shown", pd.DataFrame({UID: pd.concat([shown[f"{UID}_l"], shown[f"{UID}_r"]]).unique()}))
    # each side cut to the shown profiles before the join: the driver's DuckDB never builds a table of every record
    profiles = con.sql(f"SELECT o.label, p.* FROM (SELECT * FROM profiles SEMI JOIN _shown USING ({UID})) p "
                       f"JOIN (SELECT {UID}, {_LABEL} AS label FROM profile_of o SEMI JOIN _shown USING ({UID})) o "
                       f"USING ({UID}) ORDER BY p.{UID}").df()
    con.unregister("_shown")
    # A consultant reads (and writes review decisions against) source:record_id, not the integer key.
    label = dict(zip(profiles[UID], profiles.pop("label")))
    profiles[UID] = profiles[UID].map(label)
    shown = shown.assign(**{f"{UID}_{side}": shown[f"{UID}_{side}"].map(label) for side in ("l", "r")})
    model.pairs = shown.sort_values(["match_probability", f"{UID}_l", f"{UID}_r"]).reset_index(drop=True)
    review = review_pairs(model.pairs, profiles, lower=settings.review_lower, threshold=settings.match_threshold,
                          max_pairs=settings.max_review_pairs)
    # Done with: what is left is crosswalk_all, person and names (the later steps' memory, without spilling).
    for table in ("features", "profile_of", "profiles", "pairs", "edges", "clusters", "key_nodes",
                  "profile_key_edges"):
        engines.drop_table(con, table)
    timings["identity"] = time.perf_counter() - clock
    return model, profiles, review, key_counts


def _key_only(con, keyed: dict[str, PreparedSource], position: dict[str, int],
              engine: engines.EngineSettings | None = None) -> None:
    """Table ``crosswalk_all`` of a client without any person source: each orders record with a customer key (a
    receipt's member card) is the customer the key names, called by the key as written (the smallest spelling of
    keys equal once normalized: ``K1``, ``k1`` and ``\tK1`` are one customer)."""
    parts = ["SELECT NULL::VARCHAR AS source, NULL::VARCHAR AS record_id, NULL::VARCHAR AS customer_id, "
             "NULL::DOUBLE AS match_probability, NULL::INTEGER AS _position, NULL::BIGINT AS _row WHERE false"]
    for name, source in keyed.items():
        key = key_sql("o.customer_key")
        parts.append(f"""SELECT {literal(name)}, o.record_id, min(o.customer_key) OVER (PARTITION BY {key}), 1.0,
                         {position[name]}, o._row FROM {source.scan} o WHERE {key} IS NOT NULL""")
    engines.make_table(con, "crosswalk_all", " UNION ALL ".join(parts), engine)


def _customers(con, engagement: Engagement, settings: MergeSettings, prepared: dict[str, PreparedSource],
               people: dict[str, PreparedSource], kind: dict[str, str], path: Path) -> None:
    """Write ``path``: one golden record per customer (survivorship), with the first touch of the lead sources,
    ordered by customer id. On Spark the executors make it (:func:`_golden_on_spark`)."""
    engine = engagement.engine
    if not people:
        _write_table(con, "SELECT customer_id, array_to_string(list_sort(list(DISTINCT source)), ',') AS sources, "
                          "count(*) AS n_records FROM crosswalk_all GROUP BY 1", path, "customers", engine,
                     order_by=("customer_id",))
        return
    order_of_sources = list(dict.fromkeys([*settings.source_priority,
                                           *[n for n in engagement.sources if kind.get(n) == "customers"],
                                           *engagement.sources]))
    carried = [c for c in con.sql("SELECT * FROM person LIMIT 0").columns if c not in ("_position", "_row")]
    records = (f"SELECT {', '.join(f'p.{c}' for c in carried)}, x.customer_id "
               "FROM person p JOIN crosswalk_all x USING (_position, _row)")
    engines.make_view(con, "golden_input", records, engine)
    golden = golden_sql(con, "golden_input", order_of_sources, settings.survivorship,
                        settings.survivorship_default).sql_query()
    if engine.is_spark:
        _golden_on_spark(con, engine, golden)
    else:
        con.execute(f"CREATE OR REPLACE TABLE golden AS {golden}")
    engines.drop_table(con, "golden_input")
    leads = [n for n in people if kind[n] == "leads"]
    touch = "SELECT NULL::VARCHAR AS customer_id, NULL::VARCHAR AS channel, NULL::VARCHAR AS campaign, " \
            "NULL::TIMESTAMP AS captured_at WHERE false"
    if leads:
        touch = " UNION ALL ".join(
            f"SELECT x.customer_id, {column(prepared[n].columns, 'channel', alias='l')} AS channel, "
            f"{column(prepared[n].columns, 'campaign', alias='l')} AS campaign, "
            f"{column(prepared[n].columns, 'captured_at', 'TIMESTAMP', 'l')} AS captured_at, x._position, x._row "
            f"FROM {prepared[n].scan} l "
            f"JOIN crosswalk_all x ON x.source = {literal(n)} AND x._row = l._row" for n in leads)
        first = "(captured_at IS NULL, captured_at, _position, _row)"
        touch = f"""SELECT customer_id, arg_min(channel, {first}) AS channel, arg_min(campaign, {first}) AS campaign,
                           min(captured_at) AS captured_at FROM ({touch}) GROUP BY 1"""
    customers = f"""
        SELECT g.*, n.name_pinyin, t.channel AS first_touch_channel, t.campaign AS first_touch_campaign,
               t.captured_at AS first_touch_at
        FROM golden g
        LEFT JOIN (SELECT full_name, min(name_pinyin) AS name_pinyin FROM names GROUP BY 1) n USING (full_name)
        LEFT JOIN ({touch}) t USING (customer_id)"""
    _write_table(con, customers, path, "customers", engine, order_by=("customer_id",))
    engines.drop_table(con, "golden")


def _write_table(con, sql: str, path: Path, name: str, engine: engines.EngineSettings | None,
                 order_by: tuple[str, ...] = ()) -> None:
    """Write the rows of ``sql`` to ``path`` as the documented table ``name`` (:func:`digiops.tables.select_sql`:
    its columns in order and type), sorted by ``order_by``, by DuckDB or by Spark
    (:func:`digiops.engines.write_parquet`)."""
    present = con.sql(f"SELECT * FROM ({sql}) LIMIT 0").columns
    extra = tuple(c for c in order_by if c not in tables.columns(name))
    engines.write_parquet(con, f"SELECT {tables.select_sql(name, present)}{''.join(', ' + c for c in extra)} "
                               f"FROM ({sql})", path, engine, order_by=order_by, drop=extra)


def _golden_batches(query: str):
    """A Spark task's golden records (``mapInArrow``): the customers of one partition, all their records in it,
    through the DuckDB survivorship query ``query`` (:func:`golden_sql` over ``golden_input``)."""
    import duckdb
    import pyarrow as pa

    def run(batches):
        records = pa.Table.from_batches(list(batches))
        if not records.num_rows:
            return
        with duckdb.connect() as con:
            con.register("golden_input", records)
            yield from con.sql(query).to_arrow_table().to_batches()
    return run


def _golden_on_spark(con, engine: engines.EngineSettings, query: str) -> None:
    """Table ``golden`` (a Spark view and a DuckDB view, :func:`digiops.engines.spark_to_duckdb`) from the Spark
    view ``golden_input``: its records partitioned by customer, each partition's golden records made by an
    executor with the DuckDB survivorship query, the same SQL as on one machine (its ordering blobs, structs
    and lists have no Spark SQL equal)."""
    from pyspark.sql.pandas.types import from_arrow_schema

    spark = engines.spark_session(engine)
    spark.sparkContext.setJobDescription("digiops merge: golden records")
    schema = from_arrow_schema(con.sql(f"SELECT * FROM ({query}) LIMIT 0").to_arrow_table().schema)
    # one customer's records in one partition (spark.sql.shuffle.partitions of them)
    golden = spark.table("golden_input").repartition("customer_id").mapInArrow(_golden_batches(query), schema)
    engines.spark_to_duckdb(con, golden, "golden")


def _write_quarantine(con, prepared: dict[str, PreparedSource], lost: str, path: Path,
                      engine: engines.EngineSettings | None) -> dict[str, int]:
    """Write every quarantined row to ``path`` (the documented table ``quarantine``): each source's, in the
    engagement's order and the order they were found, then the shipments the query ``lost`` finds with no order.
    The engine reads and writes them (on Spark the executors): the driver gets the rows per source."""
    parts = []
    for position, source in enumerate(prepared.values()):
        engines.read_view(con, f"quarantine_{position}", source.quarantine_file, engine)
        parts.append(f'SELECT source, "row", record_id, field, reason, {position} AS _part, _seq '
                     f"FROM quarantine_{position}")
    parts.append(f'SELECT source, CAST("row" AS BIGINT) AS "row", record_id, field, reason, {len(prepared)} AS _part, '
                 f'CAST("row" AS BIGINT) AS _seq FROM ({lost}) lost')
    engines.make_view(con, "quarantine_all", " UNION ALL ".join(parts), engine)
    _write_table(con, "SELECT * FROM quarantine_all", path, "quarantine", engine, order_by=("_part", "_seq"))
    return {source: int(rows) for source, rows in
            engines.fetch(con, "SELECT source, count(*) FROM quarantine_all GROUP BY source", engine)}


def account(prepared: dict[str, PreparedSource], quarantined: dict[str, int], used: dict[str, dict[str, int]],
            kind: dict[str, str]) -> pd.DataFrame:
    """Rows in, rows used (counted in the outputs: ``used`` has rows per source in ``orders``, ``shipments`` and
    the crosswalk, ``people``) and rows quarantined (``quarantined``: rows per source), per source."""
    counted_in = {"orders": "orders", "shipments": "shipments", "customers": "people", "leads": "people"}
    rows = []
    for name, source in prepared.items():
        counted = used[counted_in[kind[name]]].get(name, 0) if kind[name] in counted_in else source.rows_clean
        rows.append({"source": name, "kind": kind[name], "rows_in": source.rows_in, "rows_used": int(counted),
                     "rows_quarantined": int(quarantined.get(name, 0))})
    table = pd.DataFrame(rows, columns=["source", "kind", "rows_in", "rows_used", "rows_quarantined"])
    table["balanced"] = table["rows_in"] == table["rows_used"] + table["rows_quarantined"]
    return table


def write_outputs(ctx, result: MergeResult) -> None:
    """Write the stage outputs of ``docs/architecture.md`` through the stage context, and the manifest counts."""
    # Every table keeps its documented columns and types whatever the inputs (an orders-only client still has a
    # dated birth_date column): digiops.tables is the contract labels, kpi and the dashboard read by.
    for name in ("crosswalk", "customers", "orders", "shipments", "quarantine"):
        tables.conform_file(result.file(name), name)
        io.copy_file(ctx.output(f"{name}.parquet"), result.file(name))
    ctx.write_table("products", tables.conform(result.products, "products").to_pandas(types_mapper=pd.ArrowDtype))
    ctx.write_table("data_quality", result.data_quality)
    ctx.write_table("id_changes", result.id_changes.reindex(columns=list(ID_CHANGE_COLUMNS)).astype("string"))
    io.write_bytes(ctx.output("review_pairs.xlsx"), review_workbook(
        result.review_pairs, result.model.decisions if result.model is not None else None, language=ctx.language,
        full_values=ctx.engagement.merge.review_full_values))
    ctx.record(**result.counts())


def previous_ids(previous_run_dir: Path | None) -> PreviousIds | None:
    """The customer ids a run carries forward: its client's previous run's crosswalk, when it has one."""
    if previous_run_dir is None:
        return None
    previous = RunFolder(previous_run_dir)
    if not previous.has_output("merge", "crosswalk.parquet"):
        return None
    return PreviousIds(previous.output("merge", "crosswalk.parquet"),
                       int(previous.metrics("merge").get("last_customer_number", 0)))


def run(ctx) -> MergeResult:
    """The stage: merge the engagement's sources, write the outputs, record the counts. Every raw row is used or
    quarantined; a run where they do not add up fails instead of writing a report on lost rows."""
    if ctx.engagement.engine.is_spark:  # a cluster it cannot use fails here, before any source is read
        engines.check_spark(ctx.engagement.engine, ctx.run_dir, location=ctx.engagement.file.name,
                            client_folder=ctx.engagement.folder)
    # On Spark the executors write the prepared sources: into the run folder, which they reach (check_spark)
    result = run_merge(ctx.engagement, previous=previous_ids(ctx.previous_run_dir),
                       work_root=ctx.run_dir / WORK if ctx.engagement.engine.is_spark else None)
    accounting = result.accounting
    lost = accounting[~accounting["balanced"]]
    if len(lost):
        raise StageError("stage merge", "rows are neither used nor quarantined in "
                         + ", ".join(f"{r.source} ({r.rows_in} in, {r.rows_used} used, {r.rows_quarantined} "
                                     "quarantined)" for r in lost.itertuples()),
                         fix="this is a bug in digiops: report it with the run folder")
    write_outputs(ctx, result)
    ctx.record(rows_used=int(accounting["rows_used"].sum()), rows_quarantined=int(accounting["rows_quarantined"].sum()))
    return result
