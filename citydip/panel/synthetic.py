"""A synthetic metro-year panel with known true effects (the demo and test panel).

``synthetic_panel`` returns a panel with exactly the columns of ``citydip.panel.schema``
and a ``SyntheticTruth`` describing the data-generating process (DGP) that made it. It is
used when no real data are present (every result computed from it is synthetic and must
be reported as such: ``panel.attrs['synthetic']`` is ``True``) and by the estimator tests,
which check that estimators recover the known parameters.

Synthetic rows can never be mistaken for real metros: CBSA codes are ``90001``, ``90002``,
... (real CBSA codes lie between 10000 and 49999) and titles read
``Synthetic Metro 001, XX``. Metro codes are assigned in random order of size.

The data-generating process
---------------------------
For metro ``i`` and year ``t`` (all logs natural)::

    log_exports[i,t] = alpha[i] + gamma[t]
                       + beta_sister * sister_active[i,t]
                       + beta_sister_mid * sister_active[i,t] * (size_class[i] == 'mid')
                       + beta_consulate * consular_posts[i,t]
                       + beta_network * networks_dated[i,t]
                       + beta_log_population * log_population[i,t]
                       + beta_log_per_capita_income * log_per_capita_income[i,t]
                       + beta_cdp * cdp_cities_reporting[i,t]   (2016-2021; 0 elsewhere)
                       + eps[i,t],           eps ~ iid N(0, noise_sd**2)

    alpha[i] = export_level + openness_loading * openness[i] + N(0, metro_sd**2)
    gamma[t] = year_trend * (t - rank_year) + N(0, year_sd**2)

``openness[i] ~ N(0, 1)`` is an unobserved, time-invariant metro trait. It raises both the
metro's export level (through ``alpha``) and its propensity to hold sister-city ties,
consular posts and network memberships. Population (size) also raises all three measures
and exports. The diplomacy measures are therefore correlated with the metro effect: a
pooled regression without metro fixed effects attributes part of ``openness`` to the
measures (with the defaults it overstates the sister-city effect about six-fold and
understates the population elasticity by more than half), while two-way fixed effects
(metro and year) identify the ``beta`` from within-metro changes, which are independent
of ``eps``: the headline specification below is correctly specified and unbiased, with
valid classical standard errors (``eps`` is iid).

Within-metro variation comes from staggered accumulation: sister-city ties are
established at metro-specific Poisson rates and occasionally end; consular posts open and
close occasionally; each metro joins each city network (if ever) in its own year.
Every year is observed directly, so ``consulate_fill`` is ``'snapshot'`` throughout and
exports are never missing (``exports_missing`` False, ``exports_n_rows`` 1,
``exports_boundary`` ``'same'``). ``sister_ever`` adds Poisson(1) undated ties to all
dated ties on record (ended ones included); ``networks_ever`` adds undated memberships to
all dated joins (including joins after ``last_year``).

With the default ``beta_sister_mid = 0`` the effects are homogeneous, so the headline
specification (log exports on the three measures, the two controls and metro and year
effects) is correctly specified. Setting ``beta_sister_mid`` gives a size-heterogeneity
model (sister ties interacted with the mid size class) a known non-zero answer.

CDP-ICLEI participation (``cdp_*`` columns) exists for 2016-2021 only and is missing (<NA>)
in other years, as in the real panel. A metro has Poisson(exp(cdp_log_mean + cdp_size *
size + cdp_openness * openness)) local governments that ever take part (so participation,
like the other measures, rises with size and openness and is correlated with the metro
effect); each starts reporting in a year drawn uniformly from ``cdp_first_start`` to
``cdp_last_start`` (earlier starts are first seen in 2016, later ones after 2021 never) and
reports again each later year with probability ``cdp_stay``. Its true effect on exports is
``beta_cdp``, zero by default: within metros the CDP measures have no association with
exports, and across metros only the one that openness and size give them. The CDP draws use
their own random stream (seeded from ``seed``), so the other columns are the same with or
without them.

The effect of a first network join is a step: 0 before the join year, ``beta_network``
from the join year on (later joins each add ``beta_network``), see
``SyntheticTruth.first_network_event_path``.

Levels: population follows a rank-size (Zipf) rule, from about 15-25 million persons for
the largest metro down to about 0.4-0.6 million for the 100th; per-capita income is about
52,000 current dollars in 2019 for a metro of one million persons and rises with size;
GDP is about 1.15 times personal income; the U.S. GDP deflator rises 2 % a year
(2017 = 100) and real GDP is GDP deflated by it; exports range from a few hundred million
to tens (rarely hundreds) of billions of current dollars a year.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

from citydip.config import PANEL_YEARS, SAMPLE_RANK_YEAR
from citydip.errors import OptionError
from citydip.panel import schema
from citydip.panel.derive import diplomacy_index, size_classes, tercile_cutoffs

#: Base year of the synthetic GDP deflator (= 100), as ``PanelOptions.deflator_base_year``.
DEFLATOR_BASE_YEAR = 2017

#: Sister-city partner regions and the share of ties with each (sums to 1).
REGION_SHARES = {
    "africa": 0.06,
    "asia": 0.32,
    "europe": 0.38,
    "latin_america": 0.15,
    "northern_america": 0.05,
    "oceania": 0.04,
}

#: Per network: (first year metros can join, log-odds of ever joining for a metro of one
#: million persons with average openness).
NETWORK_TIMING = {
    "c40": (2006, -3.5),
    "100rc": (2013, -2.0),
    "unesco_creative": (2004, -2.3),
    "strong_cities": (2015, -2.8),
    "gcom": (2014, -0.9),
    "age_friendly": (2006, -0.4),
    "mayors_for_peace": (1982, -0.9),
}

#: Earliest establishment year of a synthetic sister-city tie.
FIRST_TIE_YEAR = 1956

#: Reporting years of CDP-ICLEI participation (the CDP measures are missing in other years).
CDP_YEARS = (2016, 2017, 2018, 2019, 2020, 2021)
#: Random stream of the CDP draws (``SeedSequence([seed, CDP_STREAM])``): separate from the
#: main stream, so that adding the CDP measures left every other synthetic column unchanged.
CDP_STREAM = 1


@dataclass(frozen=True)
class SyntheticTruth:
    """Parameters of the synthetic data-generating process (see the module docstring).

    Effects on log exports (``log_exports`` is the natural log of current US dollars, so an
    effect of 0.01 is about 1 % more exports):

    * ``beta_sister``: per active sister-city tie (log points per tie).
    * ``beta_sister_mid``: extra effect per tie in mid-sized metros (log points per tie);
      the effect in a mid-sized metro is ``beta_sister + beta_sister_mid``.
    * ``beta_consulate``: per career consular post (log points per post).
    * ``beta_network``: per international city network joined (log points per network).
    * ``beta_log_population``: elasticity of exports with respect to population.
    * ``beta_log_per_capita_income``: elasticity with respect to per-capita income.

    Unobserved components of log exports (log points):

    * ``noise_sd``: s.d. of the idiosyncratic error ``eps`` (iid normal, mean 0).
    * ``export_level``: constant of the metro effect (log current dollars).
    * ``openness_loading``: metro effect per s.d. of the unobserved openness trait, which
      also raises the diplomacy measures (the confounder of pooled regressions).
    * ``metro_sd``: s.d. of the rest of the metro effect (independent of everything).
    * ``year_trend``: common growth of log exports per year (log points per year).
    * ``year_sd``: s.d. of the common year shocks.

    Diplomacy measures (``size`` = log of rank-year population in millions, ``openness`` ~
    N(0, 1)):

    * ``sister_initial_log_mean``, ``sister_initial_size``, ``sister_initial_openness``:
      ties established before the first panel year ~ Poisson(exp(log_mean + size_coef * size
      + openness_coef * openness)) (count).
    * ``sister_rate_log_mean``, ``sister_rate_size``, ``sister_rate_openness``: new ties a
      year from the first panel year on, Poisson with log mean as above (ties per year).
    * ``sister_end_hazard``: probability per year that an active tie ends (a tie lasts a
      geometric number of years, at least one).
    * ``sister_undated_mean``: mean of the Poisson number of undated ties of a metro
      (enter ``sister_ever`` only).
    * ``consulate_initial_log_mean``, ``consulate_initial_size``,
      ``consulate_initial_openness``: posts in the first panel year, Poisson as above.
    * ``consulate_open_rate``: openings a year per post of the metro's initial expected
      count, plus ``consulate_open_base`` (posts per year).
    * ``consulate_close_hazard``: probability per year that a post closes.
    * ``consulate_general_share``: share of posts that are consulates general.
    * ``network_size``, ``network_openness``: log-odds of ever joining a network per unit
      of ``size`` and of ``openness`` (base log-odds and first years in ``NETWORK_TIMING``);
      a metro that joins does so in a year drawn uniformly from the network's first year
      to three years after the last panel year.
    * ``network_undated_share``: probability of an undated membership in a network the
      metro has no dated join in (enters ``networks_ever`` only).
    * ``beta_cdp``: effect on log exports per local government reporting to CDP-ICLEI in the
      year (log points; default 0: no effect). Not in :meth:`effects` (the headline
      specification has no CDP measure).
    * ``cdp_log_mean``, ``cdp_size``, ``cdp_openness``: local governments of a metro that ever
      report ~ Poisson(exp(log_mean + size_coef * size + openness_coef * openness)) (count).
    * ``cdp_first_start``, ``cdp_last_start``: each starts reporting in a year uniform on
      ``cdp_first_start``..``cdp_last_start`` (before 2016: reports from 2016 on, the first
      year observed; after 2021: never observed reporting); ``cdp_stay``: probability that it
      reports again in each later year.

    Controls:

    * ``population_top``: rank-year population of the largest metro (persons); the metro in
      position ``j`` has ``population_top * j ** -population_zipf`` times a lognormal factor
      with log s.d. ``population_sd``.
    * ``population_growth_mean``, ``population_growth_sd``: metro growth rate of population
      (log points per year); ``population_noise_sd``: yearly log noise (persons are rounded).
    * ``income_level``: rank-year per-capita income of a one-million metro (current US
      dollars); ``income_size``: elasticity of per-capita income w.r.t. population;
      ``income_sd``: log s.d. across metros; ``income_growth``: real growth (log points a
      year); ``income_growth_sd``: metro s.d. of that growth; ``income_noise_sd``: yearly
      log noise.
    * ``gdp_to_income``: GDP / personal income (ratio), metro log s.d. ``gdp_to_income_sd``,
      yearly log noise ``gdp_noise_sd``.
    * ``inflation``: growth of the GDP deflator (log points a year; 2017 = 100).
    """

    # effects on log exports
    beta_sister: float = 0.010
    beta_sister_mid: float = 0.0
    beta_consulate: float = 0.010
    beta_network: float = 0.030
    beta_log_population: float = 0.6
    beta_log_per_capita_income: float = 0.5
    # unobserved components of log exports
    noise_sd: float = 0.08
    export_level: float = 7.7
    openness_loading: float = 0.4
    metro_sd: float = 0.3
    year_trend: float = 0.01
    year_sd: float = 0.04
    # sister-city ties
    sister_initial_log_mean: float = 2.0
    sister_initial_size: float = 0.5
    sister_initial_openness: float = 0.35
    sister_rate_log_mean: float = -1.2
    sister_rate_size: float = 0.4
    sister_rate_openness: float = 0.35
    sister_end_hazard: float = 0.01
    sister_undated_mean: float = 1.0
    # consular posts
    consulate_initial_log_mean: float = 1.3
    consulate_initial_size: float = 1.0
    consulate_initial_openness: float = 0.25
    consulate_open_rate: float = 0.03
    consulate_open_base: float = 0.1
    consulate_close_hazard: float = 0.03
    consulate_general_share: float = 0.55
    # networks
    network_size: float = 1.0
    network_openness: float = 0.8
    network_undated_share: float = 0.05
    # CDP-ICLEI participation (2016-2021)
    beta_cdp: float = 0.0
    cdp_log_mean: float = -0.1
    cdp_size: float = 0.8
    cdp_openness: float = 0.5
    cdp_first_start: int = 2013
    cdp_last_start: int = 2022
    cdp_stay: float = 0.85
    # controls
    population_top: float = 19_000_000.0
    population_zipf: float = 0.75
    population_sd: float = 0.15
    population_growth_mean: float = 0.008
    population_growth_sd: float = 0.006
    population_noise_sd: float = 0.003
    income_level: float = 52_000.0
    income_size: float = 0.08
    income_sd: float = 0.12
    income_growth: float = 0.012
    income_growth_sd: float = 0.006
    income_noise_sd: float = 0.015
    gdp_to_income: float = 1.15
    gdp_to_income_sd: float = 0.08
    gdp_noise_sd: float = 0.02
    inflation: float = 0.02

    def effects(self) -> dict[str, float]:
        """True coefficients of the headline specification, by panel column."""
        return {
            "sister_active": self.beta_sister,
            "consular_posts": self.beta_consulate,
            "networks_dated": self.beta_network,
            "log_population": self.beta_log_population,
            "log_per_capita_income": self.beta_log_per_capita_income,
        }

    def sister_effect(self, size_class: str) -> float:
        """Effect of one more sister-city tie on log exports in a metro of ``size_class``."""
        return self.beta_sister + (self.beta_sister_mid if size_class == "mid" else 0.0)

    def first_network_event_path(self, event_times) -> dict[int, float]:
        """True effect of a metro's first network join on log exports, ``k`` years after it.

        A step: 0 for ``k < 0``, ``beta_network`` for ``k >= 0`` (holding later joins fixed).
        """
        return {int(k): (self.beta_network if k >= 0 else 0.0) for k in event_times}

    def as_dict(self) -> dict:
        return asdict(self)


def synthetic_panel(
    seed: int = 20250101,
    n_metros: int = 100,
    first_year: int = PANEL_YEARS.start,
    last_year: int = PANEL_YEARS.stop - 1,
    truth: SyntheticTruth | None = None,
) -> tuple[pd.DataFrame, SyntheticTruth]:
    """A synthetic metro-year panel (schema columns) and the truth that generated it.

    Deterministic: the same arguments give an identical panel. Ranks and size classes
    use population in the rank year (2019), which is generated even when it lies outside
    ``first_year``-``last_year``; size classes are terciles of it within the sample.
    """
    truth = truth or SyntheticTruth()
    if not 3 <= n_metros <= 9999:
        raise OptionError(f"n_metros must be between 3 and 9999, got {n_metros}")
    if first_year > last_year:
        raise OptionError(f"the year range {first_year}-{last_year} is empty")
    if first_year <= FIRST_TIE_YEAR:
        raise OptionError(f"first_year must be after {FIRST_TIE_YEAR}, got {first_year}")
    rng = np.random.default_rng(seed)
    years = np.arange(first_year, last_year + 1)
    n, n_years = n_metros, len(years)
    rank_year = SAMPLE_RANK_YEAR

    # -- metros: size, openness, codes -------------------------------------------------------
    position = np.arange(1, n + 1)
    pop_rank_year = (truth.population_top * position ** -truth.population_zipf
                     * np.exp(rng.normal(0.0, truth.population_sd, n)))
    order = rng.permutation(n)  # metro k (code 9000k) gets size position order[k]
    pop_rank_year = pop_rank_year[order]
    size = np.log(pop_rank_year / 1e6)
    openness = rng.normal(0.0, 1.0, n)
    width = max(3, len(str(n)))
    codes = np.array([f"{90000 + k}" for k in range(1, n + 1)])
    titles = np.array([f"Synthetic Metro {k:0{width}d}, XX" for k in range(1, n + 1)])

    # -- population; rank and size class from the rank year (generated even outside the panel)
    pop_years = np.union1d(years, [rank_year])
    growth = rng.normal(truth.population_growth_mean, truth.population_growth_sd, n)[:, None]
    pop_noise = rng.normal(0.0, truth.population_noise_sd, (n, len(pop_years)))
    pop_all = np.round(pop_rank_year[:, None] * np.exp(growth * (pop_years - rank_year)[None, :] + pop_noise))
    population = pop_all[:, np.isin(pop_years, years)]
    pop_in_rank_year = pop_all[:, pop_years == rank_year][:, 0]
    rank = np.empty(n, dtype=np.int64)
    rank[np.argsort(-pop_in_rank_year, kind="stable")] = np.arange(1, n + 1)
    cutoffs = tercile_cutoffs(pop_in_rank_year)
    size_class = size_classes(pop_in_rank_year, cutoffs)
    mid = size_class == "mid"

    # -- income and GDP ----------------------------------------------------------------------
    dt = (years - rank_year)[None, :]

    deflator = 100.0 * np.exp(truth.inflation * (years - DEFLATOR_BASE_YEAR))
    pci_level = np.log(truth.income_level) + truth.income_size * size + rng.normal(0.0, truth.income_sd, n)
    pci_growth = truth.income_growth + rng.normal(0.0, truth.income_growth_sd, n)
    log_pci_nominal = (pci_level[:, None] + pci_growth[:, None] * dt
                       + rng.normal(0.0, truth.income_noise_sd, (n, n_years))
                       + truth.inflation * (years - rank_year)[None, :])
    personal_income_thousands = np.exp(log_pci_nominal) * population / 1000.0
    per_capita_income = personal_income_thousands * 1000.0 / population
    gdp_ratio = truth.gdp_to_income * np.exp(rng.normal(0.0, truth.gdp_to_income_sd, n))[:, None]
    gdp_thousands = personal_income_thousands * gdp_ratio * np.exp(rng.normal(0.0, truth.gdp_noise_sd, (n, n_years)))
    real_gdp_thousands = gdp_thousands / (deflator[None, :] / 100.0)

    # -- sister-city ties --------------------------------------------------------------------
    regions = list(schema.REGIONS)
    shares = np.array([REGION_SHARES[r] for r in regions])
    mu_initial = np.exp(truth.sister_initial_log_mean + truth.sister_initial_size * size
                        + truth.sister_initial_openness * openness)
    mu_rate = np.exp(truth.sister_rate_log_mean + truth.sister_rate_size * size
                     + truth.sister_rate_openness * openness)
    n_initial = rng.poisson(mu_initial)
    n_new = rng.poisson(mu_rate[:, None] * np.ones((1, n_years)))
    tie_metro = np.concatenate([np.repeat(np.arange(n), n_initial),
                                np.repeat(np.repeat(np.arange(n), n_years), n_new.ravel())])
    tie_start = np.concatenate([
        rng.integers(FIRST_TIE_YEAR, first_year, n_initial.sum()),
        np.repeat(np.tile(years, n), n_new.ravel()),
    ])
    tie_end = tie_start + rng.geometric(truth.sister_end_hazard, len(tie_start))
    tie_region = rng.choice(len(regions), size=len(tie_start), p=shares)
    active = (tie_start[:, None] <= years[None, :]) & (tie_end[:, None] > years[None, :])
    sister_active = np.zeros((n, n_years), dtype=np.int64)
    sister_region = np.zeros((len(regions), n, n_years), dtype=np.int64)
    np.add.at(sister_active, tie_metro, active.astype(np.int64))
    for r in range(len(regions)):
        pick = tie_region == r
        np.add.at(sister_region[r], tie_metro[pick], active[pick].astype(np.int64))
    sister_new = n_new.astype(np.int64)
    undated_ties = rng.poisson(truth.sister_undated_mean, n)
    sister_ever = np.bincount(tie_metro, minlength=n) + undated_ties

    # -- consular posts ----------------------------------------------------------------------
    mu_consulate = np.exp(truth.consulate_initial_log_mean + truth.consulate_initial_size * size
                          + truth.consulate_initial_openness * openness)
    open_rate = truth.consulate_open_rate * mu_consulate + truth.consulate_open_base
    posts = np.zeros((n, n_years))
    generals = np.zeros((n, n_years))
    for i in range(n):
        kinds = list(rng.random(rng.poisson(mu_consulate[i])) < truth.consulate_general_share)
        for j in range(n_years):
            if j > 0:
                kinds = [k for k, gone in zip(kinds, rng.random(len(kinds)) < truth.consulate_close_hazard)
                         if not gone]
                kinds += list(rng.random(rng.poisson(open_rate[i])) < truth.consulate_general_share)
            posts[i, j] = len(kinds)
            generals[i, j] = sum(kinds)

    # -- networks ----------------------------------------------------------------------------
    net_member = {}
    join_any = np.zeros(n, dtype=np.int64)
    undated = np.zeros(n, dtype=np.int64)
    for code, (launch, base) in NETWORK_TIMING.items():
        logit = base + truth.network_size * size + truth.network_openness * openness
        joins = rng.random(n) < 1.0 / (1.0 + np.exp(-logit))
        join_year = rng.integers(launch, max(launch, last_year) + 4, n)
        net_member[code] = joins[:, None] & (join_year[:, None] <= years[None, :])
        join_any += joins
        undated += ~joins & (rng.random(n) < truth.network_undated_share)
    networks_dated = sum(m.astype(np.int64) for m in net_member.values())
    networks_ever = join_any + undated

    # -- exports -----------------------------------------------------------------------------
    alpha = (truth.export_level + truth.openness_loading * openness
             + rng.normal(0.0, truth.metro_sd, n))
    gamma = truth.year_trend * (years - rank_year) + rng.normal(0.0, truth.year_sd, n_years)
    eps = rng.normal(0.0, truth.noise_sd, (n, n_years))
    log_exports = (alpha[:, None] + gamma[None, :]
                   + (truth.beta_sister + truth.beta_sister_mid * mid[:, None]) * sister_active
                   + truth.beta_consulate * posts
                   + truth.beta_network * networks_dated
                   + truth.beta_log_population * np.log(population)
                   + truth.beta_log_per_capita_income * np.log(per_capita_income)
                   + eps)
    cdp = _cdp_participation(np.random.default_rng(np.random.SeedSequence([seed, CDP_STREAM])), truth, size,
                             openness, years)
    log_exports = log_exports + truth.beta_cdp * np.nan_to_num(cdp["cdp_cities_reporting"])
    exports = np.exp(log_exports)

    # -- assemble ----------------------------------------------------------------------------
    def metro(a):
        return np.repeat(a, n_years)

    def cell(a):
        return np.asarray(a).ravel()

    year_col = np.tile(years, n).astype(np.int64)
    deflator_col = np.tile(deflator, n)
    panel = pd.DataFrame({
        "cbsa_code": metro(codes),
        "cbsa_title": metro(titles),
        "year": year_col,
        "rank": metro(rank),
        "size_class": metro(size_class),
        "exports_usd": cell(exports),
        "exports_real_usd": cell(exports) / (deflator_col / 100.0),
        "log_exports": np.log(cell(exports)),
        "exports_per_capita_usd": cell(exports) / cell(population),
        "exports_missing": False,
        "exports_n_rows": 1,
        "exports_boundary": "same",
        "exports_boundary_break": False,
        "population_persons": cell(population),
        "personal_income_thousands_usd": cell(personal_income_thousands),
        "per_capita_income_usd": cell(per_capita_income),
        "real_gdp_thousands_usd": cell(real_gdp_thousands),
        "gdp_thousands_usd": cell(gdp_thousands),
        "gdp_deflator": deflator_col,
        "log_population": np.log(cell(population)),
        "log_real_gdp": np.log(cell(real_gdp_thousands)),
        "log_per_capita_income": np.log(cell(per_capita_income)),
        "sister_active": cell(sister_active),
        "sister_new": cell(sister_new),
        "sister_ever": metro(sister_ever),
        "sister_any": cell(sister_active) > 0,
        **{f"sister_active_{r}": cell(sister_region[k]) for k, r in enumerate(regions)},
        "consular_posts": cell(posts),
        "consulates_general": cell(generals),
        "consulate_fill": "snapshot",
        "networks_dated": cell(networks_dated),
        "networks_ever": metro(networks_ever),
        **{f"net_{code}": cell(net_member[code]) for code in schema.NETWORKS},
        **{name: pd.array(cell(values), dtype="Float64").astype("Int64") for name, values in cdp.items()},
    })
    panel["diplomacy_index"] = diplomacy_index(panel)
    panel = schema.conform(panel)
    panel.attrs = {"synthetic": True, "synthetic_seed": int(seed),
                   "size_cutoffs": {"small_below": float(cutoffs[0]), "large_from": float(cutoffs[1])}}
    return panel, truth


def _cdp_participation(rng: np.random.Generator, truth: SyntheticTruth, size: np.ndarray, openness: np.ndarray,
                       years: np.ndarray) -> dict[str, np.ndarray]:
    """The four CDP measures (metros x ``years``, NaN outside 2016-2021; see the module
    docstring). Draws do not depend on ``years``: a shorter panel shows the same metros."""
    n, cdp_years = len(size), np.asarray(CDP_YEARS)
    accounts = rng.poisson(np.exp(truth.cdp_log_mean + truth.cdp_size * size + truth.cdp_openness * openness))
    metro = np.repeat(np.arange(n), accounts)
    start = np.maximum(rng.integers(truth.cdp_first_start, truth.cdp_last_start + 1, len(metro)), cdp_years[0])
    stays = rng.random((len(metro), len(cdp_years))) < truth.cdp_stay
    reports = (cdp_years[None, :] == start[:, None]) | ((cdp_years[None, :] > start[:, None]) & stays)
    count = np.zeros((n, len(cdp_years)))
    np.add.at(count, metro, reports.astype(float))
    ever = np.maximum.accumulate(count > 0, axis=1).astype(float)
    whole = np.repeat((count > 0).any(axis=1, keepdims=True), len(cdp_years), axis=1).astype(float)
    out = {}
    for name, values in (("cdp_cities_reporting", count), ("cdp_any", (count > 0).astype(float)), ("cdp_ever", ever),
                         ("cdp_ever_2016_2021", whole)):
        frame = np.full((n, len(years)), np.nan)
        inside = np.isin(years, cdp_years)
        frame[:, inside] = values[:, np.searchsorted(cdp_years, years[inside])]
        out[name] = frame
    return out
