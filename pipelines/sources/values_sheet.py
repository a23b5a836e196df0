"""The values sheet: value inputs a team fills in when its Jira export has none.

:func:`write_values_template` writes ``values.csv`` and ``values.xlsx`` into a workspace: one
row per candidate item (not Done, not an initiative) with what identifies and sizes it
(title, product, parent, initiative, effort, Jira priority and votes) and an empty column per
value input the valuation and the scores read (:data:`VALUE_COLUMNS`). The workbook offers
drop-downs for the choice columns and a second sheet ``notes`` with each column's meaning,
unit and an example.

:func:`merge_values` reads a filled sheet (``values.csv`` or ``values.xlsx``; both is an
error) into the backlog's rows before the backlog reader parses them, so a value from the
sheet is read, defaulted and checked exactly like one from the export: its non-empty cells
override or extend the export item by item, a cell that replaces a different value of the
export is listed in the notes, an unknown item id or a bad cell is an error naming the file,
line, column and fix.

:func:`value_input_notes` says how many candidate items carry no value input at all (the
rule is :func:`pipelines.sources.backlog.given_value_inputs`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from models.errors import InputError, ModelError
from models.schemas import DIFFERENTIATION, KPIS, MOSCOW, THEMES, total_effort_pw
from models.settings import Settings
from pipelines.sources.backlog import RawBacklog, RawItem, parse_value_cells
from pipelines.sources.rawfile import optional_table_file, read_raw
from pipelines.sources.tables import read_table
from pipelines.sources.values import Problems, did_you_mean, is_blank, normalise_token, text

VALUES_NAME = "values"  # values.csv or values.xlsx in a workspace
SHEET = "values"
NOTES_SHEET = "notes"

# What identifies and sizes an item: written by the template, ignored when the sheet is read.
INFO_COLUMNS = ("title", "product", "parent", "initiative", "effort_pw", "priority", "votes")
# sheet column -> canonical backlog field
VALUE_COLUMNS = {
    "reach": "reach",
    "impact": "impact",
    "confidence": "confidence",
    "business_value": "business_value",
    "time_criticality": "time_criticality",
    "risk_reduction": "risk_reduction",
    "kpi": "kpi",
    "kpi_uplift": "uplift",
    "moscow": "moscow",
    "theme": "theme",
    "okr": "okr",
    "differentiation": "differentiation",
}
TEMPLATE_COLUMNS = ("item_id", *INFO_COLUMNS, *VALUE_COLUMNS)
# drop-downs of the workbook: the canonical values (the reader also takes its aliases)
CHOICE_VALUES = {"kpi": KPIS, "moscow": MOSCOW, "theme": THEMES, "differentiation": DIFFERENTIATION}
# column -> (meaning, unit, example)
COLUMN_NOTES = {
    "item_id": ("the backlog item (Jira issue key); do not change it", "text", "DURACLOUD-123"),
    "title": ("the item's title, for reference (not read back)", "text", "Retry failed uploads"),
    "product": ("the product it belongs to (not read back)", "text", "DuraCloud"),
    "parent": ("the item's parent issue, if any (not read back)", "issue key", "DURACLOUD-10"),
    "initiative": ("the initiative above it, if any (not read back)", "text", "Storage reliability"),
    "effort_pw": ("total effort over all skills (not read back)", "person-weeks", "6.5"),
    "priority": ("Jira priority, if the export has it (not read back)", "text", "Major"),
    "votes": ("Jira votes, if the export has them (not read back)", "count", "3"),
    "reach": ("RICE reach: how many users or events it touches per period", "users per quarter", "2000"),
    "impact": ("RICE impact per user", "3 massive, 2 high, 1 medium, 0.5 low, 0.25 minimal", "1"),
    "confidence": ("RICE confidence in reach and impact", "percent or fraction", "80%"),
    "business_value": ("WSJF user/business value", "relative points, e.g. 1-10 or Fibonacci", "8"),
    "time_criticality": ("WSJF time criticality: how fast value decays when late", "relative points", "5"),
    "risk_reduction": ("WSJF risk reduction / opportunity enablement", "relative points", "3"),
    "kpi": ("the KPI the item moves; with kpi_uplift it values the item in EUR", "one of the list", "conversion_rate"),
    "kpi_uplift": (
        "expected relative change of the KPI (negative for less churn); for kpi cost: EUR saved per month",
        "percent (or EUR/month for cost)",
        "+3%",
    ),
    "moscow": ("MoSCoW priority; Must makes the item mandatory", "one of the list", "Should"),
    "theme": ("strategic theme (run / grow / transform)", "one of the list", "grow"),
    "okr": ("the key result it contributes to (a key_result of okrs.csv)", "key result id", "KR1.2"),
    "differentiation": (
        "parity or differentiator (differentiators lose value as competitors catch up)",
        "one of the list",
        "parity",
    ),
}
_PRIORITY_HEADERS = {"priority", "priorität"}
_VOTES_HEADERS = {"votes", "stimmen"}


def values_file(data_dir: str | Path) -> Path | None:
    """``<data_dir>/values.csv`` or ``values.xlsx`` if there is one; InputError if both exist."""
    return optional_table_file(data_dir, VALUES_NAME, "keep the one you filled in and delete the other")


# ---------------------------------------------------------------------------------------
# Reading a filled sheet into the backlog's rows
# ---------------------------------------------------------------------------------------


def _values_raw(path: Path) -> RawBacklog:
    """The sheet's rows as a :class:`RawBacklog` of value cells (read as text; the backlog
    reader's parsers read them)."""
    frame = read_table(
        path, ["item_id"], [*INFO_COLUMNS, *VALUE_COLUMNS], {"key": "item_id", "uplift": "kpi_uplift"}, numeric=()
    )
    headers = frame.attrs["headers"]
    columns = {VALUE_COLUMNS.get(name, name): header for name, header in headers.items()}
    columns["key"] = headers["item_id"]
    items = []
    for line, row in frame.iterrows():
        cells: dict[str, object] = {"key": row["item_id"]}
        origin = {"key": headers["item_id"]}
        for name, field in VALUE_COLUMNS.items():
            if name in row and not is_blank(row[name]):
                cells[field] = row[name]
                origin[field] = headers[name]
        items.append(RawItem(int(line), cells, origin=origin))
    return RawBacklog(frame.attrs["source"], items, columns, frame.attrs["decimal_comma"], list(frame.attrs["notes"]))


def _same(a: object, b: object) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)
    return a == b


def _shown(value: object) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def merge_values(raw: RawBacklog, path: str | Path, teams: pd.DataFrame, settings: Settings) -> list[str]:
    """Merge the value cells of the sheet at ``path`` into ``raw`` (the backlog's rows, changed
    in place) and return the notes: how many cells were taken, and every cell that replaced a
    different value of the export (an item the export gave no value keeps the sheet's).

    InputError naming file, line and column for an item id that is not in the backlog, an item
    listed twice, and every cell the backlog reader cannot read (with its fix)."""
    path = Path(path)
    sheet = _values_raw(path)
    rows = {text(item.cells.get("key")): item for item in raw.items}
    problems = Problems(str(path))
    seen: dict[str, int] = {}
    id_header = sheet.columns["key"]
    for item in sheet.items:
        key = text(item.cells.get("key"))
        if not key:
            if len(item.cells) > 1:
                problems.add(
                    "the row has values but no item_id.",
                    "enter the item's id, or delete the row.",
                    item.line,
                    id_header,
                )
        elif key not in rows:
            problems.add(
                f"item {key!r} is not in the backlog ({Path(raw.source).name}).",
                "use an item id of the backlog (weitblick values-template writes them) or delete the row."
                + did_you_mean(key, list(rows)),
                item.line,
                id_header,
            )
        elif key in seen:
            problems.add(
                f"item {key!r} appears again (first on line {seen[key]}).",
                "keep one row per item.",
                item.line,
                id_header,
            )
        else:
            seen[key] = item.line
    export = parse_value_cells(raw, teams, settings, {})
    try:
        given = parse_value_cells(sheet, teams, settings, {k: c.get("kpi") for k, c in export.items()})
    except InputError as exc:  # every problem of the sheet at once, in the order of its lines
        found = sorted([*problems.items, *exc.problems], key=lambda p: (p.row or 0, p.column or ""))
        raise InputError(found[: problems.limit]) from None
    problems.raise_if_any()
    taken, items, conflicts = 0, 0, []
    for item in sheet.items:
        key = text(item.cells.get("key"))
        cells = given.get(key) or {}
        if not key or not cells:
            continue
        items += 1
        row = rows[key]
        for field, value in cells.items():
            old = export.get(key, {}).get(field)
            if old is not None and not _same(old, value):
                conflicts.append(f"{key} {field} {_shown(old)} -> {_shown(value)} (line {item.line})")
            row.cells[field] = value
            row.origin[field] = f"{item.origin[field]} ({path.name}, line {item.line})"
            taken += 1
            if raw.present is not None:
                raw.present.add(field)
            raw.columns.setdefault(field, item.origin[field])
    notes = [*sheet.notes, f"{path.name}: {taken} values for {items} items merged into the backlog."]
    if conflicts:
        shown = "; ".join(conflicts[:10]) + ("; ..." if len(conflicts) > 10 else "")
        notes.append(
            f"{path.name} replaces {len(conflicts)} values the backlog ({Path(raw.source).name}) gave "
            f"differently; the sheet's are used: {shown}."
        )
    return notes


def apply_value_proxy(backlog: pd.DataFrame, backlog_path: Path, raw: RawBacklog, proxy: str) -> list[str]:
    """Value the candidate items without any value input by ``proxy`` (changes ``backlog`` in
    place; column ``value_proxy`` says which items). ``priority``: business value and time
    criticality from the item's Jira priority through :data:`models.valuation.PRIORITY_PROXY`,
    risk reduction 1. Returns the notes; ModelError for an unknown proxy."""
    from models.valuation import PRIORITY_PROXY, VALUE_PROXY_COLUMN

    if proxy not in ("priority",):
        raise ModelError(f"unknown value proxy {proxy!r}. Fix: use priority (or none).")
    backlog[VALUE_PROXY_COLUMN] = ""
    keys = {item.line: text(item.cells.get("key")) for item in raw.items}
    priority, _, _ = _priority_and_votes(backlog_path, keys)
    candidates = (backlog["status_category"] != "Done") & (backlog["value_inputs"].fillna("") == "")
    level = backlog["item_id"].astype(str).map(lambda i: PRIORITY_PROXY.get(normalise_token(priority.get(i))))
    proxied = candidates & level.notna()
    backlog.loc[proxied, "business_value"] = level[proxied]
    backlog.loc[proxied, "time_criticality"] = level[proxied]
    backlog.loc[proxied, "risk_reduction"] = 1.0
    backlog.loc[proxied, VALUE_PROXY_COLUMN] = proxy
    counts = ", ".join(
        f"{name} {n}"
        for name, n in pd.Series([priority[i] for i in backlog.loc[proxied, "item_id"]]).value_counts().items()
    )
    notes = [
        f"value proxy 'priority': {int(proxied.sum())} candidate items without a value input get business value and "
        "time criticality from their Jira priority (Blocker/Highest 10, Critical/High 7, Major/Medium 4, Minor/Low "
        f"2, Trivial/Lowest 1; risk reduction 1), valued relative to the items valued on a KPI ({counts or 'none'})."
    ]
    unknown = candidates & level.isna()
    if unknown.any():
        shown = ", ".join(backlog.loc[unknown, "item_id"].astype(str).head(3)) + (", ..." if unknown.sum() > 3 else "")
        notes.append(
            f"value proxy 'priority': {int(unknown.sum())} items have no priority it knows and stay unvalued "
            f"(e.g. {shown})."
        )
    return notes


def value_input_notes(backlog: pd.DataFrame, source: str) -> list[str]:
    """A note when some (not all) candidate items carry no value input: how many, and how they
    are valued. When none carries one, the valuation stops instead (see
    :func:`models.valuation.check_value_inputs`)."""
    if "value_inputs" not in backlog:
        return []
    from models.valuation import items_without_value_inputs

    candidates = backlog.loc[backlog["status_category"] != "Done"]
    lacking = items_without_value_inputs(backlog)
    if not lacking or len(lacking) == len(candidates):
        return []
    shown = ", ".join(lacking[:3]) + (", ..." if len(lacking) > 3 else "")
    return [
        f"{len(lacking)} of {len(candidates)} candidate items have no value input in {source} (no KPI with an "
        f"uplift, no reach, impact, confidence, business value, time criticality or risk reduction; e.g. {shown}): "
        "the business case values them at 0 EUR (the defaults noted above only rank them in the scores). "
        "`weitblick values-template` writes a sheet to fill in."
    ]


# ---------------------------------------------------------------------------------------
# The template
# ---------------------------------------------------------------------------------------


@dataclass
class Template:
    """The written sheet: its rows and files, and what could not be filled in."""

    table: pd.DataFrame
    paths: list[Path]
    notes: list[str]


def _priority_and_votes(path: Path, keys: dict[int, str]) -> tuple[dict[str, str], dict[str, str], list[str]]:
    """Jira's Priority and Votes cells of the backlog file by item key (``keys``: line -> key);
    the Jira reader does not keep them, so they are read here from the file as it is."""
    table = read_raw(path)
    tokens = [normalise_token(h) for h in table.header]
    found = {}
    for name, wanted in (("priority", _PRIORITY_HEADERS), ("votes", _VOTES_HEADERS)):
        found[name] = next((i for i, t in enumerate(tokens) if t in wanted), None)
    out: dict[str, dict[str, str]] = {"priority": {}, "votes": {}}
    for row, line in zip(table.rows, table.lines, strict=True):
        key = keys.get(line)
        for name, i in found.items():
            if key is not None and i is not None and i < len(row) and not is_blank(row[i]):
                out[name][key] = text(row[i])
    notes = [
        f"{path.name} has no {name.capitalize()} column: column {name} left empty."
        for name, i in found.items()
        if i is None
    ]
    return out["priority"], out["votes"], notes


def template_table(backlog: pd.DataFrame, backlog_path: Path, teams: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """One row per candidate item of ``backlog`` (status not Done; initiatives are not in the
    backlog), columns :data:`TEMPLATE_COLUMNS`, value columns empty; and notes."""
    from pipelines.sources.tables import raw_backlog

    candidates = backlog.loc[backlog["status_category"] != "Done"].reset_index(drop=True)
    raw = raw_backlog(backlog_path, teams)
    keys = {item.line: text(item.cells.get("key")) for item in raw.items}
    priority, votes, notes = _priority_and_votes(backlog_path, keys)
    ids = candidates["item_id"].astype(str)
    table = pd.DataFrame(
        {
            "item_id": ids,
            "title": candidates["title"].astype(str),
            "product": candidates["product"].astype(str),
            "parent": candidates.get("parent"),
            "initiative": candidates["initiative"],
            "effort_pw": total_effort_pw(candidates).round(2),
            "priority": ids.map(priority),
            "votes": ids.map(votes),
        }
    )
    for name in VALUE_COLUMNS:
        table[name] = None
    return table[list(TEMPLATE_COLUMNS)], notes


def _write_xlsx(table: pd.DataFrame, path: Path) -> None:
    import openpyxl
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = SHEET
    sheet.append(list(table.columns))
    for row in table.itertuples(index=False):
        sheet.append([None if pd.isna(v) else v for v in row])
    sheet.freeze_panes = "B2"
    last = max(len(table) + 1, 2)
    for j, name in enumerate(table.columns, start=1):
        letter = get_column_letter(j)
        sheet.column_dimensions[letter].width = 48 if name == "title" else max(12, len(name) + 2)
        if name in CHOICE_VALUES:
            rule = DataValidation(
                type="list",
                formula1='"' + ",".join(CHOICE_VALUES[name]) + '"',
                allow_blank=True,
                showErrorMessage=True,
                errorTitle=name,
                error=f"use one of {', '.join(CHOICE_VALUES[name])}",
            )
            rule.add(f"{letter}2:{letter}{last}")
            sheet.add_data_validation(rule)
    notes = book.create_sheet(NOTES_SHEET)
    notes.append(["column", "meaning", "unit", "example"])
    for name in table.columns:
        notes.append([name, *COLUMN_NOTES[name]])
    for letter, width in zip("ABCD", (18, 90, 50, 18), strict=True):
        notes.column_dimensions[letter].width = width
    book.save(path)


def write_values_template(
    data_dir: str | Path, force: bool = False, formats: tuple[str, ...] = ("csv", "xlsx")
) -> Template:
    """Write ``values.csv`` and ``values.xlsx`` (or the ``formats`` asked for) into the workspace
    ``data_dir`` (read through :func:`pipelines.sources.load_inputs`, without a values sheet).
    InputError if a values file exists and not ``force``."""
    from pipelines.sources.inputs import backlog_file, load_inputs

    data_dir = Path(data_dir)
    all_targets = [data_dir / f"{VALUES_NAME}.csv", data_dir / f"{VALUES_NAME}.xlsx"]
    targets = [p for p in all_targets if p.suffix[1:] in formats]
    existing = [p for p in all_targets if p.exists()]
    if existing and not force:
        raise InputError.single(
            existing[0],
            "a values file exists already.",
            "fill in that one; or pass --force to replace it with an empty sheet (its values are lost).",
        )
    inputs = load_inputs(data_dir, with_values=False)
    table, notes = template_table(inputs.backlog, backlog_file(data_dir), inputs.teams)
    for target in targets:
        if target.suffix == ".csv":
            table.to_csv(target, index=False)
        else:
            _write_xlsx(table, target)
    return Template(table, targets, notes)
