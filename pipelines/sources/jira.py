"""Read Jira's "Export CSV (all fields)" (or the same table saved as .xlsx) into the Backlog.

Header names are matched case-insensitively across Jira generations ("Component/s" and
"Components", "Issue key" and "Work item key", "Custom field (Story Points)" and
"Custom field (Story point estimate)", "Parent" and "Custom field (Epic Link)" ...).
Repeated columns (Labels, Component/s, Sprint, issue links) are collapsed into lists; the
file is read record by record, so duplicate headers are never renamed away.

Issue links become dependencies:

* ``Blocks`` (also ``Blocker``): ``Inward issue link (Blocks)`` = this issue *is blocked by*
  the other, so it depends on it; ``Outward issue link (Blocks)`` = this issue *blocks* the
  other, so the other depends on this one.
* ``Dependency``, ``dependent``, ``Depends``, ``Required`` (any type whose name contains
  "depend" or "requir"): the outward side reads "depends on"/"requires", so
  ``Outward issue link (Dependency)`` = this issue depends on the other and the inward side
  is the reverse. (Checked on the Duraspace export: "DurAdmin support for object
  copy/rename" has an outward Dependency link to "StorageProvider support for object
  copy/rename".)
* Every other link type (Relates, Duplicate, Cloners ...) is ignored and counted in the notes.

Items of a grouping type (Initiative, Theme, Objective) are not planned; their Summary
becomes the ``initiative`` of the items below them (through Parent), and their strategic
theme is inherited by children that have none. See :mod:`pipelines.sources.backlog` for
estimates, defaults and the remaining rules.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pandas as pd

from models.errors import InputError, InputProblem
from models.settings import Settings
from pipelines.sources.backlog import BacklogRead, RawBacklog, RawItem, build_backlog
from pipelines.sources.rawfile import RawTable, read_raw
from pipelines.sources.values import is_blank, normalise_token, split_list, text

# canonical field -> accepted headers (lower-case), in order of preference
JIRA_FIELDS: dict[str, tuple[str, ...]] = {
    "key": ("issue key", "work item key", "key"),
    "issue_id": ("issue id", "work item id"),
    "title": ("summary",),
    "item_type": ("issue type", "work type", "work item type"),
    "status": ("status",),
    "status_category": ("status category",),
    "project_key": ("project key",),
    "project_name": ("project name",),
    "product": ("custom field (product)",),
    "parent": (
        "parent",
        "parent key",
        "custom field (epic link)",
        "custom field (parent link)",
        "epic link",
        "parent link",
        "parent id",
    ),
    "parent_summary": ("parent summary",),
    "labels": ("labels",),
    "components": ("component/s", "components"),
    "story_points": (
        "custom field (story points)",
        "custom field (story point estimate)",
        "story points",
        "story point estimate",
    ),
    "original_estimate": ("original estimate",),
    "due_date": ("due date",),
    "reach": ("custom field (reach)",),
    "impact": ("custom field (impact)",),
    "confidence": ("custom field (confidence)",),
    "business_value": ("custom field (business value)",),
    "time_criticality": ("custom field (time criticality)",),
    "risk_reduction": ("custom field (risk reduction)", "custom field (risk reduction/opportunity enablement)"),
    "moscow": ("custom field (moscow)",),
    "theme": ("custom field (strategic theme)",),
    "kpi": ("custom field (kpi)",),
    "uplift": ("custom field (kpi uplift)",),
    "differentiation": ("custom field (differentiation)",),
    "okr": ("custom field (okr)",),
    "skill_split": ("custom field (skill split)",),
    "duration_quarters": ("custom field (duration quarters)",),
    "exclusive_group": ("custom field (alternative group)",),
}
MULTI_FIELDS = frozenset({"labels", "components"})
ESSENTIAL = {"key": "Issue key", "title": "Summary"}
# The canonical headers the demo export uses, to name a column that is absent.
DISPLAY = {
    "story_points": "Custom field (Story Points)",
    "original_estimate": "Original Estimate",
    "due_date": "Due Date",
    "reach": "Custom field (Reach)",
    "impact": "Custom field (Impact)",
    "confidence": "Custom field (Confidence)",
    "business_value": "Custom field (Business Value)",
    "time_criticality": "Custom field (Time Criticality)",
    "risk_reduction": "Custom field (Risk Reduction)",
    "moscow": "Custom field (MoSCoW)",
    "theme": "Custom field (Strategic Theme)",
    "kpi": "Custom field (KPI)",
    "uplift": "Custom field (KPI Uplift)",
    "differentiation": "Custom field (Differentiation)",
    "okr": "Custom field (OKR)",
    "skill_split": "Custom field (Skill Split)",
    "duration_quarters": "Custom field (Duration Quarters)",
    "exclusive_group": "Custom field (Alternative Group)",
}
_LINK = re.compile(r"^(inward|outward) issue link \((.+)\)$", re.IGNORECASE)
_BLOCKS = frozenset({"blocks", "blocker", "blocking", "block"})


def _spaced(header: list[str]) -> list[str]:
    """Headers with runs of blanks as one space ('Inward  issue link (Blocks)' -> '... link (Blocks)')."""
    return [" ".join(h.split()) for h in header]


def is_jira_header(header: list[str]) -> bool:
    """A Jira export has an 'Issue key' (or 'Work item key') column."""
    return bool({h.lower() for h in _spaced(header)} & {"issue key", "work item key"})


def link_semantics(link_type: str) -> str | None:
    """'blocks' for Blocks-like types, 'depends' for dependency-like types, else None."""
    token = normalise_token(link_type)
    if token in _BLOCKS:
        return "blocks"
    if "depend" in token or "requir" in token:
        return "depends"
    return None


def read_jira_csv(path: str | Path, teams: pd.DataFrame, settings: Settings) -> BacklogRead:
    """Read a Jira export (CSV, or the same table as .xlsx) into a validated Backlog.

    ``teams`` (validated models.schemas.Teams) gives the skills and their velocity;
    ``settings`` the planning start and period length for due dates.
    Raises InputError (file, line, column, fix) for missing essential columns and bad cells.
    """
    table = read_raw(path)
    return build_backlog(jira_raw_backlog(table), teams, settings)


def jira_raw_backlog(table: RawTable) -> RawBacklog:
    """Map a Jira export's columns to canonical fields and its links to dependency edges."""
    spaced = _spaced(table.header)  # link types keep their case for the notes
    normalised = [h.lower() for h in spaced]
    positions: dict[str, list[tuple[int, str]]] = {}
    used: set[int] = set()
    for name, aliases in JIRA_FIELDS.items():
        found = []
        for alias in aliases:
            found += [(i, table.header[i]) for i, h in enumerate(normalised) if h == alias]
        if found:
            positions[name] = found
            used.update(i for i, _ in found)
    missing = [label for name, label in ESSENTIAL.items() if name not in positions]
    if missing:
        raise InputError(
            [
                InputProblem(
                    table.source,
                    f"required column '{label}' is missing.",
                    f"export with all fields, or add a column named '{label}'.",
                    1,
                    label,
                )
                for label in missing
            ]
        )
    links: list[tuple[int, str, str]] = []  # (position, direction, link type)
    ignored_types: Counter = Counter()
    for i, h in enumerate(spaced):
        match = _LINK.match(h)
        if match:
            used.add(i)
            links.append((i, match.group(1).lower(), match.group(2)))
    ignored_columns = sorted({table.header[i] for i in range(len(table.header)) if i not in used and table.header[i]})
    columns = {name: found[0][1] for name, found in positions.items()}
    columns["links"] = "issue links"
    for name, label in DISPLAY.items():
        columns.setdefault(name, label)

    items: list[RawItem] = []
    link_kinds: Counter = Counter()
    for row, line in zip(table.rows, table.lines, strict=True):
        cells: dict[str, object] = {}
        origin: dict[str, str] = {}
        for name, found in positions.items():
            if name in MULTI_FIELDS:
                cells[name] = [text(row[i]) for i, _ in found if not is_blank(row[i])]
                continue
            for i, header in found:
                if not is_blank(row[i]):
                    cells[name] = row[i]
                    origin[name] = header
                    break
        item = RawItem(line, cells, origin=origin)
        for i, direction, link_type in links:
            if is_blank(row[i]):
                continue
            others = split_list(row[i], on_space=True)
            semantics = link_semantics(link_type)
            if semantics is None:
                ignored_types[link_type] += len(others)
                continue
            link_kinds[f"{link_type} ({direction})"] += len(others)
            waits = (semantics == "blocks") == (direction == "inward")
            (item.depends_on if waits else item.required_by).extend(others)
        items.append(item)

    notes = list(table.notes)
    notes.append(f"{table.path.name}: read as a Jira export ({len(items)} rows).")
    if link_kinds:
        kinds = ", ".join(f"{k} {n}" for k, n in sorted(link_kinds.items()))
        notes.append(
            "issue links read as dependencies: " + kinds + " (Blocks inward = is blocked by; "
            "Dependency outward = depends on)."
        )
    if ignored_types:
        kinds = ", ".join(f"{k} {n}" for k, n in sorted(ignored_types.items()))
        notes.append(f"issue links that are not dependencies ignored: {kinds}.")
    if ignored_columns:
        notes.append(
            f"{len(ignored_columns)} columns not used for planning: "
            f"{', '.join(ignored_columns[:12])}{' ...' if len(ignored_columns) > 12 else ''}."
        )
    return RawBacklog(table.source, items, columns, table.decimal_comma, notes, kind="jira", present=set(positions))
