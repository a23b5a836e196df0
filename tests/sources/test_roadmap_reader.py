"""The roadmap reader: period forms, the errors a planner can make (with file, line and column),
the notes on what it maps or drops, the Jira fix versions and sprints, and the demo's roadmap."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from models.errors import InputError
from models.settings import Settings
from pipelines.paths import demo_data_dir, project_root
from pipelines.sources import load_inputs
from pipelines.sources.roadmap import (
    ROADMAP_COLUMNS,
    name_period,
    parse_period,
    period_of_date,
    read_jira_roadmap,
    read_roadmap,
    read_workspace_roadmap,
)
from pipelines.sources.values import Info

DEMO_ROADMAP = project_root() / "tests" / "data" / "roadmap" / "roadmap.csv"


def quarters(**changes) -> Settings:
    """Eight quarters from 2027-01-01."""
    return Settings.model_validate({"start": date(2027, 1, 1), "budget_per_period": 1e6, **changes})


@pytest.fixture
def backlog() -> pd.DataFrame:
    """What the reader needs of a backlog: ids, status and duration (periods)."""
    return pd.DataFrame(
        {
            "item_id": ["IOT-1", "IOT-2", "IOT-3", "IOT-4", "IOT-12", "WEB-7"],
            "status_category": ["To Do", "To Do", "In Progress", "To Do", "Done", "To Do"],
            "duration_periods": [1, 2, 2, 1, 1, 3],
        }
    )


def write(tmp_path: Path, text: str, name: str = "roadmap.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    "cell, period",
    [
        ("2027-Q1", 1),
        ("Q1 2027", 1),
        ("2027 Q1", 1),
        ("2027Q3", 3),
        ("q2-2028", 6),
        ("Q4/2027", 4),
        ("Q3 '28", 7),
        ("1. Quartal 2028", 5),
        ("2027-02-15", 1),
        ("15.05.2027", 2),
        ("2027-12", 4),
        ("2029-Q1", 9),  # after the plan: kept, the plan check reports it
        ("2026-Q4", 0),
        (datetime(2027, 7, 1), 3),
        (date(2027, 9, 30), 3),
    ],
)
def test_period_forms(cell, period):
    assert parse_period(cell, quarters()) == period


def test_period_labels_of_the_plan_read_back():
    s = quarters()
    assert all(parse_period(s.period_label(p), s) == p for p in range(1, 9))
    months = quarters(period_months=1, periods=12)  # labels P1 2027 ... P12 2027
    assert all(parse_period(months.period_label(p), months) == p for p in range(1, 13))
    with pytest.raises(ValueError, match="period 3 is P3 2027"):
        parse_period("P3 2028", months)


def test_dates_map_to_the_period_that_contains_them():
    s = quarters(start=date(2027, 2, 15), period_months=6)  # periods start on 15 Feb and 15 Aug
    assert period_of_date(date(2027, 2, 15), s) == 1
    assert period_of_date(date(2027, 8, 14), s) == 1
    assert period_of_date(date(2027, 8, 15), s) == 2
    assert period_of_date(date(2027, 2, 14), s) == 0


@pytest.mark.parametrize("cell", ["soon", "Q5 2027", "2027-13", "next sprint"])
def test_unreadable_periods(cell):
    with pytest.raises(ValueError, match="neither a quarter nor a date"):
        parse_period(cell, quarters())


def test_reads_starts_finishes_and_notes(tmp_path, backlog):
    path = write(
        tmp_path,
        "item_id;title;start;finish\n"
        "IOT-1;Alarms;2027-Q1;\n"
        "IOT-2;Dashboards;Q2 2027;2027-Q2\n"  # takes 2 quarters: finishes Q3, not Q2
        "IOT-3;Running;2026-Q4;\n"  # in progress: continues in period 1
        "IOT-12;Done already;2027-Q1;\n"
        "WEB-7;Portal;2027-10-01;Q4 2028\n",  # 3 quarters from Q4 2027: Q2 2028 (the finish differs)
    )
    read = read_roadmap(path, backlog, quarters())
    assert list(read.roadmap.columns) == ROADMAP_COLUMNS
    assert read.roadmap["item_id"].tolist() == ["IOT-1", "IOT-2", "IOT-3", "WEB-7"]
    assert read.roadmap["start_period"].tolist() == [1, 2, 1, 4]
    assert read.roadmap["finish_period"].tolist() == [pd.NA, 2, pd.NA, 8]
    assert str(read.roadmap["finish_period"].dtype) == "Int64"
    text = "\n".join(read.notes)
    assert "1 Done item(s) dropped from the roadmap: IOT-12" in text
    assert "in-progress item(s) started before the plan; read as continuing in Q1 2027" in text and "IOT-3" in text
    assert "IOT-2 Q2 2027 (estimate: Q3 2027)" in text and "WEB-7 Q4 2028 (estimate: Q2 2028)" in text
    # under strict reading, dropping and moving are errors; a differing finish changes nothing
    kinds = {w: isinstance(n, Info) for n in read.notes for w in ("Done", "in-progress", "finish(es)") if w in n}
    assert kinds == {"Done": False, "in-progress": False, "finish(es)": True}


def test_unknown_id_names_line_column_and_the_likely_id(tmp_path, backlog):
    path = write(tmp_path, "item_id,start\nIOT-1,2027-Q1\nWEB-77,2027-Q2\n")
    with pytest.raises(InputError) as exc:
        read_roadmap(path, backlog, quarters())
    (problem,) = exc.value.problems
    assert (problem.row, problem.column) == (3, "item_id")
    assert "item 'WEB-77' is not in the backlog" in problem.message
    assert problem.fix.endswith("Did you mean 'WEB-7'?")
    assert str(problem).startswith(f"{path}, line 3, column 'item_id'")


def test_every_problem_at_once(tmp_path, backlog):
    path = write(
        tmp_path,
        "Key,Start Quarter,End\n"
        "IOT-1,sometime,\n"
        "IOT-2,,\n"
        "WEB-7,2027-Q3,2027-Q1\n"
        "IOT-1,2027-Q1,\n"
        "IOT-4,2026-Q3,\n",  # not started, yet its start is before the plan: the roadmap is out of date
    )
    with pytest.raises(InputError) as exc:
        read_roadmap(path, backlog, quarters())
    found = [(p.row, p.column, p.message) for p in exc.value.problems]
    assert [(r, c) for r, c, _ in found] == [
        (2, "Start Quarter"),
        (3, "Start Quarter"),
        (4, "End"),
        (5, "Key"),
        (6, "Start Quarter"),
    ]
    assert "'sometime' is neither a quarter nor a date" in found[0][2]
    assert "IOT-2 has no start" in found[1][2]
    assert "WEB-7 finishes in Q1 2027, before it starts (Q3 2027)" in found[2][2]
    assert "appears again (first on line 2)" in found[3][2]
    assert "IOT-4 starts in Q3 2026, before the plan's first period Q1 2027, but it has not started" in found[4][2]
    assert "2027-Q1" in exc.value.problems[0].fix


def test_unknown_column_is_refused(tmp_path, backlog):
    path = write(tmp_path, "item_id,start,owner\nIOT-1,2027-Q1,Anna\n")
    with pytest.raises(InputError, match="unknown column 'owner'"):
        read_roadmap(path, backlog, quarters())


def test_workbook_with_date_cells(tmp_path, backlog):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["item_id", "start", "finish"])
    ws.append(["IOT-1", datetime(2027, 5, 2), None])
    ws.append(["IOT-2", "2027-Q3", datetime(2027, 12, 31)])
    wb.save(tmp_path / "roadmap.xlsx")
    read = read_roadmap(tmp_path / "roadmap.xlsx", backlog, quarters())
    assert read.roadmap["start_period"].tolist() == [2, 3]
    assert read.roadmap["finish_period"].tolist() == [pd.NA, 4]


def test_workspace_without_roadmap_reads_an_empty_table(tmp_path, backlog):
    read = read_workspace_roadmap(tmp_path, backlog, quarters())
    assert read.roadmap.empty and list(read.roadmap.columns) == ROADMAP_COLUMNS and read.notes == []
    write(tmp_path, "item_id,start\nIOT-1,2027-Q2\n")
    assert read_workspace_roadmap(tmp_path, backlog, quarters()).roadmap["start_period"].tolist() == [2]
    write(tmp_path, "x", name="roadmap.xlsx")
    with pytest.raises(InputError, match=r"both roadmap\.csv and roadmap\.xlsx exist"):
        read_workspace_roadmap(tmp_path, backlog, quarters())


# -- Jira fix versions and sprints ------------------------------------------------------------

EXPORT = (
    "Summary,Issue key,Status,Fix Version/s,Fix Version/s,Sprint,Sprint\n"
    "Alarms,IOT-1,To Do,Release 4.2,,IOT Sprint 27.01,IOT Sprint 27.02\n"
    "Dashboards,IOT-2,To Do,Release 4.3,Release 4.2,IOT Sprint 27.14,\n"
    "Running,IOT-3,In Progress,2027-Q2,,IOT Sprint 26.24,\n"
    "Old,IOT-12,Done,Release 4.1,,IOT Sprint 26.30,\n"
    "Portal,WEB-7,To Do,Release 9,,Portal sprint 2027-07-05,\n"
)


def test_fix_versions_dated_by_releases_csv(tmp_path, backlog):
    export = write(tmp_path, EXPORT, name="backlog.csv")
    releases = write(
        tmp_path, "version,release_date\nRelease 4.1,2026-11-30\nRelease 4.2,2027-06-30\nRelease 4.3,2027-09-30\n"
    )
    read = read_jira_roadmap(export, backlog, quarters(), releases=releases)
    got = read.roadmap.set_index("item_id")
    # the finish is the earliest release's period; the start that minus the duration plus one
    assert got.loc["IOT-1", ["start_period", "finish_period"]].tolist() == [2, 2]
    assert got.loc["IOT-2", ["start_period", "finish_period"]].tolist() == [1, 2]  # 4.2 before 4.3; 2 quarters
    assert got.loc["IOT-3", ["start_period", "finish_period"]].tolist() == [1, 2]  # the version name is a quarter
    assert "WEB-7" not in got.index and "IOT-12" not in got.index
    text = "\n".join(read.notes)
    assert "1 item(s) left out of the roadmap: no release date for Release 9" in text
    assert "Done item(s) dropped" in text


def test_fix_versions_without_any_date_are_an_error(tmp_path, backlog):
    export = write(tmp_path, EXPORT.replace("2027-Q2", "Release 5"), name="backlog.csv")
    with pytest.raises(InputError, match="no Fix Version/s value has a date") as exc:
        read_jira_roadmap(export, backlog, quarters())
    assert "releases.csv" in exc.value.problems[0].fix


def test_export_without_the_column_is_an_error(tmp_path, backlog):
    export = write(tmp_path, "Summary,Issue key,Status\nAlarms,IOT-1,To Do\n", name="backlog.csv")
    with pytest.raises(InputError) as exc:
        read_jira_roadmap(export, backlog, quarters(), by="sprint")
    assert exc.value.problems[0].column == "Sprint" and "holds no roadmap" in exc.value.problems[0].message


def test_sprints_by_their_names(tmp_path, backlog):
    s = quarters()
    assert name_period("IOT Sprint 27.14", s, sprint_weeks=2) == 3  # 1 Jan 2027 + 26 weeks = 2 Jul 2027
    assert name_period("Portal sprint 2027-07-05", s) == 3
    assert name_period("Sprint 7", s, sprint_weeks=2) is None
    export = write(tmp_path, EXPORT, name="backlog.csv")
    read = read_jira_roadmap(export, backlog, s, by="sprint")
    got = read.roadmap.set_index("item_id")
    assert got["start_period"].to_dict() == {"IOT-1": 1, "IOT-2": 3, "IOT-3": 1, "WEB-7": 3}
    assert got["finish_period"].isna().all()
    assert any("IOT-3" in n and "continuing in Q1 2027" in n for n in read.notes)


def test_workspace_with_releases_reads_the_fix_versions(tmp_path, backlog):
    write(tmp_path, EXPORT, name="backlog.csv")
    write(tmp_path, "version,release_date\nRelease 4.2,2027-06-30\n", name="releases.csv")
    read = read_workspace_roadmap(tmp_path, backlog, quarters())
    assert read.roadmap["item_id"].tolist() == ["IOT-1", "IOT-2", "IOT-3"]


# -- the demo company -------------------------------------------------------------------------


def test_demo_roadmap():
    d = load_inputs(demo_data_dir())
    read = read_roadmap(DEMO_ROADMAP, d.backlog, d.settings)
    assert len(read.roadmap) == 25
    assert read.roadmap["start_period"].between(1, d.settings.periods).all()
    assert set(read.roadmap["item_id"]) <= set(d.backlog.loc[d.backlog["status_category"] != "Done", "item_id"])
    # PORTAL-149 is in progress and written as started in 2026-Q4: read as continuing in Q1 2027
    assert read.roadmap.set_index("item_id").at["PORTAL-149", "start_period"] == 1
    assert any("PORTAL-149" in n for n in read.notes)
