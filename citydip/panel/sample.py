"""The panel's metros: the N most populous MSAs in the rank year, or an explicit list."""

from __future__ import annotations

import numpy as np
import pandas as pd

from citydip.errors import OptionError
from citydip.panel.derive import size_classes, tercile_cutoffs
from citydip.panel.options import PanelOptions


def select(income: pd.DataFrame, options: PanelOptions) -> tuple[pd.DataFrame, dict]:
    """Sample metros with their rank and size class.

    ``income`` is BEA CAINC1 (MSA rows, fixed March-2020 definitions). Returns a frame
    (``cbsa_code, cbsa_title, rank, rank_population, size_class``) sorted by rank, and the
    size cut-offs used (persons).
    """
    msas = income[income["geo_level"] == "msa"]
    year = msas[msas["year"] == options.rank_year]
    if year.empty:
        years = f"{int(msas.year.min())}-{int(msas.year.max())}" if len(msas) else "none"
        raise OptionError(f"rank year {options.rank_year} is not in the BEA population data (years {years})")
    ranked = year.sort_values(["population_persons", "geo_fips"], ascending=[False, True], kind="stable")
    ranked = pd.DataFrame({"cbsa_code": ranked.geo_fips.to_numpy(), "cbsa_title": ranked.geo_name.to_numpy(),
                           "rank": np.arange(1, len(ranked) + 1),
                           "rank_population": ranked.population_persons.to_numpy()})
    if options.cbsa_codes is not None:
        unknown = sorted(set(options.cbsa_codes) - set(ranked.cbsa_code))
        if unknown:
            raise OptionError(f"CBSA codes {unknown} are not metropolitan statistical areas of the March-2020 "
                              "delineation (BEA CAINC1); check the codes in Census List 1")
        sample = ranked[ranked.cbsa_code.isin(options.cbsa_codes)]
    else:
        if options.top_n > len(ranked):
            raise OptionError(f"top_n={options.top_n} exceeds the {len(ranked)} metros in the data")
        sample = ranked.head(options.top_n)
    sample = sample.reset_index(drop=True)
    cuts = _cutoffs(sample.rank_population.to_numpy(), options)
    sample["size_class"] = size_classes(sample.rank_population.to_numpy(), cuts)
    return sample, {"small_below": float(cuts[0]), "large_from": float(cuts[1])}


def _cutoffs(population: np.ndarray, options: PanelOptions) -> np.ndarray:
    """Two cut-offs: small < c1 <= mid < c2 <= large."""
    if options.size_classes == "fixed":
        return np.asarray(options.size_cutoffs, dtype=float)
    if len(population) < 3:
        raise OptionError("size terciles need at least 3 metros; use size_classes='fixed'")
    return tercile_cutoffs(population)
