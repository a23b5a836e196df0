"""Helpers for the reader tests: demo teams/settings and tiny Jira exports written to tmp_path."""

from __future__ import annotations

import csv
import io
from datetime import date
from pathlib import Path

import pandas as pd

from models.settings import Settings
from pipelines.paths import demo_data_dir, project_root

JIRA_DATA = project_root() / "tests" / "data" / "jira"
APACHE = JIRA_DATA / "apache_501_issues_export_style_DERIVED.csv"
DURASPACE = JIRA_DATA / "duraspace_585_issues_excerpt_DERIVED.csv"


def small_teams() -> pd.DataFrame:
    """Two skills with round numbers, for hand-computed efforts.

    backend: 20 pw per period at 2 SP/pw; frontend: 10 pw per period at 1 SP/pw.
    """
    return pd.DataFrame(
        {
            "team": ["Core", "Web"],
            "skill": ["backend", "frontend"],
            "headcount": [2.0, 1.0],
            "capacity_pw": [20.0, 10.0],
            "cost_per_pw": [4000.0, 4000.0],
            "velocity_sp_per_pw": [2.0, 1.0],
        }
    )


def small_settings(**changes) -> Settings:
    """Quarters from 2027-01-01, eight periods."""
    values = {"start": date(2027, 1, 1), "budget_per_period": 100000.0}
    values.update(changes)
    return Settings(**values)


def demo_teams() -> pd.DataFrame:
    from pipelines.sources import read_teams

    return read_teams(demo_data_dir() / "teams.csv")


def demo_settings() -> Settings:
    from models.settings import load_settings

    return load_settings(demo_data_dir() / "settings.yaml")


def write_csv(
    path: Path, header: list[str], rows: list[list[object]], delimiter: str = ",", encoding: str = "utf-8"
) -> Path:
    """Write a CSV with repeated headers kept as they are."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    path.write_bytes(buffer.getvalue().encode(encoding))
    return path


def jira_export(
    path: Path,
    rows: list[dict[str, object]],
    extra_header: list[str] = (),
    delimiter: str = ",",
    encoding: str = "utf-8",
) -> Path:
    """A Jira-style export: ``rows`` map header -> value (list values fill repeated columns)."""
    header: list[str] = []
    width: dict[str, int] = {}
    for row in rows:
        for name, value in row.items():
            n = len(value) if isinstance(value, list) else 1
            width[name] = max(width.get(name, 0), n)
    for name in [*width, *extra_header]:
        if name not in header:
            header += [name] * max(width.get(name, 1), 1)
    lines = []
    for row in rows:
        cells = []
        for name in dict.fromkeys(header):
            value = row.get(name, "")
            values = value if isinstance(value, list) else [value]
            n = header.count(name)
            cells += [str(v) for v in values] + [""] * (n - len(values))
        lines.append(cells)
    return write_csv(path, header, lines, delimiter, encoding)


def epic(key: str, sp: object = 10, **fields) -> dict[str, object]:
    """One epic row with the essentials; ``fields`` use Jira headers (spaces as given)."""
    row = {
        "Summary": f"Item {key}",
        "Issue key": key,
        "Issue Type": "Epic",
        "Status": "To Do",
        "Status Category": "To Do",
        "Project name": "Demo",
        "Custom field (Story Points)": sp,
    }
    row.update(fields)
    return row
