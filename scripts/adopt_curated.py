"""Build ``data/curated`` from the three hand-compiled folders (one-off adoption, reproducible).

Usage::

    python scripts/adopt_curated.py RAW_DIR [--out data/curated]

``RAW_DIR`` holds ``sister_city_years/``, ``network_memberships/`` and ``consulate_events/``.
The script

* combines ``sister_cities_part_{a,b,c}.csv`` into one table ``sister_cities.csv`` with a
  ``collection`` column (a/b/c) and a stable ``record_id`` (``sc-a-0001`` = part a, data row 1);
* copies ``network_memberships.csv`` and ``consulate_events.csv`` with a ``record_id``
  (``nm-0001``, ``ce-0001``);
* writes the corrections and disputes of the ERRATA files as ``errata.csv``, each naming the
  records it concerns (located here by content, so a changed input fails loudly);
* copies every NOTES/ERRATA markdown file into ``notes/<folder>/``.

Every cell is copied verbatim (text, no re-typing); every original column and every
``source_url`` is kept. After adoption the files in ``data/curated`` are the source of truth:
extend them there (see ``citydip.sources.curated``), not by re-running this script.
"""

from __future__ import annotations

import argparse
import csv
import io
import shutil
import sys
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent

SISTER_FOLDER = "sister_city_years"
NETWORK_FOLDER = "network_memberships"
CONSULATE_FOLDER = "consulate_events"

SISTER_COLUMNS = ["cbsa_code", "us_city", "us_state", "partner_city", "partner_country", "year_established",
                  "relationship_type", "year_ended", "source_url", "source_date_hint"]
NETWORK_COLUMNS = ["network", "us_city", "us_state", "year_joined", "year_left", "membership_type", "source_url",
                   "source_date_hint"]
CONSULATE_COLUMNS = ["sending_country", "us_city", "us_state", "post_type", "event", "year", "month", "source_url",
                     "source_date_hint", "notes"]
ERRATA_COLUMNS = ["erratum_id", "dataset", "record_ids", "key", "field", "file_value", "corrected_value", "status",
                  "source_url", "note"]

#: Rows the adoption must produce (the counts stated in the NOTES files).
EXPECTED_ROWS = {"a": 698, "b": 288, "c": 113, "network": 458, "consulate": 107}


class AdoptionError(RuntimeError):
    pass


def read_rows(path: Path, columns: list[str]) -> list[dict[str, str]]:
    text = path.read_bytes().decode("utf-8-sig")
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    records = [r for r in reader if any(c.strip() for c in r)]
    header = [h.strip() for h in records[0]]
    if header != columns:
        raise AdoptionError(f"{path}: header {header} differs from {columns}")
    out = []
    for line, record in enumerate(records[1:], start=2):
        if len(record) != len(columns):
            raise AdoptionError(f"{path} row {line}: {len(record)} fields, expected {len(columns)}")
        out.append(dict(zip(columns, (c.strip() for c in record))))
    return out


def write_rows(path: Path, columns: list[str], rows: list[dict[str, str]]) -> None:
    buf = io.StringIO(newline="")
    writer = csv.writer(buf, lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(columns)
    for row in rows:
        writer.writerow([row[c] for c in columns])
    path.write_bytes(buf.getvalue().encode("utf-8"))


def find(rows: list[dict[str, str]], what: str, **match: str) -> list[dict[str, str]]:
    hits = [r for r in rows if all(r[k] == v for k, v in match.items())]
    if not hits:
        raise AdoptionError(f"erratum target not found: {what} {match}")
    return hits


def one(rows: list[dict[str, str]], what: str, **match: str) -> dict[str, str]:
    hits = find(rows, what, **match)
    if len(hits) != 1:
        raise AdoptionError(f"erratum target is ambiguous ({len(hits)} rows): {what} {match}")
    return hits[0]


def build_errata(sister: list[dict[str, str]], network: list[dict[str, str]]) -> list[dict[str, str]]:
    """The corrections and disputes stated in the two ERRATA.md files, tied to record ids."""
    errata: list[dict[str, str]] = []

    def add(dataset: str, records: list[dict[str, str]], key: str, field: str, corrected: str, status: str,
            source_url: str, note: str) -> None:
        errata.append({
            "erratum_id": f"er-{len(errata) + 1:04d}", "dataset": dataset,
            "record_ids": ";".join(r["record_id"] for r in records), "key": key, "field": field,
            "file_value": ";".join(r[field] for r in records), "corrected_value": corrected, "status": status,
            "source_url": source_url, "note": note,
        })

    # sister_city_years/ERRATA.md
    add("sister_cities",
        [one(sister, "Atlanta-Taipei 1974", us_city="Atlanta", us_state="GA", partner_city="Taipei",
             year_established="1974")],
        "Atlanta, GA - Taipei, Taiwan", "year_established", "1979", "correction",
        "http://focustaiwan.tw/news/AIPL/201903210015.aspx",
        "audit: signed 5 Nov 1979; the file has two rows (1979, 1974), the 1974 row is wrong")
    disputes = [
        ("Richmond", "VA", "Richmond upon Thames", "United Kingdom", "1981", "sources give 1930 / 1938 / formal 1981"),
        ("Houston", "TX", "Shenzhen", "China", "1989", "sources give 1986 / 1989"),
        ("Seattle", "WA", "Perugia", "Italy", "1993", "sources give 1991 / 1993"),
        ("San Francisco", "CA", "Shanghai", "China", "1980", "sources give 1979 / Jan 1980"),
    ]
    for city, state, partner, country, alternative, note in disputes:
        records = [r for r in find(sister, f"{city}-{partner}", us_city=city, us_state=state, partner_city=partner,
                                   partner_country=country) if r["year_established"]]
        add("sister_cities", records, f"{city}, {state} - {partner}, {country}", "year_established", alternative,
            "disputed", "", f"audit: disputed between sources, first signing vs formal twinning vs re-signing ({note}); "
            "keep the years, the conflict rule decides")

    # network_memberships/ERRATA.md
    add("network_memberships",
        [one(network, "100RC Alameda", network="100 Resilient Cities", us_city="Alameda", us_state="CA")],
        "100 Resilient Cities - Alameda, CA", "year_left", "2014", "correction",
        "https://nonprofitquarterly.org/2014/04/04/alameda-loses-the-rockefeller-foundation-grant-it-only-just-received/",
        "audit: dropped April 2014")
    chicago = [r for r in find(network, "WHO Chicago", us_city="Chicago", us_state="IL",
                               network="WHO Global Network for Age-friendly Cities and Communities")
               if r["year_joined"]]
    add("network_memberships", chicago,
        "WHO Global Network for Age-friendly Cities and Communities - Chicago, IL", "year_joined", "",
        "disputed", "", "audit: disputed between sources (2011 / July 2012); both rows kept")
    return errata


def adopt(raw: Path, out: Path) -> dict[str, int]:
    for folder in (SISTER_FOLDER, NETWORK_FOLDER, CONSULATE_FOLDER):
        if not (raw / folder).is_dir():
            raise AdoptionError(f"{raw / folder} not found")

    sister: list[dict[str, str]] = []
    for part in "abc":
        rows = read_rows(raw / SISTER_FOLDER / f"sister_cities_part_{part}.csv", SISTER_COLUMNS)
        if len(rows) != EXPECTED_ROWS[part]:
            raise AdoptionError(f"part {part}: {len(rows)} rows, expected {EXPECTED_ROWS[part]}")
        for n, row in enumerate(rows, start=1):
            sister.append({"record_id": f"sc-{part}-{n:04d}", "collection": part, **row})

    network = read_rows(raw / NETWORK_FOLDER / "network_memberships.csv", NETWORK_COLUMNS)
    consulate = read_rows(raw / CONSULATE_FOLDER / "consulate_events.csv", CONSULATE_COLUMNS)
    for name, rows in (("network", network), ("consulate", consulate)):
        if len(rows) != EXPECTED_ROWS[name]:
            raise AdoptionError(f"{name}: {len(rows)} rows, expected {EXPECTED_ROWS[name]}")
    network = [{"record_id": f"nm-{n:04d}", **r} for n, r in enumerate(network, start=1)]
    consulate = [{"record_id": f"ce-{n:04d}", **r} for n, r in enumerate(consulate, start=1)]

    errata = build_errata(sister, network)

    out.mkdir(parents=True, exist_ok=True)
    write_rows(out / "sister_cities.csv", ["record_id", "collection", *SISTER_COLUMNS], sister)
    write_rows(out / "network_memberships.csv", ["record_id", *NETWORK_COLUMNS], network)
    write_rows(out / "consulate_events.csv", ["record_id", *CONSULATE_COLUMNS], consulate)
    write_rows(out / "errata.csv", ERRATA_COLUMNS, errata)

    for folder in (SISTER_FOLDER, NETWORK_FOLDER, CONSULATE_FOLDER):
        target = out / "notes" / folder
        target.mkdir(parents=True, exist_ok=True)
        for md in sorted((raw / folder).glob("*.md")):
            shutil.copyfile(md, target / md.name)
    return {"sister_cities": len(sister), "network_memberships": len(network),
            "consulate_events": len(consulate), "errata": len(errata)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("raw_dir", type=Path, help="folder holding the three hand-compiled folders")
    parser.add_argument("--out", type=Path, default=PROJECT_ROOT / "data" / "curated",
                        help="output folder (default: data/curated)")
    args = parser.parse_args(argv)
    try:
        counts = adopt(args.raw_dir, args.out)
    except AdoptionError as exc:
        print(f"adoption failed: {exc}", file=sys.stderr)
        return 1
    for name, n in counts.items():
        print(f"{name}: {n} rows")
    return 0


if __name__ == "__main__":
    sys.exit(main())
