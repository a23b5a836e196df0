"""The plan without Dagster: the readers, the input checks and the model functions the refresh's
assets call, in one process, for commands that need no store (``weitblick plan --no-explain``).

The order and the rules are the assets' own: settings, teams, backlog (with the values sheet and
the value proxy), KPI history and OKRs are read by the same readers; their notes are returned
with the file they belong to and whether they change data (strict reading refuses those, as the
``read_notes`` asset does); the blocking input checks run the same :mod:`models.checks` functions
and stop with the same message; then business cases, value by start and the optimiser. Units and
tables as the assets'.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from models import checks, portfolio
from models.errors import ModelError
from models.settings import Settings, load_settings, settings_table
from models.valuation import business_cases, value_by_start
from pipelines.sources import backlog_file, read_kpis, read_okrs, read_teams, read_workspace_backlog, table_path
from pipelines.sources.inputs import SETTINGS_FILE, kpi_history_notes
from pipelines.sources.values import Info, refuse_changes


class CheckFailed(ModelError):
    """A blocking input check failed: the message names the check, the table and every problem."""


@dataclass(frozen=True)
class DirectPlan:
    """What ``plan --no-explain`` prints: the stored tables' equivalents and the readers' notes."""

    tables: dict[str, pd.DataFrame]
    notes: list[tuple[str, str, bool]]  # (file name, note, only informational)


def _check(name: str, table: str, problems: list[str]) -> None:
    if problems:
        detail = "\n".join(f"- {p}" for p in problems[:50])
        raise CheckFailed(f"check {name} on {table} failed:\n{detail}")


def plan_directly(
    data_dir: Path,
    time_limit_s: float | None = None,
    strict: bool = False,
    value_proxy: str | None = None,
) -> DirectPlan:
    """Read the workspace ``data_dir``, check it, value the items and solve the plan (the optimiser's
    time limit ``time_limit_s``, default the settings'). Raises the readers' InputError, CheckFailed
    for a failed blocking check, ModelError or SolverError as the assets would."""
    data_dir = Path(data_dir)
    settings_path = data_dir / SETTINGS_FILE
    settings: Settings = load_settings(settings_path)
    teams_path = table_path(data_dir, "teams")
    teams = read_teams(teams_path)
    read = read_workspace_backlog(data_dir, teams, settings, value_proxy=value_proxy or None)
    backlog = read.backlog
    kpi_path = table_path(data_dir, "kpis")
    kpis = read_kpis(kpi_path)
    okrs_path = table_path(data_dir, "okrs")
    okrs = read_okrs(okrs_path)

    notes = [
        (teams_path, teams.attrs.get("notes", [])),
        (backlog_file(data_dir), read.notes),
        (kpi_path, kpis.attrs.get("notes", [])),
        (okrs_path, okrs.attrs.get("notes", [])),
    ]
    rows = [(Path(f).name, str(n), isinstance(n, Info)) for f, ns in notes for n in ns]
    rows += [(kpi_path.name, n, False) for n in kpi_history_notes(backlog, kpis)]
    if strict or settings.strict:
        refuse_changes([("", file, note, "info" if info else "change") for file, note, info in rows])

    # the blocking input checks of pipelines/assets/inputs.py, in the same words
    for name, table, problems in checks.blocking_input_checks(backlog, teams, kpis, okrs, settings):
        _check(name, table, problems)

    if time_limit_s:
        settings = settings.model_copy(
            update={"solver": settings.solver.model_copy(update={"time_limit_s": time_limit_s})}
        )
    cases = business_cases(backlog, teams, kpis, settings)
    values = value_by_start(backlog, cases, settings)
    result = portfolio.optimise(backlog, teams, values, settings)
    tables = {
        "settings": settings_table(settings, str(settings_path)),
        "business_cases": cases,
        "portfolio_plan": result.decisions,
        "capacity_usage": result.capacity,
        "budget_usage": result.budget,
        "plan_run_info": result.run_info,
    }
    return DirectPlan(tables=tables, notes=rows)
