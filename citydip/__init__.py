"""citydip: the economics of city diplomacy, reproducibly.

Readers for the public sources (:mod:`citydip.sources`), place matching to
metropolitan areas (:mod:`citydip.geo`) and the command line (:mod:`citydip.cli`).
"""

__version__ = "0.1.0"
