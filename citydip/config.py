"""One place for the project's fixed facts: paths, year ranges, vintages.

Everything else imports from here; no other module hard-codes a path or a year range.
"""

from __future__ import annotations

import os
from pathlib import Path

#: Root of a source checkout (the folder holding ``pyproject.toml``).
PROJECT_ROOT = Path(__file__).resolve().parent.parent

#: Environment variable naming the folder of published raw files.
DATA_DIR_ENV = "CITYDIP_DATA_DIR"

#: Default data directory when neither ``--data-dir`` nor the environment variable is set.
DEFAULT_DATA_DIR = PROJECT_ROOT / "data" / "raw"

#: The project's own curated dataset (sister-city years, network memberships, consulate events).
CURATED_DIR = PROJECT_ROOT / "data" / "curated"

#: Environment variable pointing at another copy of the curated dataset (e.g. one being extended).
CURATED_DIR_ENV = "CITYDIP_CURATED_DIR"

#: Environment variable naming the build folder (panel, estimates; default ``build/``).
BUILD_DIR_ENV = "CITYDIP_BUILD_DIR"

#: Hash seed of every citydip process (the command and the notebook kernels): pyfixest orders
#: fixed effects through sets, so its last digits (around 1e-15) depend on the seed; a fixed
#: seed makes reruns byte-identical.
HASH_SEED = "0"

#: Years that any dated record may plausibly carry (sister-city ties go back to the 1930s).
EARLIEST_RECORD_YEAR = 1900
LATEST_RECORD_YEAR = 2030

#: Years covered by the ITA Metropolitan Export Series workbook (current dollars).
ITA_YEARS = range(2005, 2024)

#: Default panel window and sample (the anchor paper's design).
PANEL_YEARS = range(2005, 2023)
SAMPLE_RANK_YEAR = 2019
SAMPLE_TOP_N = 100

#: Delineation vintages present as Census list files, by (list, vintage label).
#: The panel uses March-2020 boundaries (the BEA fixed-boundary series).
PANEL_VINTAGE = "2020"
DELINEATION_VINTAGES = ("2013", "2015", "2018", "2020", "2023")

#: Delineation in force when ITA reported each year (ITA does not revise history).
#: Dec-2009 lists are not available, so 2005-2012 are flagged as 'pre-2013'.
ITA_YEAR_VINTAGE = {
    **{y: "pre-2013" for y in range(2005, 2013)},
    **{y: "2013" for y in range(2013, 2018)},
    **{y: "2018" for y in range(2018, 2023)},
    2023: "2023",
}


def data_dir(explicit: str | os.PathLike | None = None) -> Path:
    """Resolve the data directory: explicit argument, else ``$CITYDIP_DATA_DIR``, else ``data/raw``."""
    if explicit is not None:
        return Path(explicit).expanduser()
    env = os.environ.get(DATA_DIR_ENV)
    if env:
        return Path(env).expanduser()
    return DEFAULT_DATA_DIR


def curated_dir() -> Path:
    """The curated dataset in use: ``$CITYDIP_CURATED_DIR`` if set, else ``data/curated``."""
    env = os.environ.get(CURATED_DIR_ENV)
    return Path(env).expanduser() if env else CURATED_DIR


def build_dir() -> Path:
    """The build folder: ``$CITYDIP_BUILD_DIR``, else ``build/`` in the project."""
    return Path(os.environ.get(BUILD_DIR_ENV, PROJECT_ROOT / "build"))
