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
from citydip.estimation.catalogue import catalogue  # noqa: E402
from citydip.estimation.events import event_study  # noqa: E402
from citydip.estimation.results import Contrast, FitResult, WaldTest  # noqa: E402
from citydip.estimation.spec import ModelSpec  # noqa: E402
from citydip.estimation.speccurve import spec_curve  # noqa: E402

__all__ = ["Contrast", "FitResult", "ModelSpec", "Panel", "SyntheticDataWarning", "WaldTest", "__version__",
           "catalogue", "event_study", "fit", "load_estimates", "load_panel", "load_variants", "read_panel",
           "spec_curve"]
