"""The metro-year panel's columns: name, dtype, unit, definition, source, construction rule.

One place for the panel schema. ``citydip build`` conforms the panel to it and writes
``codebook.md`` from it; the synthetic demo panel has exactly the same columns.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from citydip.errors import CitydipError

#: Regions of sister-city partners (UN M49 continents; the Americas split at the U.S. border).
REGIONS = ("africa", "asia", "europe", "latin_america", "northern_america", "oceania")

#: Networks with a per-network indicator (code -> name); codes as in the curated dataset.
NETWORKS = {
    "c40": "C40 Cities",
    "100rc": "100 Resilient Cities",
    "unesco_creative": "UNESCO Creative Cities Network",
    "strong_cities": "Strong Cities Network",
    "gcom": "Compact of Mayors / Global Covenant of Mayors",
    "age_friendly": "WHO/AARP age-friendly networks",
    "mayors_for_peace": "Mayors for Peace",
}


@dataclass(frozen=True)
class PanelColumn:
    name: str
    dtype: str
    unit: str
    definition: str
    source: str
    rule: str = ""


def _c(name, dtype, unit, definition, source, rule=""):
    return PanelColumn(name, dtype, unit, definition, source, rule)


_ITA = "ITA Metropolitan Export Series (workbook 2005-2023)"
_BEA_INC = "BEA CAINC1 (MSA file, March-2020 definitions)"
_BEA_GDP = "BEA CAGDP1 (MSA file and U.S. row of the all-areas file)"
_SISTER = "citydip curated sister_cities.csv"
_LOWY = ("Lowy Global Diplomacy Index editions 2016/2017/2019/2021/2023 (2023 = Lowy's '2024' index) + citydip "
         "curated consulate_events.csv")
_NETS = "citydip curated network_memberships.csv"
_CLIM = "ClimActor snapshots (Sept 2020, Dec 2022)"
_CDP = "CDP-ICLEI city-wide emissions disclosures 2016-2021 (CDP Open Data Portal; cite CDP and ICLEI)"
_CDP_RULE = ("U.S. rows matched to March-2020 CBSAs by place name and state, else the state the account gives in "
             "another year, else coordinates; <NA> outside 2016-2021 (no file), 0 in 2016-2021 where no account "
             "reports; options.cdp_inventory: 'all' (default) counts every row of the year's list of respondents "
             "(rows answering the inventory question 'in progress', 'intending', 'no' or not at all, e.g. 30 "
             "U.S. rows of 2019, count), 'disclosed' only rows with a disclosed city-wide inventory; "
             "options.cdp_regional: 'exclude' (default) leaves out the four regional bodies (Metropolitan "
             "Washington COG, Metropolitan Council Twin Cities, Chicago Metropolitan Mayors Caucus, Mid-America "
             "Regional Council; listed in match_report.csv), 'attribute' counts each for the metro it represents "
             "(citydip/panel/cdp.py)")

COLUMNS: tuple[PanelColumn, ...] = (
    _c("cbsa_code", "string", "", "5-digit CBSA code, March-2020 delineation", "Census List 1 (Mar 2020)"),
    _c("cbsa_title", "string", "", "CBSA title, March-2020 delineation", "Census List 1 (Mar 2020)"),
    _c("year", "int64", "year", "calendar year", ""),
    _c("rank", "int64", "rank", "rank by population in the rank year (1 = largest)", _BEA_INC, "options.rank_year"),
    _c("size_class", "string", "", "metro size class: small, mid or large", _BEA_INC,
       "terciles of rank-year population within the sample (default) or fixed cut-offs; cut-offs in provenance.json"),
    # -- outcome --------------------------------------------------------------------------------------
    _c("exports_usd", "float64", "current US dollars", "merchandise exports (exporter-of-record location)", _ITA,
       "sum of the ITA rows whose CBSA maps to this March-2020 CBSA by county overlap; NaN when no row has a value "
       "(never filled)"),
    _c("exports_real_usd", "float64", "constant US dollars of the deflator base year",
       "exports deflated by the U.S. GDP implicit price deflator", f"{_ITA}; {_BEA_GDP}",
       "exports_usd / (gdp_deflator / 100)"),
    _c("log_exports", "float64", "log of current US dollars", "natural log of exports_usd", _ITA,
       "NaN where exports are missing or zero"),
    _c("exports_per_capita_usd", "float64", "current US dollars per person", "exports_usd / population_persons",
       f"{_ITA}; {_BEA_INC}"),
    _c("exports_missing", "bool", "", "no export value for this metro-year", _ITA),
    _c("exports_n_rows", "int64", "count", "ITA rows summed into exports_usd", _ITA),
    _c("exports_boundary", "string", "",
       "delineation of the year's export data vs the panel's: 'same', 'differs' or 'unverified'",
       "Census List 1 (Feb 2013, Mar 2020, Jul 2023)",
       "ITA years follow the delineation in force: 2005-2012 Dec 2009 (no list available: 'unverified' unless a "
       "dissolved MSA is merged in, then 'differs'), 2013-2017 Feb 2013, 2018-2022 Sep 2018 (= Mar 2020 for MSAs), "
       "2023 Jul 2023; 'same' when the county sets are equal"),
    _c("exports_boundary_break", "bool", "", "exports_boundary == 'differs'", "", "options.boundary"),
    # -- controls -------------------------------------------------------------------------------------
    _c("population_persons", "float64", "persons", "population (midyear)", _BEA_INC),
    _c("personal_income_thousands_usd", "float64", "thousands of current US dollars", "personal income", _BEA_INC),
    _c("per_capita_income_usd", "float64", "current US dollars", "per-capita personal income", _BEA_INC),
    _c("real_gdp_thousands_usd", "float64", "thousands of chained 2017 US dollars", "real GDP", _BEA_GDP),
    _c("gdp_thousands_usd", "float64", "thousands of current US dollars", "GDP", _BEA_GDP),
    _c("gdp_deflator", "float64", "index, base year = 100", "U.S. GDP implicit price deflator",
       _BEA_GDP, "100 * U.S. current-dollar GDP / U.S. real GDP, rebased to options.deflator_base_year"),
    _c("log_population", "float64", "log persons", "natural log of population_persons", _BEA_INC),
    _c("log_real_gdp", "float64", "log thousands of chained 2017 US dollars", "natural log of real GDP", _BEA_GDP),
    _c("log_per_capita_income", "float64", "log current US dollars", "natural log of per-capita income", _BEA_INC),
    # -- sister cities --------------------------------------------------------------------------------
    _c("sister_active", "int64", "count", "sister-city ties of the metro's cities active in the year", _SISTER,
       "distinct (U.S. city, partner) ties with a year <= t and no end year <= t; conflicting years resolved by "
       "options.conflict_rule; kinds in options.exclude_sister_kinds left out; undated ties per options.undated"),
    _c("sister_new", "int64", "count", "ties established in the year", _SISTER, "same rules as sister_active"),
    _c("sister_ever", "int64", "count", "all distinct ties on record, dated or not (time-invariant)", _SISTER,
       "kinds in options.exclude_sister_kinds left out"),
    _c("sister_any", "bool", "", "sister_active > 0", _SISTER),
    *(_c(f"sister_active_{r}", "int64", "count", f"active ties with partners in {r.replace('_', ' ').title()}",
         _SISTER, "partner country -> UN M49 region (citydip/panel/countries.csv)") for r in REGIONS),
    # -- consulates ------------------------------------------------------------------------------------
    _c("consular_posts", "float64", "count", "career consular posts (consulates and consulates general) in the metro",
       _LOWY, "options.consulate_fill and options.consulate_countries; NaN where the fill rule gives no value"),
    _c("consulates_general", "float64", "count", "career consulates general in the metro", _LOWY, "as consular_posts"),
    _c("consulate_fill", "string", "", "how the year's consulate counts were obtained "
       "('snapshot': a Lowy edition year; 'between snapshots', 'carried back', 'carried forward'; 'none': no value "
       "under options.consulate_fill, e.g. years before 2016 under 'editions_only')", _LOWY),
    # -- networks -------------------------------------------------------------------------------------
    _c("networks_dated", "int64", "count", "international city networks joined by the year (dated joins)", _NETS,
       "a network counts once per metro; conflicting join years of one membership resolved by "
       "options.conflict_rule; memberships known only as 'member by' a year per options.member_by (default: "
       "undated); undated memberships per options.undated"),
    _c("networks_ever", "int64", "count", "networks with any membership on record, dated or not (time-invariant)",
       f"{_NETS}; {_CLIM}"),
    *(_c(f"net_{code}", "bool", "", f"member of {name} by the year (dated joins)", _NETS)
      for code, name in NETWORKS.items()),
    # -- CDP-ICLEI participation (2016-2021 only) ---------------------------------------------------------
    _c("cdp_cities_reporting", "Int64", "count", "local governments of the metro (cities, towns, counties; distinct "
       "CDP accounts) reporting to CDP-ICLEI in the year", _CDP, _CDP_RULE),
    _c("cdp_any", "Int64", "0/1", "1 if any local government of the metro reports to CDP-ICLEI in the year "
       "(cdp_cities_reporting > 0)", _CDP, "<NA> outside 2016-2021; rules as cdp_cities_reporting"),
    _c("cdp_ever", "Int64", "0/1", "1 if a local government of the metro reported to CDP-ICLEI in any year from "
       "2016 to the year (ever reported as of t; never falls back to 0)", _CDP,
       "<NA> outside 2016-2021 (reporting before 2016 is not observed); rules as cdp_cities_reporting"),
    _c("cdp_ever_2016_2021", "Int64", "0/1", "1 if a local government of the metro reported to CDP-ICLEI in any "
       "year 2016-2021 (time-invariant within those years)", _CDP,
       "<NA> outside 2016-2021; uses all six reporting years even when the panel ends earlier; rules as "
       "cdp_cities_reporting"),
    # -- convenience -----------------------------------------------------------------------------------
    _c("diplomacy_index", "float64", "standard deviations",
       "standardised sum of sister_active, consular_posts and networks_dated", "derived",
       "each measure standardised over the panel's metro-years (mean 0, s.d. 1), summed, and the sum standardised; "
       "NaN where a component is NaN"),
)

NAMES = [c.name for c in COLUMNS]


def conform(panel: pd.DataFrame) -> pd.DataFrame:
    """Exactly the schema's columns, in order, with its dtypes, sorted by (cbsa_code, year)."""
    missing = [n for n in NAMES if n not in panel.columns]
    if missing:
        raise CitydipError(f"panel lacks columns {missing}")
    out = panel.loc[:, NAMES].copy()
    for c in COLUMNS:
        out[c.name] = out[c.name].astype(c.dtype)
    return out.sort_values(["cbsa_code", "year"], kind="stable").reset_index(drop=True)


def codebook_markdown(notes: dict[str, str] | None = None) -> str:
    """The codebook: one row per column (definition, unit, source, construction rule)."""
    notes = notes or {}
    lines = ["| column | type | unit | definition | source | construction |", "|---|---|---|---|---|---|"]
    for c in COLUMNS:
        rule = c.rule + (f" {notes[c.name]}" if c.name in notes else "")
        lines.append(f"| `{c.name}` | {c.dtype} | {c.unit} | {c.definition} | {c.source} | {rule} |")
    return "\n".join(lines)
