"""``replaces``: items that supersede (or cannibalise) another item's KPI effect, read from a
canonical table's column and from Jira's custom field and "Replaces" issue links.

Teams of ``small_teams()``; settings: quarters from 2027-01-01.
"""

from __future__ import annotations

import pandas as pd
import pytest
from sources_testkit import epic, jira_export, small_settings, small_teams

from models.errors import InputError
from models.schemas import Backlog, validate
from pipelines.sources import read_backlog, read_jira_csv


def by_id(result):
    return result.backlog.set_index("item_id")


def table(tmp_path, rows: list[str], header: str = "item_id,title,product,kpi,effort_backend,replaces") -> str:
    path = tmp_path / "backlog.csv"
    path.write_text(header + "\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return path


def test_canonical_column_lists_ids_comma_or_semicolon_separated(tmp_path):
    path = table(
        tmp_path,
        [
            "B-1,Old checkout,Shop,conversion,2,",
            "B-2,Old banner,Shop,conversion,2,",
            'B-3,New checkout,Shop,conversion,2,"B-1, B-2"',
            "B-4,Newer checkout,Shop,conversion,2,B-1;B-3",
        ],
    )
    result = read_backlog(path, small_teams(), small_settings())
    assert by_id(result)["replaces"].to_dict() == {"B-1": [], "B-2": [], "B-3": ["B-1", "B-2"], "B-4": ["B-1", "B-3"]}
    assert any("4 replacements between planned items kept" in str(n) for n in result.notes)
    assert not any("another product/KPI" in n for n in result.notes)


def test_unknown_self_and_unplanned_ids_are_dropped_with_a_note_naming_item_and_id(tmp_path):
    path = table(
        tmp_path,
        [
            "B-1,Old,Shop,conversion,2,",
            "B-2,No estimate,Shop,conversion,,",
            "B-3,New,Shop,conversion,2,B-1 B-9 B-3 B-2",
        ],
    )
    result = read_backlog(path, small_teams(), small_settings())
    assert by_id(result)["replaces"].to_dict() == {"B-1": [], "B-3": ["B-1"]}
    assert "1 replacements name items that are not in the file: dropped (B-3 replaces B-9)." in result.notes
    assert "1 replacements name the item itself: dropped (B-3 replaces B-3)." in result.notes
    assert "1 replacements name items that are dropped (no estimate): dropped (B-3 replaces B-2)." in result.notes


def test_replacement_across_products_or_kpis_is_kept_and_noted(tmp_path):
    path = table(
        tmp_path,
        [
            "PORTAL-5,Old portal,Portal,conversion,2,",
            "IOT-1,Old gateway,IoT,arpu,2,",
            "IOT-2,New gateway,IoT,conversion,2,PORTAL-5;IOT-1",
        ],
    )
    result = read_backlog(path, small_teams(), small_settings())
    assert by_id(result).loc["IOT-2", "replaces"] == ["IOT-1", "PORTAL-5"]
    note = next(n for n in result.notes if "another product/KPI" in n)
    assert note.startswith(
        "IOT-2 replaces IOT-1, IOT-2 replaces PORTAL-5 on another product/KPI: no effect in the simulation"
    )


def test_no_column_means_no_replacements_and_no_note(tmp_path):
    path = table(
        tmp_path, ["B-1,Old,Shop,conversion,2", "B-2,New,Shop,conversion,2"], "item_id,title,product,kpi,effort_backend"
    )
    result = read_backlog(path, small_teams(), small_settings())
    assert by_id(result)["replaces"].to_dict() == {"B-1": [], "B-2": []}
    assert not any("replace" in str(n).lower() for n in result.notes)


def test_jira_custom_field_and_replaces_links(tmp_path):
    path = jira_export(
        tmp_path / "j.csv",
        [
            epic("A-1", 5),
            epic("A-2", 5, **{"Custom field (Replaces)": "A-1, X-99"}),  # X-99 is not in the export
            epic("A-3", 5, **{"Outward issue link (Replaces)": "A-2"}),  # A-3 replaces A-2
            epic("A-4", 5, **{"Inward issue link (Replaces)": "A-3", "Inward issue link (Blocks)": "A-1"}),
        ],
    )
    result = read_jira_csv(path, small_teams(), small_settings())
    rows = by_id(result)
    assert rows["replaces"].to_dict() == {"A-1": [], "A-2": ["A-1"], "A-3": ["A-2", "A-4"], "A-4": []}
    assert rows["depends_on"].to_dict() == {"A-1": [], "A-2": [], "A-3": [], "A-4": ["A-1"]}  # not dependencies
    assert "1 replacements name items that are not in the file: dropped (A-2 replaces X-99)." in result.notes
    assert any("issue links read as replacements: Replaces (inward) 1, Replaces (outward) 1" in n for n in result.notes)
    assert not any("not dependencies ignored" in n for n in result.notes)


def test_german_export_custom_field(tmp_path):
    path = jira_export(
        tmp_path / "j.csv",
        [epic("A-1", 5), epic("A-2", 5, **{"Benutzerdefiniertes Feld (Ersetzt)": "A-1"})],
    )
    result = read_jira_csv(path, small_teams(), small_settings())
    assert by_id(result)["replaces"].to_dict() == {"A-1": [], "A-2": ["A-1"]}
    assert any("'Benutzerdefiniertes Feld (Ersetzt)' as 'Custom field (Replaces)'" in n for n in result.notes)


def test_jira_export_without_the_field_has_no_replacements(tmp_path):
    path = jira_export(tmp_path / "j.csv", [epic("A-1", 5), epic("A-2", 5)])
    result = read_jira_csv(path, small_teams(), small_settings())
    assert by_id(result)["replaces"].to_dict() == {"A-1": [], "A-2": []}
    assert not any("replace" in str(n).lower() for n in result.notes)


def test_schema_checks_replaces_like_depends_on(tmp_path):
    path = table(tmp_path, ["B-1,Old,Shop,conversion,2,", "B-2,New,Shop,conversion,2,B-1"])
    backlog = read_backlog(path, small_teams(), small_settings()).backlog
    validate(backlog, Backlog, "ok")
    validate(backlog.drop(columns="replaces"), Backlog, "optional column")
    bad = backlog.assign(replaces=pd.Series(["B-1", []], dtype=object))
    with pytest.raises(InputError, match="list_of_item_ids"):
        validate(bad, Backlog, "bad")
