"""The Jira reader on exports written by a German-language Jira.

The acceptance test translates the demo company's English export (``data/demo/backlog.csv``)
the way a German Jira writes it and the way German Excel saves it again, and reads both
into the very table the English file gives. The translation below is written out by hand
from the German headers seen in real exports (see ``validation/jira/JIRA_CSV_HEADERS.md``
of the shared validation data); it does not use the reader's alias table, or the test
would only check that table against itself. The two German files are generated into a
temporary folder from the current demo file, so they follow it when the demo changes.

Small exports use ``small_teams()``: backend 20 pw/period at 2 SP/pw, frontend 10 pw/period
at 1 SP/pw; settings: quarters from 2027-01-01.
"""

from __future__ import annotations

import csv
import io
import re
import shutil
from datetime import datetime
from pathlib import Path

import pandas as pd
import pytest
from sources_testkit import demo_settings, demo_teams, jira_export, small_settings, small_teams

from pipelines.paths import demo_data_dir
from pipelines.sources import load_inputs, read_jira_csv

# -- the German export of the demo backlog, translated by hand ----------------------------------

# English header -> the header a German Jira writes. Sprint, Labels, Component/s, the issue
# link columns and Parent summary keep their English names (as in the German exports seen);
# "Parent id" has no German form on record and stays English too.
GERMAN_HEADERS = {
    "Summary": "Zusammenfassung",
    "Issue key": "Vorgangsschlüssel",
    "Issue id": "Vorgangs-ID",
    "Issue Type": "Vorgangstyp",
    "Status": "Status",
    "Status Category": "Statuskategorie",
    "Project key": "Projektschlüssel",
    "Project name": "Projektname",
    "Project type": "Projekttyp",
    "Priority": "Priorität",
    "Resolution": "Lösung",
    "Created": "Erstellt",
    "Updated": "Aktualisiert",
    "Resolved": "Erledigt",
    "Due Date": "Fälligkeitsdatum",
    "Parent": "Übergeordnet",
    "Original Estimate": "Ursprüngliche Schätzung",
    "Description": "Beschreibung",
}
GERMAN_CUSTOM_FIELD = "Benutzerdefinierte Felder ({})"  # the name inside stays as the admin wrote it
GERMAN_STATUS = {"To Do": "Zu erledigen", "In Progress": "In Arbeit", "Done": "Fertig"}
GERMAN_PRIORITY = {"Highest": "Höchste", "High": "Hoch", "Medium": "Mittel", "Low": "Niedrig", "Lowest": "Niedrigste"}
GERMAN_RESOLUTION = {"Done": "Fertig"}
GERMAN_MONTHS = {"Mar": "Mär", "May": "Mai", "Oct": "Okt", "Dec": "Dez"}  # the others are spelt alike
DATE_HEADERS = ("Created", "Updated", "Resolved", "Due Date")


def german_header(english: str) -> str:
    match = re.fullmatch(r"Custom field \((.+)\)", english)
    if match:
        return GERMAN_CUSTOM_FIELD.format(match.group(1))
    return GERMAN_HEADERS.get(english, english)


def jira_date(value: str) -> str:
    """'21/Dec/24 04:49 PM' -> '21/Dez/24 04:49 PM' (Jira's default format, German months)."""
    day, month, rest = value.split("/", 2)
    return f"{day}/{GERMAN_MONTHS.get(month, month)}/{rest}"


def excel_date(value: str) -> str:
    """'21/Dec/24 04:49 PM' -> '21.12.2024 16:49' (as German Excel shows a date and time)."""
    return datetime.strptime(value, "%d/%b/%y %I:%M %p").strftime("%d.%m.%Y %H:%M")


def excel_number(value: str) -> str:
    """'0.25' -> '0,25', '+1.5%' -> '1,5%': German Excel's decimal comma, no plus sign."""
    if re.fullmatch(r"[+-]?\d+\.\d+%?", value):
        return value.lstrip("+").replace(".", ",")
    if re.fullmatch(r"\+\d+%", value):
        return value.lstrip("+")
    return value


def translate(english: Path, target: Path, style: str) -> Path:
    """Write the English Jira export ``english`` as a German Jira ('jira': UTF-8, ',', German
    month names) or German Excel ('excel': Windows-1252, ';', dd.mm.yyyy, decimal commas) would."""
    rows = list(csv.reader(io.StringIO(english.read_text(encoding="utf-8"), newline="")))
    header = rows[0]
    out = [[german_header(h) for h in header]]
    for row in rows[1:]:
        cells = []
        for name, cell in zip(header, row, strict=True):
            if name in ("Status", "Status Category"):
                cell = GERMAN_STATUS.get(cell, cell)
            elif name == "Priority":
                cell = GERMAN_PRIORITY.get(cell, cell)
            elif name == "Resolution":
                cell = GERMAN_RESOLUTION.get(cell, cell)
            elif name in DATE_HEADERS and cell:
                cell = jira_date(cell) if style == "jira" else excel_date(cell)
            elif style == "excel":
                cell = excel_number(cell)
            cells.append(cell)
        out.append(cells)
    buffer = io.StringIO()
    if style == "jira":
        csv.writer(buffer, lineterminator="\n").writerows(out)
        target.write_bytes(buffer.getvalue().encode("utf-8"))
    else:
        csv.writer(buffer, delimiter=";", lineterminator="\r\n").writerows(out)
        target.write_bytes(buffer.getvalue().encode("cp1252"))
    return target


@pytest.fixture(scope="module")
def german_exports(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("german")
    english = demo_data_dir() / "backlog.csv"
    return {
        "jira": translate(english, folder / "backlog_jira_de.csv", "jira"),
        "excel": translate(english, folder / "backlog_excel_de.csv", "excel"),
    }


@pytest.fixture(scope="module")
def english_read():
    return read_jira_csv(demo_data_dir() / "backlog.csv", demo_teams(), demo_settings())


def test_the_translation_is_what_a_german_export_looks_like(german_exports):
    jira = german_exports["jira"].read_text(encoding="utf-8")
    assert jira.startswith("Zusammenfassung,Vorgangsschlüssel,Vorgangs-ID,Vorgangstyp,Status,Statuskategorie,")
    assert "Benutzerdefinierte Felder (Story Points)" in jira and "Custom field" not in jira
    assert "/Dez/24 04:49 PM" in jira and ",In Arbeit,In Arbeit," in jira
    excel = german_exports["excel"].read_bytes()
    assert excel.startswith("Zusammenfassung;Vorgangsschlüssel;".encode("cp1252"))
    with pytest.raises(UnicodeDecodeError):
        excel.decode("utf-8")
    text = excel.decode("cp1252")
    assert ";30.06.2027 17:00;" in text and ";0,25;" in text and ";12,5%;" in text


def _plain(notes: list[str], path: Path) -> list[str]:
    """Notes without the ones a German file adds, file names and column lists made comparable."""
    kept = []
    for note in notes:
        if note.startswith(("columns read under another name:", "custom fields read with", "German status names")):
            continue
        if note.startswith(f"{path.name}: ") and "read as a Jira export" not in note:
            continue  # the encoding and separator of the file (rawfile's notes)
        note = note.replace(path.name, "<file>")
        note = re.sub(r"^(\d+ columns not used for planning):.*", r"\1", note)
        kept.append(note)
    return kept


@pytest.mark.parametrize("style", ["jira", "excel"])
def test_german_demo_export_reads_like_the_english_one(german_exports, english_read, style):
    path = german_exports[style]
    german = read_jira_csv(path, demo_teams(), demo_settings())
    pd.testing.assert_frame_equal(german.backlog, english_read.backlog)
    english_path = demo_data_dir() / "backlog.csv"
    assert _plain(german.notes, path) == _plain(english_read.notes, english_path)
    renamed = next(n for n in german.notes if n.startswith("columns read under another name:"))
    for alias in (
        "'Zusammenfassung' as 'Summary'",
        "'Vorgangsschlüssel' as 'Issue key'",
        "'Statuskategorie' as 'Status Category'",
        "'Übergeordnet' as 'Parent'",
        "'Fälligkeitsdatum' as 'Due Date'",
    ):
        assert alias in renamed
    custom = next(n for n in german.notes if n.startswith("custom fields read with the prefix"))
    assert custom.startswith(
        "custom fields read with the prefix 'Benutzerdefinierte Felder (...)' as 'Custom field (...)': "
        "Story Points, Reach, Impact, Confidence, Business Value,"
    )
    statuses = next(n for n in german.notes if n.startswith("German status names read as"))
    assert "'In Arbeit' as 'In Progress' (17 rows)" in statuses and "'Fertig' as 'Done' (6 rows)" in statuses
    if style == "excel":
        assert any("Windows-1252" in n for n in german.notes)
        assert any("decimal commas" in n for n in german.notes)


def test_the_english_demo_export_has_no_alias_notes(english_read):
    assert not any(
        n.startswith(("columns read under another name", "custom fields read with", "German status names"))
        for n in english_read.notes
    )


def test_a_german_workspace_loads_like_the_demo(german_exports, tmp_path):
    folder = tmp_path / "firma"
    shutil.copytree(demo_data_dir(), folder)
    shutil.copyfile(german_exports["excel"], folder / "backlog.csv")
    pd.testing.assert_frame_equal(load_inputs(folder).backlog, load_inputs(demo_data_dir()).backlog)


# -- one small export per header family and date form ------------------------------------------


def read(path):
    return read_jira_csv(path, small_teams(), small_settings())


def german_epic(key: str, sp: object = 10, **fields) -> dict[str, object]:
    """One epic with German headers, the essentials only."""
    row = {
        "Zusammenfassung": f"Vorhaben {key}",
        "Vorgangsschlüssel": key,
        "Vorgangstyp": "Epic",
        "Status": "Zu erledigen",
        "Statuskategorie": "Zu erledigen",
        "Projektname": "Demo",
        "Benutzerdefinierte Felder (Story Points)": sp,
    }
    row.update(fields)
    return row


def test_core_german_headers(tmp_path):
    path = jira_export(
        tmp_path / "j.csv",
        [
            german_epic(
                "A-1",
                6,
                **{"Vorgangs-ID": "501", "Vorgangstyp": "Initiative", "Projektschlüssel": "A", "Projektname": ""},
            ),
            german_epic("A-2", 6, Übergeordnet="501", **{"Parent summary": "Vorhaben A-1"}),
            german_epic("A-3", 6, Status="In Arbeit", Statuskategorie="In Arbeit"),
            german_epic("A-4", 6, Status="Fertig", Statuskategorie="Fertig"),
        ],
    )
    result = read(path)
    rows = result.backlog.set_index("item_id")
    assert list(rows.index) == ["A-2", "A-3", "A-4"]  # A-1 is an initiative
    assert rows.loc["A-2", ["title", "product", "parent", "initiative"]].tolist() == [
        "Vorhaben A-2",
        "Demo",
        "A-1",
        "Vorhaben A-1",
    ]
    assert rows["status"].tolist() == ["To Do", "In Progress", "Done"]
    assert rows["status_category"].tolist() == ["To Do", "In Progress", "Done"]
    note = next(n for n in result.notes if n.startswith("columns read under another name"))
    assert "'Vorgangs-ID' as 'Issue id'" in note and "'Übergeordnet' as 'Parent'" in note


def test_custom_fields_by_german_prefix_and_translated_name(tmp_path):
    path = jira_export(
        tmp_path / "j.csv",
        [
            {**german_epic("A-1", ""), "Benutzerdefinierte Felder (Story Point-Schätzung)": 4},
            {**german_epic("A-2", ""), "Benutzerdefiniertes Feld (Story point estimate)": 8},
            german_epic(
                "A-3",
                2,
                **{
                    "Benutzerdefinierte Felder (MoSCoW)": "Must",
                    "Benutzerdefinierte Felder (Strategic Theme)": "Run",
                    "Benutzerdefinierte Felder (Confidence)": "50%",
                },
            ),
            german_epic("A-4", 2, **{"BENUTZERDEFINIERTE  FELDER (reach)": 300}),
        ],
    )
    result = read(path)
    rows = result.backlog.set_index("item_id")
    assert rows["story_points"].tolist() == [4, 8, 2, 2]
    assert rows.loc["A-3", ["moscow", "theme", "confidence"]].tolist() == ["Must", "run", 0.5]
    assert rows.loc["A-4", "reach"] == 300
    note = next(n for n in result.notes if n.startswith("columns read under another name"))
    assert "'Benutzerdefinierte Felder (Story Point-Schätzung)' as 'Custom field (Story Points)'" in note
    assert "'Benutzerdefiniertes Feld (Story point estimate)' as 'Custom field (Story Points)'" in note
    prefixes = [n for n in result.notes if n.startswith("custom fields read with the prefix")]
    assert prefixes == [
        "custom fields read with the prefix 'Benutzerdefinierte Felder (...)' as 'Custom field (...)': "
        "Story Points, MoSCoW, Strategic Theme, Confidence.",
        "custom fields read with the prefix 'BENUTZERDEFINIERTE FELDER (...)' as 'Custom field (...)': reach.",
    ]


def test_estimate_and_due_date_headers(tmp_path):
    path = jira_export(
        tmp_path / "j.csv",
        [
            german_epic(
                "A-1",
                "",
                **{"Ursprüngliche Schätzung": 288000, "Component/s": "Frontend", "Fälligkeitsdatum": "15/Apr/27"},
            ),
        ],
    )
    row = read(path).backlog.set_index("item_id").loc["A-1"]
    assert row["effort_frontend"] == pytest.approx(2.0)  # 288,000 s = 80 h = 2 pw
    assert row["deadline_period"] == 2


@pytest.mark.parametrize(
    ("labels", "components"),
    [("Labels", "Component/s"), ("Stichwörter", "Komponente/n"), ("Labels", "Komponenten")],
)
def test_label_and_component_headers(tmp_path, labels, components):
    path = jira_export(
        tmp_path / "j.csv",
        [german_epic("A-1", 12, **{labels: ["dsgvo", "security"], components: ["Backend", "Web"]})],
    )
    row = read(path).backlog.set_index("item_id").loc["A-1"]
    assert row["labels"] == ["dsgvo", "security"]
    assert row["components"] == ["Backend", "Web"]
    assert (row["effort_backend"], row["effort_frontend"]) == pytest.approx((3.0, 6.0))  # 6 SP each


@pytest.mark.parametrize(
    ("inward", "outward"),
    [
        ("Inward issue link (Blocks)", "Outward issue link (Blocks)"),
        ("Eingehender Vorgangslink (Blocks)", "Ausgehender Vorgangslink (Blocks)"),
    ],
)
def test_link_headers(tmp_path, inward, outward):
    path = jira_export(
        tmp_path / "j.csv",
        [
            german_epic("A-1", 5, **{inward: "A-2"}),  # A-1 is blocked by A-2
            german_epic("A-2", 5, **{outward: "A-3"}),  # A-2 blocks A-3
            german_epic("A-3", 5),
        ],
    )
    deps = read(path).backlog.set_index("item_id")["depends_on"].to_dict()
    assert deps == {"A-1": ["A-2"], "A-2": [], "A-3": ["A-2"]}


def test_unknown_link_columns_are_named(tmp_path):
    path = jira_export(tmp_path / "j.csv", [german_epic("A-1", 5, **{"Eingehende Verknüpfung (Blocks)": "A-2"})])
    result = read(path)
    assert any(
        n.startswith("1 columns look like issue links but are not read as such: Eingehende Verknüpfung (Blocks).")
        for n in result.notes
    )


def test_work_item_headers_of_newer_jira_cloud(tmp_path):
    path = jira_export(
        tmp_path / "j.csv",
        [
            {
                "Summary": "Work item",
                "Work item key": "W-1",
                "Work item id": "9001",
                "Work type": "Epic",
                "Status": "To Do",
                "Custom field (Story point estimate)": 4,
            }
        ],
    )
    result = read(path)
    row = result.backlog.set_index("item_id").loc["W-1"]
    assert (row["item_type"], row["story_points"], row["effort_backend"]) == ("Epic", 4, pytest.approx(4 * 2 / 3 / 2))
    note = next(n for n in result.notes if n.startswith("columns read under another name"))
    assert "'Work item key' as 'Issue key'" in note and "'Work type' as 'Issue Type'" in note


def test_missing_key_names_the_english_header(tmp_path):
    path = jira_export(tmp_path / "j.csv", [{"Zusammenfassung": "x", "Vorgangs-ID": "1"}])
    from models.errors import InputError

    with pytest.raises(InputError) as err:
        read(path)
    assert "required column 'Issue key' is missing." in str(err.value)


def test_a_bad_cell_names_the_german_header(tmp_path):
    path = jira_export(tmp_path / "j.csv", [german_epic("A-1", "viele")])
    from models.errors import InputError

    with pytest.raises(InputError) as err:
        read(path)
    assert str(err.value).startswith(f"{path}, line 2, column 'Benutzerdefinierte Felder (Story Points)'")


@pytest.mark.parametrize(
    ("due", "period"),
    [
        ("21.12.2027 16:49", 4),  # German Excel, four-digit year
        ("21.12.27 16:49", 4),  # German Excel, two-digit year
        ("21.12.2027", 4),  # no time
        ("21/Dec/27 04:49 PM", 4),  # Jira's default
        ("21/Dez/27 04:49 PM", 4),  # Jira's default, German month
        ("21/Dez/27", 4),  # German month, no time
        ("15/Mär/27 09:00 AM", 1),
        ("02/Mai/27 10:15 AM", 2),
        ("31/Okt/27 11:59 PM", 4),
        ("1/Mai/27", 2),  # one-digit day
    ],
)
def test_date_forms(tmp_path, due, period):
    path = jira_export(tmp_path / "j.csv", [german_epic("A-1", 4, Fälligkeitsdatum=due)])
    assert read(path).backlog.loc[0, "deadline_period"] == period


def test_semicolon_cp1252_german_export(tmp_path):
    path = jira_export(
        tmp_path / "j.csv",
        [
            german_epic(
                "A-1",
                "2,5",
                Zusammenfassung="Löschkonzept für Kundendaten",
                Fälligkeitsdatum="30.06.2027 17:00",
                **{"Benutzerdefinierte Felder (Impact)": "0,5", "Benutzerdefinierte Felder (Reach)": "1.500"},
            )
        ],
        delimiter=";",
        encoding="cp1252",
    )
    row = read(path).backlog.set_index("item_id").loc["A-1"]
    assert row["title"] == "Löschkonzept für Kundendaten"
    assert (row["story_points"], row["impact"], row["reach"], row["deadline_period"]) == (2.5, 0.5, 1500.0, 2)
