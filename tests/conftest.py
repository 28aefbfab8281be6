"""Shared fixtures. Real-data tests use ``real_data``; they skip when the published files
are absent, except where ``CITYDIP_REQUIRE_DATA=1`` (set by .ci/run), where they fail."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from citydip.config import data_dir


@pytest.fixture(scope="session")
def real_data() -> Path:
    """The data directory holding the published files (``$CITYDIP_DATA_DIR``)."""
    root = data_dir()
    if not (root / "ita_metro_exports_2005_2023").is_dir():
        message = f"published data not found in {root}; set CITYDIP_DATA_DIR"
        if os.environ.get("CITYDIP_REQUIRE_DATA") == "1":
            pytest.fail(message)
        pytest.skip(message)
    return root


@pytest.fixture(scope="session")
def real_inputs(real_data):
    """The published files and curated dataset read and matched once per test session (~15 s)."""
    from citydip.panel.build import load_inputs

    return load_inputs(real_data)


@pytest.fixture(scope="session")
def real_build(real_inputs):
    """The real panel with the default options, from the session's inputs."""
    from citydip.panel.build import construct

    return construct(real_inputs)


@pytest.fixture(scope="session")
def real_panel(real_build):
    """The real metro-year panel (a copy per use is not needed: tests must not modify it)."""
    return real_build.panel
