"""The Jira reader on small exports written to tmp_path, with hand-computed answers.

Teams of ``small_teams()``: backend 20 pw/period at 2 SP/pw, frontend 10 pw/period at 1 SP/pw.
Settings: quarters from 2027-01-01.
"""

from __future__ import annotations

import pytest
from sources_testkit import epic, jira_export, small_settings, small_teams, write_csv

from models.errors import InputError
from pipelines.sources import read_backlog, read_jira_csv


def read(path, **settings):
    return read_jira_csv(path, small_teams(), small_settings(**settings))


def by_id(result):
    return result.backlog.set_index("item_id")


def test_story_points_split_by_skill_split(tmp_path):
    path = jira_export(
        tmp_path / "j.csv",
        [
            epic("A-1", 20, **{"Custom field (Skill Split)": "Backend 60%, Frontend 40%"}),
        ],
    )
    row = by_id(read(path)).loc["A-1"]
    # backend: 20 SP * 0.6 / 2 SP/pw = 6 pw; frontend: 20 * 0.4 / 1 = 8 pw
    assert row["effort_backend"] == pytest.approx(6.0)
    assert row["effort_frontend"] == pytest.approx(8.0)
    assert row["story_points"] == 20


def test_split_by_components_then_by_capacity(tmp_path):
    path = jira_export(
        tmp_path / "j.csv",
        [
            epic("A-1", 12, **{"Component/s": ["Back-end", "Web", "Billing"]}),  # two skills named
            epic("A-2", 12, **{"Component/s": ["Billing"]}),  # no skill named
        ],
    )
    result = read(path)
    rows = by_id(result)
    # 6 SP each -> backend 6/2 = 3 pw, frontend 6/1 = 6 pw
    assert rows.loc["A-1", ["effort_backend", "effort_frontend"]].tolist() == pytest.approx([3.0, 6.0])
    # capacity shares 20:10 -> 8 SP backend / 2 = 4 pw; 4 SP frontend / 1 = 4 pw
    assert rows.loc["A-2", ["effort_backend", "effort_frontend"]].tolist() == pytest.approx([4.0, 4.0])
    assert any("components name" in n and n.startswith("1 items") for n in result.notes)
    assert any("capacity" in n and n.startswith("1 items") for n in result.notes)


def test_original_estimate_when_no_story_points(tmp_path):
    path = jira_export(
        tmp_path / "j.csv",
        [
            epic("A-1", "", **{"Original Estimate": 288000, "Component/s": "Frontend"}),  # 80 h = 2 pw
            epic("A-2", "", **{"Original Estimate": "1w 1d", "Component/s": "Backend"}),  # 48 h = 1.2 pw
        ],
    )
    rows = by_id(read(path))
    assert rows.loc["A-1", "effort_frontend"] == pytest.approx(2.0)
    assert rows.loc["A-2", "effort_backend"] == pytest.approx(1.2)
    assert rows["story_points"].isna().all()


def test_items_without_estimate_are_dropped_with_a_note(tmp_path):
    path = jira_export(tmp_path / "j.csv", [epic("A-1", 5), epic("A-2", ""), epic("A-3", ""), epic("A-4", 0)])
    result = read(path)
    assert result.backlog["item_id"].tolist() == ["A-1"]
    assert any(n.startswith("2 items have no estimate") and "A-2, A-3" in n for n in result.notes)
    assert any(n.startswith("1 items are estimated at zero") and "A-4" in n for n in result.notes)


def test_header_aliases_of_newer_jira(tmp_path):
    # Cloud/"work item" names: Work item key, Work type, Components, Story point estimate, Due date
    path = jira_export(
        tmp_path / "j.csv",
        [
            {
                "Summary": "New export",
                "Work item key": "N-1",
                "Work type": "Epic",
                "Status": "In Progress",
                "Status Category": "In Progress",
                "Project name": "Demo",
                "Components": ["Backend", "Frontend"],
                "Custom field (Story point estimate)": 6,
                "Due date": "15/Apr/27 09:00 AM",
            }
        ],
    )
    row = by_id(read(path)).loc["N-1"]
    # 3 SP backend / 2 = 1.5 pw, 3 SP frontend / 1 = 3 pw; 15 Apr 2027 is in Q2 = period 2
    assert (row["effort_backend"], row["effort_frontend"]) == pytest.approx((1.5, 3.0))
    assert row["deadline_period"] == 2
    assert row["status_category"] == "In Progress"
    assert row["components"] == ["Backend", "Frontend"]


def test_repeated_columns_become_lists(tmp_path):
    path = jira_export(
        tmp_path / "j.csv", [epic("A-1", 5, Labels=["regulatory", "security", ""]), epic("A-2", 5, Labels=["ux"])]
    )
    rows = by_id(read(path))
    assert rows.loc["A-1", "labels"] == ["regulatory", "security"]
    assert rows.loc["A-2", "labels"] == ["ux"]


def test_blocks_and_dependency_links(tmp_path):
    path = jira_export(
        tmp_path / "j.csv",
        [
            epic("A-1", 5, **{"Inward issue link (Blocks)": "A-2"}),  # A-1 is blocked by A-2
            epic("A-2", 5, **{"Outward issue link (Blocks)": ["A-1", "A-3"]}),  # A-2 blocks
            epic("A-3", 5, **{"Outward issue link (Dependency)": "A-4"}),  # A-3 depends on A-4
            epic(
                "A-4",
                5,
                **{
                    "Inward issue link (Dependency)": "A-3",  # the same link seen from A-4
                    "Outward issue link (Relates)": "A-1",
                },
            ),  # not a dependency
            epic("A-5", 5, **{"Inward issue link (Blocks)": ["X-99", "A-5"]}),  # unknown key, self link
        ],
    )
    result = read(path)
    deps = by_id(result)["depends_on"].to_dict()
    assert deps == {"A-1": ["A-2"], "A-2": [], "A-3": ["A-2", "A-4"], "A-4": [], "A-5": []}
    assert any("not in the file" in n and "A-5->X-99" in n for n in result.notes)
    assert any("point at the item itself" in n for n in result.notes)
    assert any("Relates 1" in n for n in result.notes)


def test_dependency_on_done_item_is_met(tmp_path):
    path = jira_export(
        tmp_path / "j.csv",
        [
            epic("A-1", 5, **{"Inward issue link (Blocks)": "A-2"}),
            epic("A-2", 5, Status="Closed", **{"Status Category": "Complete"}),
        ],
    )
    result = read(path)
    rows = by_id(result)
    assert rows.loc["A-2", "status_category"] == "Done"  # kept, the optimiser skips it
    assert rows.loc["A-1", "depends_on"] == []
    assert any("already done" in n for n in result.notes)


def test_cycle_is_an_error_naming_lines(tmp_path):
    path = jira_export(
        tmp_path / "j.csv",
        [
            epic("A-1", 5, **{"Inward issue link (Blocks)": "A-2"}),
            epic("A-2", 5, **{"Inward issue link (Blocks)": "A-1"}),
        ],
    )
    with pytest.raises(InputError) as err:
        read(path)
    message = str(err.value)
    assert "cycle" in message and "A-1 (line 2)" in message and "A-2 (line 3)" in message


def test_initiatives_name_their_children_and_lend_their_theme(tmp_path):
    path = jira_export(
        tmp_path / "j.csv",
        [
            {
                "Summary": "Grow abroad",
                "Issue key": "S-1",
                "Issue id": "501",
                "Issue Type": "Initiative",
                "Status": "In Progress",
                "Custom field (Strategic Theme)": "Transform",
                "Custom field (Story Points)": 100,
            },
            epic("A-1", 5, Parent="S-1"),  # parent by key
            epic("A-2", 5, Parent="501", **{"Custom field (Strategic Theme)": "Run"}),  # parent by issue id
            {**epic("A-3", 5), "Issue Type": "Story", "Custom field (Epic Link)": "A-1"},  # grandchild
            epic("A-4", 5, Parent="Z-9", **{"Parent summary": "Not exported"}),
            epic("A-5", 5),
        ],
    )
    result = read(path)
    rows = by_id(result)
    assert "S-1" not in rows.index  # initiatives are not planned
    assert rows["initiative"].to_dict() == {
        "A-1": "Grow abroad",
        "A-2": "Grow abroad",
        "A-3": "Grow abroad",
        "A-4": "Not exported",
        "A-5": None,
    }
    assert rows["theme"].to_dict() == {
        "A-1": "transform",
        "A-2": "run",
        "A-3": "transform",
        "A-4": "grow",
        "A-5": "grow",
    }
    assert rows.loc["A-2", "parent"] == "S-1"
    assert any("2 of 5 items have no strategic theme: set to 'grow'" in n for n in result.notes)


def test_custom_fields_are_read(tmp_path):
    path = jira_export(
        tmp_path / "j.csv",
        [
            epic(
                "A-1",
                8,
                **{
                    "Custom field (Reach)": "1.500",
                    "Custom field (Impact)": "2",
                    "Custom field (Confidence)": "80%",
                    "Custom field (Business Value)": 8,
                    "Custom field (Time Criticality)": 13,
                    "Custom field (Risk Reduction)": 3,
                    "Custom field (MoSCoW)": "Must have",
                    "Custom field (KPI)": "Churn Rate",
                    "Custom field (KPI Uplift)": "-7,5%",
                    "Custom field (Differentiation)": "Differentiator",
                    "Custom field (OKR)": "KR-1.1",
                    "Custom field (Duration Quarters)": 2,
                    "Custom field (Alternative Group)": "build-vs-buy",
                    "Due Date": "30/Jun/27 05:00 PM",
                },
            ),
            epic(
                "A-2",
                8,
                **{
                    "Custom field (Confidence)": 0.5,
                    "Custom field (KPI)": "Cost",
                    "Custom field (KPI Uplift)": "4.500 €/Monat",
                    "Custom field (Impact)": "Significant / Large",
                    "Custom field (Alternative Group)": "build-vs-buy",
                    "Due Date": "15/Dec/26",
                },
            ),
        ],
    )
    result = read(path)
    rows = by_id(result)
    a1, a2 = rows.loc["A-1"], rows.loc["A-2"]
    assert a1["reach"] == 1.5  # an English-style file: 1.500 is one and a half
    assert (a1["impact"], a1["confidence"]) == (2.0, 0.8)
    assert (a1["business_value"], a1["time_criticality"], a1["risk_reduction"]) == (8, 13, 3)
    assert a1["moscow"] == "Must" and a1["mandatory"]
    assert (a1["kpi"], a1["uplift"]) == ("churn_rate", pytest.approx(-0.075))
    assert (a1["differentiation"], a1["okr"], a1["exclusive_group"]) == ("differentiator", "KR-1.1", "build-vs-buy")
    assert (a1["duration_periods"], a1["deadline_period"]) == (2, 2)
    assert (a2["kpi"], a2["uplift"], a2["confidence"], a2["impact"]) == ("cost", 4500.0, 0.5, 2.0)
    assert a2["deadline_period"] == 1  # due before the plan starts
    assert not a2["mandatory"]
    assert any("due before the plan starts" in n for n in result.notes)


def test_each_default_is_noted_once_with_its_count(tmp_path):
    path = jira_export(
        tmp_path / "j.csv", [epic("A-1", 3), epic("A-2", 3), epic("A-3", 3, **{"Custom field (MoSCoW)": "Could"})]
    )
    result = read(path)
    rows = by_id(result)
    assert rows["moscow"].tolist() == ["Should", "Should", "Could"]
    moscow_notes = [n for n in result.notes if "MoSCoW" in n]
    assert moscow_notes == ["2 of 3 items have no MoSCoW priority: set to 'Should'."]
    # no KPI column at all: said once, for all items
    assert [n for n in result.notes if "'Custom field (KPI)'" in n] == [
        "no 'Custom field (KPI)' column: KPI set to 'none' for all 3 items."
    ]


def test_default_duration_spreads_big_items(tmp_path):
    # backend capacity 20 pw/period -> at most 10 pw per period for one item
    path = jira_export(
        tmp_path / "j.csv",
        [
            epic("A-1", 50, **{"Component/s": "Backend"}),  # 25 pw -> 3 periods
            epic("A-2", 10, **{"Component/s": "Backend"}),  # 5 pw -> 1 period
        ],
    )
    assert by_id(read(path))["duration_periods"].to_dict() == {"A-1": 3, "A-2": 1}


def test_read_backlog_detects_jira(tmp_path):
    path = jira_export(tmp_path / "j.csv", [epic("A-1", 4)])
    result = read_backlog(path, small_teams(), small_settings())
    assert result.backlog.loc[0, "jira_key"] == "A-1"


# -- bad input ---------------------------------------------------------------------------------


def test_missing_issue_key_column(tmp_path):
    path = write_csv(tmp_path / "j.csv", ["Summary", "Issue key"], [["x", "A-1"]])
    path.write_text("Summary,Issue id\nx,1\n", encoding="utf-8")
    with pytest.raises(InputError) as err:
        read(path)
    assert "j.csv, line 1, column 'Issue key': required column 'Issue key' is missing." in str(err.value)


def test_bad_cells_are_collected_with_line_and_column(tmp_path):
    path = jira_export(
        tmp_path / "j.csv",
        [
            epic("A-1", "abc"),
            epic("A-2", 5, **{"Custom field (Confidence)": "150%"}),
            epic("A-3", 5, **{"Due Date": "31/Foo/27"}),
            epic("A-1", 5),
            epic("A-5", 5, **{"Custom field (Skill Split)": "Backend 50%, Mobil 50%"}),
            epic("A-6", 5, **{"Custom field (Strategic Theme)": "Explore"}),
        ],
    )
    with pytest.raises(InputError) as err:
        read(path)
    problems = {(p.row, p.column): str(p) for p in err.value.problems}
    assert "story points 'abc' is not a number" in problems[(2, "Custom field (Story Points)")]
    assert "Fix: enter a number of story points" in problems[(2, "Custom field (Story Points)")]
    assert "confidence '150%'" in problems[(3, "Custom field (Confidence)")]
    assert "due date '31/Foo/27' is not a date" in problems[(4, "Due Date")]
    assert "'A-1' appears again (first on line 2)" in problems[(5, "Issue key")]
    assert "no team has the skill 'Mobil'" in problems[(6, "Custom field (Skill Split)")]
    assert "use one of Run, Grow, Transform" in problems[(7, "Custom field (Strategic Theme)")]
    assert all(str(p).startswith(str(path)) for p in err.value.problems)


def test_error_line_is_where_a_multiline_record_starts(tmp_path):
    path = jira_export(
        tmp_path / "j.csv",
        [
            epic("A-1", 5, Description="first line\nsecond line\nthird line"),
            epic("A-2", "x", Description="one\ntwo"),
        ],
    )
    with pytest.raises(InputError) as err:
        read(path)
    assert str(err.value.problems[0]).startswith(f"{path}, line 5, column 'Custom field (Story Points)'")


def test_semicolon_cp1252_decimal_comma_export(tmp_path):
    # a Jira export opened and saved again by German Excel
    path = jira_export(
        tmp_path / "j.csv",
        [
            epic(
                "A-1",
                "2,5",
                Summary="Lösch­konzept für Kundendaten",
                **{
                    "Custom field (Skill Split)": "Backend 50%; Frontend 50%",
                    "Custom field (Reach)": "1.500",
                    "Due Date": "30.06.2027 17:00",
                    "Custom field (KPI)": "Conversion Rate",
                    "Custom field (KPI Uplift)": "+2,5%",
                },
            ),
        ],
        delimiter=";",
        encoding="cp1252",
    )
    result = read(path)
    row = by_id(result).loc["A-1"]
    assert row["title"].startswith("Lösch")
    assert row["story_points"] == 2.5
    # 1.25 SP / 2 = 0.625 backend pw; 1.25 SP / 1 = 1.25 frontend pw
    assert (row["effort_backend"], row["effort_frontend"]) == pytest.approx((0.625, 1.25))
    assert row["reach"] == 1500.0  # German thousands separator
    assert row["uplift"] == pytest.approx(0.025)
    assert row["deadline_period"] == 2
    assert any("Windows-1252" in n for n in result.notes)


def test_bom_and_xlsx_exports(tmp_path):
    from datetime import datetime

    import openpyxl

    rows = [epic("A-1", 4, **{"Component/s": ["Backend", ""], "Due Date": "2027-08-01"})]
    csv_path = jira_export(tmp_path / "j.csv", rows, encoding="utf-8-sig")
    assert csv_path.read_bytes().startswith(b"\xef\xbb\xbf")
    assert by_id(read(csv_path)).loc["A-1", "effort_backend"] == 2.0  # 4 SP / 2 SP per pw

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(
        [
            "Summary",
            "Issue key",
            "Issue Type",
            "Status Category",
            "Custom field (Story Points)",
            "Component/s",
            "Component/s",
            "Due Date",
        ]
    )
    sheet.append(["Excel item", "A-1", "Epic", "To Do", 4, "Backend", None, datetime(2027, 8, 1, 17, 0)])
    sheet.append(["Second", "A-2", "Epic", "Done", 8.0, "Frontend", "Web", None])
    sheet.append([None] * 8)  # an empty row is skipped
    xlsx = tmp_path / "j.xlsx"
    book.save(xlsx)
    rows = by_id(read(xlsx))
    assert rows.loc["A-1", "effort_backend"] == 2.0 and rows.loc["A-1", "deadline_period"] == 3
    assert rows.loc["A-2", "effort_frontend"] == 8.0  # 8 SP / 1 SP per pw, one skill named twice
    assert rows.loc["A-2", "status_category"] == "Done"


def test_duration_must_be_a_whole_number_of_quarters(tmp_path):
    path = jira_export(
        tmp_path / "j.csv",
        [
            epic("A-1", 10, **{"Custom field (Duration Quarters)": "2"}),
            epic("A-2", 10, **{"Custom field (Duration Quarters)": "1.5"}),
            epic("A-3", 10, **{"Custom field (Duration Quarters)": "soon"}),
        ],
    )
    with pytest.raises(InputError) as info:
        read(path)
    problems = {(p.row, p.column): p.message for p in info.value.problems}
    assert set(problems) == {(3, "Custom field (Duration Quarters)"), (4, "Custom field (Duration Quarters)")}
    assert "'1.5' is not a whole number of 1 or more" in problems[(3, "Custom field (Duration Quarters)")]
    assert "'soon' is not a whole number" in problems[(4, "Custom field (Duration Quarters)")]
