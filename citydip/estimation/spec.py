"""What a model is: outcome, regressors, fixed effects, inference. Specs are data, not code.

A :class:`ModelSpec` says everything needed to fit and to label a model; the catalogue
(:mod:`citydip.estimation.catalogue`) is a list of them. Fitting lives in
:mod:`citydip.estimation.fitting`, results in :mod:`citydip.estimation.results`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from citydip.errors import OptionError

#: Families: 'ols' (pyfixest feols), 'poisson' (pyfixest fepois, PPML), 'between'
#: (OLS on metro means, statsmodels).
FAMILIES = ("ols", "poisson", "between")

#: Inference: 'iid', 'hetero' (HC1), 'cluster' (one-way by ``cluster``), 'twoway' (metro and
#: year), 'wild' (wild cluster bootstrap, Rademacher weights, restricted), 'driscoll_kraay'
#: (pyfixest's Driscoll-Kraay HAC covariance, robust to cross-sectional dependence).
VCOVS = ("iid", "hetero", "cluster", "twoway", "wild", "driscoll_kraay")

#: Small-sample conventions: 'fixest' (pyfixest/fixest defaults) or 'stata' (regress and
#: xtreg, fe); see :mod:`citydip.estimation.conventions`.
CONVENTIONS = ("fixest", "stata")

METRO = "cbsa_code"
YEAR = "year"


@dataclass(frozen=True)
class ModelSpec:
    """One model. ``by_size`` regressors get one coefficient per metro size class;
    ``lags`` replaces each regressor in ``lagged`` by its value ``lags`` periods earlier.
    ``unit``/``time`` name the panel dimensions (metro and year by default); ``weights``
    names an analytic-weight column."""

    name: str
    family: str
    depvar: str
    regressors: tuple[str, ...]
    fixed_effects: tuple[str, ...] = (METRO, YEAR)
    vcov: str = "cluster"
    cluster: str = METRO
    by_size: tuple[str, ...] = ()
    lags: int = 0
    lagged: tuple[str, ...] = ()
    convention: str = "fixest"
    weights: str | None = None
    unit: str = METRO
    time: str = YEAR
    description: str = ""
    #: Wild cluster bootstrap: Rademacher draws (None: ``fitting.WILD_REPS``) and seed.
    draws: int | None = None
    seed: int | None = None
    #: Driscoll-Kraay: Bartlett lag window in periods (None: floor(4 (T/100)^(2/9))).
    bandwidth: int | None = None

    def __post_init__(self) -> None:
        if self.family not in FAMILIES:
            raise OptionError(f"model {self.name}: family {self.family!r} is not one of {FAMILIES}")
        if self.vcov not in VCOVS:
            raise OptionError(f"model {self.name}: vcov {self.vcov!r} is not one of {VCOVS}")
        if self.convention not in CONVENTIONS:
            raise OptionError(f"model {self.name}: convention {self.convention!r} is not one of {CONVENTIONS}")
        if self.family == "between" and self.fixed_effects:
            raise OptionError(f"model {self.name}: a between regression has no fixed effects")
        if self.vcov == "driscoll_kraay" and (self.family != "ols" or set(self.fixed_effects) - {self.unit, self.time}):
            raise OptionError(f"model {self.name}: Driscoll-Kraay is available for OLS with unit/time effects")
        if self.vcov == "driscoll_kraay" and self.convention == "stata":
            raise OptionError(f"model {self.name}: Driscoll-Kraay has no Stata convention here (use 'fixest')")
        if self.draws is not None and self.draws < 1:
            raise OptionError(f"model {self.name}: draws must be positive, got {self.draws}")

    def with_vcov(self, vcov: str, suffix: str | None = None) -> "ModelSpec":
        return replace(self, vcov=vcov, name=f"{self.name} [{suffix or vcov}]")

    @property
    def vcov_label(self) -> str:
        if self.convention == "stata" and self.vcov == "hetero" and self.unit in self.fixed_effects:
            return f"cluster({self.unit}) (Stata xtreg, fe vce(robust))"
        return {"cluster": f"cluster({self.cluster})", "twoway": f"cluster({self.unit}, {self.time})",
                "wild": f"wild bootstrap cluster({self.cluster})", "hetero": "HC1",
                "driscoll_kraay": "Driscoll-Kraay"}.get(self.vcov, self.vcov)
