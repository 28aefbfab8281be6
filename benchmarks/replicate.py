"""Wall-clock time of ``citydip replicate``: a cold run (empty build folder: read, match and
build the panel and its variants, estimate, execute every notebook) and warm reruns (panel
and estimates reused because their inputs did not change; every notebook executed again).

Usage::

    CITYDIP_DATA_DIR=../shared/data/raw python benchmarks/replicate.py [--repeats 2] [--out FILE]

Runs in a temporary folder (the project's build/ and results/ are not touched) and prints a
Markdown table of seconds per step; ``--out`` also writes it to FILE. Target: under 60 s
for a warm run on a 2-core machine.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

from citydip import __version__, pipeline
from citydip.atomic import atomic_write_text
from citydip.config import data_dir


def run_once(root: Path, work: Path) -> dict:
    start = time.perf_counter()
    times = pipeline.replicate(root, work / "build", work / "results", say=lambda m: None)
    return {"total": time.perf_counter() - start, "build": times.build, "estimate": times.estimate,
            "report": times.report, "reused": ", ".join(times.reused) or "nothing"}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=2, help="warm reruns after the cold run (default 2)")
    parser.add_argument("--out", help="also write the Markdown table to this file")
    args = parser.parse_args(argv)
    root = data_dir()
    data = "real" if pipeline.has_raw_data(root) else "SYNTHETIC demo (no published files found)"
    rows = []
    with tempfile.TemporaryDirectory(prefix="citydip-bench-") as tmp:
        for k in range(1 + args.repeats):
            label = "cold" if k == 0 else f"warm {k}"
            print(f"{label} run ...", file=sys.stderr, flush=True)
            rows.append({"run": label, **run_once(root, Path(tmp))})
    lines = [f"`citydip replicate` wall-clock seconds; data: {data}; citydip {__version__}, Python "
             f"{platform.python_version()}, {os.cpu_count()} CPUs ({platform.machine()}).", "",
             "| run | total | panel | estimates | notebooks | reused |", "|---|---:|---:|---:|---:|---|"]
    lines += [f"| {r['run']} | {r['total']:.1f} | {r['build']:.1f} | {r['estimate']:.1f} | {r['report']:.1f} | "
              f"{r['reused']} |" for r in rows]
    text = "\n".join(lines) + "\n"
    print(text)
    if args.out:
        atomic_write_text(Path(args.out), text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
