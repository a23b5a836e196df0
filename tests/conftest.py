"""Shared test settings: no test writes into the project's var/ or reports/; the Hypothesis
profile (hypothesis_profiles.py) is loaded before any test module."""

from __future__ import annotations

import os

# as the command line does: no OpenBLAS thread pool, so the stress test forks a single-threaded process
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import hypothesis_profiles  # noqa: E402, F401  (registers and loads the profile)
import pytest  # noqa: E402


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path_factory, monkeypatch):
    home = tmp_path_factory.mktemp("weitblick_home")
    monkeypatch.setenv("WEITBLICK_HOME", str(home))
    monkeypatch.setenv("WEITBLICK_REPORTS", str(home / "reports"))
    monkeypatch.setenv("DAGSTER_HOME", str(home / "dagster_home"))
    (home / "dagster_home").mkdir()
