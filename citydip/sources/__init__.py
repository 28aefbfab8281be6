"""Readers of the public sources, one module per source.

Each module exposes ``read_*(path) -> DataFrame`` functions with a documented
``SCHEMA`` and registers its files in :mod:`citydip.sources.registry`. Importing this
package registers them all, in the order ``citydip validate`` prints them.
"""

from citydip.sources import (  # noqa: F401
    ita,
    census_delineations,
    bea,
    census_popest,
    brookings,
    lowy,
    wikidata_embassies,
    hekman,
    wikidata_p190,
    climactor,
    cdp,
    curated,
)
