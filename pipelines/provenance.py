"""What a promoted run records about itself, so a result can be traced and repeated.

:func:`run_record` gathers, for ``history.runs`` (:mod:`pipelines.promotion`): the run id,
start and end, trigger, workspace, the sha256 over every input file (and over the scenario
files alone), the sha256 of the effective settings, the code version (package version and
git commit when the project is a git checkout; ``+dirty`` when tracked files differ from it),
the versions of the libraries that shape the numbers, the solver's name, version, status,
gap and time, the seeds and the effort options of the run.
"""

from __future__ import annotations

import hashlib
import platform
import subprocess
from datetime import datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import pandas as pd

from pipelines import paths
from pipelines.sources.files import fingerprint

# The libraries whose versions change numbers: solver, simulation, pipeline, tables, store.
PACKAGES = ("weitblick", "pulp", "highspy", "mesa", "dagster", "pandas", "numpy", "duckdb")


def versions() -> dict[str, str]:
    """Package -> installed version ("" when not installed), and the Python version."""
    out = {}
    for name in PACKAGES:
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = ""
    out["python"] = platform.python_version()
    return out


def git_commit(root: Path | None = None) -> str:
    """The commit the code was run from (with ``+dirty`` if tracked files differ), "" outside git."""
    root = root or paths.project_root()
    if not (root / ".git").exists():
        return ""
    try:
        commit = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=10, check=True
        ).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(root), "diff", "--quiet", "HEAD"], capture_output=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return ""
    return commit + ("+dirty" if dirty.returncode == 1 else "")


def run_record(
    run_id: str,
    started: datetime,
    finished: datetime,
    trigger: str,
    data_dir: Path,
    settings: pd.DataFrame,
    plan_run_info: pd.DataFrame,
    stress_test_run_info: pd.DataFrame,
    input_files: pd.DataFrame,
    options: dict,
) -> dict:
    """The ``history.runs`` row of a run (see the module doc); ``options`` are the effort
    options and seeds of the run's config."""
    s = settings.iloc[0]
    info = plan_run_info.iloc[0]
    vers = versions()
    seeds = {"root": options.get("seed"), "solver": _int(info.get("seed"))}
    if len(stress_test_run_info):
        st = stress_test_run_info.iloc[0]
        seeds["stress_test"] = {k: _int(st.get(k)) for k in ("root_seed", "min_seed", "max_seed")}
    scenario_files = input_files.loc[input_files["role"].str.contains("scenario")]
    return {
        "run_id": run_id,
        "started_at": started,
        "finished_at": finished,
        "trigger": trigger,
        "data_dir": str(data_dir),
        "company": str(s["company"]),
        "inputs_sha256": fingerprint(input_files),
        "settings_sha256": hashlib.sha256(str(s["settings_json"]).encode()).hexdigest(),
        "scenarios_sha256": fingerprint(scenario_files),
        "code_version": vers["weitblick"],
        "git_commit": git_commit(),
        "versions": vers,
        "solver": str(info["solver"]),
        "solver_version": vers["highspy"] if "highs" in str(info["solver"]).lower() else "",
        "solver_status": str(info["status"]),
        "gap": _float(info.get("gap")),
        "solve_time_s": _float(info.get("time_s")),
        "value_eur": _float(info.get("value_eur")),
        "cost_eur": _float(info.get("cost_eur")),
        "n_funded": _int(info.get("n_funded")),
        "seeds": seeds,
        "config": {k: v for k, v in options.items() if k != "seed"},
    }


def _float(v) -> float | None:
    return None if v is None or pd.isna(v) else float(v)


def _int(v) -> int | None:
    return None if v is None or pd.isna(v) else int(v)
