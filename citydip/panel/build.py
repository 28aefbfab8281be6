"""``citydip build``: the metro-year panel and its codebook, drop report and provenance.

:func:`build_panel` returns the panel and everything needed to explain it;
:func:`write_outputs` writes ``panel.parquet``, ``codebook.md``, ``match_report.csv`` and
``provenance.json`` atomically into the output folder.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from citydip import __version__, cache, geo
from citydip.atomic import atomic_csv, atomic_parquet, atomic_write_text
from citydip.config import ITA_YEARS, PANEL_VINTAGE, PROJECT_ROOT, curated_dir
from citydip.errors import OptionError
from citydip.geo.report import match_all, report_frame
from citydip.panel import (
    cdp,
    consulates,
    controls,
    exports,
    networks,
    partners,
    sample,
    schema,
    sister,
    synthetic,
)
from citydip.panel.derive import derive
from citydip.panel.options import PanelOptions
from citydip.sources import cdp as cdp_source
from citydip.sources import climactor, curated, lowy, registry

REPORT_COLUMNS = ["stage", "dataset", "record_id", "place", "state", "reason"]

#: Place-bearing sources the panel uses (their unmatched records go into the report).
PANEL_PLACE_SOURCES = ["ita exports 2005-2023 (titles)", "sister_cities (curated)", "network_memberships (curated)",
                       "consulate_events (curated)", "lowy_gdi U.S. posts 2016", "lowy_gdi U.S. posts 2017",
                       "lowy_gdi U.S. posts 2019", "lowy_gdi U.S. posts 2021", "lowy_gdi U.S. posts 2023",
                       "climactor U.S. cities 2020", "climactor U.S. cities 2022",
                       *cdp.PLACE_DATASETS.values()]


@dataclass
class PanelBuild:
    """A built panel with its drop report, notes and provenance."""

    panel: pd.DataFrame
    report: pd.DataFrame
    options: PanelOptions
    notes: dict[str, list[str]] = field(default_factory=dict)
    inputs: dict[str, str] = field(default_factory=dict)   #: file (relative) -> sha256
    size_cutoffs: dict = field(default_factory=dict)
    synthetic: bool = False
    truth: dict = field(default_factory=dict)   #: true parameters of a synthetic panel
    reads: dict[str, dict] = field(default_factory=dict)  #: catalogue key -> {file, sha256} of every file read
    partners: pd.DataFrame = field(default_factory=partners.empty)  #: partner countries by metro (partners.csv)

    @property
    def build_key(self) -> str:
        """Fingerprint of code, options, package versions and every file read (:mod:`citydip.cache`)."""
        return cache.panel_key(self.options, self.synthetic, self.reads)

    def provenance(self) -> dict:
        return {
            "citydip_version": __version__,
            "git_commit": _git_commit(),
            "synthetic": self.synthetic,
            "build_key": self.build_key,
            **({"synthetic_truth": self.truth} if self.synthetic else {}),
            "options": self.options.as_dict(),
            "size_class_cutoffs_persons": self.size_cutoffs,
            "inputs_sha256": dict(sorted(self.inputs.items())),
            cache.READS_FIELD: dict(sorted(self.reads.items())),
            "notes": self.notes,
            "rows": len(self.panel),
            "metros": int(self.panel.cbsa_code.nunique()),
            "years": [int(self.panel.year.min()), int(self.panel.year.max())] if len(self.panel) else [],
            "versions": cache.package_versions(),
        }


class _Reads:
    """Reads catalogued files for the panel. Every file is reached through the catalogue
    (:meth:`SourceFile.path <citydip.sources.registry.SourceFile.path>`), so that
    :func:`registry.recording <citydip.sources.registry.recording>` notes it, whether read
    here or by another module on the panel's behalf (place matching, delineations)."""

    def __init__(self, data_dir: Path, curated: Path) -> None:
        self.data_dir, self.curated = Path(data_dir), Path(curated)

    def read(self, key: str, reader: Callable[[Path], pd.DataFrame] | None = None) -> pd.DataFrame:
        source = registry.get(key)
        return (reader or source.reader)(source.path(self.data_dir, self.curated))

    def uses(self, *keys: str) -> None:
        """Declare files that another module reads without resolving them through the catalogue
        every time: cached per process (the delineation lists) or opened directly (the curated
        loaders, which apply the errata)."""
        for key in keys:
            registry.get(key).path(self.data_dir, self.curated)


@dataclass
class PanelInputs:
    """Everything read and matched once, from which panels with any options are constructed."""

    sha256: dict[str, str]          #: file (relative) -> sha256 of every file read
    income: pd.DataFrame
    gdp: pd.DataFrame
    nation_gdp: pd.DataFrame
    delineations: dict
    matcher: geo.PlaceMatcher
    place_results: list
    cbsa_of: dict[str, pd.Series]
    ita: pd.DataFrame
    crosswalk: pd.DataFrame
    ties: pd.DataFrame
    members: pd.DataFrame
    climactor_members: pd.DataFrame
    lowy: pd.DataFrame
    events: pd.DataFrame
    reads: dict[str, dict] = field(default_factory=dict)  #: catalogue key -> {file, sha256} of every file read
    cdp_rows: pd.DataFrame = field(default_factory=pd.DataFrame)  #: CDP-ICLEI rows, all years (citydip.sources.cdp)


def load_inputs(data_dir: Path, progress: Callable[[str], None] | None = None) -> PanelInputs:
    """Read the published files and the curated dataset, and match their places (March 2020).

    Records every catalogued file read (``reads``: key -> file, sha256; checksums taken after
    reading), from which the panel's cache key is made (:mod:`citydip.cache`)."""
    say = progress or (lambda _m: None)
    data_dir, curated_root = Path(data_dir), curated_dir()
    files = _Reads(data_dir, curated_root)
    with registry.recording() as recorder:
        say("reading BEA controls")
        income, gdp = files.read("bea_cainc1_msa"), files.read("bea_cagdp1_msa")
        nation_gdp = files.read("bea_cagdp1_counties")
        say("matching places to metros")
        files.uses(*(key for pair in geo.delineations.VINTAGE_SOURCES.values() for key in pair))
        delineations = geo.load(data_dir)
        matcher = geo.PlaceMatcher(delineations[PANEL_VINTAGE])
        say("reading exports, curated records and snapshots")
        ita = files.read("ita_xlsx")
        crosswalk = geo.titles_to_codes(ita.msa_title.unique(), delineations, target=PANEL_VINTAGE)
        editions = lowy.editions(data_dir)   # 2016, 2017, 2019 (CSVs), 2021, 2023 (workbook), via the catalogue
        frames = {"ita_xlsx": ita, **{f"lowy_{v}": editions[editions.edition.eq(v)] for v in (2016, 2017, 2019)},
                  "lowy_workbook": editions[editions.edition.isin([2021, 2023])],
                  **{k: files.read(k) for k in ("climactor_2020", "climactor_2022")}}
        place_results = match_all(data_dir, datasets=PANEL_PLACE_SOURCES, frames=frames, crosswalk=crosswalk)
        cbsa_of = {r.dataset: r.records.set_index("record_id").cbsa_code for r in place_results}
        files.uses("curated_sister_cities", "curated_network_memberships", "curated_consulate_events",
                   "curated_errata")
        ties = curated.load_sister_cities(curated_root)
        members = curated.load_network_memberships(curated_root)
        events = curated.load_consulate_events(curated_root)
        say("reading CDP-ICLEI reporting cities")
        cdp_rows = cdp_source.read_all(data_dir)  # every year file, through the catalogue (recorded)
    reads = cache.describe_reads(recorder.files, data_dir, curated_root)
    sha256 = {r["file"]: r["sha256"] for r in reads.values()}
    return PanelInputs(
        sha256, income, gdp, nation_gdp, delineations, matcher, place_results, cbsa_of, ita, crosswalk,
        ties, members, _climactor_members(frames, place_results),
        editions,
        events, reads, cdp_rows=cdp_rows)


def build_panel(data_dir: Path, options: PanelOptions | None = None,
                progress: Callable[[str], None] | None = None) -> PanelBuild:
    """Build the panel from the published files in ``data_dir`` and the curated dataset."""
    options = options or PanelOptions()
    check_years(options)
    return construct(load_inputs(data_dir, progress), options, progress)


def check_years(options: PanelOptions) -> None:
    if options.first_year < ITA_YEARS.start or options.last_year > ITA_YEARS.stop - 1:
        raise OptionError(f"years {options.first_year}-{options.last_year} fall outside the export data "
                          f"({ITA_YEARS.start}-{ITA_YEARS.stop - 1})")
    if options.vintage != PANEL_VINTAGE:
        raise OptionError(f"only the March-{PANEL_VINTAGE} delineation is available for the panel")


def construct(inputs: PanelInputs, options: PanelOptions | None = None,
              progress: Callable[[str], None] | None = None) -> PanelBuild:
    """The panel for ``options`` from already-read inputs (fast: used for robustness variants)."""
    options = options or PanelOptions()
    check_years(options)
    say = progress or (lambda _m: None)
    smp, cutoffs = sample.select(inputs.income, options)
    codes = smp.cbsa_code.tolist()
    say("measures")
    exp, exp_dropped = exports.metro_exports(inputs.ita, inputs.crosswalk, inputs.delineations, codes, options)
    sis, sis_dropped, sis_notes = sister.sister_measures(inputs.ties, inputs.cbsa_of["sister_cities (curated)"],
                                                         codes, options)
    net, net_dropped, net_notes = networks.network_measures(
        inputs.members, inputs.cbsa_of["network_memberships (curated)"], inputs.climactor_members, codes, options)
    cons = consulates.consulate_measures(inputs.lowy, inputs.events, inputs.matcher, codes, options.years, options)
    cdp_m, cdp_dropped, cdp_notes = cdp.cdp_measures(inputs.cdp_rows, cdp.matched_codes(inputs.cbsa_of), codes,
                                                     options, inputs.delineations[PANEL_VINTAGE].titles)
    say("assembling")
    ctl = controls.metro_controls(inputs.income, inputs.gdp, codes, options.years)
    deflator = controls.gdp_deflator(inputs.nation_gdp, options.years, options.deflator_base_year)
    panel = (exp.merge(ctl, on=["cbsa_code", "year"]).merge(sis, on=["cbsa_code", "year"])
             .merge(net, on=["cbsa_code", "year"])
             .merge(cons.metro_year, on=["cbsa_code", "year"])
             .merge(cdp_m, on=["cbsa_code", "year"])
             .merge(smp[["cbsa_code", "cbsa_title", "rank", "size_class"]], on="cbsa_code"))
    panel["gdp_deflator"] = panel.year.map(deflator)
    panel = derive(panel)
    report = _report(inputs.place_results, [exp_dropped, sis_dropped, net_dropped, cons.dropped, cdp_dropped])
    notes = {"sister_cities": sis_notes, "networks": net_notes, "consulates": cons.notes, "cdp": cdp_notes,
             "exports": [f"{int(panel.exports_missing.sum())} metro-years without exports",
                         f"boundary status counts: {panel.exports_boundary.value_counts().sort_index().to_dict()}"]}
    partner_table = partners.partner_countries(inputs.ties, inputs.cbsa_of["sister_cities (curated)"], cons.posts,
                                               codes, options)
    return PanelBuild(schema.conform(panel), report, options, notes, dict(inputs.sha256), cutoffs,
                      reads=dict(inputs.reads), partners=partner_table)


#: Seed of the synthetic demo panel (fixed: the demo is the same everywhere).
SYNTHETIC_SEED = 20250101


def build_synthetic(options: PanelOptions | None = None, seed: int = SYNTHETIC_SEED) -> PanelBuild:
    """The synthetic demo panel (known true effects) in a :class:`PanelBuild`, flagged synthetic."""
    options = options or PanelOptions()
    n = len(options.cbsa_codes) if options.cbsa_codes else options.top_n
    panel, truth = synthetic.synthetic_panel(seed=seed, n_metros=n, first_year=options.first_year,
                                             last_year=options.last_year)
    ranked = panel.drop_duplicates("cbsa_code").sort_values("rank")
    notes = {"synthetic": ["SYNTHETIC DEMO PANEL generated by citydip.panel.synthetic with known true effects; "
                           "NOT REAL DATA", f"seed {seed}; true effects {truth.effects()}",
                           f"{len(ranked)} synthetic metros (codes 9xxxx)"]}
    report = pd.DataFrame(columns=REPORT_COLUMNS)
    return PanelBuild(panel, report, options, notes, {}, dict(panel.attrs["size_cutoffs"]),
                      synthetic=True, truth=truth.as_dict())


def _climactor_members(frames: dict[str, pd.DataFrame], place_results) -> pd.DataFrame:
    """(cbsa_code, network) of U.S. cities in the ClimActor snapshots for networks the panel
    knows, placed by the place-matching results of those snapshots."""
    matched = {r.dataset: r.records.set_index("record_id").cbsa_code for r in place_results}
    parts = []
    for key, dataset in (("climactor_2020", "climactor U.S. cities 2020"),
                         ("climactor_2022", "climactor U.S. cities 2022")):
        frame = climactor.us_cities(frames[key])
        flags = climactor.network_indicators(frame)
        ids = frame["snapshot"].astype(str) + " row " + frame["source_row"].astype(str)
        codes = ids.map(matched[dataset]).fillna("").to_numpy()
        for source, net in networks.CLIMACTOR_NETWORKS.items():
            member = flags[source].to_numpy(dtype=bool)
            parts.append(pd.DataFrame({"cbsa_code": codes[member], "network": net}))
    out = pd.concat(parts, ignore_index=True)
    return out[out.cbsa_code != ""].drop_duplicates().reset_index(drop=True)


def _report(place_results, dropped: list[pd.DataFrame]) -> pd.DataFrame:
    places = report_frame(place_results).assign(stage="place match")
    panel = pd.concat(dropped, ignore_index=True).assign(stage="panel", place="", state="")
    out = pd.concat([places, panel], ignore_index=True)[REPORT_COLUMNS].fillna("")
    return out.astype(str).sort_values(REPORT_COLUMNS, kind="stable").reset_index(drop=True)


# -- writing ----------------------------------------------------------------------------------------
#: The four outputs of a build, by key.
OUTPUT_FILES = {"panel": "panel.parquet", "codebook": "codebook.md", "report": "match_report.csv",
                "provenance": "provenance.json", "partners": "partners.csv"}


def write_outputs(build: PanelBuild, out_dir: Path) -> dict[str, Path]:
    """Write the outputs (``OUTPUT_FILES``) atomically; returns their paths."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {k: out_dir / name for k, name in OUTPUT_FILES.items()}
    atomic_parquet(build.panel, paths["panel"])
    atomic_write_text(paths["codebook"], codebook(build))
    atomic_csv(build.report, paths["report"])
    atomic_csv(build.partners, paths["partners"])
    atomic_write_text(paths["provenance"], json.dumps(build.provenance(), indent=2, sort_keys=True, default=str) + "\n")
    return paths


def codebook(build: PanelBuild) -> str:
    o = build.options
    head = "SYNTHETIC DEMO PANEL: NOT REAL DATA\n\n" if build.synthetic else ""
    cut = build.size_cutoffs
    lines = [
        f"# citydip panel codebook\n\n{head}One row per metro-year: {build.panel.cbsa_code.nunique()} metros x "
        f"{o.first_year}-{o.last_year} ({len(build.panel):,} rows), March-{o.vintage} CBSA definitions.",
        "",
        "## Choices",
        "",
        *(f"- `{k}` = `{v}`" for k, v in o.as_dict().items()),
        f"- size classes: small < {cut.get('small_below', float('nan')):,.0f} persons <= mid < "
        f"{cut.get('large_from', float('nan')):,.0f} persons <= large (population in {o.rank_year})",
        "",
        "## Columns",
        "",
        schema.codebook_markdown(),
        "",
        "## Construction notes",
        "",
        *(f"- {topic}: {note}" for topic, items in build.notes.items() for note in items),
        "",
        "Records not used, with the reason for each, are in `match_report.csv`; input checksums, options and "
        "versions in `provenance.json`.",
        "",
    ]
    return "\n".join(lines)


def _git_commit() -> str:
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=PROJECT_ROOT, capture_output=True, text=True,
                             timeout=5, check=True)
        return out.stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"

