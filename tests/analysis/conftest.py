"""Fixtures of the analysis tests: small synthetic panels (seeded) shared within a session."""

from __future__ import annotations

import pytest


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: takes more than a few seconds")


@pytest.fixture(scope="session")
def synthetic():
    """The default synthetic demo panel (100 metros, 2005-2022) and its true effects."""
    from citydip.panel.build import build_synthetic
    from citydip.panel.options import PanelOptions

    build = build_synthetic(PanelOptions())
    return build.panel, build.truth
