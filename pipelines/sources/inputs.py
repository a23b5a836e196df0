"""Load every input of a planning run from one folder (the layout of ``data/demo/``).

Files: ``settings.yaml``, ``teams.csv``, ``kpis.csv``, ``okrs.csv`` and ``backlog.csv``
(each table may also be an ``.xlsx`` workbook of the same name). The backlog may be a
Jira export or a canonical table; an optional ``values.csv`` (or ``.xlsx``) fills in value
inputs the export lacks (:mod:`pipelines.sources.values_sheet`). Cross-file checks: every OKR a backlog item names
must exist in ``okrs``; products without KPI history are reported in the notes.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from models.checks import products_without_kpi_history, unknown_okr_refs
from models.errors import InputError, InputProblem
from models.settings import Settings, load_settings
from pipelines.sources.backlog import BacklogRead, build_backlog
from pipelines.sources.tables import raw_backlog, read_kpis, read_okrs, read_teams
from pipelines.sources.values import did_you_mean
from pipelines.sources.values_sheet import apply_value_proxy, merge_values, value_input_notes, values_file

SETTINGS_FILE = "settings.yaml"
TABLE_FILES = ("backlog", "teams", "kpis", "okrs")  # each as <name>.csv or <name>.xlsx


@dataclass
class Inputs:
    """Everything a planning run reads, validated."""

    backlog: pd.DataFrame  # models.schemas.Backlog
    teams: pd.DataFrame  # models.schemas.Teams
    kpi_history: pd.DataFrame  # models.schemas.KpiHistory
    okrs: pd.DataFrame  # models.schemas.Okrs
    settings: Settings
    notes: list[str]  # what the readers mapped by default, ignored or dropped


def table_path(data_dir: str | Path, name: str) -> Path:
    """``<data_dir>/<name>.csv`` or ``.xlsx``; InputError if neither (or both) exist."""
    data_dir = Path(data_dir)
    found = [data_dir / f"{name}{suffix}" for suffix in (".csv", ".xlsx") if (data_dir / f"{name}{suffix}").exists()]
    if not found:
        raise InputError.single(
            data_dir / f"{name}.csv", "file not found.", f"put {name}.csv (or {name}.xlsx) into {data_dir}."
        )
    if len(found) > 1:
        raise InputError.single(
            found[1],
            f"both {found[0].name} and {found[1].name} exist.",
            "keep one of them, so it is clear which one is read.",
        )
    return found[0]


def backlog_file(data_dir: str | Path) -> Path:
    """The backlog of ``data_dir``: ``backlog.csv`` or ``backlog.xlsx`` (InputError if neither or both)."""
    return table_path(data_dir, "backlog")


def read_workspace_backlog(
    data_dir: str | Path,
    teams: pd.DataFrame,
    settings: Settings,
    with_values: bool = True,
    value_proxy: str | None = None,
) -> BacklogRead:
    """The backlog of ``data_dir`` with the workspace's values sheet (if any, and ``with_values``)
    merged into its rows before they are parsed; items still without a value input are valued by
    ``value_proxy`` (default ``settings.valuation.proxy``; see
    :func:`~pipelines.sources.values_sheet.apply_value_proxy`). The notes say what the sheet
    changed, what the proxy valued and how many candidate items still have no value input."""
    path = backlog_file(data_dir)
    raw = raw_backlog(path, teams)
    values = values_file(data_dir) if with_values else None
    merged = merge_values(raw, values, teams, settings) if values is not None else []
    read = build_backlog(raw, teams, settings)
    proxy = value_proxy or settings.valuation.proxy
    proxied = apply_value_proxy(read.backlog, path, raw, proxy) if proxy != "none" else []
    sources = path.name + (f" or {values.name}" if values is not None else "")
    read.notes = [*read.notes, *merged, *proxied, *value_input_notes(read.backlog, sources)]
    return read


def kpi_history_notes(backlog: pd.DataFrame, kpi_history: pd.DataFrame) -> list[str]:
    """The note across files: candidate items' products without KPI history (their value
    cannot be anchored on KPIs), or none."""
    missing = products_without_kpi_history(backlog, kpi_history)
    if not missing:
        return []
    return [f"no KPI history for the products {', '.join(missing)}: their value cannot be anchored on KPIs."]


def load_inputs(data_dir: str | Path, with_values: bool = True) -> Inputs:
    """Read and validate settings, teams, KPI history, OKRs and backlog (with the values sheet,
    if there is one and ``with_values``) from ``data_dir``."""
    data_dir = Path(data_dir)
    settings = load_settings(data_dir / SETTINGS_FILE)
    teams = read_teams(table_path(data_dir, "teams"))
    kpis = read_kpis(table_path(data_dir, "kpis"))
    okrs = read_okrs(table_path(data_dir, "okrs"))
    backlog_path = backlog_file(data_dir)
    read = read_workspace_backlog(data_dir, teams, settings, with_values)
    notes = [*teams.attrs.get("notes", []), *kpis.attrs.get("notes", []), *okrs.attrs.get("notes", []), *read.notes]
    check_okr_references(read.backlog, okrs, str(backlog_path))
    notes += kpi_history_notes(read.backlog, kpis)
    return Inputs(read.backlog, teams, kpis, okrs, settings, notes)


def check_okr_references(backlog: pd.DataFrame, okrs: pd.DataFrame, source: str) -> None:
    """InputError for every backlog item whose ``okr`` is not a key result of ``okrs``."""
    known = sorted(set(okrs["key_result"]))
    problems = [
        InputProblem(
            source,
            f"item {item} names the key result {okr!r}, which is not in okrs.",
            "use a key_result id of okrs.csv." + did_you_mean(okr, known),
            None,
            "okr",
        )
        for item, okr in unknown_okr_refs(backlog, okrs)
    ]
    if problems:
        raise InputError(problems[:50])
