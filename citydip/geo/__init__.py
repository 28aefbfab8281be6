"""Place matching: city and county records, and CBSA titles, to CBSA codes by vintage.

* :mod:`citydip.geo.delineations`: the county and principal-city lists of each vintage;
* :mod:`citydip.geo.match`: (city, state[, coordinates]) records -> CBSA, with reasons;
* :mod:`citydip.geo.crosswalk`: ITA's 2023 titles -> March-2020 codes by county overlap;
* :mod:`citydip.geo.names`: name normalisation and the editable alias table.
"""

from citydip.geo.crosswalk import titles_to_codes
from citydip.geo.delineations import Delineation, load
from citydip.geo.match import MatchResult, PlaceMatcher

__all__ = ["Delineation", "MatchResult", "PlaceMatcher", "load", "titles_to_codes"]
