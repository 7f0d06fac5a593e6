"""Write the demo client: raw exports under ``<out>/raw/`` and the truth under ``<out>/truth/``.

People are generated in chunks of :data:`~digiops.demo.config.CHUNK_PEOPLE`, each from its own child seed, and
every export is appended chunk by chunk, so memory stays bounded and the files are byte-identical for a seed.
"""

from __future__ import annotations

import csv
import io
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pa_csv

from digiops.demo import business, dirt
from digiops.demo.dirt import where
from digiops.demo.config import (CHUNK_PEOPLE, DEFAULT_PEOPLE, DEFAULT_SEED, EXPORTED_AT, N_DAYS, PERIOD_START,
                                 DemoConfig)
from digiops.demo.people import make_people
from digiops.demo.sources import SOURCE_BY_NAME
from digiops.demo.systems import (N_STORES, crm_records, day_weights, make_orders, miniprogram_records,
                                  person_order_rows, pos_member_records, pos_receipt_rows, product_table,
                                  shipment_rows, social_lead_records)
from digiops.demo.xlsx import Sheet, StreamingXlsx
from digiops.errors import DigiopsError

ONLINE = N_STORES  # unit index of online orders and traffic
CRM_TITLES = ("示例茶饮 CRM 客户资料导出", f"导出时间：{EXPORTED_AT:%Y-%m-%d %H:%M:%S}　导出人：crm_admin")


class DemoDataError(DigiopsError):
    """The demo client cannot be generated as asked (bad size, seed or output folder)."""


class CsvOut:
    """A CSV export appended chunk by chunk, in its system's encoding, with optional title rows."""

    def __init__(self, path: Path, columns: list[str], encoding: str, titles: tuple[str, ...] = (),
                 newline: str = "\n"):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.tmp = path.with_name(f".{path.name}.tmp")
        self.handle = open(self.tmp, "w", encoding=encoding, newline="")
        self.newline = newline
        writer = csv.writer(self.handle, lineterminator=newline)
        for title in titles:
            writer.writerow([title] + [""] * (len(columns) - 1))
        writer.writerow(columns)
        self.columns = columns
        self.rows = 0

    def append(self, frame: pd.DataFrame) -> None:
        # pyarrow's C++ writer: pandas' to_csv goes through Python objects and dominated the run time at scale
        table = pa.Table.from_pandas(frame[self.columns].astype("str"), preserve_index=False)
        buffer = io.BytesIO()
        pa_csv.write_csv(table, buffer, write_options=pa_csv.WriteOptions(include_header=False,
                                                                         quoting_style="needed"))
        data = buffer.getvalue().decode("utf-8")
        if self.newline != "\n":
            data = data.replace("\n", self.newline)
        self.handle.write(data)
        self.rows += len(frame)

    def close(self) -> None:
        self.handle.close()
        self.tmp.replace(self.path)

    def abort(self) -> None:
        self.handle.close()
        self.tmp.unlink(missing_ok=True)


@dataclass
class Accumulators:
    """Daily figures per unit (30 stores + online) that traffic and targets are built from."""

    orders: np.ndarray = field(default_factory=lambda: np.zeros((N_DAYS, N_STORES + 1), np.int64))
    gmv_cents: np.ndarray = field(default_factory=lambda: np.zeros((N_DAYS, N_STORES + 1), np.int64))

    def add(self, moment: np.ndarray, unit: np.ndarray, cents: np.ndarray, valid: np.ndarray,
            refund: np.ndarray) -> None:
        day = ((moment.astype("datetime64[D]") - np.datetime64(PERIOD_START)) // np.timedelta64(1, "D")).astype(
            np.int64)
        inside = (day >= 0) & (day < N_DAYS) & valid
        np.add.at(self.gmv_cents, (day[inside], unit[inside]), cents[inside])
        counted = inside & ~refund
        np.add.at(self.orders, (day[counted], unit[counted]), 1)


def _writers(raw: Path) -> dict[str, object]:
    def columns(name: str) -> list[str]:
        return SOURCE_BY_NAME[name].raw_columns

    return {
        "crm": CsvOut(raw / "crm_customers.csv", columns("crm"), "gb18030", CRM_TITLES, newline="\r\n"),
        "miniprogram": StreamingXlsx(raw / "miniprogram_members.xlsx", [
            Sheet("会员列表", pd.DataFrame(columns=columns("miniprogram")), title="小程序会员列表（系统导出）",
                  numeric=("积分",)),
            Sheet("说明", pd.DataFrame({"说明": [
                "本表由小程序后台导出，含全部注册会员。", "手机号码为会员自行填写，未经校验。",
                f"导出时间：{EXPORTED_AT:%Y-%m-%d %H:%M}"]}))]),
        "pos_members": CsvOut(raw / "pos_members.csv", columns("pos_members"), "utf-8"),
        "social_leads": CsvOut(raw / "social_leads.csv", columns("social_leads"), "utf-8"),
        "mall_orders": CsvOut(raw / "mall_orders.csv", columns("mall_orders"), "utf-8-sig"),
        "online_orders": CsvOut(raw / "online_orders.csv", columns("online_orders"), "utf-8"),
        "pos_receipts": CsvOut(raw / "pos_receipts.csv", columns("pos_receipts"), "utf-8"),
        "shipments": CsvOut(raw / "shipments.csv", columns("shipments"), "utf-8"),
    }


def _truth_writers(truth: Path) -> dict[str, CsvOut]:
    return {
        "identity": CsvOut(truth / "identity.csv", ["source", "record_id", "person_id"], "utf-8"),
        "orders": CsvOut(truth / "orders.csv", ["source", "order_id", "amount_cents", "is_valid"], "utf-8"),
        "order_lines": CsvOut(truth / "order_lines.csv", ["source", "order_id", "line_id", "sku", "quantity",
                                                          "amount_cents"], "utf-8"),
        "people": CsvOut(truth / "people.csv", ["person_id", "full_name", "name_pinyin", "gender", "birth_date",
                                                "phone", "email", "province", "city", "district", "address",
                                                "household_id", "first_touch_channel", "first_touch_campaign",
                                                "previous_phone", "phone_since"],
                         "utf-8"),
    }


def _people_truth(people: dict) -> pd.DataFrame:
    lead = people["presence"][:, 3]
    changed = ~np.isnat(people["phone_since"])
    empty = pd.Series([""] * len(changed), dtype="str")
    return pd.DataFrame({
        "person_id": people["person_id"], "full_name": people["full_name"],
        "name_pinyin": dirt.text(people["surname_pinyin"]) + " " + dirt.text(people["given_pinyin"]),
        "gender": people["gender"], "birth_date": np.datetime_as_string(people["birth"]),
        "phone": "+86" + dirt.text(people["phone"]), "email": people["email"], "province": people["province"],
        "city": people["city"], "district": people["district"], "address": people["detail"],
        "household_id": ("P" + dirt.zpad(people["household"] + 1, 7)).to_numpy(),
        "first_touch_channel": np.where(lead, people["lead_channel"], ""),
        "first_touch_campaign": np.where(lead, people["lead_campaign"], ""),
        # a changed number: the one before, and the day the person's records start carrying ``phone``
        "previous_phone": where(changed, "+86" + dirt.text(people["old_phone"]), empty),
        "phone_since": where(changed, dirt.text(np.datetime_as_string(people["phone_since"].astype("datetime64[D]"))),
                             empty),
    })


def generate(out_dir: str | Path | None = None, people: int = DEFAULT_PEOPLE, seed: int = DEFAULT_SEED, *,
             config: DemoConfig | None = None, verbose: bool = False) -> dict[str, int]:
    """Write the demo client's raw exports and truth under ``out_dir`` (default ``data/clients/demo``).

    Returns the number of rows written per file (without header rows). Deterministic: the same ``people`` and
    ``seed`` give byte-identical files.

    Example:
        >>> import tempfile
        >>> counts = generate(tempfile.mkdtemp(), people=300, seed=1)
        >>> counts["crm"] > 100 and counts["truth/identity"] > counts["crm"]
        True
    """
    if people < 1:
        raise DemoDataError("demo-data", f"--people must be at least 1 (got {people})", field="people",
                            fix="give a positive number of people, e.g. --people 20000")
    if out_dir is None:
        from digiops.paths import demo_client_dir

        out_dir = demo_client_dir()
    out = Path(out_dir)
    try:
        (out / "raw").mkdir(parents=True, exist_ok=True)
        (out / "truth").mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DemoDataError(str(out), f"cannot create the output folder ({exc.strerror})", field="out",
                            fix="choose a writable folder with --out") from None
    config = replace(config or DemoConfig(), people=people, seed=seed)
    rates = config.dirt
    started = time.perf_counter()
    products = product_table()
    weights = day_weights(N_DAYS)
    writers = _writers(out / "raw")
    truth = _truth_writers(out / "truth")
    totals = Accumulators()
    members = []  # the mini-program's member ids and their people, for the logged-in funnel events
    counters = {name: 1 for name in ("crm", "miniprogram", "pos_members", "social_leads", "mall_orders",
                                     "online_orders", "pos_receipts", "shipments")}
    try:
        for chunk_no, start in enumerate(range(0, people, CHUNK_PEOPLE)):
            n = min(CHUNK_PEOPLE, people - start)
            rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence([seed, chunk_no])))
            chunk = make_people(start, n, rng, config)
            orders = make_orders(chunk, rng, weights, products)
            first_order = np.full(n, np.iinfo(np.int64).max, dtype=np.int64)
            np.minimum.at(first_order, orders["owner"], orders["moment"].astype(np.int64))
            first_order = np.where(first_order == np.iinfo(np.int64).max, np.datetime64("NaT", "s"),
                                   first_order.astype("datetime64[s]"))

            def emit(name: str, frame: pd.DataFrame, identity: pd.DataFrame) -> None:
                counters[name] += len(frame)
                writers[name].append(dirt.duplicate_rows(frame, rng, rates.duplicate_row))
                truth["identity"].append(identity)

            frame, identity = crm_records(chunk, rng, config, counters["crm"])
            emit("crm", frame, identity)
            frame, identity = miniprogram_records(chunk, rng, config, counters["miniprogram"])
            emit("miniprogram", frame, identity)
            members.append(identity[["record_id", "person_id"]])
            frame, identity, card = pos_member_records(chunk, rng, config, counters["pos_members"])
            emit("pos_members", frame, identity)
            frame, identity = social_lead_records(chunk, rng, config, counters["social_leads"], first_order)
            emit("social_leads", frame, identity)

            bases = []
            for name, channel in (("mall_orders", 0), ("online_orders", 1)):
                sel = np.flatnonzero(orders["channel"] == channel)
                frame, identity, order_truth, line_truth, basis, stats = person_order_rows(
                    name, chunk, orders, sel, rng, config, counters[name], products)
                emit(name, frame, identity)
                truth["orders"].append(order_truth)
                if line_truth is not None:
                    truth["order_lines"].append(line_truth)
                bases.append(basis)
                totals.add(stats["moment"], np.full(len(stats["moment"]), ONLINE), stats["cents"], stats["valid"],
                           stats["refund"])
            sel = np.flatnonzero(orders["channel"] == 2)
            # store buyers without a POS card pay anonymously; walk-ins come on top
            n_anonymous = int(round(len(orders["owner"]) * config.anonymous_receipt_share))
            frame, identity, order_truth, stats = pos_receipt_rows(
                chunk, orders, sel, card, n_anonymous, rng, config, counters["pos_receipts"], products, weights)
            emit("pos_receipts", frame, identity)
            truth["orders"].append(order_truth)
            totals.add(stats["moment"], stats["store"], stats["cents"], stats["valid"], stats["refund"])
            frame, identity = shipment_rows(chunk, bases, rng, config, counters["shipments"])
            emit("shipments", frame, identity)
            truth["people"].append(_people_truth(chunk))
            if verbose:
                print(f"  people {start + n:>9,}  ({time.perf_counter() - started:6.1f} s)", flush=True)
    except BaseException:
        # never leave half a client behind: the previous files (if any) stay as they were
        for writer in list(writers.values()) + list(truth.values()):
            writer.abort()
        raise
    for writer in list(writers.values()) + list(truth.values()):
        writer.close()
    counts = {name: w.rows for name, w in writers.items()}
    counts.update({f"truth/{name}": w.rows for name, w in truth.items()})
    rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence([seed, 1_000_000])))
    counts.update(business.write_business_inputs(out / "raw", rng, products, totals, people,
                                                 members=pd.concat(members, ignore_index=True)))
    return counts
