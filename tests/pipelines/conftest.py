"""End-to-end fixtures: the demo company refreshed once per test session, as a user runs it.

``demo_run`` runs ``weitblick demo`` in a subprocess into a home of its own (DuckDB store,
Dagster instance, review report). Every end-to-end test that only reads what a refresh
produced reads this one run instead of materialising the graph again; a test that changes
the store works on a copy (``copy_of_demo_store``).
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
from pipelines_testkit import DEMO_ARGS, home_env, run_weitblick

from pipelines import paths


@dataclass(frozen=True)
class DemoRun:
    home: Path  # WEITBLICK_HOME of the run: store.duckdb and dagster_home/
    reports: Path  # where review.html was written
    proc: subprocess.CompletedProcess

    @property
    def store(self) -> Path:
        return paths.store_path(self.home)

    @property
    def dagster_home(self) -> Path:
        return paths.dagster_home(self.home)


@pytest.fixture(scope="session")
def demo_run(tmp_path_factory) -> DemoRun:
    home = tmp_path_factory.mktemp("demo_home")
    reports = home / "reports"
    proc = run_weitblick("demo", *DEMO_ARGS, env=home_env(home, reports))
    assert proc.returncode == 0, proc.stderr[-3000:]
    return DemoRun(home, reports, proc)


@pytest.fixture
def copy_of_demo_store(demo_run, tmp_path) -> Path:
    """A home holding a copy of the session's store, for tests that write to it."""
    home = tmp_path / "home"
    home.mkdir()
    shutil.copy2(demo_run.store, paths.store_path(home))
    return home


@pytest.fixture(autouse=True)
def _in_project_root(monkeypatch):
    # the README's commands name data/demo relative to the project root
    monkeypatch.chdir(paths.project_root())
