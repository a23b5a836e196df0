"""The values sheet: the template a team fills in when its Jira export has no value inputs,
the merge of a filled sheet into the backlog read, and the valuation's stop when no candidate
item carries a value input.

The workspace is the vendored Duraspace excerpt (story points, no value fields; 117 candidate
items: not Done, with an estimate) with the demo's teams and OKRs, the demo's KPI history
renamed to its products, and settings without rules that name the demo's themes or key results.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from sources_testkit import DURASPACE, epic, jira_export, small_settings, small_teams

from models import valuation
from models.errors import InputError, ModelError
from models.settings import ValuationSettings
from pipelines.paths import demo_data_dir
from pipelines.sources import load_inputs, read_workspace_backlog, write_values_template
from pipelines.sources.values_sheet import CHOICE_VALUES, COLUMN_NOTES, TEMPLATE_COLUMNS, VALUE_COLUMNS

CANDIDATES = 117  # Duraspace excerpt: 569 items with an estimate, 452 of them Done
SETTINGS = """company: DuraSpace
start: 2027-01-01
periods: 8
period_months: 3
budget_per_period: 1200000
"""


def duraspace_workspace(folder: Path) -> Path:
    """A workspace around the Duraspace excerpt (see the module docstring)."""
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(DURASPACE, folder / "backlog.csv")
    for name in ("teams.csv", "okrs.csv"):
        shutil.copy(demo_data_dir() / name, folder / name)
    kpis = (demo_data_dir() / "kpis.csv").read_text(encoding="utf-8")
    kpis = kpis.replace("\nIoT Platform,", "\nDuraCloud,").replace("\nCustomer Portal,", "\nDuraCloud for Research,")
    (folder / "kpis.csv").write_text(kpis, encoding="utf-8")
    (folder / "settings.yaml").write_text(SETTINGS, encoding="utf-8")
    return folder


def fill(path: Path, rows: dict[int, dict[str, str]]) -> pd.DataFrame:
    """Fill cells of the values.csv at ``path``: {row position: {column: text}}."""
    sheet = pd.read_csv(path, dtype=str, keep_default_na=False)
    for i, cells in rows.items():
        for column, value in cells.items():
            sheet.loc[i, column] = value
    sheet.to_csv(path, index=False)
    return sheet


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    folder = duraspace_workspace(tmp_path_factory.mktemp("dura") / "ws")
    return folder, write_values_template(folder)


@pytest.fixture(scope="module")
def empty_read(template):
    folder, _ = template
    return load_inputs(folder, with_values=False)


# -- the template --------------------------------------------------------------------------------


def test_template_has_one_row_per_candidate_with_empty_value_columns(template, empty_read):
    folder, written = template
    assert written.paths == [folder / "values.csv", folder / "values.xlsx"]
    sheet = pd.read_csv(folder / "values.csv", dtype=str, keep_default_na=False)
    assert tuple(sheet.columns) == TEMPLATE_COLUMNS
    backlog = empty_read.backlog
    candidates = backlog.loc[backlog["status_category"] != "Done", "item_id"].tolist()
    assert len(candidates) == CANDIDATES
    assert sheet["item_id"].tolist() == candidates
    assert (sheet[list(VALUE_COLUMNS)] == "").all().all()
    row = sheet.set_index("item_id").loc["DURACLOUD-181"]
    assert row["title"] == "Sync Tool retry failed transfers"
    assert row["product"] == "DuraCloud"
    assert row["priority"] == "Minor"  # Jira's Priority, read from the export as it is
    assert float(row["effort_pw"]) == pytest.approx(1.63, abs=0.01)
    assert (sheet["votes"] == "").all()
    assert written.notes == ["backlog.csv has no Votes column: column votes left empty."]


def test_template_workbook_has_drop_downs_and_a_notes_sheet(template):
    folder, _ = template
    book = openpyxl.load_workbook(folder / "values.xlsx")
    assert book.sheetnames == ["values", "notes"]
    sheet = book["values"]
    header = [c.value for c in sheet[1]]
    assert tuple(header) == TEMPLATE_COLUMNS
    assert sheet.max_row == CANDIDATES + 1
    rules = {str(rule.sqref).split(":")[0]: rule for rule in sheet.data_validations.dataValidation}
    for name, choices in CHOICE_VALUES.items():
        letter = openpyxl.utils.get_column_letter(header.index(name) + 1)
        rule = rules[f"{letter}2"]
        assert rule.type == "list"
        assert rule.formula1 == '"' + ",".join(choices) + '"'
        assert str(rule.sqref) == f"{letter}2:{letter}{CANDIDATES + 1}"
    notes = list(book["notes"].iter_rows(values_only=True))
    assert notes[0] == ("column", "meaning", "unit", "example")
    assert [r[0] for r in notes[1:]] == list(TEMPLATE_COLUMNS)
    assert all(all(r) for r in notes[1:])
    assert set(COLUMN_NOTES) == set(TEMPLATE_COLUMNS)


def test_template_refuses_to_replace_a_values_file_unless_forced(tmp_path):
    folder = duraspace_workspace(tmp_path / "ws")
    (folder / "values.xlsx").write_bytes(b"filled in by the team")
    with pytest.raises(InputError, match=r"a values file exists already.*--force"):
        write_values_template(folder)
    written = write_values_template(folder, force=True)
    assert len(written.table) == CANDIDATES
    assert openpyxl.load_workbook(folder / "values.xlsx").sheetnames == ["values", "notes"]


# -- no value inputs -----------------------------------------------------------------------------


def test_no_value_input_on_any_candidate_stops_the_valuation(empty_read):
    r = empty_read
    assert (r.backlog["value_inputs"] == "").all()  # the reader's neutral defaults are not inputs
    with pytest.raises(ModelError) as info:
        valuation.business_cases(r.backlog, r.teams, r.kpi_history, r.settings)
    message = str(info.value)
    assert f"none of the {CANDIDATES} candidate items has a value input" in message
    assert "weitblick values-template --data" in message


def test_some_items_without_value_input_are_a_note_and_worth_zero(tmp_path, template):
    folder = duraspace_workspace(tmp_path / "ws")
    shutil.copy(template[0] / "values.csv", folder / "values.csv")
    sheet = fill(
        folder / "values.csv",
        {
            0: {"kpi": "conversion_rate", "kpi_uplift": "+2%"},
            1: {"kpi": "Conversion Rate", "kpi_uplift": "1,5 %"},
            2: {"business_value": "8"},
        },
    )
    r = load_inputs(folder)
    lacking = CANDIDATES - 3
    note = next(n for n in r.notes if "candidate items have no value input" in n)
    assert note.startswith(
        f"{lacking} of {CANDIDATES} candidate items have no value input in backlog.csv or values.csv"
    )
    assert "values them at 0 EUR" in note
    assert "values.csv: 5 values for 3 items merged into the backlog." in r.notes
    cases = valuation.business_cases(r.backlog, r.teams, r.kpi_history, r.settings).set_index("item_id")
    filled = sheet["item_id"].tolist()[:3]
    assert (cases.loc[filled[:2], "value_basis"] == "kpi").all()
    assert cases.loc[filled[1], "uplift"] == pytest.approx(0.015)
    assert (cases.loc[filled[:2], "monthly_effect_eur"] > 0).all()
    assert cases.loc[filled[2], "value_basis"] == "fallback: wsjf"
    assert cases.loc[filled[2], "monthly_effect_eur"] > 0
    rest = cases.loc[sheet["item_id"].tolist()[3:]]
    assert len(rest) == lacking
    assert (rest["value_basis"] == "none: no value input").all()
    assert (rest["monthly_effect_eur"] == 0).all()
    assert rest["note"].str.contains("valued at 0 EUR").all()


# -- the merge -----------------------------------------------------------------------------------


def small_workspace(folder: Path, values: str, name: str = "values.csv") -> Path:
    """A two-item Jira export (A-1 with business value 5 and KPI fields, A-2 without) and a values sheet."""
    folder.mkdir()
    jira_export(
        folder / "backlog.csv",
        [
            epic("A-1", 4, **{"Custom field (Business Value)": "5", "Custom field (KPI)": "MAU"}),
            epic("A-2", 4),
            epic("A-3", 4, Status="Done", **{"Status Category": "Done"}),
        ],
        extra_header=["Custom field (KPI Uplift)"],
    )
    (folder / name).write_text(values, encoding="utf-8")
    return folder


def test_sheet_cells_override_and_extend_the_export_and_conflicts_are_notes(tmp_path):
    folder = small_workspace(
        tmp_path / "ws",
        "item_id,title,business_value,reach,kpi,kpi_uplift,moscow\n"
        "A-1,anything,8,,,+3%,\n"
        "A-2,,,300,Churn Rate,-10%,Must\n",
    )
    read = read_workspace_backlog(folder, small_teams(), small_settings())
    rows = read.backlog.set_index("item_id")
    assert rows.loc["A-1", "business_value"] == 8.0  # overridden
    assert rows.loc["A-1", "kpi"] == "mau" and rows.loc["A-1", "uplift"] == pytest.approx(0.03)  # extended
    assert rows.loc["A-2", "reach"] == 300.0
    assert rows.loc["A-2", "kpi"] == "churn_rate" and rows.loc["A-2", "uplift"] == pytest.approx(-0.10)
    assert rows.loc["A-2", "moscow"] == "Must" and rows.loc["A-2", "mandatory"]  # read as the export's would be
    assert rows.loc["A-1", "title"] == "Item A-1"  # information columns are not read back
    assert rows.loc["A-1", "value_inputs"] == "kpi,business_value"
    assert rows.loc["A-2", "value_inputs"] == "kpi,reach"
    assert "values.csv: 6 values for 2 items merged into the backlog." in read.notes
    conflict = next(n for n in read.notes if n.startswith("values.csv replaces"))
    assert "1 values the backlog (backlog.csv) gave differently" in conflict
    assert "A-1 business_value 5 -> 8 (line 2)" in conflict


def test_without_a_sheet_the_backlog_reads_as_before(tmp_path):
    folder = small_workspace(tmp_path / "ws", "", name="unused.txt")
    read = read_workspace_backlog(folder, small_teams(), small_settings())
    rows = read.backlog.set_index("item_id")
    assert rows.loc["A-1", "business_value"] == 5.0
    assert rows.loc["A-1", "value_inputs"] == "business_value"  # MAU without uplift is no value input
    assert rows.loc["A-2", "value_inputs"] == ""
    assert any(n.startswith("1 of 2 candidate items have no value input in backlog.csv (") for n in read.notes)


def test_an_item_id_not_in_the_backlog_is_an_error_naming_file_line_and_column(tmp_path):
    folder = small_workspace(tmp_path / "ws", "item_id,reach\nA-1,10\nA-12,20\n")
    with pytest.raises(InputError) as info:
        read_workspace_backlog(folder, small_teams(), small_settings())
    message = str(info.value)
    assert (
        f"{folder / 'values.csv'}, line 3, column 'item_id': item 'A-12' is not in the backlog (backlog.csv)" in message
    )
    assert "Fix:" in message and "Did you mean" in message


def test_bad_cells_are_errors_with_file_line_column_and_fix(tmp_path):
    folder = small_workspace(tmp_path / "ws", "item_id,confidence,kpi,kpi_uplift\nA-1,lots,,\nA-2,,revenue,\nA-1,,,\n")
    with pytest.raises(InputError) as info:
        read_workspace_backlog(folder, small_teams(), small_settings())
    message = str(info.value)
    values = folder / "values.csv"
    assert f"{values}, line 2, column 'confidence': confidence 'lots' is not a share" in message
    assert f"{values}, line 3, column 'kpi': 'revenue' is not a known value. Fix: use one of" in message
    assert f"{values}, line 4, column 'item_id': item 'A-1' appears again (first on line 2)" in message


def test_a_german_sheet_reads_decimal_commas(tmp_path):
    folder = small_workspace(
        tmp_path / "ws", "item_id;reach;confidence;kpi;kpi_uplift\nA-2;1.234,5;75 %;Kosten;4.500\n"
    )
    rows = read_workspace_backlog(folder, small_teams(), small_settings()).backlog.set_index("item_id")
    assert rows.loc["A-2", "reach"] == 1234.5
    assert rows.loc["A-2", "confidence"] == 0.75
    assert rows.loc["A-2", "kpi"] == "cost" and rows.loc["A-2", "uplift"] == 4500.0


def test_the_filled_workbook_is_read_and_both_files_are_an_error(tmp_path, template):
    folder = duraspace_workspace(tmp_path / "ws")
    shutil.copy(template[0] / "values.xlsx", folder / "values.xlsx")
    book = openpyxl.load_workbook(folder / "values.xlsx")
    sheet = book["values"]
    header = [c.value for c in sheet[1]]
    sheet.cell(2, header.index("business_value") + 1, 13)
    sheet.cell(2, header.index("differentiation") + 1, "differentiator")
    book.save(folder / "values.xlsx")
    r = load_inputs(folder)
    item = sheet.cell(2, 1).value
    row = r.backlog.set_index("item_id").loc[item]
    assert row["business_value"] == 13.0 and row["differentiation"] == "differentiator"
    shutil.copy(template[0] / "values.csv", folder / "values.csv")
    with pytest.raises(InputError, match=r"both values\.csv and values\.xlsx exist"):
        load_inputs(folder)


# -- the value proxy -----------------------------------------------------------------------------


def test_priority_proxy_values_the_items_without_inputs_relative_to_kpi_items(tmp_path, template):
    folder = duraspace_workspace(tmp_path / "ws")
    shutil.copy(template[0] / "values.csv", folder / "values.csv")
    sheet = fill(folder / "values.csv", {0: {"kpi": "conversion_rate", "kpi_uplift": "+2%"}})
    settings = load_inputs(folder, with_values=False).settings
    r = load_inputs(folder)
    read = read_workspace_backlog(folder, r.teams, settings, value_proxy="priority")
    rows = read.backlog.set_index("item_id")
    item = sheet["item_id"].iloc[2]  # DURACLOUD-181, priority Minor
    assert item == "DURACLOUD-181"
    assert rows.loc[item, "value_proxy"] == "priority"
    assert rows.loc[item, ["business_value", "time_criticality", "risk_reduction"]].tolist() == [2.0, 2.0, 1.0]
    assert rows.loc[sheet["item_id"].iloc[0], "value_proxy"] == ""  # has a value input of its own
    assert any(n.startswith(f"value proxy 'priority': {CANDIDATES - 1} candidate items") for n in read.notes)
    assert not any("candidate items have no value input" in n for n in read.notes)
    cases = valuation.business_cases(read.backlog, r.teams, r.kpi_history, settings).set_index("item_id")
    assert cases.loc[item, "value_basis"] == "proxy: priority"
    assert cases.loc[item, "monthly_effect_eur"] > 0
    proxied = cases.loc[rows.index[(rows["value_proxy"] == "priority") & (rows["status_category"] != "Done")]]
    assert len(proxied) == CANDIDATES - 1 and (proxied["value_basis"] == "proxy: priority").all()


def test_priority_proxy_without_a_kpi_valued_item_stops(empty_read, template):
    folder, _ = template
    r = empty_read
    settings = r.settings.model_copy(update={"valuation": ValuationSettings(proxy="priority")})  # the setting
    read = read_workspace_backlog(folder, r.teams, settings, with_values=False)
    assert (read.backlog.loc[read.backlog["status_category"] != "Done", "value_proxy"] == "priority").all()
    with pytest.raises(ModelError, match="no item is valued on a KPI to say what a point is worth in EUR"):
        valuation.business_cases(read.backlog, r.teams, r.kpi_history, r.settings)


def test_the_proxy_mapping_covers_both_jira_schemes():
    levels = [valuation.PRIORITY_PROXY[p] for p in ("blocker", "critical", "major", "minor", "trivial")]
    assert levels == [valuation.PRIORITY_PROXY[p] for p in ("highest", "high", "medium", "low", "lowest")]
    assert levels == sorted(levels, reverse=True) and levels[0] == 10.0 and levels[-1] == 1.0
