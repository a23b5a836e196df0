"""Helpers of the end-to-end tests: run `weitblick` as a user does (a subprocess) or in this
process (Typer's CliRunner), with its state under a home of its own."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from pipelines import paths

WEITBLICK = str(Path(sys.executable).parent / "weitblick")
# Effort of the session's refresh: short solver limits; the plan reports its gap honestly either way.
DEMO_REPLICATIONS = 4
DEMO_ARGS = ("--replications", str(DEMO_REPLICATIONS), "--time-limit", "10", "--explain-time-limit", "1")


def home_env(home: Path, reports: Path) -> dict[str, str]:
    """The environment of a command that keeps its state under ``home``."""
    return {
        **os.environ,
        "WEITBLICK_HOME": str(home),
        "WEITBLICK_REPORTS": str(reports),
        "DAGSTER_HOME": str(paths.dagster_home(home)),
    }


def run_weitblick(*args: str, env: dict[str, str] | None = None, timeout: int = 900) -> subprocess.CompletedProcess:
    """``weitblick ARGS`` in a subprocess from the project root, output captured as text."""
    return subprocess.run(
        [WEITBLICK, *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env or dict(os.environ),
        cwd=paths.project_root(),
    )


def invoke(*args: str):
    """``weitblick ARGS`` in this process (Typer's CliRunner), stdout and stderr apart. An
    exception that is not a clean exit fails the test with its traceback."""
    from typer.testing import CliRunner

    from pipelines.cli import app

    return CliRunner().invoke(app, list(args), catch_exceptions=False)
