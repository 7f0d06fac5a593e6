"""The demo client (示例茶饮 / Demo Tea Co.): realistic dirty multi-source exports with their ground truth.

``generate(out_dir, people=20000, seed=…)`` writes ``raw/`` (the client's exports, as ``docs/architecture.md``
lists them) and ``truth/`` (who is who, and the clean amount of every order) under ``out_dir``. ``main(argv)`` is
the command line (``python -m digiops.demo --people N --seed S --out DIR``); the ``digiops demo-data`` command
calls it. See ``docs/demo-client.md``.
"""

from __future__ import annotations

import argparse
import time

from digiops.demo.config import DEFAULT_PEOPLE, DEFAULT_SEED, DemoConfig, DirtRates
from digiops.demo.build import DemoDataError, generate
from digiops.demo.sources import SOURCES, sources_yaml

__all__ = ["DEFAULT_PEOPLE", "DEFAULT_SEED", "DemoConfig", "DemoDataError", "DirtRates", "SOURCES", "generate",
           "main", "sources_yaml"]


def main(argv: list[str] | None = None) -> int:
    """Command line: ``python -m digiops.demo [--people N] [--seed S] [--out DIR] [--quiet]``."""
    parser = argparse.ArgumentParser(prog="digiops demo-data", description="Generate the demo client's raw "
                                     "exports and ground truth.")
    parser.add_argument("--people", type=int, default=DEFAULT_PEOPLE, help="real people (default 20000)")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help=f"random seed (default {DEFAULT_SEED})")
    parser.add_argument("--out", default=None, help="client folder (default data/clients/demo)")
    parser.add_argument("--quiet", action="store_true", help="print nothing but errors")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    try:
        counts = generate(args.out, people=args.people, seed=args.seed, verbose=not args.quiet)
    except DemoDataError as exc:
        parser.exit(2, f"error: {exc}\n")
    if not args.quiet:
        width = max(len(k) for k in counts)
        for name, rows in counts.items():
            print(f"  {name:<{width}}  {rows:>12,} rows")
        print(f"done in {time.perf_counter() - started:.1f} s")
    return 0
