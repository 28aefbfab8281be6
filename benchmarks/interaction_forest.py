"""Wall-clock time of :func:`citydip.interaction_forest` against R's diversityForest on the four
reference data sets: the same data, 2,000 trees and 10 seeds as R's recorded run.

Usage::

    python benchmarks/interaction_forest.py [REFERENCE_DIR] [--repeats 3] [--n-jobs N]

REFERENCE_DIR (default ``../shared/reference/interaction_forests`` next to the repository) holds
``data_<name>.csv`` and ``timings.txt``, R's seconds for all 10 seeds of ``interactionfor(num.trees =
2000, num.threads = 2)`` on a 2-core machine. R is not run here: its figures are the recorded ones.

For each data set one fit is made first and timed separately (loading the compiled numba code;
the very first call in a fresh environment also compiles it, cached afterwards); then the 10
fits (seeds 1-10, every argument at its default, EIM included, trees kept) are timed
``--repeats`` times and the median is reported. Prints a Markdown table and the conditions
(CPUs, threads, load average before and after).
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import statistics
import time
from pathlib import Path

import pandas as pd

from citydip.estimation.interaction_forest import interaction_forest

DATA_SETS = ("anchor_like", "qualitative", "quantitative", "metro_cross_section")
DEFAULT_REFERENCE = Path(__file__).resolve().parents[2] / "shared" / "reference" / "interaction_forests"
SEEDS = range(1, 11)
NUM_TREES = 2000


def r_seconds(path: Path) -> dict[str, float]:
    """R's recorded seconds per data set from ``timings.txt`` (lines ``name (n x p)  seconds``)."""
    out = {}
    for line in path.read_text().splitlines():
        match = re.match(r"^(\w+)\s+\(\d+ x \d+\)\s+([\d.]+)\s*$", line.strip())
        if match:
            out[match.group(1)] = float(match.group(2))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("reference", nargs="?", default=str(DEFAULT_REFERENCE), help="reference folder")
    parser.add_argument("--repeats", type=int, default=3, help="timed runs of the 10 seeds (default 3)")
    parser.add_argument("--n-jobs", type=int, default=None, help="threads (default: all cores)")
    args = parser.parse_args(argv)
    import numba

    reference = Path(args.reference)
    recorded = r_seconds(reference / "timings.txt")
    load_before = os.getloadavg()
    rows = []
    for name in DATA_SETS:
        data = pd.read_csv(reference / f"data_{name}.csv").drop(columns="cbsa_code", errors="ignore")
        outcome, features = data.columns[0], list(data.columns[1:])
        start = time.perf_counter()
        interaction_forest(data, outcome, features, num_trees=NUM_TREES, seed=0, n_jobs=args.n_jobs)
        first = time.perf_counter() - start
        runs = []
        for _ in range(args.repeats):
            start = time.perf_counter()
            for seed in SEEDS:
                interaction_forest(data, outcome, features, num_trees=NUM_TREES, seed=seed, n_jobs=args.n_jobs)
            runs.append(time.perf_counter() - start)
        median = statistics.median(runs)
        rows.append((name, f"{len(data)} x {len(features)}", recorded.get(name, float("nan")), median, min(runs),
                     max(runs), first))
        print(f"{name}: runs {', '.join(f'{r:.2f}' for r in runs)} s; first fit {first:.2f} s", flush=True)
    load_after = os.getloadavg()
    print()
    print("| data set | rows x features | R, s (recorded) | citydip, s (median) | min-max, s | speed-up | "
          "first fit, s |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for name, shape, r, median, low, high, first in rows:
        print(f"| {name} | {shape} | {r:.1f} | {median:.2f} | {low:.2f}-{high:.2f} | {r / median:.1f}x | {first:.2f} |")
    print()
    print(f"citydip, Python {platform.python_version()}, numba {numba.__version__}, {os.cpu_count()} CPUs "
          f"({platform.machine()}), {numba.get_num_threads() if args.n_jobs is None else args.n_jobs} threads; "
          f"{args.repeats} timed runs of 10 seeds x {NUM_TREES} trees per data set; load average (1, 5, 15 min) "
          f"before {', '.join(f'{v:.2f}' for v in load_before)}, after {', '.join(f'{v:.2f}' for v in load_after)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
