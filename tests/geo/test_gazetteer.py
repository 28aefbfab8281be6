"""The GeoNames cities table behind the state pick of homonyms (``geonames_us``)."""

from __future__ import annotations

import subprocess
import sys

from citydip.geo.gazetteer import US_LATITUDES, US_LONGITUDES, geonames_us


def test_us_cities_with_states_coordinates_and_populations():
    table = geonames_us()
    assert len(table) > 2500 and table.state.str.fullmatch(r"[A-Z]{2}").all()
    assert table.lat.between(*US_LATITUDES).all() and table.lng.between(*US_LONGITUDES).all()
    assert (table.population >= 15000).all()  # cities15000: places over 15,000 people
    portland = table[table.key == "portland"].set_index("state").population
    assert portland.index[0] == "OR" and portland["OR"] > 5 * portland["ME"]  # most populous first
    columbus = table[table.key == "columbus"]
    assert list(columbus.state[:2]) == ["OH", "GA"]


def test_the_table_is_read_without_importing_the_package_that_ships_it():
    code = ("import sys; from citydip.geo.gazetteer import geonames_us; geonames_us(); "
            "print('geotext' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
