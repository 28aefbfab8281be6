"""Shared fixtures. Real-data tests use ``real_data``; they skip when the published files
are absent, except where ``CITYDIP_REQUIRE_DATA=1`` (set by .ci/run), where they fail.

Markers (registered in pyproject.toml; ``make test-fast`` leaves out slow, notebooks and real_data):
``real_data``, ``needs_r``, ``needs_browser`` and ``notebooks`` are set here from the fixtures a test
uses (see :func:`pytest_collection_modifyitems`); ``slow`` (more than about 3 s) is set on the test
itself. Browser tests use ``chromium``; they skip without it, except where
``CITYDIP_REQUIRE_BROWSER=1`` (set by .ci/run), where they fail.

The report's notebooks are executed at most once per session and kind of data: by
``synthetic_report`` (the synthetic demo) and ``real_report`` (the published files); tests share
them and must not modify their folders. Monte Carlo tests take their number of replications
from :func:`mc_reps` (``CITYDIP_MC_REPS`` caps it; default: the full count), and wild-bootstrap
tests their draws from :func:`wild_reps` (``CITYDIP_BOOT_DRAWS``; default: citydip's own)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from types import SimpleNamespace

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


@pytest.fixture(scope="session")
def chromium() -> str:
    """Path of a headless-capable Chromium (Debian's ``chromium``, or ``$CITYDIP_CHROMIUM``)."""
    names = [os.environ["CITYDIP_CHROMIUM"]] if os.environ.get("CITYDIP_CHROMIUM") else [
        "chromium", "chromium-browser", "google-chrome"]
    path = next((p for p in map(shutil.which, names) if p), None)
    if not path:
        message = "chromium not found (apt-get install chromium, or set CITYDIP_CHROMIUM)"
        if os.environ.get("CITYDIP_REQUIRE_BROWSER") == "1":
            pytest.fail(f"{message} (CITYDIP_REQUIRE_BROWSER=1)")
        pytest.skip(message)
    return path


# -- markers set from fixtures ---------------------------------------------------------------------------
#: Fixtures whose use makes a test a real-data (published files) test.
REAL_DATA_FIXTURES = {"real_data", "real_inputs", "real_build", "real_panel", "real_report"}
#: Fixtures that call R (``Rscript``).
NEEDS_R_FIXTURES = {"rscript"}
#: Fixtures that run a headless browser.
NEEDS_BROWSER_FIXTURES = {"chromium"}
#: Fixtures that execute the report's notebooks.
NOTEBOOK_FIXTURES = {"synthetic_report", "real_report"}


def pytest_collection_modifyitems(config, items):
    """``real_data`` for tests using a real-data fixture, or parametrized with the value "real"
    (panels chosen through ``request.getfixturevalue``, as in test_cross_implementations);
    ``needs_r`` for tests using ``rscript``; ``needs_browser`` for tests using ``chromium``;
    ``notebooks`` for tests using a report fixture."""
    for item in items:
        names = set(getattr(item, "fixturenames", ()))
        params = getattr(getattr(item, "callspec", None), "params", {})
        if names & REAL_DATA_FIXTURES or any(isinstance(v, str) and v == "real" for v in params.values()):
            item.add_marker(pytest.mark.real_data)
        if names & NEEDS_R_FIXTURES:
            item.add_marker(pytest.mark.needs_r)
        if names & NEEDS_BROWSER_FIXTURES:
            item.add_marker(pytest.mark.needs_browser)
        if names & NOTEBOOK_FIXTURES:
            item.add_marker(pytest.mark.notebooks)


# -- the report, executed once per session ----------------------------------------------------------------
def _quiet(_message: str) -> None:
    pass


def _replicate(data: Path, root: Path) -> SimpleNamespace:
    from citydip import pipeline

    times = pipeline.replicate(data, root / "build", root / "results", say=_quiet)
    return SimpleNamespace(root=root, data=data, build=root / "build", results=root / "results", times=times)


@pytest.fixture(scope="session")
def synthetic_report(tmp_path_factory) -> SimpleNamespace:
    """``citydip replicate`` without published files (the synthetic demo), once per session:
    panel, estimates and every notebook executed (about 45 s). Attributes: ``root``, ``data``
    (an empty data directory), ``build``, ``results``, ``times`` (``pipeline.StepTimes``)."""
    root = tmp_path_factory.mktemp("synthetic-report")
    (root / "no-data").mkdir()
    return _replicate(root / "no-data", root)


@pytest.fixture(scope="session")
def real_report(real_data, tmp_path_factory) -> SimpleNamespace:
    """``citydip replicate`` on the published files, once per session: panel with its variants,
    estimates and every notebook executed (about 90 s). Attributes as ``synthetic_report``."""
    return _replicate(real_data, tmp_path_factory.mktemp("real-report"))


# -- Monte Carlo replications -------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def mc_reps():
    """``mc_reps(full)``: the number of Monte Carlo replications (seeds) a test runs: ``full``,
    or at most ``$CITYDIP_MC_REPS`` when that is set (a quick look; the tests' tolerance bands
    follow the number of replications)."""
    cap = os.environ.get("CITYDIP_MC_REPS", "").strip()
    if cap and int(cap) < 1:
        raise pytest.UsageError("CITYDIP_MC_REPS must be a positive integer")

    def reps(full: int) -> int:
        return min(full, int(cap)) if cap else full

    return reps


@pytest.fixture
def wild_reps(monkeypatch) -> int:
    """Draws of the wild cluster bootstrap in this test: citydip's ``WILD_REPS`` (9999), or
    ``$CITYDIP_BOOT_DRAWS`` when set (patched into :mod:`citydip.estimation.fitting` for the
    test only)."""
    from citydip.estimation import fitting

    draws = os.environ.get("CITYDIP_BOOT_DRAWS", "").strip()
    if draws:
        if int(draws) < 1:
            raise pytest.UsageError("CITYDIP_BOOT_DRAWS must be a positive integer")
        monkeypatch.setattr(fitting, "WILD_REPS", int(draws))
    return fitting.WILD_REPS
