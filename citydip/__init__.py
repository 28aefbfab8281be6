"""citydip: the economics of city diplomacy, reproducibly.

The Python entry points (see the README, "Use it from Python", and
``notebooks/00_quickstart.py``)::

    import citydip
    panel = citydip.load_panel()                        # metro-year panel, cached in build/
    res = citydip.fit("log_exports ~ consular_posts + log_population | cbsa_code + year", panel)
    res.tidy()

``load_panel``, ``load_variants``, ``load_estimates`` (:mod:`citydip.api`); ``fit`` with a
formula or a :class:`ModelSpec`; ``catalogue`` (the report's models M1-M6), ``event_study``
and ``spec_curve`` from :mod:`citydip.estimation`; the readers in :mod:`citydip.sources`, place matching in :mod:`citydip.geo`, the panel in
:mod:`citydip.panel`, report statistics in :mod:`citydip.analysis`.
"""

__version__ = "0.1.0"

from citydip.api import (  # noqa: E402
    Panel,
    SyntheticDataWarning,
    fit,
    load_estimates,
    load_panel,
    load_variants,
    read_panel,
)
from citydip.estimation.results import Contrast, FitResult, WaldTest  # noqa: E402
from citydip.estimation.spec import ModelSpec  # noqa: E402

#: Entry points imported on first use (they load pyfixest, numba: seconds), not by ``import citydip``.
_LAZY = {"catalogue": "citydip.estimation.catalogue", "event_study": "citydip.estimation.events",
         "interaction_forest": "citydip.estimation.interaction_forest", "spec_curve": "citydip.estimation.speccurve"}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'citydip' has no attribute {name!r}")


__all__ = ["Contrast", "FitResult", "ModelSpec", "Panel", "SyntheticDataWarning", "WaldTest", "__version__",
           "catalogue", "event_study", "fit", "interaction_forest", "load_estimates", "load_panel", "load_variants",
           "read_panel", "spec_curve"]
