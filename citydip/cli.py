"""The ``citydip`` command line: validate | fetch | match | build | estimate | report | replicate.

Global options (``--data-dir``, ``--verbose``, ``--quiet``) go before or after the command; given
in both places, the one after the command wins. The console shows one line per step (and a
progress bar on a terminal); sub-steps, warnings and library log lines go to
``<build folder>/logs/<command>.log`` (see :mod:`citydip.console`).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

from citydip import __version__
from citydip.config import DATA_DIR_ENV, HASH_SEED, data_dir
from citydip.console import Console, logging_to
from citydip.errors import CitydipError, MissingSourceError

#: Exit statuses of every command.
EXIT_OK = 0
EXIT_ERROR = 1  # an invalid input or a failed step: invalid source file, bad option, failed download or notebook
EXIT_USAGE = 2  # the command line itself (argparse)
EXIT_MISSING = 3  # published files or the output of an earlier step not found
EXIT_INTERRUPTED = 130  # Ctrl-C (128 + SIGINT); results/ is left as it was

EPILOG = f"""global options (--data-dir, --verbose, --quiet) may also follow the command;
given in both places, the one after the command wins.

exit status:
  {EXIT_OK}    success
  {EXIT_ERROR}    invalid input or a failed step (invalid source file, bad option, failed download
       or notebook)
  {EXIT_USAGE}    usage error (unknown command or option)
  {EXIT_MISSING}    missing data: published files, or the output of an earlier step, not found
  {EXIT_INTERRUPTED}  interrupted (Ctrl-C); the previous results/ is left as it was

Sub-steps, warnings and library log lines go to <build folder>/logs/<command>.log."""


def _global_options(suppress: bool) -> argparse.ArgumentParser:
    """The options accepted before or after the command. The commands' copies default to
    ``SUPPRESS``: a value given before the command is kept unless repeated after it."""
    def default(value):
        return argparse.SUPPRESS if suppress else value

    p = argparse.ArgumentParser(add_help=False)
    p.add_argument("--data-dir", default=default(None),
                   help=f"folder of published source files (default: ${DATA_DIR_ENV}, else data/raw)")
    p.add_argument("-v", "--verbose", action="store_true", default=default(False),
                   help="also show sub-steps, warnings and library log lines")
    p.add_argument("-q", "--quiet", action="store_true", default=default(False),
                   help="show only errors and the final summary (no progress)")
    return p


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="citydip", description="City diplomacy and metro exports: reproducible data, panel and estimates.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter, parents=[_global_options(False)])
    parser.add_argument("--version", action="version", version=f"citydip {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    common = _global_options(True)

    def command(name: str, **kwargs) -> argparse.ArgumentParser:
        return sub.add_parser(name, parents=[common], epilog=EPILOG,
                              formatter_class=argparse.RawDescriptionHelpFormatter, **kwargs)

    v = command("validate", help="read and check every source file; report place-match rates")
    v.add_argument("--report-dir", default="build", help="where to write match_report.csv (default: build/)")
    v.add_argument("--no-match", action="store_true", help="skip place matching")
    f = command("fetch", help="download every file with a known address (official or a pinned public "
                              "copy), verify its sha256; print steps for the rest")
    f.add_argument("--refresh", action="store_true", help="accept a new release whose checksum differs")
    f.add_argument("--only", nargs="*", default=None, help="fetch only these source keys")
    m = command("match", help="match every place record to a CBSA and write the match report")
    m.add_argument("--report-dir", default="build", help="where to write match_report.csv (default: build/)")
    b = command("build", help="build the metro-year panel (panel.parquet, codebook, match report, provenance)")
    _panel_arguments(b)
    e = command("estimate", help="fit the model catalogue on the built panel; write estimates.csv")
    e.add_argument("--panel", default="build/panel.parquet", help="panel written by `citydip build`")
    e.add_argument("--out", default="build", help="output folder (default: build/)")
    r = command("report", help="execute every notebook into results/ (executed .ipynb and .html, tables, "
                               "figures, results/README.md); results/ is replaced whole at the end")
    _report_arguments(r, "folder with the panel and estimates (default: build/)")
    rep = command("replicate", help="build the panel, estimate, and execute every notebook into results/ "
                                    "(the synthetic demo panel when no published files are found)")
    _report_arguments(rep, "working folder (default: build/)")
    rep.add_argument("--force", action="store_true", help="rebuild and re-estimate even if nothing changed")
    return parser


def _report_arguments(p: argparse.ArgumentParser, build_help: str) -> None:
    """Options shared by ``report`` and ``replicate``."""
    p.add_argument("--build-dir", default="build", help=build_help)
    p.add_argument("--results", "--results-dir", dest="results",
                   help="output folder (default: results/; build/synthetic-results/ for the synthetic demo, so "
                        "that it never overwrites the real report)")
    p.add_argument("--workers", type=int, default=2, help="notebooks executed at a time (default 2)")


def _panel_arguments(p: argparse.ArgumentParser) -> None:
    from citydip.panel.options import CHOICES, PanelOptions

    d = PanelOptions()
    p.add_argument("--out", default="build", help="output folder (default: build/)")
    p.add_argument("--top", type=int, default=d.top_n, help=f"the N most populous metros (default {d.top_n})")
    p.add_argument("--rank-year", type=int, default=d.rank_year, help=f"year of the ranking (default {d.rank_year})")
    p.add_argument("--codes", default=None, help="explicit CBSA codes, comma-separated (overrides --top)")
    p.add_argument("--years", default=f"{d.first_year}-{d.last_year}", help="FIRST-LAST (default %(default)s)")
    for name, allowed in CHOICES.items():
        p.add_argument("--" + name.replace("_", "-"), choices=allowed, default=getattr(d, name),
                       help=f"default {getattr(d, name)} (see the codebook)")
    p.add_argument("--synthetic", action="store_true", help="build the synthetic demo panel (known true effects)")
    p.add_argument("--summary", action="store_true", help="print coverage by year after building")
    p.add_argument("--variants", action="store_true", help="also write the robustness variants (one contested "
                                                           "choice switched at a time) to OUT/variants/")


def _options(args: argparse.Namespace):
    from citydip.panel.options import CHOICES, PanelOptions, parse_years

    first, last = parse_years(args.years)
    codes = tuple(c.strip() for c in args.codes.split(",") if c.strip()) if args.codes else None
    return PanelOptions(top_n=args.top, rank_year=args.rank_year, cbsa_codes=codes, first_year=first,
                        last_year=last, **{name: getattr(args, name) for name in CHOICES})


def console() -> int:
    """The ``citydip`` command: :func:`main` in a process with a fixed hash seed (re-executed
    once with ``PYTHONHASHSEED`` set if it is not)."""
    if os.environ.get("PYTHONHASHSEED") != HASH_SEED:
        os.environ["PYTHONHASHSEED"] = HASH_SEED
        os.execv(sys.executable, [sys.executable, "-m", "citydip.cli", *sys.argv[1:]])
    return main()


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return EXIT_OK
    if args.verbose and args.quiet:
        parser.error("--verbose and --quiet exclude each other")
    root = data_dir(args.data_dir)
    con = Console(quiet=args.quiet, verbose=args.verbose)
    log = _log_path(args)
    with logging_to(log, verbose=args.verbose):
        try:
            return COMMANDS[args.command](args, root, con)
        except MissingSourceError as exc:
            return _fail(con, args, f"error: {exc}", log, EXIT_MISSING)
        except CitydipError as exc:
            return _fail(con, args, f"error: {exc}", log, EXIT_ERROR)
        except KeyboardInterrupt:
            return _fail(con, args, "interrupted; the previous results are left as they were", log, EXIT_INTERRUPTED)
        finally:
            con.close()


def _fail(con: Console, args: argparse.Namespace, message: str, log: Path, status: int) -> int:
    con.close()
    logging.getLogger("citydip").error(message)
    print(f"citydip {args.command}: {message}\n(details in {log})", file=sys.stderr)
    return status


def _log_path(args: argparse.Namespace) -> Path:
    """``<build folder>/logs/<command>.log``: the command's build or output folder, else build/."""
    folder = next((getattr(args, name) for name in ("build_dir", "out", "report_dir") if getattr(args, name, None)),
                  "build")
    return Path(folder) / "logs" / f"{args.command}.log"


def _validate(args: argparse.Namespace, root: Path, con: Console) -> int:
    from citydip.validate import render, validate

    checks = validate(root)
    print(render(checks, root))
    status = EXIT_ERROR if any(c.invalid for c in checks) else EXIT_OK
    if not args.no_match:
        _match(args, root, con)
    return status


def _match(args: argparse.Namespace, root: Path, con: Console) -> int:
    from citydip.geo.report import match_all, write_report

    con.step("place matching (March-2020 CBSAs)")
    try:
        results = match_all(root, progress=lambda msg: con.detail(f"matching {msg}"))
    except MissingSourceError as exc:
        con.close()
        print(f"Place matching skipped: the Census delineation lists are needed ({exc}).")
        return EXIT_OK
    con.close()
    print("Place matching (March-2020 CBSAs):")
    for r in results:
        print("  " + r.summary)
    curated = [r for r in results if r.dataset.endswith("(curated)")]
    for r in curated:  # the place check of the curated dataset: every unplaced row by record_id
        for row in r.unmatched().itertuples():
            print(f"  place check: {r.dataset.split()[0]}.csv record {row.record_id} ({row.place}, {row.state}) "
                  f"is in no March-2020 metro: {row.reason}")
    path = write_report(results, Path(args.report_dir))
    print(f"match report: {path}")
    return EXIT_OK


def _fetch(args: argparse.Namespace, root: Path, con: Console) -> int:
    from citydip import fetch

    results = fetch.fetch(root, sources=args.only, refresh=args.refresh, progress=not con.quiet)
    if con.quiet:  # fetch prints its summary only with progress
        print(fetch.format_summary(results, root))
    print(fetch.manual_instructions(root))
    return EXIT_ERROR if any(r.status == "failed" for r in results) else EXIT_OK


def _build(args: argparse.Namespace, root: Path, con: Console) -> int:
    from citydip import pipeline
    from citydip.panel import build, summary

    options = _options(args)
    if args.synthetic:
        print(SYNTHETIC_BANNER)
    con.step("panel: building " + ("the SYNTHETIC demo panel" if args.synthetic else "from the published files"))
    try:
        result = pipeline.write_panel(root, Path(args.out), options, synthetic=args.synthetic,
                                      with_variants=args.variants, say=con.detail)
    except MissingSourceError as exc:
        con.close()
        print(f"citydip build: error: {exc}\nThe panel needs the published files: run `citydip fetch` (and the "
              "manual steps it prints), point --data-dir at them, or build the demo with --synthetic.",
              file=sys.stderr)
        return EXIT_MISSING
    con.close()
    paths = {k: Path(args.out) / f for k, f in build.OUTPUT_FILES.items()}
    print(f"panel: {len(result.panel):,} rows ({result.panel.cbsa_code.nunique()} metros x "
          f"{options.first_year}-{options.last_year}) -> {paths['panel']}")
    for key in ("codebook", "report", "provenance", "partners"):
        print(f"{key}: {paths[key]}")
    if args.summary:
        print(summary.coverage(result))
    return EXIT_OK


def _estimate(args: argparse.Namespace, root: Path, con: Console) -> int:
    from citydip.report import outputs

    panel_path = Path(args.panel)
    if not panel_path.is_file():
        print(f"citydip estimate: error: {panel_path} not found; run `citydip build` (or `citydip build "
              "--synthetic`) first", file=sys.stderr)
        return EXIT_MISSING
    con.step("estimates: fitting the model catalogue and the forest analysis")
    result = outputs.estimate_and_write(panel_path, Path(args.out), progress=con.detail)
    con.close()
    if result.synthetic:
        print(SYNTHETIC_BANNER)
    for label, path in result.paths.items():
        print(f"{label}: {path}")
    return EXIT_OK


SYNTHETIC_BANNER = ("*" * 78 + "\n*  SYNTHETIC DEMO PANEL: generated with known true effects; NOT REAL DATA.  *\n"
                    + "*" * 78)


def _report(args: argparse.Namespace, root: Path, con: Console) -> int:
    from citydip.report import execute

    build_dir = Path(args.build_dir)
    if not (build_dir / "estimates.csv").is_file():
        print(f"citydip report: error: {build_dir}/estimates.csv not found; run `citydip build` and "
              "`citydip estimate` first (or `citydip replicate`)", file=sys.stderr)
        return EXIT_MISSING
    from citydip.estimation.outputs import is_synthetic

    synthetic = is_synthetic(build_dir / "panel.parquet")
    results = _results_dir(args, synthetic)
    con.step(f"report: executing the notebooks into {results}/ ({args.workers} at a time)",
             total=len(execute.notebook_sources()))
    runs = execute.run_all(results, build_dir, workers=args.workers, progress=lambda m: con.detail(m, count=False),
                           tick=con.tick, log=_log_path(args))
    con.close()
    print(f"{len(runs)} notebooks executed into {results}/; map of outputs: {results}/README.md")
    if synthetic:
        print(SYNTHETIC_BANNER)
    return EXIT_OK


def _results_dir(args: argparse.Namespace, synthetic: bool) -> Path:
    """``--results``, else ``results/`` for real data and ``<build>/synthetic-results`` for the demo."""
    if args.results:
        return Path(args.results)
    return Path(args.build_dir) / "synthetic-results" if synthetic else Path("results")


def _replicate(args: argparse.Namespace, root: Path, con: Console) -> int:
    """Build, estimate and report, reusing what is current; the synthetic demo without data."""
    import time

    from citydip import pipeline

    start = time.perf_counter()
    real = pipeline.has_raw_data(root)
    if real:
        con.say(f"Data: published files found in {root}")
    else:
        con.say(f"No published data in {root}: running on the SYNTHETIC demo panel.\n"
                "Get the real files with `citydip fetch` (and the manual steps it prints).")
        con.say(SYNTHETIC_BANNER)
    results = _results_dir(args, not real)
    times = pipeline.replicate(root, Path(args.build_dir), results, workers=args.workers, force=args.force,
                               console=con, log=_log_path(args))
    total = time.perf_counter() - start
    print(f"replicate finished in {total:.1f} s (panel {times.build:.1f} s, estimates {times.estimate:.1f} s, "
          f"notebooks {times.report:.1f} s{'; reused: ' + ', '.join(times.reused) if times.reused else ''})")
    print(f"results: {results}/README.md maps every table and figure to the notebook that makes it")
    if not real:
        print(SYNTHETIC_BANNER)
    return EXIT_OK


COMMANDS = {"validate": _validate, "fetch": _fetch, "match": _match, "build": _build, "estimate": _estimate,
            "report": _report, "replicate": _replicate}

if __name__ == "__main__":
    sys.exit(main())
