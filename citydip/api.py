"""The Python entry points: load the panel, fit a model, read the catalogue's estimates.

Ten lines from nothing to a two-way fixed-effects estimate on the real panel::

    import citydip
    panel = citydip.load_panel()          # built once, then reused from build/ (~1 s)
    res = citydip.fit("log_exports ~ consular_posts + sister_active + networks_dated"
                      " + log_population + log_per_capita_income | cbsa_code + year", panel)
    res.tidy()                            # estimate, std_error, p_value, 95% interval, ...
    res.contrast({"consular_posts": 1, "sister_active": -1})

The cache is the one ``citydip replicate`` uses: the default panel lives in ``build/`` (or
``$CITYDIP_BUILD_DIR``) under the key of its input files, options, code and package versions;
a panel with other options is cached in ``build/panels/<key>/``. Without the published files
(or with ``synthetic=True``) the panel is the synthetic demo with known true effects, and a
warning says so.
"""

from __future__ import annotations

import json
import re
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

import pandas as pd

from citydip.config import build_dir
from citydip.config import data_dir as default_data_dir
from citydip.errors import CitydipError, MissingSourceError, OptionError
from citydip.estimation.results import FitResult
from citydip.estimation.spec import METRO, VCOVS, YEAR, ModelSpec
from citydip.panel.options import PanelOptions


class SyntheticDataWarning(UserWarning):
    """The panel is the synthetic demo panel, not real data."""


@dataclass
class Panel:
    """The metro-year panel with what documents it.

    ``data``: one row per metro-year (``cbsa_code``, ``year``, ...; see ``codebook``);
    ``codebook``: one row per column (dtype, unit, definition, source, construction rule);
    ``provenance``: input checksums, options, versions, notes (``provenance.json``);
    ``dropped``: every input record not used, with its reason (``match_report.csv``);
    ``options``: the :class:`~citydip.panel.options.PanelOptions` it was built with;
    ``path``: the parquet file it was read from (None if built in memory).

    Attribute access and indexing fall through to ``data``: ``panel.shape``,
    ``panel["log_exports"]`` and ``panel.query(...)`` work as on a DataFrame.
    """

    data: pd.DataFrame
    provenance: dict
    dropped: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)
    path: Path | None = None

    @property
    def synthetic(self) -> bool:
        return bool(self.provenance.get("synthetic", False))

    @property
    def options(self) -> PanelOptions:
        return options_from_dict(self.provenance.get("options", {}))

    @property
    def codebook(self) -> pd.DataFrame:
        from citydip.panel import schema

        return pd.DataFrame([{"column": c.name, "dtype": c.dtype, "unit": c.unit, "definition": c.definition,
                              "source": c.source, "rule": c.rule} for c in schema.COLUMNS])

    def __getattr__(self, name: str):
        if name.startswith("__") or name in {f.name for f in fields(self)}:
            raise AttributeError(name)
        return getattr(self.data, name)

    def __getitem__(self, key):
        return self.data[key]

    def __len__(self) -> int:
        return len(self.data)

    def __repr__(self) -> str:
        mark = "SYNTHETIC demo panel" if self.synthetic else "panel"
        years = self.provenance.get("years") or [None, None]
        return (f"<citydip {mark}: {self.data.cbsa_code.nunique()} metros x {years[0]}-{years[1]}, "
                f"{len(self.data):,} rows, {self.data.shape[1]} columns>")

    def _repr_html_(self) -> str:
        return f"<p>{self.__repr__()[1:-1]}</p>" + self.data.head()._repr_html_()


def options_from_dict(values: Mapping) -> PanelOptions:
    """:class:`PanelOptions` from its recorded dictionary (lists back to tuples)."""
    known = {f.name for f in fields(PanelOptions)}
    kwargs = {k: tuple(v) if isinstance(v, list) else v for k, v in values.items() if k in known}
    return PanelOptions(**kwargs)


# -- the panel ---------------------------------------------------------------------------------------
def load_panel(data_dir: str | Path | None = None, *, cache: str | Path | None = "build",
               synthetic: bool | None = None, force: bool = False, variants: bool = False,
               progress: bool | Callable[[str], None] = False, **options) -> Panel:
    """The metro-year panel, built from the published files once and then reused.

    ``data_dir``: the published files (default ``$CITYDIP_DATA_DIR``, else ``data/raw``).
    ``cache``: the build folder (``"build"``, the default, means ``$CITYDIP_BUILD_DIR`` or the
    project's ``build/``, the folder ``citydip replicate`` uses); ``None`` builds in memory and
    writes nothing. ``synthetic``: ``None`` uses the published files when present and the
    synthetic demo otherwise (with a :class:`SyntheticDataWarning`); ``True`` always the demo;
    ``False`` requires the published files. ``force`` rebuilds. ``variants`` also writes the
    robustness variants (as ``citydip replicate`` does). ``options``: any field of
    :class:`~citydip.panel.options.PanelOptions` (``top_n=50``, ``undated="predate"``, ...),
    or ``years=(2005, 2019)``.
    """
    from citydip import pipeline

    root = Path(data_dir) if data_dir is not None else default_data_dir()
    opts = _panel_options(options)
    real = pipeline.has_raw_data(root)
    if synthetic is False and not real:
        raise MissingSourceError(root, "the published files are not in the data directory",
                                 hint="run `citydip fetch` (and the manual steps it prints), or pass "
                                 "data_dir=..., or load_panel(synthetic=True) for the demo")
    use_synthetic = bool(synthetic) or not real
    say = progress if callable(progress) else (_stderr if progress else None)
    if cache is None:
        built = _build_in_memory(root, opts, use_synthetic, say)
        panel = Panel(built.panel, built.provenance(), built.report, None)
    else:
        folder = _cache_folder(cache, root, opts, use_synthetic)
        pipeline.ensure_panel(root, folder, opts, synthetic=use_synthetic, force=force, with_variants=variants,
                              say=say)
        panel = read_panel(folder)
    if panel.synthetic:
        warnings.warn("SYNTHETIC DEMO DATA: this panel was generated with known true effects; it is NOT real data"
                      + ("" if synthetic else f" (no published files in {root})"), SyntheticDataWarning,
                      stacklevel=2)
    return panel


def read_panel(folder: str | Path) -> Panel:
    """A panel written by ``citydip build`` (``panel.parquet``, ``provenance.json``,
    ``match_report.csv`` in ``folder``)."""
    folder = Path(folder)
    path = folder / "panel.parquet"
    if not path.is_file():
        raise CitydipError(f"{path} not found: build it with citydip.load_panel() or `citydip build`")
    report = folder / "match_report.csv"
    dropped = pd.read_csv(report, dtype=str, keep_default_na=False) if report.is_file() else pd.DataFrame()
    return Panel(pd.read_parquet(path), json.loads((folder / "provenance.json").read_text()), dropped, path)


def load_variants(data_dir: str | Path | None = None, *, cache: str | Path = "build",
                  **options) -> dict[str, Panel]:
    """The robustness variants of the panel (one contested construction choice changed each;
    see :mod:`citydip.panel.variants`), by name, built with the panel when missing. Empty for
    the synthetic demo, which has no variants."""
    from citydip.panel.variants import read_variants

    panel = load_panel(data_dir, cache=cache, variants=True, **options)
    folder = panel.path.parent / "variants"
    if panel.synthetic:
        return {}
    if not (folder / "index.json").is_file():
        panel = load_panel(data_dir, cache=cache, variants=True, force=True, **options)
    index, frames = read_variants(folder)
    out = {}
    for entry in index:
        provenance = {**panel.provenance, "variant": entry}
        out[entry["name"]] = Panel(frames[entry["name"]], provenance, pd.DataFrame(), folder / f"{entry['name']}.parquet")
    return out


def load_estimates(data_dir: str | Path | None = None, *, cache: str | Path = "build",
                   progress: bool | Callable[[str], None] = False, **options) -> pd.DataFrame:
    """The model catalogue's tidy estimates (``estimates.csv``: model, term, estimate,
    std_error, p_value, conf_low, conf_high, nobs, ...), fitted once per panel and reused
    while the panel, the code and the package versions are unchanged."""
    from citydip import pipeline

    panel = load_panel(data_dir, cache=cache, progress=progress, **options)
    say = progress if callable(progress) else (_stderr if progress else None)
    pipeline.ensure_estimates(panel.path.parent, say=say)
    return pd.read_csv(panel.path.parent / "estimates.csv")


def _panel_options(options: dict) -> PanelOptions:
    options = dict(options)
    if "years" in options:
        first, last = options.pop("years")
        options.update(first_year=int(first), last_year=int(last))
    known = {f.name for f in fields(PanelOptions)}
    unknown = sorted(set(options) - known)
    if unknown:
        raise OptionError(f"unknown panel option(s) {unknown}; the options are {sorted(known)} and years=(first, last)")
    if "cbsa_codes" in options and options["cbsa_codes"] is not None:
        options["cbsa_codes"] = tuple(str(c) for c in options["cbsa_codes"])
    return replace(PanelOptions(), **options)


def _cache_folder(cache: str | Path, root: Path, options: PanelOptions, synthetic: bool) -> Path:
    """The default panel lives in the build folder itself (as ``citydip replicate`` keeps it);
    any other (other options, or the demo beside real data) in ``panels/<key>/`` under it."""
    from citydip import pipeline

    folder = build_dir() if str(cache) == "build" else Path(cache)
    default = options == PanelOptions() and synthetic == (not pipeline.has_raw_data(root))
    return folder if default else folder / "panels" / pipeline.build_key(root, options, synthetic)[:16]


def _build_in_memory(root: Path, options: PanelOptions, synthetic: bool, say):
    from citydip.panel import build

    if synthetic:
        return build.build_synthetic(options)
    build.check_years(options)
    return build.construct(build.load_inputs(root, progress=say), options, progress=say)


def _stderr(message: str) -> None:
    import sys

    print(message, file=sys.stderr)


# -- models ------------------------------------------------------------------------------------------
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def parse_formula(formula: str) -> tuple[str, tuple[str, ...], tuple[str, ...]]:
    """``"y ~ x1 + x2 | fe1 + fe2"`` -> (``y``, (``x1``, ``x2``), (``fe1``, ``fe2``)).

    Terms are column names of the panel; write transformed or interacted regressors as
    columns first (or use ``ModelSpec`` options such as ``by_size`` and ``lags``)."""
    if formula.count("~") != 1:
        raise OptionError(f"formula {formula!r}: expected one '~' (outcome ~ regressors | fixed effects)")
    lhs, rhs = (part.strip() for part in formula.split("~"))
    parts = [p.strip() for p in rhs.split("|")]
    if len(parts) > 2:
        raise OptionError(f"formula {formula!r}: at most one '|' (regressors | fixed effects)")
    regressors = tuple(t.strip() for t in parts[0].split("+") if t.strip() not in ("", "1"))
    fixed = tuple(t.strip() for t in parts[1].split("+") if t.strip() not in ("", "0")) if len(parts) == 2 else ()
    for term in (lhs, *regressors, *fixed):
        if not _NAME.match(term):
            raise OptionError(f"formula {formula!r}: term {term!r} is not a column name; create the column first "
                              "(e.g. panel['x2'] = panel.x ** 2), or use ModelSpec(by_size=..., lags=...)")
    if not regressors:
        raise OptionError(f"formula {formula!r}: no regressor")
    return lhs, regressors, fixed


def fit(model: str | ModelSpec, data: pd.DataFrame | Panel, vcov: str | Mapping[str, str] | None = None, *,
        family: str = "ols", name: str | None = None, **spec_options) -> FitResult:
    """Fit one model on the panel.

    ``model``: a formula ``"outcome ~ x1 + x2 | cbsa_code + year"`` (column names; fixed
    effects after ``|``) or a :class:`ModelSpec`. ``vcov``: ``"cluster"`` (by metro, the
    default), ``"twoway"`` (metro and year), ``"hetero"`` (HC1), ``"iid"``, ``"wild"`` (wild
    cluster bootstrap p-values), ``"driscoll_kraay"``, or pyfixest's ``{"CRV1": column}``.
    ``family``: ``"ols"``, ``"poisson"`` (PPML) or ``"between"`` (OLS on metro means).
    Other keywords are :class:`ModelSpec` fields (``by_size``, ``lags``, ``lagged``,
    ``convention``, ``weights``, ``unit``, ``time``).

    Returns a :class:`~citydip.estimation.results.FitResult`: ``tidy()``, ``coef``, ``se``,
    ``vcov``, ``df_t``, ``nobs``, ``data`` (the estimation sample), ``wald(R, q)`` and
    ``contrast({term: weight})`` with the model's own reference distribution.
    """
    from citydip.estimation.fitting import fit as fit_spec

    if isinstance(model, (pd.DataFrame, Panel)) and isinstance(data, (str, ModelSpec)):
        model, data = data, model  # citydip.estimation.fit's order (panel, spec)
    frame = data.data if isinstance(data, Panel) else data
    if isinstance(model, ModelSpec):
        spec = model
        if vcov is not None or spec_options or name:
            spec = replace(spec, **_vcov_fields(vcov), **spec_options, **({"name": name} if name else {}))
    else:
        depvar, regressors, fixed = parse_formula(model)
        spec = ModelSpec(name or model, family, depvar, regressors, fixed_effects=fixed,
                         **_vcov_fields(vcov), **spec_options)
    return fit_spec(frame, spec)


def _vcov_fields(vcov) -> dict:
    if vcov is None:
        return {}
    if isinstance(vcov, Mapping):
        if set(vcov) != {"CRV1"}:
            raise OptionError(f"vcov {dict(vcov)!r}: only {{'CRV1': column}} is supported as a dictionary")
        column = vcov["CRV1"]
        if "+" in column:
            parts = [c.strip() for c in column.split("+")]
            if sorted(parts) != sorted([METRO, YEAR]):
                raise OptionError(f"two-way clustering is by {METRO} and {YEAR}, not {parts}")
            return {"vcov": "twoway"}
        return {"vcov": "cluster", "cluster": column}
    if vcov not in VCOVS:
        raise OptionError(f"vcov {vcov!r} is not one of {VCOVS} or {{'CRV1': column}}")
    return {"vcov": vcov}
