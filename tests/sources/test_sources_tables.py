"""Canonical table readers: read_table, teams, KPIs, OKRs and the canonical backlog table."""

from __future__ import annotations

import pandas as pd
import pytest
from sources_testkit import small_settings, small_teams

from models.errors import InputError
from pipelines.sources import read_backlog, read_kpis, read_okrs, read_table, read_teams

TEAMS_HEADER = "team,skill,headcount,capacity_pw,cost_per_pw,velocity_sp_per_pw\n"


def write(path, text, encoding="utf-8"):
    path.write_bytes(text.encode(encoding))
    return path


# -- read_table --------------------------------------------------------------------------------


def test_read_table_semicolon_decimal_comma_cp1252(tmp_path):
    # German Excel "CSV (Trennzeichen-getrennt)": ';', decimal comma, Windows-1252
    path = write(
        tmp_path / "t.csv",
        "Team;Skill;Kosten\nQualität & Plattform;qa;3.900,50\nWeb;frontend;4200\n",
        encoding="cp1252",
    )
    frame = read_table(path, ["team", "skill"], ["kosten"], numeric=["kosten"])
    assert frame["team"].tolist() == ["Qualität & Plattform", "Web"]
    assert frame["kosten"].tolist() == [3900.5, 4200.0]
    assert frame.index.tolist() == [2, 3]  # indexed by file line
    assert frame.attrs["decimal_comma"] and any("Windows-1252" in n for n in frame.attrs["notes"])


def test_read_table_bom_aliases_and_case(tmp_path):
    path = write(tmp_path / "t.csv", '\ufeffTeam Name,SKILL,Velocity\nCore,backend,"1,5"\n')
    frame = read_table(
        path,
        ["team", "skill"],
        ["velocity_sp_per_pw"],
        {"team name": "team", "velocity": "velocity_sp_per_pw"},
        numeric=None,
    )
    assert list(frame.columns) == ["team", "skill", "velocity_sp_per_pw"]
    assert frame.loc[2, "velocity_sp_per_pw"] == 1.5  # inferred numeric, decimal comma in quotes
    assert frame.attrs["headers"]["team"] == "Team Name"


def test_read_table_excel_sep_hint_and_tabs(tmp_path):
    hinted = write(tmp_path / "a.csv", "sep=;\nteam;skill\nCore;backend\n")
    assert read_table(hinted, ["team", "skill"]).loc[3, "skill"] == "backend"  # line 3: after the hint
    tabbed = write(tmp_path / "b.txt", "team\tskill\nCore\tbackend\n")
    assert read_table(tabbed, ["team", "skill"]).loc[2, "team"] == "Core"


def test_unknown_column_suggests_the_right_one(tmp_path):
    path = write(tmp_path / "teams.csv", "team,skill,headcount,capacty_pw,cost_per_pw\nA,qa,1,11,4000\n")
    with pytest.raises(InputError) as err:
        read_teams(path)
    text = str(err.value)
    assert f"{path}, line 1, column 'capacty_pw': unknown column 'capacty_pw'." in text
    assert "Did you mean 'capacity_pw'?" in text
    assert "column 'capacity_pw': required column 'capacity_pw' is missing." in text


def test_missing_required_column(tmp_path):
    path = write(tmp_path / "teams.csv", "team,skill,headcount,capacity_pw\nA,qa,1,11\n")
    with pytest.raises(InputError) as err:
        read_teams(path)
    assert str(err.value) == (
        f"{path}, line 1, column 'cost_per_pw': required column 'cost_per_pw' is missing. "
        "Fix: add a column named 'cost_per_pw'."
    )


def test_bad_number_names_line_and_column(tmp_path):
    path = write(tmp_path / "teams.csv", TEAMS_HEADER + "A,qa,1,11,4000,1\nB,ux,2,zwanzig,4000,1\n")
    with pytest.raises(InputError) as err:
        read_teams(path)
    assert str(err.value).startswith(f"{path}, line 3, column 'capacity_pw': 'zwanzig' is not a number.")


def test_extra_cells_and_headerless_values(tmp_path):
    path = write(tmp_path / "t.csv", "team,skill\nA,qa,oops\n")
    with pytest.raises(InputError) as err:
        read_table(path, ["team", "skill"])
    assert "line 2" in str(err.value) and "3 cells but the header has 2" in str(err.value)
    ok = write(tmp_path / "u.csv", "team,skill,,\nA,qa,,\n")  # trailing empty columns are ignored
    assert list(read_table(ok, ["team", "skill"]).columns) == ["team", "skill"]


def test_read_table_xlsx(tmp_path):
    import openpyxl

    book = openpyxl.Workbook()
    book.active.append(["Team", "skill", "capacity_pw"])
    book.active.append(["Core", "backend", 77])
    book.active.append([None, None, None])
    book.active.append(["Web", "frontend", 55.5])
    book.create_sheet("notes").append(["ignored"])
    path = tmp_path / "t.xlsx"
    book.save(path)
    frame = read_table(path, ["team", "skill", "capacity_pw"], numeric=["capacity_pw"])
    assert frame["capacity_pw"].to_dict() == {2: 77.0, 4: 55.5}  # sheet rows
    assert any("first sheet" in n for n in frame.attrs["notes"])


# -- teams -------------------------------------------------------------------------------------


def test_read_teams(tmp_path):
    path = write(
        tmp_path / "teams.csv",
        "team;skill;headcount;capacity_pw;cost_per_pw;capacity_pw_p1\n"
        "Core;Backend;7;77;4.600;70\nWeb;frontend;5;55;4300,5;\n",
    )
    teams = read_teams(path)
    assert teams["skill"].tolist() == ["backend", "frontend"]
    assert teams["cost_per_pw"].tolist() == [4600.0, 4300.5]
    assert teams["velocity_sp_per_pw"].tolist() == [1.0, 1.0]  # default, said in the notes
    assert any("velocity" in n for n in teams.attrs["notes"])
    assert teams["capacity_pw_p1"].iloc[0] == 70 and pd.isna(teams["capacity_pw_p1"].iloc[1])


def test_read_teams_duplicate_and_bad_skill(tmp_path):
    path = write(tmp_path / "teams.csv", TEAMS_HEADER + "A,qa,1,11,4000,1\nA,QA/Platform,1,11,4000,1\n")
    with pytest.raises(InputError) as err:
        read_teams(path)
    problems = {(p.row, p.column): p.message for p in err.value.problems}
    assert problems[(3, "team")] == "'A' appears again (first on line 2)."
    assert problems[(3, "skill")] == "skill 'QA/Platform' is not a short name."


def test_read_teams_schema_check_names_line(tmp_path):
    path = write(tmp_path / "teams.csv", TEAMS_HEADER + "A,qa,1,11,4000,1\nB,ux,1,0,4000,1\n")
    with pytest.raises(InputError) as err:
        read_teams(path)
    problem = err.value.problems[0]
    assert (problem.row, problem.column) == (3, "capacity_pw")


# -- KPIs --------------------------------------------------------------------------------------

KPI_HEADER = "product,month,mau,dau,new_users,churned_users,conversion_rate,arpu,mrr,nps,cac\n"


def test_read_kpis_month_forms_and_percent(tmp_path):
    path = write(
        tmp_path / "kpis.csv",
        KPI_HEADER
        + "Portal,2024-02,100,10,5,2,4.2%,200,840,20,150\n"
        + "Portal,01.2024,97,9,4,1,0.04,200,800,19,150\n"
        + "App,2024-01-31,50,30,3,1,0.8,49,1960,40,900\n",
    )
    kpis = read_kpis(path)
    assert kpis["product"].tolist() == ["App", "Portal", "Portal"]  # sorted by product and month
    assert kpis["month"].tolist() == [
        pd.Timestamp("2024-01-01"),
        pd.Timestamp("2024-01-01"),
        pd.Timestamp("2024-02-01"),
    ]
    assert kpis["conversion_rate"].tolist() == pytest.approx([0.8, 0.04, 0.042])
    assert any("first day" in n for n in kpis.attrs["notes"])


def test_read_kpis_bad_date_and_duplicate_month(tmp_path):
    bad = write(
        tmp_path / "kpis.csv", KPI_HEADER + "P,2024-01-01,1,1,1,0,0.1,1,1,1,1\nP,next month,1,1,1,0,0.1,1,1,1,1\n"
    )
    with pytest.raises(InputError) as err:
        read_kpis(bad)
    assert str(err.value).startswith(f"{bad}, line 3, column 'month': 'next month' is not a date.")
    twice = write(
        tmp_path / "kpis2.csv", KPI_HEADER + "P,2024-01-01,1,1,1,0,0.1,1,1,1,1\nP,2024-01,1,1,1,0,0.1,1,1,1,1\n"
    )
    with pytest.raises(InputError) as err:
        read_kpis(twice)
    rows = {p.row for p in err.value.problems}
    assert rows == {2, 3} and all(p.column == "month" for p in err.value.problems)


def test_read_kpis_conversion_above_one(tmp_path):
    path = write(tmp_path / "kpis.csv", KPI_HEADER + "P,2024-01-01,1,1,1,0,4.2,1,1,1,1\n")
    with pytest.raises(InputError) as err:
        read_kpis(path)
    assert (err.value.problems[0].row, err.value.problems[0].column) == (2, "conversion_rate")


# -- OKRs --------------------------------------------------------------------------------------


def test_read_okrs(tmp_path):
    path = write(tmp_path / "okrs.csv", "objective,KR,metric,target,baseline\nO1,KR-1,mau,100,80\nO1,KR-2,nps,30,\n")
    okrs = read_okrs(path)
    assert okrs["key_result"].tolist() == ["KR-1", "KR-2"]
    assert okrs["weight"].tolist() == [1.0, 1.0] and okrs["description"].tolist() == ["KR-1", "KR-2"]
    assert pd.isna(okrs["baseline"].iloc[1])
    duplicate = write(tmp_path / "okrs2.csv", "objective,key_result,metric,target\nO1,KR-1,mau,1\nO2,KR-1,nps,2\n")
    with pytest.raises(InputError) as err:
        read_okrs(duplicate)
    assert str(err.value).startswith(f"{duplicate}, line 3, column 'key_result': 'KR-1' appears again")


# -- canonical backlog table ---------------------------------------------------------------------

BACKLOG_HEADER = "item_id,title,product,effort_backend,effort_frontend,story_points,skill_split,depends_on,moscow\n"


def test_canonical_backlog_table(tmp_path):
    path = write(
        tmp_path / "backlog.csv",
        BACKLOG_HEADER
        + "B-1,First,Shop,3,1,,,,Must\n"
        + 'B-2,Second,Shop,,,10,"backend 50%, frontend 50%","B-1",\n'
        + 'B-3,Third,Shop,2,0,,,"B-1; B-2",could\n',
    )
    result = read_backlog(path, small_teams(), small_settings())
    rows = result.backlog.set_index("item_id")
    assert rows.loc["B-1", ["effort_backend", "effort_frontend"]].tolist() == [3.0, 1.0]
    # 5 SP backend / 2 SP per pw = 2.5 pw; 5 SP frontend / 1 = 5 pw
    assert rows.loc["B-2", ["effort_backend", "effort_frontend"]].tolist() == [2.5, 5.0]
    assert rows["depends_on"].to_dict() == {"B-1": [], "B-2": ["B-1"], "B-3": ["B-1", "B-2"]}
    assert rows["moscow"].tolist() == ["Must", "Should", "Could"] and rows.loc["B-1", "mandatory"]
    assert rows["jira_key"].isna().all()
    assert any("read as a backlog table" in n for n in result.notes)


def test_canonical_backlog_unknown_dependency_and_effort_column(tmp_path):
    path = write(tmp_path / "backlog.csv", BACKLOG_HEADER + "B-1,First,Shop,3,1,,,B-9,\n")
    with pytest.raises(InputError) as err:
        read_backlog(path, small_teams(), small_settings())
    assert str(err.value).startswith(f"{path}, line 2, column 'depends_on': depends on 'B-9', which is not")
    typo = write(tmp_path / "backlog2.csv", "item_id,title,product,effort_backnd\nB-1,First,Shop,3\n")
    with pytest.raises(InputError) as err:
        read_backlog(typo, small_teams(), small_settings())
    assert "column 'effort_backnd': unknown column" in str(err.value)
    assert "Did you mean 'effort_backend'?" in str(err.value)


def test_canonical_backlog_without_effort_is_dropped_and_bad_deadline_fails(tmp_path):
    path = write(
        tmp_path / "backlog.csv",
        "item_id,title,product,effort_backend,deadline_period\nB-1,First,Shop,3,2\nB-2,Second,Shop,,\n",
    )
    result = read_backlog(path, small_teams(), small_settings())
    assert result.backlog["item_id"].tolist() == ["B-1"] and result.backlog["deadline_period"].tolist() == [2]
    assert any("no estimate" in n and "B-2" in n for n in result.notes)
    bad = write(
        tmp_path / "backlog2.csv", "item_id,title,product,effort_backend,deadline_period\nB-1,First,Shop,3,Q2\n"
    )
    with pytest.raises(InputError) as err:
        read_backlog(bad, small_teams(), small_settings())
    assert str(err.value).startswith(f"{bad}, line 2, column 'deadline_period': deadline period 'Q2'")


def test_canonical_backlog_xlsx(tmp_path):
    import openpyxl

    book = openpyxl.Workbook()
    book.active.append(["item_id", "title", "product", "effort_backend", "theme", "confidence"])
    book.active.append(["B-1", "First", "Shop", 4.5, "Transform", 0.5])
    path = tmp_path / "backlog.xlsx"
    book.save(path)
    row = read_backlog(path, small_teams(), small_settings()).backlog.iloc[0]
    assert (row["effort_backend"], row["theme"], row["confidence"]) == (4.5, "transform", 0.5)
