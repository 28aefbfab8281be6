"""The ``citydip`` command line: validate | fetch | match | build | estimate | report | replicate."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from citydip import __version__
from citydip.config import DATA_DIR_ENV, data_dir
from citydip.errors import CitydipError, MissingSourceError

NOT_YET = {
    "build": "build the metro-year panel",
    "estimate": "estimate the fixed-effects models",
    "report": "execute the notebooks into results/",
}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="citydip", description="City diplomacy and metro exports: reproducible data, panel and estimates.")
    parser.add_argument("--version", action="version", version=f"citydip {__version__}")
    parser.add_argument("--data-dir", default=None,
                        help=f"folder of published source files (default: ${DATA_DIR_ENV}, else data/raw)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    v = sub.add_parser("validate", help="read and check every source file; report place-match rates")
    v.add_argument("--report-dir", default="build", help="where to write match_report.csv (default: build/)")
    v.add_argument("--no-match", action="store_true", help="skip place matching")
    f = sub.add_parser("fetch", help="download the sources with stable official URLs; print steps for the rest")
    f.add_argument("--refresh", action="store_true", help="accept a new release whose checksum differs")
    f.add_argument("--only", nargs="*", default=None, help="fetch only these source keys")
    m = sub.add_parser("match", help="match every place record to a CBSA and write the match report")
    m.add_argument("--report-dir", default="build", help="where to write match_report.csv (default: build/)")
    for name, what in NOT_YET.items():
        sub.add_parser(name, help=f"{what} (not yet available)")
    sub.add_parser("replicate", help="run everything that is available, in order")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command is None:
        _parser().print_help()
        return 0
    root = data_dir(args.data_dir)
    try:
        return COMMANDS.get(args.command, _not_yet)(args, root)
    except CitydipError as exc:
        print(f"citydip {args.command}: error: {exc}", file=sys.stderr)
        return 1


def _validate(args: argparse.Namespace, root: Path) -> int:
    from citydip.validate import render, validate

    checks = validate(root)
    print(render(checks, root))
    status = 1 if any(c.invalid for c in checks) else 0
    if not args.no_match:
        _match(args, root)
    return status


def _match(args: argparse.Namespace, root: Path) -> int:
    from citydip.geo.report import match_all, write_report

    try:
        results = match_all(root, progress=lambda msg: print(f"  matching {msg} ...", file=sys.stderr))
    except MissingSourceError as exc:
        print(f"Place matching skipped: the Census delineation lists are needed ({exc}).")
        return 0
    print("Place matching (March-2020 CBSAs):")
    for r in results:
        print("  " + r.summary)
    path = write_report(results, Path(args.report_dir))
    print(f"match report: {path}")
    return 0


def _fetch(args: argparse.Namespace, root: Path) -> int:
    from citydip import fetch

    results = fetch.fetch(root, sources=args.only, refresh=args.refresh)
    print(fetch.manual_instructions(root))
    return 1 if any(r.status == "failed" for r in results) else 0


def _replicate(args: argparse.Namespace, root: Path) -> int:
    args.no_match = False
    args.report_dir = "build"
    status = _validate(args, root)
    for name, what in NOT_YET.items():
        print(f"citydip {name}: not yet available ({what})")
    return status


def _not_yet(args: argparse.Namespace, root: Path) -> int:
    print(f"citydip {args.command}: not yet available ({NOT_YET[args.command]}).")
    return 0


COMMANDS = {"validate": _validate, "fetch": _fetch, "match": _match, "replicate": _replicate}

if __name__ == "__main__":
    sys.exit(main())
