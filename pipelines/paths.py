"""The one place that derives paths from the project root and the environment.

Nothing here runs at import time: every function reads the environment when called.
``WEITBLICK_HOME`` (default ``<root>/var``) holds the runtime state: the DuckDB store
and DAGSTER_HOME.
"""

from __future__ import annotations

import os
from pathlib import Path

STORE_FILE = "store.duckdb"  # not named like its schema ("weitblick"): avoids ambiguous references
STORE_SCHEMA = "weitblick"  # the current recommendation: views onto the last promoted run
HISTORY_SCHEMA = "history"  # every promoted run with its provenance
LOCK_FILE = "refresh.lock"  # held by the refresh that writes into a home


def project_root() -> Path:
    return Path(__file__).resolve().parent.parent


def demo_data_dir() -> Path:
    return project_root() / "data" / "demo"


def scenarios_dir() -> Path:
    return project_root() / "scenarios"


def notebooks_dir() -> Path:
    return project_root() / "notebooks"


def weitblick_home() -> Path:
    home = os.environ.get("WEITBLICK_HOME")
    return Path(home).resolve() if home else project_root() / "var"


def store_path(home: Path | None = None) -> Path:
    return (home or weitblick_home()) / STORE_FILE


def lock_path(home: Path | None = None) -> Path:
    return (home or weitblick_home()) / LOCK_FILE


def dagster_home(home: Path | None = None) -> Path:
    return (home or weitblick_home()) / "dagster_home"


def reports_dir() -> Path:
    env = os.environ.get("WEITBLICK_REPORTS")
    return Path(env).resolve() if env else project_root() / "reports"
