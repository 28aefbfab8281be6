"""Every contested construction choice of the panel, with its default, in one place.

``PanelOptions`` is recorded in ``provenance.json`` by ``citydip build`` so that a panel
can always be traced to the choices that made it. Defaults follow the anchor paper
(100 largest metros by 2019 population, March-2020 definitions, 2005-2022).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from citydip.config import PANEL_VINTAGE, PANEL_YEARS, SAMPLE_RANK_YEAR, SAMPLE_TOP_N
from citydip.errors import OptionError

#: Allowed values of the categorical options (first = default).
CHOICES = {
    "undated": ("exclude", "predate"),
    "member_by": ("undated", "midpoint"),
    "conflict_rule": ("earliest", "latest"),
    "consulate_fill": ("carry", "snapshots_only", "editions_only"),
    "consulate_countries": ("common", "all"),
    "consulate_lowy_omissions": ("fill", "keep"),
    "boundary": ("flag", "drop"),
    "size_classes": ("terciles", "fixed"),
    "cdp_inventory": ("all", "disclosed"),
    "cdp_regional": ("exclude", "attribute"),
}


@dataclass(frozen=True)
class PanelOptions:
    """Construction choices of the metro-year panel.

    * ``top_n``/``rank_year``: sample = the ``top_n`` most populous MSAs in ``rank_year``
      (BEA CAINC1 population, March-2020 definitions); ``cbsa_codes`` overrides it.
    * ``first_year``/``last_year``: panel years (inclusive).
    * ``undated``: sister-city ties and network memberships without a year enter only the
      "ever" measures (``exclude``), or are assumed to predate the sample (``predate``).
    * ``member_by``: network memberships with no stated join year but a ``member_by`` year
      (the source shows the city as a member by then: an upper bound) are undated and follow
      ``undated`` (``undated``), or join at the middle year of [network launch year, member_by],
      the later one when two (``midpoint``; :func:`citydip.panel.networks.place_join`).
    * ``conflict_rule``: which year to use when sources give a tie (or a network membership)
      different years.
    * ``exclude_sister_kinds``: row kinds left out of the sister-city counts
      (``intent``, ``planned``, ``friendship``, ``article_date``, ``domestic``).
    * ``consulate_fill``: ``carry`` fills years between and outside the Lowy editions
      (2016, 2017, 2019, 2021, 2023; a post is carried back from its first edition and
      forward from its last, unless a dated event opens or closes it); ``snapshots_only``
      leaves the years between and outside the editions missing; ``editions_only`` does not
      carry back: years before the first edition are missing, later years as ``carry``.
    * ``consulate_countries``: ``common`` counts only sending countries present in every
      Lowy vintage (a consistent coverage); ``all`` counts every country of each vintage.
    * ``consulate_lowy_omissions``: ``fill`` sets the five posts that the consulate-event
      notes identify as Lowy 2016 coding gaps present in 2016 (else they would look like
      2017 openings); ``keep`` uses the 2016 file as it is.
    * ``boundary``: metro-years whose export delineation differs from the panel's are
      flagged (``flag``) or their exports set missing (``drop``).
    * ``size_classes``: ``terciles`` of ``rank_year`` population within the sample, or
      ``fixed`` cut-offs ``size_cutoffs`` (persons).
    * ``cdp_inventory``: CDP–ICLEI participation counts every city that responded in the
      year (``all``: the year's list, whatever its inventory answer) or only those that
      disclosed a city-wide inventory (``disclosed``); see :mod:`citydip.panel.cdp`.
    * ``cdp_regional``: the four regional bodies that report to CDP (councils of governments,
      a mayors' caucus) are not cities and are left out (``exclude``), or each counts for
      the metro it represents (``attribute``; :data:`citydip.panel.cdp.REGIONAL_BODIES`).
    """

    top_n: int = SAMPLE_TOP_N
    rank_year: int = SAMPLE_RANK_YEAR
    cbsa_codes: tuple[str, ...] | None = None
    first_year: int = PANEL_YEARS.start
    last_year: int = PANEL_YEARS.stop - 1
    vintage: str = PANEL_VINTAGE
    undated: str = "exclude"
    member_by: str = "undated"
    conflict_rule: str = "earliest"
    exclude_sister_kinds: tuple[str, ...] = ("intent", "planned", "domestic")
    consulate_fill: str = "carry"
    consulate_countries: str = "common"
    consulate_lowy_omissions: str = "fill"
    boundary: str = "flag"
    size_classes: str = "terciles"
    size_cutoffs: tuple[float, float] = (1_000_000.0, 3_000_000.0)
    deflator_base_year: int = 2017
    cdp_inventory: str = "all"
    cdp_regional: str = "exclude"

    def __post_init__(self) -> None:
        for name, allowed in CHOICES.items():
            if getattr(self, name) not in allowed:
                raise OptionError(f"{name}={getattr(self, name)!r} is not one of {allowed}")
        if self.cbsa_codes is None and self.top_n < 1:
            raise OptionError(f"top_n must be at least 1, got {self.top_n}")
        if self.first_year > self.last_year:
            raise OptionError(f"the year range {self.first_year}-{self.last_year} is empty")
        if self.cbsa_codes is not None:
            bad = [c for c in self.cbsa_codes if not (len(c) == 5 and c.isdigit())]
            if bad or not self.cbsa_codes:
                raise OptionError(f"CBSA codes must be 5-digit strings; got {bad or 'none'}")
        kinds = {"intent", "planned", "friendship", "article_date", "domestic", "former"}
        unknown = set(self.exclude_sister_kinds) - kinds
        if unknown:
            raise OptionError(f"unknown sister-city kinds {sorted(unknown)}; known: {sorted(kinds)}")
        lo, hi = self.size_cutoffs
        if not 0 < lo < hi:
            raise OptionError(f"size cut-offs must be increasing positive numbers, got {self.size_cutoffs}")

    @property
    def years(self) -> range:
        return range(self.first_year, self.last_year + 1)

    def as_dict(self) -> dict:
        d = asdict(self)
        d["cbsa_codes"] = list(self.cbsa_codes) if self.cbsa_codes else None
        return d


def parse_years(text: str) -> tuple[int, int]:
    """'2005-2021' -> (2005, 2021); '2010' -> (2010, 2010). Clear error otherwise."""
    parts = text.replace("–", "-").split("-")
    try:
        years = [int(p) for p in parts]
    except ValueError:
        raise OptionError(f"--years expects FIRST-LAST such as 2005-2022, got {text!r}") from None
    if len(years) == 1:
        years = years * 2
    if len(years) != 2:
        raise OptionError(f"--years expects FIRST-LAST such as 2005-2022, got {text!r}")
    return years[0], years[1]
