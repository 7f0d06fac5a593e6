"""Benchmark of the merge on Latin-script person files (issue 17): pairwise and B³ accuracy, and what it misses.

Usage::

    .venv/bin/python bench/bench_latin.py [--records 5000] [--seed 1 --seed 2 --seed 3] [--mode dedupe|link|both]
                                          [--repeat 1] [--samples 20] [--reference] [--workdir /tmp/digiops-latin]

For each mode and seed it generates Latin-script person files with :mod:`tests.merge.latin` (dedupe: one file of
``--records`` originals and as many duplicates; link: two files of ``--records`` people each), writes them as a
client folder whose engagement file maps the columns as ``docs/engagement.md`` says and sets no merge option (the
defaults, as a new user runs it), runs :func:`digiops.merge.pipeline.run_merge` ``--repeat`` times and scores the
crosswalk against the truth:

* pairwise precision / recall / F1 — dedupe: every pair of records in the file; link: pairs across the two files
  only. A record the stage left out of the crosswalk (quarantined) counts as a customer of its own;
* B³ precision / recall / F1 from :func:`tests.merge.accuracy.accuracy` (link: over the records of both files).

Then, per mode, the medians over the seeds and what the merge misses: recall per kind of corruption (a true pair
carries the ``field:kind`` tags of both records' modifications; ``alone`` = pairs where it is the only one), recall
by the social-security number (equal, different, missing) against the number of other fields that differ, recall
by the fields on which the pair's two records disagree, and ``--samples`` missed pairs with both records side by
side (``--missed-csv`` writes them all). ``--reference`` also scores a plain Splink model with ordinary settings on the same raw files (no digiops
cleaning), the yardstick the issue compares with.
"""

from __future__ import annotations

import argparse
import itertools
import json
import logging
import random
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from digiops.engagement import load_engagement  # noqa: E402
from digiops.merge.pipeline import run_merge  # noqa: E402
from tests.merge import latin  # noqa: E402
from tests.merge.accuracy import accuracy  # noqa: E402

FIELDS = [c for c in latin.COLUMNS if c != latin.ID_COLUMN]


# ------------------------------------------------------------------------------------------------------ scoring
def true_pairs(records: pd.DataFrame, cross_only: bool) -> pd.DataFrame:
    """Every pair of records of the same person (in scope), with both records' fields (suffixes ``_l``, ``_r``)."""
    rows = records.reset_index(drop=True)
    left, right = [], []
    for _, idx in rows.groupby("person_id").indices.items():
        for i, j in itertools.combinations(sorted(idx), 2):
            if cross_only and rows.at[i, "source"] == rows.at[j, "source"]:
                continue
            left.append(i)
            right.append(j)
    l = rows.iloc[left].reset_index(drop=True).add_suffix("_l")
    r = rows.iloc[right].reset_index(drop=True).add_suffix("_r")
    pairs = pd.concat([l, r], axis=1)
    pairs["missed"] = pairs["customer_id_l"] != pairs["customer_id_r"]
    pairs["tags"] = [sorted(set(filter(None, (a + ";" + b).split(";"))))
                     for a, b in zip(pairs["corruptions_l"], pairs["corruptions_r"])]
    pairs["differ"] = [",".join(f for f in FIELDS if a[f] != b[f]) or "(none)"
                       for a, b in zip(l.rename(columns=lambda c: c[:-2]).to_dict("records"),
                                       r.rename(columns=lambda c: c[:-2]).to_dict("records"))]
    return pairs


def by_corruption(pairs: pd.DataFrame) -> pd.DataFrame:
    """Per ``field:kind`` tag: true pairs carrying it, missed ones, and the same for pairs where it is alone."""
    seen, missed, alone, alone_missed = Counter(), Counter(), Counter(), Counter()
    for tags, miss in zip(pairs["tags"], pairs["missed"]):
        for tag in tags:
            seen[tag] += 1
            missed[tag] += miss
        if len(tags) == 1:
            alone[tags[0]] += 1
            alone_missed[tags[0]] += miss
    table = pd.DataFrame({"pairs": seen, "missed": missed, "alone": alone, "alone_missed": alone_missed}).fillna(0)
    table = table.astype(int)
    table["recall"] = 1 - table["missed"] / table["pairs"]
    table["alone_recall"] = 1 - table["alone_missed"] / table["alone"].where(table["alone"] > 0)
    return table.sort_values(["missed", "pairs"], ascending=False)


def by_differing_fields(pairs: pd.DataFrame, top: int = 15) -> pd.DataFrame:
    table = pairs.groupby("differ")["missed"].agg(pairs="size", missed="sum")
    table["recall"] = 1 - table["missed"] / table["pairs"]
    return table.sort_values("missed", ascending=False).head(top)


def by_identifier(pairs: pd.DataFrame) -> pd.DataFrame:
    """Recall by the social-security number (equal, different, missing on a side) and how many of the other
    fields differ: shows how much a disagreeing identifier weighs against agreeing names and address."""
    ssn = pd.Series("equal", index=pairs.index)
    ssn[pairs["soc_sec_id_l"] != pairs["soc_sec_id_r"]] = "different"
    ssn[(pairs["soc_sec_id_l"] == "") | (pairs["soc_sec_id_r"] == "")] = "missing"
    others = pairs["differ"].map(lambda d: len([f for f in d.split(",") if f not in ("soc_sec_id", "(none)")]))
    grouped = pairs.groupby([others.rename("other_fields_differing"), ssn.rename("soc_sec_id")])["missed"]
    counts = grouped.size().unstack(fill_value=0)
    missed = grouped.sum().unstack(fill_value=0)
    recall = (1 - missed / counts.where(counts > 0)).map(lambda r: "" if pd.isna(r) else f"{r:.3f}")
    return pd.concat({"pairs": counts, "missed": missed, "recall": recall}, axis=1)


def by_modifications(pairs: pd.DataFrame) -> pd.DataFrame:
    n = pairs["tags"].str.len().rename("modifications")
    table = pairs.groupby(n)["missed"].agg(pairs="size", missed="sum")
    table["recall"] = 1 - table["missed"] / table["pairs"]
    return table


def show_missed(pairs: pd.DataFrame, samples: int, seed: int = 0) -> str:
    missed = pairs[pairs["missed"]]
    if missed.empty:
        return "  (no missed pair)"
    chosen = sorted(random.Random(seed).sample(range(len(missed)), min(samples, len(missed))))
    lines = []
    for k in chosen:
        p = missed.iloc[k]
        lines.append(f"  {p['source_l']}:{p[latin.ID_COLUMN + '_l']} ↔ {p['source_r']}:{p[latin.ID_COLUMN + '_r']}"
                     f"   [{'; '.join(p['tags']) or 'no modification'}]")
        for f in FIELDS:
            a, b = p[f + "_l"], p[f + "_r"]
            mark = "  " if a == b else "≠ "
            lines.append(f"    {mark}{f:<14} {a!s:<24} {b!s}")
    return "\n".join(lines)


# -------------------------------------------------------------------------------------------------------- runs
def generate(mode: str, records: int, seed: int) -> latin.LatinSet:
    if mode == "dedupe":
        return latin.dedupe_set(originals=records, duplicates=records, seed=seed)
    return latin.link_set(people=records, seed=seed)


def run_digiops(data: latin.LatinSet, folder: Path) -> tuple[pd.DataFrame, dict]:
    """Run the merge stage on the client folder; returns the scored records and run facts."""
    path = latin.write_client(data, folder)
    start = time.perf_counter()
    result = run_merge(load_engagement(path))
    wall = time.perf_counter() - start
    crosswalk = result.crosswalk
    b3 = accuracy(crosswalk, data.truth)
    facts = {"wall_s": round(wall, 1), "quarantined": len(result.quarantine),
             "customers": result.headline["customers"], "b3_precision": b3["b3_precision"],
             "b3_recall": b3["b3_recall"], "b3_f1": b3["b3_f1"]}
    return latin.predicted(crosswalk, data), facts


def run_reference(data: latin.LatinSet, threshold: float = 0.95) -> tuple[pd.DataFrame, dict]:
    """A plain Splink model with ordinary settings on the raw files: out-of-the-box comparisons per column,
    blocking on single columns, u by random sampling, EM on two blocking rules, clusters at ``threshold``."""
    import splink.comparison_library as cl
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on

    logging.getLogger("splink").setLevel(logging.ERROR)
    start = time.perf_counter()
    frames = []
    for name, frame in data.files.items():
        frame = frame.replace("", None).assign(source_dataset=name)
        frame["unique_id"] = name + ":" + frame[latin.ID_COLUMN]
        frames.append(frame)
    db_api = DuckDBAPI()
    tables = [db_api.register(f, table_name=f"t_{n}") for f, n in zip(frames, data.files)]
    settings = SettingsCreator(
        link_type="dedupe_only" if data.mode == "dedupe" else "link_only",
        comparisons=[cl.NameComparison("given_name"), cl.NameComparison("surname"),
                     cl.DateOfBirthComparison("date_of_birth", input_is_string=True, datetime_format="%Y%m%d"),
                     cl.LevenshteinAtThresholds("soc_sec_id", [1, 2]), cl.ExactMatch("street_number"),
                     cl.JaroWinklerAtThresholds("address_1", [0.9, 0.7]), cl.JaroWinklerAtThresholds("suburb", [0.9]),
                     cl.LevenshteinAtThresholds("postcode", [1]), cl.ExactMatch("state")],
        blocking_rules_to_generate_predictions=[block_on("given_name"), block_on("surname"),
                                                block_on("date_of_birth"), block_on("soc_sec_id"),
                                                block_on("postcode", "street_number")],
        retain_matching_columns=False, retain_intermediate_calculation_columns=False)
    linker = Linker(tables if len(tables) > 1 else tables[0], settings, log_level=logging.ERROR)
    linker.training.estimate_probability_two_random_records_match(
        [block_on("given_name", "surname", "date_of_birth"), block_on("soc_sec_id", "surname")], recall=0.8)
    linker.training.estimate_u_using_random_sampling(max_pairs=2e6, seed=42)
    for rule in (block_on("date_of_birth"), block_on("surname")):
        linker.training.estimate_parameters_using_expectation_maximisation(rule)
    predictions = linker.inference.predict(threshold_match_probability=0.5)
    found = linker.clustering.cluster_pairwise_predictions_at_threshold(predictions, threshold).as_pandas_dataframe()
    wall = time.perf_counter() - start
    crosswalk = pd.DataFrame({"source": found["unique_id"].str.split(":", n=1).str[0],
                              "record_id": found["unique_id"].str.split(":", n=1).str[1],
                              "customer_id": found["cluster_id"].astype(str)})
    b3 = accuracy(crosswalk, data.truth)
    return latin.predicted(crosswalk, data), {"wall_s": round(wall, 1), "quarantined": 0,
                                       "customers": crosswalk["customer_id"].nunique(),
                                       "b3_precision": b3["b3_precision"], "b3_recall": b3["b3_recall"],
                                       "b3_f1": b3["b3_f1"]}


ROW = "{mode:<7} {model:<9} {seed:>4} {records:>6} {wall_s:>7} {precision:>9.4f} {recall:>7.4f} {f1:>7.4f} " \
      "{b3_precision:>6.4f} {b3_recall:>6.4f} {b3_f1:>6.4f} {fn:>6} {fp:>5} {quarantined:>4}"
HEAD = f"{'mode':<7} {'model':<9} {'seed':>4} {'recs':>6} {'wall_s':>7} {'precision':>9} {'recall':>7} {'F1':>7} " \
       f"{'B3 P':>6} {'B3 R':>6} {'B3 F1':>6} {'FN':>6} {'FP':>5} {'quar':>4}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=5000,
                        help="originals (dedupe: plus as many duplicates; link: people per file); default 5000")
    parser.add_argument("--seed", type=int, action="append", help="generator seed (repeatable; default 1)")
    parser.add_argument("--mode", choices=("dedupe", "link", "both"), default="both")
    parser.add_argument("--repeat", type=int, default=1, help="merge runs per generated set (timing)")
    parser.add_argument("--samples", type=int, default=20, help="missed pairs printed per mode")
    parser.add_argument("--reference", action="store_true", help="also score plain Splink with ordinary settings")
    parser.add_argument("--workdir", default="/tmp/digiops-latin")
    parser.add_argument("--json", action="store_true", help="also print one JSON line per run")
    parser.add_argument("--missed-csv", help="write every missed pair to this CSV ({mode} is replaced by the mode)")
    args = parser.parse_args()
    seeds = args.seed or [1]
    modes = ("dedupe", "link") if args.mode == "both" else (args.mode,)

    print(HEAD, flush=True)
    summary: dict[tuple[str, str], list[dict]] = {}
    diagnosis: dict[str, list[pd.DataFrame]] = {}
    for mode in modes:
        for seed in seeds:
            started = time.perf_counter()
            data = generate(mode, args.records, seed)
            generated = time.perf_counter() - started
            models = [("digiops", lambda d: run_digiops(d, Path(args.workdir) / f"{mode}-{args.records}-{seed}"))]
            if args.reference:
                models.append(("splink", run_reference))
            for model, run in models:
                for _ in range(args.repeat if model == "digiops" else 1):
                    records, facts = run(data)
                    scores = latin.pairwise(records, cross_only=mode == "link")
                    row = {"mode": mode, "model": model, "seed": seed, "records": len(records),
                           "generate_s": round(generated, 2), **facts, **scores}
                    summary.setdefault((mode, model), []).append(row)
                    print(ROW.format(**row), flush=True)
                    if args.json:
                        print(json.dumps(row), flush=True)
                if model == "digiops":
                    diagnosis.setdefault(mode, []).append(true_pairs(records, cross_only=mode == "link").assign(
                        seed=seed))

    print("\nmedians over seeds")
    print(HEAD)
    for (mode, model), rows in summary.items():
        median = {k: statistics.median(r[k] for r in rows)
                  for k in ("wall_s", "precision", "recall", "f1", "b3_precision", "b3_recall", "b3_f1", "fn", "fp",
                            "quarantined", "records")}
        print(ROW.format(mode=mode, model=model, seed="med", **{**median, "fn": int(median["fn"]),
                                                                  "fp": int(median["fp"]),
                                                                  "quarantined": int(median["quarantined"]),
                                                                  "records": int(median["records"])}))

    pd.set_option("display.width", 160)
    for mode, frames in diagnosis.items():
        pairs = pd.concat(frames, ignore_index=True)
        print(f"\n=== {mode}: digiops missed {int(pairs['missed'].sum())} of {len(pairs)} true pairs "
              f"(seeds {', '.join(map(str, seeds))})")
        print("\nrecall by kind of corruption (pairs carrying it; 'alone': the pair's only modification)")
        print(by_corruption(pairs).to_string(float_format=lambda x: f"{x:.3f}"))
        print("\nrecall by number of modifications in the pair")
        print(by_modifications(pairs).to_string(float_format=lambda x: f"{x:.3f}"))
        print("\nrecall by soc_sec_id (equal / different / missing) and the number of other fields that differ")
        print(by_identifier(pairs).to_string(float_format=lambda x: f"{x:.3f}"))
        print("\nrecall by the fields the two records disagree on (most missed first)")
        print(by_differing_fields(pairs).to_string(float_format=lambda x: f"{x:.3f}"))
        print(f"\n{args.samples} missed pairs (≠ marks a field that differs)")
        print(show_missed(pairs, args.samples))
        if args.missed_csv:
            path = Path(args.missed_csv.replace("{mode}", mode))
            missed = pairs[pairs["missed"]].drop(columns=["missed"]).assign(tags=lambda f: f["tags"].str.join(";"))
            missed.to_csv(path, index=False)
            print(f"\nall {len(missed)} missed pairs written to {path}")


if __name__ == "__main__":
    main()
