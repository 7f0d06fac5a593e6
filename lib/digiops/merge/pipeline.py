"""The merge stage end to end: read and clean every source, resolve customers, build golden records and the whole
link, measure data quality and account for every raw row. The notebook calls :func:`run_merge` once and
:func:`write_outputs` once; everything it shows comes from the returned :class:`MergeResult`.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from digiops import io
from digiops.canonical import PERSON_BEARING_KINDS
from digiops.engagement import Engagement
from digiops.errors import SourceError
from digiops.merge import normalize as nz
from digiops.merge.clean import QUARANTINE_COLUMNS, CleanSource, clean_source
from digiops.merge.identity import UID, LinkModel, build_profiles, link_profiles, record_features
from digiops.merge.quality import data_quality
from digiops.merge.review import read_decisions, review_pairs
from digiops.merge.settings import MergeSettings
from digiops.merge.survivorship import golden_records
from digiops.merge.wholelink import build_orders, build_products, build_shipments, test_records

MERGE_KINDS = ("customers", "leads", "orders", "shipments", "products", "stores")
PERSON_INPUT = ("full_name", "given_name", "family_name", "phone", "email", "national_id")
WHEN_FIELDS = ("registered_at", "order_time", "captured_at", "shipped_at")
CUSTOMER_COLUMNS = ["customer_id", "full_name", "name_pinyin", "gender", "birth_date", "phone", "email",
                    "national_id", "province", "city", "district", "adcode", "address", "member_level",
                    "registered_at", "first_touch_channel", "first_touch_campaign", "first_touch_at", "sources",
                    "n_records"]
CROSSWALK_COLUMNS = ["source", "record_id", "customer_id", "match_probability"]


@dataclass
class MergeResult:
    """Everything the merge stage produced (the outputs of ``docs/architecture.md`` plus what the report shows)."""

    sources: dict[str, CleanSource]
    crosswalk: pd.DataFrame
    customers: pd.DataFrame
    orders: pd.DataFrame
    shipments: pd.DataFrame
    products: pd.DataFrame
    quarantine: pd.DataFrame
    data_quality: pd.DataFrame
    review_pairs: pd.DataFrame
    accounting: pd.DataFrame
    model: LinkModel | None = None
    profiles: pd.DataFrame | None = None
    timings: dict[str, float] = field(default_factory=dict)

    def counts(self) -> dict[str, int]:
        """Headline figures for the run manifest."""
        return {"records": int(len(self.crosswalk)), "customers": int(self.crosswalk["customer_id"].nunique()),
                "quarantined": int(len(self.quarantine)), "orders": int(len(self.orders)),
                "shipments": int(len(self.shipments)), "rows_in": int(self.accounting["rows_in"].sum()),
                "review_pairs": int(len(self.review_pairs))}


# --- reading --------------------------------------------------------------------------------------------------------
def read_clean(engagement: Engagement, name: str, *, as_of: dt.date, earliest: dt.date) -> CleanSource:
    """Read one source through ``digiops.io`` and clean it. Raises :class:`SourceError` naming file, field, row."""
    source = engagement.sources[name]
    table = io.read_source(engagement, name)
    label = source.path
    expected = list(source.columns) + ([source.id_column] if source.id_column else [])
    for column in expected:
        if column not in table.columns:
            shown = ", ".join(table.columns[:12]) + (", …" if len(table.columns) > 12 else "")
            raise SourceError(label, f"mapped column '{column}' is not in the file (columns: {shown})",
                              field=f"sources.{name}.columns.{column}", row=source.header_row,
                              fix="map a column that exists, or correct header_row / sheet")
    if table.frame.empty:
        raise SourceError(label, f"source '{name}' has no data rows below the header (row {source.header_row})",
                          field=f"sources.{name}", fix="export the data again, or remove the source")
    raw = io.canonical_frame(engagement, name, table)
    return clean_source(raw, name=name, kind=source.kind, as_of=as_of, earliest=earliest,
                        has_id_column=source.id_column is not None)


def _when(frame: pd.DataFrame) -> pd.Series:
    out = pd.Series(pd.NaT, index=frame.index, dtype="datetime64[ns]")
    for column in WHEN_FIELDS:
        if column in frame:
            out = out.fillna(pd.to_datetime(frame[column]))
    return out


def _key_target(settings: MergeSettings, name: str, keys: pd.Series, people: dict[str, CleanSource]):
    """(source, field) a customer_key names: configured, else the customers source whose member ids it hits most."""
    if name in settings.customer_keys:
        link = settings.customer_keys[name]
        return (link.source, link.field) if link.source else None
    best, best_share = None, 0.0
    distinct = set(keys.dropna())
    for person, cleaned in people.items():
        for column in ("member_id", "record_id"):
            if column in cleaned.clean and distinct:
                share = len(distinct & set(cleaned.clean[column].dropna())) / len(distinct)
                if share > best_share:
                    best, best_share = (person, column), share
    return best if best_share >= 0.5 else None


# --- the stage ----------------------------------------------------------------------------------------------------
def run_merge(engagement: Engagement, settings: MergeSettings | None = None) -> MergeResult:
    """Run the whole merge stage on an engagement (never reads truth)."""
    settings = settings or engagement.merge
    as_of = settings.as_of or nz.today()
    timings: dict[str, float] = {}
    clock = time.perf_counter()

    names = [n for n, s in engagement.sources.items() if s.kind in MERGE_KINDS]
    sources = {n: read_clean(engagement, n, as_of=as_of, earliest=settings.earliest_date) for n in names}
    timings["read_clean"] = time.perf_counter() - clock

    kind = {n: engagement.sources[n].kind for n in names}
    people = {n: s for n, s in sources.items() if kind[n] in PERSON_BEARING_KINDS
              and any(c in s.clean for c in PERSON_INPUT)}
    keyed = {n: s for n, s in sources.items() if n not in people and "customer_key" in s.clean}

    # identity resolution -----------------------------------------------------------------------------------------
    clock = time.perf_counter()
    model = profiles = None
    crosswalk_parts = []
    pair_table = pd.DataFrame(columns=["unique_id_l", "unique_id_r", "match_probability", "match_weight"])
    records = pd.DataFrame()
    if people:
        records = pd.concat([s.clean.assign(_when=_when(s.clean)) for s in people.values()], ignore_index=True)
        # Staff test orders are no customer: they are kept out of matching (a placeholder name and the shop's own
        # address would pull them into real customers) and all go to one test account.
        testing = records["source"].map(kind).eq("orders") & test_records(records, settings.test_markers)
        tests, records = records[testing], records[~testing].reset_index(drop=True)
        features = record_features(records)
        has_feature = features[["name_key", "phone", "email", "national_id"]].notna().any(axis=1)
        is_person_kind = records["source"].map(kind).isin(["customers", "leads"])
        keep = has_feature | is_person_kind
        records, features = records[keep].reset_index(drop=True), features[keep].reset_index(drop=True)
        profiles, profile_of = build_profiles(features)
        decisions = None
        if settings.review_file:
            path = engagement.folder / settings.review_file
            if not path.is_file():
                raise SourceError(engagement.file.name, f"review file '{settings.review_file}' does not exist",
                                  field="merge.review_file", fix="give the path of a reviewed review_pairs.xlsx")
            decisions = read_decisions(path, settings.review_file)
            uid_to_profile = pd.Series(profile_of.to_numpy(), index=features[UID].to_numpy())
            for side in ("unique_id_l", "unique_id_r"):
                decisions[side] = decisions[side].map(uid_to_profile)
            decisions = decisions.dropna()
        model = link_profiles(profiles, link_fields=settings.link_fields, blocking_rules=settings.blocking_rules,
                              match_threshold=settings.match_threshold, review_lower=settings.review_lower,
                              u_max_pairs=settings.u_max_pairs, seed=settings.seed, decisions=decisions,
                              engine=engagement.engine)
        pair_table = model.pairs
        cluster_of_record = profile_of.map(model.clusters)
        # a record's best link: its profile's strongest accepted pair; 1.0 when identical records share a profile
        strong = pair_table[pair_table["match_probability"] >= settings.match_threshold]
        best = pd.concat([strong[["unique_id_l", "match_probability"]].set_axis([UID, "p"], axis=1),
                          strong[["unique_id_r", "match_probability"]].set_axis([UID, "p"], axis=1)])
        best = best.groupby(UID)["p"].max()
        shared = profile_of.map(profile_of.value_counts()) > 1
        probability = profile_of.map(best).where(~shared, 1.0)
        if len(tests):
            records = pd.concat([records, tests], ignore_index=True)
            test_account = "\x00test"  # sorts first: the test account is always C0000001
            cluster_of_record = pd.concat([cluster_of_record, pd.Series(test_account, index=range(
                len(cluster_of_record), len(records)))])
            probability = pd.concat([probability, pd.Series(1.0, index=cluster_of_record.index[-len(tests):])])
        order = pd.Series(sorted(cluster_of_record.unique()))
        customer_number = pd.Series(np.arange(1, len(order) + 1), index=order.to_numpy())
        customer_id = "C" + cluster_of_record.map(customer_number).astype(int).astype(str).str.zfill(7)
        records["customer_id"] = customer_id.to_numpy()
        crosswalk_parts.append(pd.DataFrame({"source": records["source"], "record_id": records["record_id"],
                                             "customer_id": records["customer_id"],
                                             "match_probability": probability.astype(float).to_numpy()}))
    timings["identity"] = time.perf_counter() - clock

    # orders that carry only a customer key -------------------------------------------------------------------------
    for name, cleaned in keyed.items():
        keys = cleaned.clean["customer_key"]
        target = _key_target(settings, name, keys, people)
        if people and target is not None:
            t_source, t_field = target
            lookup = records[records["source"] == t_source]
            lookup = lookup.dropna(subset=[t_field]).drop_duplicates(t_field).set_index(t_field)["customer_id"]
            customer = keys.map(lookup)
        elif not people:
            customer = keys
        else:
            customer = pd.Series(None, index=keys.index, dtype=object)
        linked = customer.notna()
        crosswalk_parts.append(pd.DataFrame({"source": name, "record_id": cleaned.clean.loc[linked, "record_id"],
                                             "customer_id": customer[linked], "match_probability": 1.0}))
    crosswalk = (pd.concat(crosswalk_parts, ignore_index=True) if crosswalk_parts
                 else pd.DataFrame(columns=CROSSWALK_COLUMNS))[CROSSWALK_COLUMNS]
    crosswalk = crosswalk.astype({"source": str, "record_id": str, "customer_id": str, "match_probability": float})

    # golden records ----------------------------------------------------------------------------------------------
    clock = time.perf_counter()
    order_of_sources = list(dict.fromkeys([*settings.source_priority,
                                           *[n for n in engagement.sources if kind.get(n) == "customers"],
                                           *engagement.sources]))
    if len(records):
        customers = golden_records(records, order_of_sources, settings.survivorship, settings.survivorship_default)
    else:
        customers = crosswalk.groupby("customer_id").agg(
            sources=("source", lambda s: ",".join(sorted(set(s)))), n_records=("record_id", "size")).reset_index()
    leads = [n for n in people if kind[n] == "leads"]
    if leads:
        touch = records[records["source"].isin(leads)]
        touch = touch.assign(first_touch_at=pd.to_datetime(touch.get("captured_at")))
        touch = touch.sort_values(["customer_id", "first_touch_at"], na_position="last").drop_duplicates("customer_id")
        touch = touch.rename(columns={"channel": "first_touch_channel", "campaign": "first_touch_campaign"})
        customers = customers.merge(touch.reindex(columns=["customer_id", "first_touch_channel",
                                                           "first_touch_campaign", "first_touch_at"]),
                                    on="customer_id", how="left")
    customers = customers.reindex(columns=CUSTOMER_COLUMNS)
    customers["name_pinyin"] = nz.map_distinct(customers["full_name"], nz.name_pinyin)
    customers["birth_date"] = pd.to_datetime(customers["birth_date"]).dt.date.astype(object).where(
        customers["birth_date"].notna(), None)
    for column in ("registered_at", "first_touch_at"):
        customers[column] = pd.to_datetime(customers[column])
    customers["n_records"] = customers["n_records"].astype("int64")
    customers = customers.sort_values("customer_id").reset_index(drop=True)
    timings["survivorship"] = time.perf_counter() - clock

    # whole link --------------------------------------------------------------------------------------------------
    clock = time.perf_counter()
    orders_src = {n: s for n, s in sources.items() if kind[n] == "orders"}
    stores = pd.concat([s.clean for n, s in sources.items() if kind[n] == "stores"]) if any(
        kind[n] == "stores" for n in sources) else None
    orders = build_orders(orders_src, crosswalk, stores, order_channels=settings.order_channels,
                          region_by_province=settings.region_by_province, test_markers=settings.test_markers,
                          refund_markers=settings.refund_markers)
    shipments, lost = build_shipments({n: s for n, s in sources.items() if kind[n] == "shipments"}, orders_src,
                                      as_of=as_of, failed_markers=settings.failed_markers)
    products = build_products({n: s for n, s in sources.items() if kind[n] == "products"})
    timings["whole_link"] = time.perf_counter() - clock

    # quarantine and accounting -----------------------------------------------------------------------------------
    parts = [s.quarantine for s in sources.values() if len(s.quarantine)] + ([lost] if lost is not None else [])
    quarantine = (pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=QUARANTINE_COLUMNS))
    quarantine = quarantine[QUARANTINE_COLUMNS].astype({"row": "int64"}).reset_index(drop=True)
    accounting = account(sources, quarantine, orders, shipments, crosswalk, kind)

    clock = time.perf_counter()
    quality = data_quality(sources, crosswalk, customers)
    timings["quality"] = time.perf_counter() - clock
    review = (review_pairs(pair_table, profiles, lower=settings.review_lower, threshold=settings.match_threshold,
                           max_pairs=settings.max_review_pairs) if profiles is not None else pd.DataFrame())
    shipments = shipments.drop(columns=["_row"])
    return MergeResult(sources=sources, crosswalk=crosswalk, customers=customers, orders=orders, shipments=shipments,
                       products=products, quarantine=quarantine, data_quality=quality, review_pairs=review,
                       accounting=accounting, model=model, profiles=profiles, timings=timings)


def account(sources: dict[str, CleanSource], quarantine: pd.DataFrame, orders: pd.DataFrame,
            shipments: pd.DataFrame, crosswalk: pd.DataFrame, kind: dict[str, str]) -> pd.DataFrame:
    """Rows in, rows used (counted in the outputs) and rows quarantined, per source."""
    rows = []
    for name, cleaned in sources.items():
        if kind[name] == "orders":
            used = int((orders["source"] == name).sum())
        elif kind[name] == "shipments":
            used = int(shipments["shipment_id"].str.startswith(name + ":").sum())
        elif kind[name] in ("customers", "leads"):
            used = int((crosswalk["source"] == name).sum())
        else:
            used = len(cleaned.clean)
        rows.append({"source": name, "kind": kind[name], "rows_in": cleaned.rows_in, "rows_used": used,
                     "rows_quarantined": int((quarantine["source"] == name).sum())})
    table = pd.DataFrame(rows, columns=["source", "kind", "rows_in", "rows_used", "rows_quarantined"])
    table["balanced"] = table["rows_in"] == table["rows_used"] + table["rows_quarantined"]
    return table


def write_outputs(ctx, result: MergeResult) -> None:
    """Write the stage outputs of ``docs/architecture.md`` through the stage context, and the manifest counts."""
    ctx.write_table("crosswalk", result.crosswalk)
    ctx.write_table("customers", result.customers)
    ctx.write_table("orders", result.orders)
    ctx.write_table("shipments", result.shipments)
    ctx.write_table("products", result.products)
    ctx.write_table("quarantine", result.quarantine)
    ctx.write_table("data_quality", result.data_quality)
    columns = list(result.review_pairs.columns) or ["unique_id_l", "unique_id_r", "match_probability", "decision"]
    ctx.write_xlsx("review_pairs.xlsx", {"review": result.review_pairs.reindex(columns=columns)})
    ctx.record(**result.counts())
