"""Match every place-bearing source to March-2020 CBSAs and write the match report.

Each source is first reduced to the same columns (``record_id, place, state, lat, lng``)
by a small preparation function below; the :class:`~citydip.geo.match.PlaceMatcher` does
the rest. A preparation may add ``place_alt`` (a second name, tried when the first does not
match: CDP's organisation name) and ``note`` (prefixed to ``match_note``: e.g. where a
state came from). The report lists every record that did not match, with its reason, so
that no record is lost silently; the summary gives the match rate of each source.

Lowy: the U.S. posts of each edition (2016, 2017, 2019 from the CSVs; 2021 and 2023 from
the workbook), by ``post_city_corrected`` without a state. CDP: every U.S. row of each
reporting year (whatever its inventory status), by ``place`` and the row's state, else the
state its account gives in another year (:func:`citydip.sources.cdp.with_account_states`),
else the coordinates; record ids are "<year> row <row> (account <number>)".
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from citydip.atomic import atomic_csv
from citydip.config import PANEL_VINTAGE, curated_dir
from citydip.errors import MissingSourceError
from citydip.geo import delineations as dl
from citydip.geo.crosswalk import titles_to_codes
from citydip.geo.match import PlaceMatcher
from citydip.sources import cdp, registry, wikidata_p190

REPORT_COLUMNS = ["dataset", "record_id", "place", "state", "reason"]


@dataclass
class DatasetMatch:
    """Outcome of matching one source: all its place records with their CBSA (or reason)."""

    dataset: str
    records: pd.DataFrame   #: record_id, place, state, cbsa_code, match_method, match_note, match_reason

    @property
    def matched(self) -> pd.Series:
        return self.records["cbsa_code"].fillna("").ne("")

    @property
    def rate(self) -> float:
        return float(self.matched.mean()) if len(self.records) else float("nan")

    @property
    def summary(self) -> str:
        n, k = len(self.records), int(self.matched.sum())
        if not n:
            return f"{self.dataset}: no records"
        return f"{self.dataset}: {k:,}/{n:,} matched ({k / n:.1%})"

    def unmatched(self) -> pd.DataFrame:
        miss = self.records.loc[~self.matched, ["record_id", "place", "state", "match_reason"]]
        miss = miss.rename(columns={"match_reason": "reason"})
        miss.insert(0, "dataset", self.dataset)
        return miss


def _std(frame: pd.DataFrame, record_id, place, state=None, lat=None, lng=None, **extra) -> pd.DataFrame:
    def pick(c, default):
        if c is None:
            return default
        return frame[c] if isinstance(c, str) else c
    out = pd.DataFrame({
        "record_id": pick(record_id, "").astype(str),
        "place": pick(place, "").astype("string").fillna(""),
        "state": pick(state, "").astype("string").fillna("") if state is not None else "",
        "lat": pd.to_numeric(pick(lat, np.nan), errors="coerce") if lat is not None else np.nan,
        "lng": pd.to_numeric(pick(lng, np.nan), errors="coerce") if lng is not None else np.nan,
        **{name: pick(c, "").astype("string").fillna("") for name, c in extra.items()},
    })
    return out.reset_index(drop=True)


def _row_ids(frame: pd.DataFrame, prefix: str = "row ") -> pd.Series:
    return prefix + frame["source_row"].astype(str)


# -- one preparation per source: the place columns of its records ------------------------------------
def _curated(frame: pd.DataFrame) -> pd.DataFrame:
    return _std(frame, "record_id", "us_city", "us_state")


def _lowy(frame: pd.DataFrame, edition: int | None = None) -> pd.DataFrame:
    us = frame[frame["in_united_states"] & (frame["vintage"].eq(edition) if edition else True)]
    ids = us["vintage"].astype(str) + " row " + us["source_row"].astype(str)
    return _std(us, ids, "post_city_corrected")


def _cdp_all(path: Path) -> pd.DataFrame:
    """Every CDP year file present next to ``path``, with the states accounts give in other years."""
    return cdp.with_account_states(cdp.read_all(path.parent.parent, missing="skip"))


def _cdp(frame: pd.DataFrame, year: int) -> pd.DataFrame:
    us = frame[frame["in_united_states"] & frame["reporting_year"].eq(year)]
    ids = (us["reporting_year"].astype(str) + " row " + us["source_row"].astype(str) + " (account "
           + us["account_number"].astype(str) + ")")
    alt = us["organization_place"].where(us["organization_place"].ne(us["place"]), "")
    return _std(us, ids, "place", "state_filled", lat="lat", lng="lon", place_alt=alt, note=us["state_note"])


def _embassies(frame: pd.DataFrame) -> pd.DataFrame:
    us = frame[frame["country"] == "United States of America"]
    return _std(us, _row_ids(us), "city", lat="latitude", lng="longitude")


def _hekman(frame: pd.DataFrame) -> pd.DataFrame:
    parts = []
    for side in ("1", "2"):
        us = frame[frame[f"nation{side}"] == "United States"]
        parts.append(_std(us, _row_ids(us) + f" city{side}", f"city{side}", lat=f"lat{side}", lng=f"lng{side}"))
    return pd.concat(parts, ignore_index=True)


def _p190_nodes(frame: pd.DataFrame) -> pd.DataFrame:
    us = frame[frame["country"] == "United States of America"]
    return _std(us, us["qid"], "label", lat="lat", lng="lon")


def _climactor(frame: pd.DataFrame) -> pd.DataFrame:
    us = frame[(frame["iso"] == "USA") & (frame["entity_type"] == "City")]
    city = us["name"].str.replace(r",\s*[A-Z]{2}$", "", regex=True)
    state = us["name"].str.extract(r",\s*([A-Z]{2})$")[0].fillna("")
    ids = us["snapshot"].astype(str) + " row " + us["source_row"].astype(str)
    return _std(us, ids, city, state, lat="lat", lng="lng")


#: dataset name -> (source key, preparation[, reader of that file if not the registered one]).
#: Order = order of the report.
PLACE_SOURCES: dict[str, tuple] = {
    "sister_cities (curated)": ("curated_sister_cities", _curated),
    "network_memberships (curated)": ("curated_network_memberships", _curated),
    "consulate_events (curated)": ("curated_consulate_events", _curated),
    "lowy_gdi U.S. posts 2016": ("lowy_2016", _lowy),
    "lowy_gdi U.S. posts 2017": ("lowy_2017", _lowy),
    "lowy_gdi U.S. posts 2019": ("lowy_2019", _lowy),
    "lowy_gdi U.S. posts 2021": ("lowy_workbook", lambda f: _lowy(f, 2021)),
    "lowy_gdi U.S. posts 2023": ("lowy_workbook", lambda f: _lowy(f, 2023)),
    "climactor U.S. cities 2020": ("climactor_2020", _climactor),
    "climactor U.S. cities 2022": ("climactor_2022", _climactor),
    **{f"cdp_cities U.S. rows {y}": (f"cdp_{y}", lambda f, y=y: _cdp(f, y), _cdp_all) for y in cdp.YEARS},
    "wikidata_embassies U.S. missions": ("wikidata_embassies", _embassies),
    "wikipedia_twincities U.S. cities": ("hekman_geocoded", _hekman),
    "wikidata_p190 U.S. nodes": ("wikidata_p190_gexf", _p190_nodes, wikidata_p190.read_gexf_nodes),
}

#: ITA files whose rows are named by CBSA titles.
TITLE_SOURCES = {"ita_xlsx": "ita exports 2005-2023 (titles)", "ita_csv": "ita exports 2012-2021 (titles)"}


def _read(key: str, data_dir: Path, reader: Callable[[Path], pd.DataFrame] | None = None,
          cache: dict | None = None) -> pd.DataFrame | None:
    """The source's records, or None when its file is not in the data directory. ``cache``
    keeps what was read (by file and reader) for the other datasets of one :func:`match_all`."""
    source = registry.get(key)
    path = source.path(data_dir, curated_dir())
    if reader is not None and not path.is_file():
        return None
    token = (str(path.parent), reader) if reader is not None else (str(path), None)
    if cache is not None and token in cache:
        return cache[token]
    try:
        frame = (reader or source.reader)(path)
    except MissingSourceError:
        frame = None
    if cache is not None:
        cache[token] = frame
    return frame


def match_titles(frame: pd.DataFrame, delineations: dict, dataset: str,
                 crosswalk: pd.DataFrame | None = None) -> DatasetMatch:
    """ITA rows (by title) to March-2020 codes; one record per title (``crosswalk`` if already made)."""
    cw = crosswalk if crosswalk is not None else titles_to_codes(frame["msa_title"].unique(), delineations,
                                                                 target=PANEL_VINTAGE)
    records = pd.DataFrame({"record_id": cw.title, "place": cw.title, "state": "", "cbsa_code": cw.cbsa_code,
                            "match_method": cw.method, "match_note": cw.note, "match_reason": cw.match_reason})
    return DatasetMatch(dataset, records)


def match_all(data_dir: Path, progress: Callable[[str], None] | None = None,
              datasets: list[str] | None = None, frames: dict[str, pd.DataFrame] | None = None,
              crosswalk: pd.DataFrame | None = None) -> list[DatasetMatch]:
    """Match every available place-bearing source (or only ``datasets``, names as in
    :data:`PLACE_SOURCES` and :data:`TITLE_SOURCES`); sources not present are skipped.
    ``frames`` passes sources already read (by source key), ``crosswalk`` the ITA titles
    already mapped, so that nothing is read or matched twice."""
    say = progress or (lambda _msg: None)
    wanted = (lambda name: True) if datasets is None else (lambda name: name in datasets)
    frames = frames or {}
    cache: dict = {}
    delineations = dl.load(data_dir)
    matcher = PlaceMatcher(delineations[PANEL_VINTAGE])
    results = []
    for key, dataset in TITLE_SOURCES.items():
        if not wanted(dataset):
            continue
        frame = frames[key] if key in frames else _read(key, data_dir)
        if frame is not None:
            say(dataset)
            results.append(match_titles(frame, delineations, dataset, crosswalk if key in frames else None))
    for dataset, (key, prepare, *reader) in PLACE_SOURCES.items():
        if not wanted(dataset):
            continue
        frame = frames[key] if key in frames and not reader else _read(key, data_dir, *reader, cache=cache)
        if frame is None:
            continue
        say(dataset)
        places = prepare(frame)
        results.append(DatasetMatch(dataset, _match_places(matcher, places, dataset)))
    return results


def _match_places(matcher: PlaceMatcher, places: pd.DataFrame, dataset: str) -> pd.DataFrame:
    """Match by ``place``; records that fail and have a ``place_alt`` are tried again by it
    (the note says so); a ``note`` column is prefixed to ``match_note``."""
    records = matcher.match(places, city="place", state="state", lat="lat", lng="lng", dataset=dataset).records
    if "place_alt" in places:
        retry = records["cbsa_code"].eq("") & records["place_alt"].ne("")
        if retry.any():
            again = matcher.match(places.loc[retry.to_numpy()].assign(place=places["place_alt"]), city="place",
                                  state="state", lat="lat", lng="lng", dataset=dataset).records
            hit = again["cbsa_code"].ne("")
            again.loc[hit, "match_note"] = ("matched by the organisation name '" + again.loc[hit, "place"] + "'"
                                            + again.loc[hit, "match_note"].map(lambda n: f"; {n}" if n else ""))
            again["place"] = places.loc[retry.to_numpy(), "place"]
            records.loc[again.index[hit.to_numpy()]] = again.loc[hit]
    if "note" in places:
        note = places["note"].fillna("")
        records["match_note"] = [f"{a}; {b}" if a and b else (a or b)
                                 for a, b in zip(note, records["match_note"].fillna(""))]
        records["match_note"] = records["match_note"].astype("string")
    return records


def report_frame(results: list[DatasetMatch]) -> pd.DataFrame:
    """Every unmatched record of every source, with its reason (stable order)."""
    parts = [r.unmatched() for r in results]
    frame = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=REPORT_COLUMNS)
    return frame[REPORT_COLUMNS]


def write_report(results: list[DatasetMatch], out_dir: Path) -> Path:
    """Write ``match_report.csv`` (unmatched records) and ``match_rates.csv`` atomically."""
    out_dir.mkdir(parents=True, exist_ok=True)
    rates = pd.DataFrame([{"dataset": r.dataset, "records": len(r.records), "matched": int(r.matched.sum()),
                           "rate": round(r.rate, 4)} for r in results])
    atomic_csv(rates, out_dir / "match_rates.csv")
    return atomic_csv(report_frame(results), out_dir / "match_report.csv")
