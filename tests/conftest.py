"""Shared test settings: no test writes into the project's var/ or reports/."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path_factory, monkeypatch):
    home = tmp_path_factory.mktemp("weitblick_home")
    monkeypatch.setenv("WEITBLICK_HOME", str(home))
    monkeypatch.setenv("WEITBLICK_REPORTS", str(home / "reports"))
    monkeypatch.setenv("DAGSTER_HOME", str(home / "dagster_home"))
    (home / "dagster_home").mkdir()
