"""The deliverables of the demo run (issue 21): how much longer a run takes when it hands over the client version of
every report, their PDFs, the deck and the workbook. Runs the demo engagement through the CLI ``--repeat`` times
with the ``deliver`` stage and as many times without it (alternating, one reports folder), and prints the medians,
their difference (goal ≤ 30 s) and the deliver stage's own duration and counts from the manifest.

    .venv/bin/python bench/bench_deliver.py [--repeat 2]
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

CLI = [str(Path(sys.executable).with_name("digiops"))]
ROOT = Path(__file__).resolve().parents[1]


def timed(engagement: Path, out: Path) -> tuple[float, Path]:
    started = time.perf_counter()
    subprocess.run(CLI + ["run", str(engagement), "--out", str(out)], check=True, capture_output=True)
    seconds = time.perf_counter() - started
    return seconds, max((out / "demo").glob("2*"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        client = Path(scratch) / "demo"
        shutil.copytree(ROOT / "data" / "clients" / "demo", client, ignore=shutil.ignore_patterns("truth"))
        with_deliver = client / "engagement.yaml"
        settings = yaml.safe_load(with_deliver.read_text(encoding="utf-8"))
        without = client / "engagement-without.yaml"
        text = with_deliver.read_text(encoding="utf-8")
        stages = ", ".join(s for s in settings["stages"] if s != "deliver")
        without.write_text(text.replace(f"stages: [{', '.join(settings['stages'])}]", f"stages: [{stages}]"),
                           encoding="utf-8")
        out = Path(scratch) / "reports"
        plain, delivered, stage = [], [], []
        for _ in range(args.repeat):
            plain.append(timed(without, out)[0])
            seconds, run_dir = timed(with_deliver, out)
            delivered.append(seconds)
            entry = next(s for s in json.loads((run_dir / "manifest.json").read_text())["stages"]
                         if s["name"] == "deliver")
            stage.append(entry["duration_s"])
        metrics = entry["metrics"]
    extra = statistics.median(delivered) - statistics.median(plain)
    print(f"demo run without deliver: median {statistics.median(plain):.1f} s ({', '.join(f'{s:.1f}' for s in plain)})")
    print(f"demo run with deliver:    median {statistics.median(delivered):.1f} s "
          f"({', '.join(f'{s:.1f}' for s in delivered)})")
    print(f"deliverables beyond the run: {extra:.1f} s (goal ≤ 30 s); the deliver stage itself median "
          f"{statistics.median(stage):.1f} s; {metrics['client_pages']} client pages, {metrics['pdfs']} PDFs "
          f"({metrics['pdf_pages']} pages), {metrics['slides']} slides, {metrics['sheets']} sheets")


if __name__ == "__main__":
    main()
