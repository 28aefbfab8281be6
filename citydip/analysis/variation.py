"""Within-metro variation: what a fixed-effects coefficient rests on.

A coefficient with metro fixed effects is identified only by metros whose measure changes
during the sample years. :func:`within_variation` counts them, per measure (and optionally per
group such as size class), in a given estimation sample.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

UNIT, TIME = "cbsa_code", "year"
COLUMNS = ["measure", "metros", "metros_with_any", "metros_that_change", "year_on_year_changes",
           "within_share_of_variance"]


def within_variation(sample: pd.DataFrame, measures: Sequence[str], *, by: str | None = None,
                     unit: str = UNIT, time: str = TIME) -> pd.DataFrame:
    """One row per measure (and ``by`` group, in order of appearance of categories):

    - ``metros``: units in the sample (of the group);
    - ``metros_with_any``: units whose measure is positive in some year;
    - ``metros_that_change``: units whose measure takes more than one value (max > min);
    - ``year_on_year_changes``: consecutive observations of a unit (sorted by ``time``) whose
      values differ;
    - ``within_share_of_variance``: variance of the measure net of unit means over its total
      variance (both with ``ddof=1``), NaN when the measure is constant.

    Missing values of a measure are ignored for that measure. ``sample`` is used as given:
    pass the estimation sample (rows with all model variables present).
    """
    data = sample.sort_values([unit, time], kind="stable")
    groups = [(None, data)] if by is None else _groups(data, by)
    rows = []
    for m in measures:
        for label, part in groups:
            x = part[m].astype(float)
            keep = x.notna()
            x, units = x[keep], part.loc[keep, unit]
            per_unit = x.groupby(units)
            spread = per_unit.max() - per_unit.min()
            steps = per_unit.diff()
            demeaned = x - per_unit.transform("mean")
            total = x.var()
            row = {"measure": m, "metros": int(part[unit].nunique()),
                   "metros_with_any": int((per_unit.max() > 0).sum()),
                   "metros_that_change": int((spread > 0).sum()),
                   "year_on_year_changes": int((steps.notna() & (steps != 0)).sum()),
                   "within_share_of_variance": float(demeaned.var() / total) if total > 0 else np.nan}
            if by is not None:
                row = {"measure": m, by: label, **{k: v for k, v in row.items() if k != "measure"}}
            rows.append(row)
    columns = COLUMNS if by is None else ["measure", by, *COLUMNS[1:]]
    return pd.DataFrame(rows, columns=columns)


def _groups(data: pd.DataFrame, by: str) -> list[tuple[object, pd.DataFrame]]:
    column = data[by]
    labels = list(column.cat.categories) if isinstance(column.dtype, pd.CategoricalDtype) else \
        list(pd.unique(column.dropna()))
    return [(label, data[column == label]) for label in labels]
