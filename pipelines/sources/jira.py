"""Read Jira's "Export CSV (all fields)" (or the same table saved as .xlsx) into the Backlog.

Header names are matched case-insensitively across Jira generations ("Component/s" and
"Components", "Issue key" and "Work item key", "Custom field (Story Points)" and
"Custom field (Story point estimate)", "Parent" and "Custom field (Epic Link)" ...) and
languages ("Vorgangsschlüssel", "Benutzerdefinierte Felder (Story Points)", "Übergeordnet").
The names are data, in :mod:`pipelines.sources.jira_fields`; a custom field is found by
its prefix in any language and its name inside the brackets. Every header read under
another name than the English one is listed in the notes, and so are Jira's German status
names ("In Arbeit"), which are read as the English ones ("In Progress").
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
* ``Replaces`` (also ``Supersedes``): ``Outward issue link (Replaces)`` = this issue replaces the
  other (its KPI effect ends when this one is delivered), the inward side is the reverse. These
  are replacements, not dependencies; so is the custom field ``Custom field (Replaces)``.
* Every other link type (Relates, Duplicate, Cloners ...) is ignored and counted in the notes.

Items of a grouping type (Initiative, Theme, Objective) are not planned; their Summary
becomes the ``initiative`` of the items below them (through Parent), and their strategic
theme is inherited by children that have none. See :mod:`pipelines.sources.backlog` for
estimates, defaults and the remaining rules.
"""

from __future__ import annotations

import difflib
import re
from collections import Counter
from pathlib import Path

import pandas as pd

from models.errors import InputError, InputProblem
from models.settings import Settings
from pipelines.sources.backlog import BacklogRead, RawBacklog, RawItem, build_backlog
from pipelines.sources.jira_fields import (
    CUSTOM_FIELD_PREFIXES,
    EXPORT_MARKERS,
    JIRA_FIELDS,
    LINK_PREFIXES,
    STATUS_NAMES,
)
from pipelines.sources.rawfile import RawTable, read_raw
from pipelines.sources.values import Info, is_blank, normalise_token, split_list, text

MULTI_FIELDS = frozenset({"labels", "components", "replaces"})
ESSENTIAL = ("key", "title")
# The English header of every field, to name a column that is absent ("Custom field (Reach)").
DISPLAY = {
    name: f"{CUSTOM_FIELD_PREFIXES[0]} {aliases[0]}" if aliases[0].startswith("(") else aliases[0]
    for name, aliases in JIRA_FIELDS.items()
}
_BLOCKS = frozenset({"blocks", "blocker", "blocking", "block"})
_REPLACES = frozenset({"replaces", "replace", "replacement", "supersedes", "supersede", "ersetzt", "ersetzen"})
# '<... link ...> (<type>)' with the link word outside the brackets: an issue-link column we do not know
_LINKISH = re.compile(r"^[^()]*(link|verkn[üu]pf)[^()]*\(.+\)$", re.IGNORECASE)


def _spaced(header: list[str]) -> list[str]:
    """Headers with runs of blanks as one space ('Inward  issue link (Blocks)' -> '... link (Blocks)')."""
    return [" ".join(h.split()) for h in header]


def _bracketed(header: str, prefixes: tuple[str, ...]) -> tuple[str, str] | None:
    """('prefix', 'name') when ``header`` is '<prefix> (<name>)' for one of ``prefixes`` (any case)."""
    lowered = header.lower()
    for prefix in prefixes:
        head = prefix.lower() + " ("
        if lowered.startswith(head) and lowered.endswith(")") and len(header) > len(head) + 1:
            return prefix, header[len(head) : -1]
    return None


def _alias_key(alias: str) -> tuple[str, str]:
    """How an entry of JIRA_FIELDS is looked up: ('custom', name) or ('plain', header), lower-case."""
    if alias.startswith("(") and alias.endswith(")"):
        return "custom", alias[1:-1].lower()
    return "plain", alias.lower()


def _header_key(header: str) -> tuple[str, str]:
    """How a header of the file is looked up (blanks collapsed): custom fields by their inner name."""
    custom = _bracketed(header, CUSTOM_FIELD_PREFIXES)
    if custom is not None:
        return "custom", custom[1].lower()
    return "plain", header.lower()


_LINK_PREFIXES = {prefix: direction for direction, prefixes in LINK_PREFIXES.items() for prefix in prefixes}


def _link_column(header: str) -> tuple[str, str] | None:
    """(direction, link type) for an issue-link column such as 'Inward issue link (Blocks)'."""
    found = _bracketed(header, tuple(_LINK_PREFIXES))
    if found is None:
        return None
    return _LINK_PREFIXES[found[0]], found[1]


def is_jira_header(header: list[str]) -> bool:
    """A Jira export has an 'Issue key' column (or 'Work item key', 'Vorgangsschlüssel')."""
    return bool({h.lower() for h in _spaced(header)} & {m.lower() for m in EXPORT_MARKERS})


def link_semantics(link_type: str) -> str | None:
    """'blocks' for Blocks-like types, 'depends' for dependency-like types, 'replaces' for
    Replaces-like types (not a dependency), else None."""
    token = normalise_token(link_type)
    if token in _BLOCKS:
        return "blocks"
    if token in _REPLACES:
        return "replaces"
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
    keys = [_header_key(h) for h in spaced]
    positions: dict[str, list[tuple[int, str]]] = {}
    used: set[int] = set()
    for name, aliases in JIRA_FIELDS.items():
        found = []
        for alias in aliases:
            wanted = _alias_key(alias)
            found += [(i, table.header[i]) for i, key in enumerate(keys) if key == wanted]
        if found:
            positions[name] = found
            used.update(i for i, _ in found)
    missing = [DISPLAY[name] for name in ESSENTIAL if name not in positions]
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
        link = _link_column(h)
        if link is not None:
            used.add(i)
            links.append((i, *link))
    ignored_columns = sorted({table.header[i] for i in range(len(table.header)) if i not in used and table.header[i]})
    columns = {name: found[0][1] for name, found in positions.items()}
    columns["links"] = "issue links"
    for name, label in DISPLAY.items():
        columns.setdefault(name, label)

    statuses = {german.lower(): english for german, english in STATUS_NAMES.items()}
    items: list[RawItem] = []
    link_kinds: Counter = Counter()
    replace_kinds: Counter = Counter()
    aliases_used: dict[str, str] = {}  # header as written -> English header
    translated: Counter = Counter()  # (German status, English status) -> rows
    for row, line in zip(table.rows, table.lines, strict=True):
        cells: dict[str, object] = {}
        origin: dict[str, str] = {}
        for name, found in positions.items():
            if name in MULTI_FIELDS:
                cells[name] = [text(row[i]) for i, _ in found if not is_blank(row[i])]
                for i, header in found:
                    if not is_blank(row[i]):
                        aliases_used.setdefault(header, DISPLAY[name])
                continue
            for i, header in found:
                if not is_blank(row[i]):
                    cells[name] = row[i]
                    origin[name] = header
                    aliases_used.setdefault(header, DISPLAY[name])
                    break
        status = text(cells.get("status")).lower()
        if status in statuses:
            translated[(text(cells["status"]), statuses[status])] += 1
            cells["status"] = statuses[status]
        item = RawItem(line, cells, origin=origin)
        for i, direction, link_type in links:
            if is_blank(row[i]):
                continue
            others = split_list(row[i], on_space=True)
            semantics = link_semantics(link_type)
            if semantics is None:
                ignored_types[link_type] += len(others)
                continue
            if semantics == "replaces":  # outward: this issue replaces the other
                replace_kinds[f"{link_type} ({direction})"] += len(others)
                (item.replaces if direction == "outward" else item.replaced_by).extend(others)
                continue
            link_kinds[f"{link_type} ({direction})"] += len(others)
            waits = (semantics == "blocks") == (direction == "inward")
            (item.depends_on if waits else item.required_by).extend(others)
        items.append(item)

    notes = list(table.notes)
    notes.append(Info(f"{table.path.name}: read as a Jira export ({len(items)} rows)."))
    if link_kinds:
        kinds = ", ".join(f"{k} {n}" for k, n in sorted(link_kinds.items()))
        notes.append(
            Info(
                "issue links read as dependencies: " + kinds + " (Blocks inward = is blocked by; "
                "Dependency outward = depends on)."
            )
        )
    if replace_kinds:
        kinds = ", ".join(f"{k} {n}" for k, n in sorted(replace_kinds.items()))
        notes.append(Info(f"issue links read as replacements: {kinds} (Replaces outward = replaces)."))
    if ignored_types:
        kinds = ", ".join(f"{k} {n}" for k, n in sorted(ignored_types.items()))
        notes.append(f"issue links that are not dependencies ignored: {kinds}.")
    first_column = {h: i for i, h in reversed(list(enumerate(table.header)))}
    notes += _alias_notes(dict(sorted(aliases_used.items(), key=lambda alias: first_column[alias[0]])))
    if translated:
        names = ", ".join(f"'{german}' as '{english}' ({n} rows)" for (german, english), n in translated.items())
        notes.append(f"German status names read as Jira's English ones: {names}.")
    unread_links = [h for h in ignored_columns if _LINKISH.match(" ".join(h.split()))]
    if unread_links:
        notes.append(
            f"{len(unread_links)} columns look like issue links but are not read as such: "
            f"{', '.join(unread_links[:6])}{' ...' if len(unread_links) > 6 else ''}. Dependencies are read from "
            "'Inward issue link (<type>)' and 'Outward issue link (<type>)' columns."
        )
    notes += _near_misses(ignored_columns, set(positions))
    if ignored_columns:
        notes.append(
            Info(
                f"{len(ignored_columns)} columns not used for planning: "
                f"{', '.join(ignored_columns[:12])}{' ...' if len(ignored_columns) > 12 else ''}."
            )
        )
    return RawBacklog(table.source, items, columns, table.decimal_comma, notes, kind="jira", present=set(positions))


def _close(header: str, alias: str) -> bool:
    """Whether an unread column's name looks like a field's header: a custom field whose name
    contains the field's as a word or nearly equals it ('(MoSCoW Priority)' for '(MoSCoW)'),
    or a plain header a typo away ('Sumary' for 'Summary')."""
    kind, name = _header_key(" ".join(header.split()))
    want_kind, want = _alias_key(alias)
    if kind != want_kind:
        return False
    similar = difflib.SequenceMatcher(None, name, want).ratio()
    if kind == "custom":
        return bool(re.search(rf"(?<!\w){re.escape(want)}(?!\w)", name)) or similar >= 0.8
    return similar >= 0.85


def _near_misses(ignored_columns: list[str], found: set[str]) -> list[str]:
    """Notes for unread columns named like a field the reader did not find, so that a renamed
    column does not silently turn into defaults ('Custom field (MoSCoW Priority)' is not
    'Custom field (MoSCoW)': every item would get the default MoSCoW)."""
    notes = []
    for header in ignored_columns:
        for name, aliases in JIRA_FIELDS.items():
            if name not in found and any(_close(header, alias) for alias in aliases):
                notes.append(
                    f"column '{header}' is not read; did you mean '{DISPLAY[name]}'? Without that column "
                    f"{name.replace('_', ' ')} is filled in by default for every item. Fix: rename the column "
                    f"to '{DISPLAY[name]}' if it holds that field."
                )
                break
    return notes


def _alias_notes(aliases_used: dict[str, str]) -> list[str]:
    """Say which headers were read under another name than the English one (file order).

    Custom fields whose name inside the brackets is the English one are summed up per prefix
    ("custom fields read with the prefix 'Benutzerdefinierte Felder (...)': Reach, KPI").
    """
    renamed: list[str] = []
    by_prefix: dict[str, list[str]] = {}
    for header, english in aliases_used.items():
        spaced = " ".join(header.split())
        if spaced.lower() == english.lower():
            continue
        custom = _bracketed(spaced, CUSTOM_FIELD_PREFIXES)
        standard = _bracketed(english, CUSTOM_FIELD_PREFIXES)
        if custom is not None and standard is not None and custom[1].lower() == standard[1].lower():
            prefix = spaced[: len(custom[0])]
            by_prefix.setdefault(prefix, []).append(custom[1])
        else:
            renamed.append(f"'{header}' as '{english}'")
    notes = []
    if renamed:
        notes.append(f"columns read under another name: {', '.join(renamed)}.")
    for prefix, names in by_prefix.items():
        notes.append(
            f"custom fields read with the prefix '{prefix} (...)' as 'Custom field (...)': {', '.join(names)}."
        )
    return notes
