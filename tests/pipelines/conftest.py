"""End-to-end fixtures: the demo company refreshed once per test session, as a user runs it.

``demo_run`` runs ``weitblick demo`` in a subprocess into a home of its own (DuckDB store,
Dagster instance, review report). Every end-to-end test that only reads what a refresh
produced reads this one run instead of materialising the graph again; a test that changes
the store works on a copy (``copy_of_demo_store``). When the suite runs in several processes
(pytest-xdist, ``make test``), the first process that needs the run makes it and the others
wait for it and read the same home (a file lock in the session's shared temporary folder).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
from filelock import FileLock
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
def demo_run(tmp_path_factory, worker_id) -> DemoRun:
    # one run for the whole session: with xdist, the workers share the parent of their temporary folders
    shared = tmp_path_factory.getbasetemp() if worker_id == "master" else tmp_path_factory.getbasetemp().parent
    home, record = shared / "demo_home", shared / "demo_run.json"
    with FileLock(str(record) + ".lock"):
        if not record.is_file():
            home.mkdir(exist_ok=True)
            proc = run_weitblick("demo", *DEMO_ARGS, env=home_env(home, home / "reports"))
            record.write_text(
                json.dumps(
                    {"args": proc.args, "returncode": proc.returncode, "stdout": proc.stdout, "stderr": proc.stderr}
                ),
                encoding="utf-8",
            )
        done = json.loads(record.read_text(encoding="utf-8"))
    proc = subprocess.CompletedProcess(done["args"], done["returncode"], done["stdout"], done["stderr"])
    assert proc.returncode == 0, proc.stderr[-3000:]
    return DemoRun(home, home / "reports", proc)


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
