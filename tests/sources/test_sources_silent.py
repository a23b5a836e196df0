"""Nothing changes silently: a Must-have without an estimate and a row cut short are errors
naming the file, line and column, never a dropped item or cells filled with defaults."""

from __future__ import annotations

import pytest
from sources_testkit import epic, jira_export, small_settings, small_teams

from models.errors import InputError
from pipelines.sources import read_jira_csv
from pipelines.sources.values import Info, refuse_changes


def _read(path):
    return read_jira_csv(path, small_teams(), small_settings())


@pytest.mark.parametrize("sp", ["", 0], ids=["empty", "zero"])
def test_a_must_have_without_an_estimate_is_an_error_not_a_dropped_item(tmp_path, sp):
    path = jira_export(
        tmp_path / "j.csv",
        [epic("A-1", 8), epic("A-2", sp, **{"Custom field (MoSCoW)": "Must"}), epic("A-3", 5)],
    )
    with pytest.raises(InputError) as info:
        _read(path)
    (problem,) = info.value.problems
    assert (problem.file, problem.row, problem.column) == (str(path), 3, "Custom field (Story Points)")
    assert "the Must-have A-2" in problem.message and "never left out" in problem.message
    assert "enter its story points" in problem.fix


def test_a_must_have_that_is_done_or_an_item_that_is_not_a_must_is_dropped_with_a_note(tmp_path):
    path = jira_export(
        tmp_path / "j.csv",
        [
            epic("A-1", 8),
            epic("A-2", "", **{"Custom field (MoSCoW)": "Should"}),
            epic("A-3", "", **{"Custom field (MoSCoW)": "Must", "Status": "Done", "Status Category": "Done"}),
        ],
    )
    read = _read(path)
    assert list(read.backlog["item_id"]) == ["A-1"]
    assert any("have no estimate" in n and "dropped" in n and "A-2" in n for n in read.notes)


def test_a_row_cut_short_is_an_error_naming_its_line(tmp_path):
    path = jira_export(tmp_path / "j.csv", [epic("A-1", 8, Priority="High"), epic("A-2", 5, Priority="Low")])
    text = path.read_text(encoding="utf-8").splitlines()
    cut = text[2].rsplit(",", 3)[0]  # the file ends in the middle of its last row
    path.write_text("\n".join([*text[:2], cut]) + "\n", encoding="utf-8")
    with pytest.raises(InputError) as info:
        _read(path)
    (problem,) = info.value.problems
    assert problem.row == 3 and "the row ends early" in problem.message
    assert "cut off" in problem.fix


def test_a_column_named_like_a_field_the_reader_would_default_is_named_with_a_did_you_mean(tmp_path):
    path = jira_export(
        tmp_path / "j.csv",
        [epic("A-1", 8, **{"Custom field (MoSCoW Priority)": "Must", "Custom field (Rank)": "0|i0001"})],
    )
    read = _read(path)
    # MoSCoW falls back to its default, and the note says why and what to rename
    assert read.backlog.set_index("item_id").at["A-1", "moscow"] == "Should"
    (note,) = [n for n in read.notes if "did you mean" in n]
    assert note.startswith("column 'Custom field (MoSCoW Priority)' is not read; did you mean 'Custom field (MoSCoW)'?")
    assert "Fix: rename the column" in note
    # an unrelated custom field is only listed as unused
    assert not any("Rank" in n and "did you mean" in n for n in read.notes)


def test_an_english_export_with_every_field_has_no_did_you_mean(tmp_path):
    path = jira_export(tmp_path / "j.csv", [epic("A-1", 8, **{"Custom field (MoSCoW)": "Must"})])
    assert not any("did you mean" in n for n in _read(path).notes)


def test_notes_that_only_say_how_a_file_was_read_are_told_apart_from_changes(tmp_path):
    path = jira_export(tmp_path / "j.csv", [epic("A-1", 8), epic("A-2", 5, **{"Custom field (MoSCoW)": "Must"})])
    notes = _read(path).notes
    info = [n for n in notes if isinstance(n, Info)]
    changes = [n for n in notes if not isinstance(n, Info)]
    assert any("read as a Jira export (2 rows)" in n for n in info)
    assert any("story points converted to person-weeks" in n for n in info)
    # a default filled in is a change, never informational
    assert any("strategic theme set to 'grow'" in n for n in changes)
    assert any("no MoSCoW priority: set to 'Should'" in n for n in changes)


def test_strict_reading_refuses_every_note_that_changes_the_data_and_lets_the_others_pass():
    rows = [
        ("backlog", "/w/backlog.csv", Info("backlog.csv: read as a Jira export (2 rows)."), "info"),
        ("backlog", "/w/backlog.csv", "3 of 140 items have no KPI: set to 'none'.", "change"),
        ("kpi_history", "/w/kpis.csv", "no KPI history for the products Shop: ...", "change"),
    ]
    with pytest.raises(InputError) as info:
        refuse_changes(rows)
    assert [(p.file, p.message.split(" (strict")[0]) for p in info.value.problems] == [
        ("/w/backlog.csv", "3 of 140 items have no KPI: set to 'none'."),
        ("/w/kpis.csv", "no KPI history for the products Shop: ..."),
    ]
    assert all("--strict" in p.fix for p in info.value.problems)
    refuse_changes(rows[:1])  # informational notes alone pass
