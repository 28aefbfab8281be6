"""Wall-clock time of :func:`citydip.estimation.forest.forest_analysis` with its defaults
(500 trees, 5-fold cross-validation, 10 permutations per fold, 20-point curves, Friedman's
H on every metro).

Usage::

    python benchmarks/forest.py PANEL.parquet [--repeats 3]

PANEL.parquet is a metro-year panel as ``citydip replicate`` writes it (``build/panel.parquet``).
Prints the seconds of each run (the first includes importing scikit-learn).
"""

from __future__ import annotations

import argparse
import os
import time

import pandas as pd

from citydip.estimation import forest


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("panel", help="metro-year panel (parquet)")
    parser.add_argument("--repeats", type=int, default=3, help="runs (default 3)")
    args = parser.parse_args(argv)
    panel = pd.read_parquet(args.panel)
    print(f"forest_analysis on {len(panel)} metro-years, {os.cpu_count()} CPUs")
    for k in range(args.repeats):
        start = time.perf_counter()
        forest.forest_analysis(panel)
        print(f"run {k + 1}: {time.perf_counter() - start:.2f} s", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
