"""Read the team's current roadmap: which backlog item starts when.

The main source is ``roadmap.csv`` (or ``roadmap.xlsx``) in the workspace, one row per item:

* ``item_id`` (also ``key``, ``Issue key``): a backlog item.
* ``start``: a quarter (``2027-Q1``, ``Q1 2027``, ``2027 Q1``, ``Q1/2027``, ``1. Quartal 2027``),
  the planner's own period label as :meth:`models.settings.Settings.period_label` prints it
  (``Q1 2027``, ``P3 2027``), a month (``2027-02``) or a date (``2027-02-15``, ``15.02.2027``;
  in a workbook also a date cell). A date maps to the planning period that contains it; a
  quarter to the period that contains its first day (the same thing when periods are quarters).
* ``finish`` (optional, same forms): when it differs from start + the item's duration - 1, the
  notes say so and the roadmap table keeps it (the plan check reports it as well); the
  backlog's duration is never changed.
* ``title``, ``product``, ``team``, ``comment``: for the team's reference, not read.

:func:`read_roadmap` returns :class:`RoadmapRead`: the table item_id, start_period (int),
finish_period (nullable Int64) and the notes. What it refuses, with file, line, column and fix
in one :class:`~models.errors.InputError`: an item id the backlog does not have (with a
did-you-mean), an item listed twice, a row without a start, a start or finish it cannot
read, a finish before the start, and a start before the plan's first period for an item that
is not in progress. That last one is an error, not a note, because the roadmap then says
work has begun that the backlog says has not: it is out of date, and moving the start to
period 1 or dropping the item would value a plan the team did not make. An item that *is* in
progress started before the plan by definition: it is read as continuing in period 1 (how the
planner treats running work; its ``duration_periods`` is the remaining duration), with a note.
Done items are dropped with a note. Starts after the plan's last period are kept: the plan
check (:mod:`models.portfolio.roadmap`) reports them as outside the plan.

Alternative source, when asked (:func:`read_jira_roadmap`): a Jira export's ``Fix Version/s``
or ``Sprint`` columns. A Jira CSV holds version and sprint *names*, not their dates, so:

* ``fix_version``: the release date of each version comes from ``releases.csv`` (columns
  ``version``, ``release_date``) next to the export, or from the version's name when it is
  itself a quarter or a date (``2027-Q2``, ``Release 2027-06-30``). The item's *finish* is the
  period of its earliest release; its start is that minus its duration plus one.
  Versions without a date are listed in the notes and their items left out of the roadmap.
* ``sprint``: the item's *start* is the period of its earliest sprint. A sprint's date comes
  from ``releases.csv`` (sprint name in ``version``), else from its name: a date or a quarter
  in the name, or the pattern ``<YY>.<NN>`` (e.g. ``IOT Sprint 27.05``: sprint 5 of 2027),
  read as sprint NN of ``sprint_weeks``-week sprints counted from 1 January of 20YY.

:func:`read_workspace_roadmap` picks the source of a workspace: ``roadmap.csv|xlsx`` if there
is one, else the export's fix versions if the workspace has ``releases.csv``, else no roadmap
(an empty table).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

import pandas as pd

from models.errors import InputError, InputProblem
from models.settings import Settings
from pipelines.sources.inputs import backlog_file
from pipelines.sources.jira_fields import EXPORT_MARKERS, ROADMAP_FIELDS
from pipelines.sources.rawfile import optional_table_file, read_raw
from pipelines.sources.tables import read_table
from pipelines.sources.values import Info, Problems, did_you_mean, is_blank, parse_datetime, text

ROADMAP_NAME = "roadmap"  # roadmap.csv or roadmap.xlsx in a workspace
RELEASES_NAME = "releases"  # releases.csv or releases.xlsx: version -> release date
ROADMAP_COLUMNS = ["item_id", "start_period", "finish_period"]
SOURCES = ("auto", "file", "fix_version", "sprint")
PERIOD_FORMS = (
    "a quarter such as 2027-Q1, Q1 2027 or 2027 Q1, the plan's period label (e.g. Q1 2027), "
    "or a date such as 2027-02-15"
)
ALIASES = {
    "key": "item_id",
    "issue_key": "item_id",
    "issue": "item_id",
    "item": "item_id",
    "id": "item_id",
    "vorgangsschlüssel": "item_id",
    "start_period": "start",
    "start_quarter": "start",
    "start_date": "start",
    "begin": "start",
    "beginn": "start",
    "from": "start",
    "von": "start",
    "finish_period": "finish",
    "finish_quarter": "finish",
    "finish_date": "finish",
    "end": "finish",
    "ende": "finish",
    "until": "finish",
    "bis": "finish",
    "summary": "title",
    "titel": "title",
    "note": "comment",
    "notes": "comment",
    "kommentar": "comment",
}
INFO_COLUMNS = ["title", "product", "team", "comment"]


@dataclass
class RoadmapRead:
    """A roadmap as read: item_id, start_period (int), finish_period (Int64, NA when not
    given), one row per item; the notes say what was dropped, mapped or differs; source is
    the file read ("" when the workspace has no roadmap)."""

    roadmap: pd.DataFrame
    notes: list[str] = field(default_factory=list)
    source: str = ""


def empty_roadmap() -> pd.DataFrame:
    """The roadmap table without rows."""
    return _table([], [], [])


def _table(ids: list[str], starts: list[int], finishes: list[int | None]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "item_id": pd.Series(ids, dtype=object),
            "start_period": pd.Series(starts, dtype="int64"),
            "finish_period": pd.array(finishes, dtype="Int64"),
        },
        columns=ROADMAP_COLUMNS,
    )


# -- periods ----------------------------------------------------------------------------------


def period_of_date(day: date, settings: Settings) -> int:
    """The planning period containing ``day`` (period 1 begins on ``settings.start``; 0 or less
    before it, more than ``settings.periods`` after the plan)."""
    start = settings.start
    months = (day.year - start.year) * 12 + day.month - start.month - (1 if day.day < start.day else 0)
    return months // settings.period_months + 1


_QUARTER_FORMS = (
    (re.compile(r"^(\d{4})\s*[-/ ]?\s*Q([1-4])$"), "yq"),
    (re.compile(r"^Q([1-4])\s*[-/ ]?\s*(\d{4})$"), "qy"),
    (re.compile(r"^Q([1-4])\s*[-/ ]?\s*'?(\d{2})$"), "qyy"),
    (re.compile(r"^([1-4])\.?\s*(?:QUARTAL|QUARTER|QU\.?)\s*(\d{4})$"), "qy"),
)
_LABEL = re.compile(r"^P(\d{1,2})\s+(\d{4})$")
_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")


def parse_period(value: object, settings: Settings) -> int:
    """The planning period a roadmap cell names (see the module docstring for the forms);
    ValueError with the reason when it names none."""
    if isinstance(value, (datetime, date)):
        return period_of_date(value if isinstance(value, date) else value.date(), settings)
    s = " ".join(text(value).upper().split())
    if not s:
        raise ValueError("empty")
    for pattern, order in _QUARTER_FORMS:
        m = pattern.match(s)
        if m:
            a, b = int(m.group(1)), int(m.group(2))
            year, q = {"yq": (a, b), "qy": (b, a), "qyy": (2000 + b, a)}[order]
            return period_of_date(date(year, 3 * q - 2, 1), settings)
    m = _LABEL.match(s)
    if m:
        n = int(m.group(1))
        if n >= 1 and settings.period_label(n).upper() == s:
            return n
        raise ValueError(
            f"{text(value)!r} is not one of this plan's period labels (period {n} is {settings.period_label(n)})"
        )
    m = _MONTH.match(s)
    if m and 1 <= int(m.group(2)) <= 12:
        return period_of_date(date(int(m.group(1)), int(m.group(2)), 1), settings)
    try:
        return period_of_date(parse_datetime(value).date(), settings)
    except ValueError:
        raise ValueError(f"{text(value)!r} is neither a quarter nor a date") from None


# -- roadmap.csv ------------------------------------------------------------------------------


def roadmap_file(data_dir: str | Path, name: str = ROADMAP_NAME) -> Path | None:
    """``<data_dir>/<name>.csv`` or ``.xlsx`` if there is one; InputError if both exist."""
    return optional_table_file(data_dir, name)


@dataclass
class _Backlog:
    """What the roadmap readers need of the backlog."""

    status: dict[str, str]  # item_id -> status_category
    duration: dict[str, int]  # item_id -> duration_periods

    @classmethod
    def of(cls, backlog: pd.DataFrame) -> _Backlog:
        ids = backlog["item_id"].astype(str)
        return cls(
            dict(zip(ids, backlog["status_category"].astype(str), strict=True)),
            dict(zip(ids, backlog["duration_periods"].astype(int), strict=True)),
        )


class _Collect:
    """The roadmap rows being read, with the rules every source shares (Done items dropped,
    starts before the plan, finish against duration)."""

    def __init__(self, source: str, backlog: _Backlog, settings: Settings):
        self.source, self.name = source, Path(source).name
        self.b, self.s = backlog, settings
        self.ids: list[str] = []
        self.starts: list[int] = []
        self.finishes: list[int | None] = []
        self.done: list[str] = []
        self.continued: list[str] = []
        self.differ: list[str] = []

    def add(self, item: str, start: int, finish: int | None, problems: Problems, line: int, column: str) -> None:
        s = self.s
        if self.b.status[item] == "Done":
            self.done.append(item)
            return
        if start < 1:
            if self.b.status[item] != "In Progress":
                problems.add(
                    f"{item} starts in {s.period_label(start)}, before the plan's first period "
                    f"{s.period_label(1)}, but it has not started (status {self.b.status[item]}).",
                    f"move its start to {s.period_label(1)} or later, or set the item In Progress in Jira "
                    "if the work has begun.",
                    line,
                    column,
                )
                return
            self.continued.append(item)
            start = 1
        own = start + self.b.duration[item] - 1
        if finish is not None and finish != own:
            self.differ.append(f"{item} {s.period_label(finish)} (estimate: {s.period_label(own)})")
        self.ids.append(item)
        self.starts.append(start)
        self.finishes.append(finish)

    def read(self) -> RoadmapRead:
        s, notes = self.s, []
        if self.done:
            notes.append(f"{self.name}: {len(self.done)} Done item(s) dropped from the roadmap: {_shown(self.done)}.")
        if self.continued:
            notes.append(
                f"{self.name}: {len(self.continued)} in-progress item(s) started before the plan; read as "
                f"continuing in {s.period_label(1)} (their remaining duration): {_shown(self.continued)}."
            )
        if self.differ:
            notes.append(  # nothing is changed: an Info, also under strict reading
                Info(
                    f"{self.name}: {len(self.differ)} finish(es) differ from start + duration (kept; the plan check "
                    f"reports them, the backlog's duration is used): {_shown(self.differ)}."
                )
            )
        return RoadmapRead(_table(self.ids, self.starts, self.finishes), notes, self.source)


def _shown(items: list[str], n: int = 8) -> str:
    return ", ".join(items[:n]) + (" ..." if len(items) > n else "")


def read_roadmap(path: str | Path, backlog: pd.DataFrame, settings: Settings) -> RoadmapRead:
    """Read ``roadmap.csv|xlsx`` (see the module docstring) against the canonical ``backlog``
    (item_id, status_category, duration_periods) and the planning ``settings``."""
    frame = read_table(path, ["item_id", "start"], ["finish", *INFO_COLUMNS], ALIASES, numeric=())
    source, headers = frame.attrs["source"], frame.attrs["headers"]
    b = _Backlog.of(backlog)
    problems = Problems(source)
    out = _Collect(source, b, settings)
    seen: dict[str, int] = {}
    id_col, start_col = headers["item_id"], headers["start"]
    finish_col = headers.get("finish", "finish")
    for line, row in frame.iterrows():
        line = int(line)
        item = text(row["item_id"])
        if not item:
            if any(not is_blank(row[c]) for c in ("start", "finish") if c in row):
                problems.add("the row has a start or finish but no item_id.", "enter the item's id.", line, id_col)
            continue
        if item not in b.status:
            problems.add(
                f"item {item!r} is not in the backlog.",
                "use an item id (Jira issue key) of the backlog, or delete the row." + did_you_mean(item, b.status),
                line,
                id_col,
            )
            continue
        if item in seen:
            problems.add(
                f"item {item!r} appears again (first on line {seen[item]}).", "keep one row per item.", line, id_col
            )
            continue
        seen[item] = line
        if is_blank(row["start"]):
            problems.add(f"{item} has no start.", f"enter {PERIOD_FORMS}, or delete the row.", line, start_col)
            continue
        try:
            start = parse_period(row["start"], settings)
        except ValueError as exc:
            problems.add(f"{exc}.", f"write {PERIOD_FORMS}.", line, start_col)
            continue
        finish = None
        if "finish" in row and not is_blank(row["finish"]):
            try:
                finish = parse_period(row["finish"], settings)
            except ValueError as exc:
                problems.add(f"{exc}.", f"write {PERIOD_FORMS}, or leave it empty.", line, finish_col)
                continue
            if finish < start:
                problems.add(
                    f"{item} finishes in {settings.period_label(finish)}, before it starts "
                    f"({settings.period_label(start)}).",
                    "correct the start or the finish (or leave the finish empty).",
                    line,
                    finish_col,
                )
                continue
        out.add(item, start, finish, problems, line, start_col)
    problems.raise_if_any()
    read = out.read()
    read.notes = [*frame.attrs["notes"], *read.notes]
    return read


# -- Jira fix versions and sprints ------------------------------------------------------------


def read_releases(path: str | Path) -> dict[str, date]:
    """``releases.csv|xlsx``: version (or sprint) name -> release (or sprint start) date."""
    frame = read_table(
        path,
        ["version", "release_date"],
        (),
        {
            "name": "version",
            "fix_version": "version",
            "sprint": "version",
            "date": "release_date",
            "released": "release_date",
            "start_date": "release_date",
            "releasedatum": "release_date",
            "veröffentlichungsdatum": "release_date",
        },
        numeric=(),
        dates=["release_date"],
    )
    problems = Problems(frame.attrs["source"])
    out: dict[str, date] = {}
    first: dict[str, int] = {}
    for line, row in frame.iterrows():
        name = text(row["version"])
        if not name:
            continue
        if name in first:
            problems.add(
                f"version {name!r} appears again (first on line {first[name]}).",
                "keep one row per version.",
                int(line),
                frame.attrs["headers"]["version"],
            )
        elif pd.isna(row["release_date"]):
            problems.add(
                f"version {name!r} has no release date.",
                "enter its date (e.g. 2027-06-30) or delete the row.",
                int(line),
                frame.attrs["headers"]["release_date"],
            )
        else:
            first[name] = int(line)
            out[name] = row["release_date"].date()
    problems.raise_if_any()
    return out


_SPRINT_NUMBER = re.compile(r"(?<!\d)(\d{2})\.(\d{1,2})(?!\d)")
_DATE_IN_NAME = re.compile(r"\d{4}-\d{2}-\d{2}|\d{1,2}\.\d{1,2}\.\d{4}")
_QUARTER_IN_NAME = re.compile(r"\d{4}\s*[-/ ]?\s*Q[1-4]|Q[1-4]\s*[-/ ]?\s*\d{4}", re.IGNORECASE)


def name_period(name: str, settings: Settings, sprint_weeks: int | None = None) -> int | None:
    """The period a version or sprint name itself names: a date or a quarter in it, or (for
    sprints, ``sprint_weeks`` given) the pattern ``<YY>.<NN>``; None when it names none."""
    for pattern in (_DATE_IN_NAME, _QUARTER_IN_NAME):
        m = pattern.search(name)
        if m:
            try:
                return parse_period(m.group(0), settings)
            except ValueError:
                pass
    if sprint_weeks:
        m = _SPRINT_NUMBER.search(name)
        if m and int(m.group(2)) >= 1 and (int(m.group(2)) - 1) * sprint_weeks < 53:  # a sprint of that year
            day = date(2000 + int(m.group(1)), 1, 1) + timedelta(weeks=sprint_weeks * (int(m.group(2)) - 1))
            return period_of_date(day, settings)
    return None


def read_jira_roadmap(
    export: str | Path,
    backlog: pd.DataFrame,
    settings: Settings,
    by: str = "fix_version",
    releases: str | Path | None = None,
    sprint_weeks: int = 2,
) -> RoadmapRead:
    """The roadmap a Jira export holds in its ``Fix Version/s`` (``by="fix_version"``) or
    ``Sprint`` (``by="sprint"``) columns, dated by ``releases`` (releases.csv) or by the names
    themselves (see the module docstring)."""
    if by not in ("fix_version", "sprint"):
        raise ValueError(f"by must be 'fix_version' or 'sprint', not {by!r}")
    table = read_raw(export)
    spaced = [" ".join(h.split()).lower() for h in table.header]
    markers = {m.lower() for m in EXPORT_MARKERS}
    key_pos = next((i for i, h in enumerate(spaced) if h in markers), None)
    wanted = {a.lower() for a in ROADMAP_FIELDS["fix_versions" if by == "fix_version" else "sprint"]}
    columns = [i for i, h in enumerate(spaced) if h in wanted]
    label = ROADMAP_FIELDS["fix_versions" if by == "fix_version" else "sprint"][0]
    if key_pos is None:
        raise InputError.single(
            table.source, "this is not a Jira export (no 'Issue key' column).", "use roadmap.csv instead.", 1
        )
    if not columns:
        raise InputError.single(
            table.source,
            f"the export has no '{label}' column, so it holds no roadmap.",
            f"export with all fields ('{label}' included), or write roadmap.csv (item_id, start).",
            1,
            label,
        )
    dates = read_releases(releases) if releases is not None else {}
    b = _Backlog.of(backlog)
    problems = Problems(table.source)
    out = _Collect(table.source, b, settings)
    undated: dict[str, int] = {}
    for row, line in zip(table.rows, table.lines, strict=True):
        item = text(row[key_pos])
        names = [text(row[i]) for i in columns if not is_blank(row[i])]
        if not names or item not in b.status:
            continue  # not in the roadmap, or not a planned item (e.g. an initiative)
        periods = []
        for name in names:
            p = (
                period_of_date(dates[name], settings)
                if name in dates
                else name_period(name, settings, sprint_weeks if by == "sprint" else None)
            )
            if p is None:
                undated[name] = undated.get(name, 0) + 1
            else:
                periods.append(p)
        if not periods:
            continue
        if by == "fix_version":
            finish = min(periods)
            out.add(item, finish - b.duration[item] + 1, finish, problems, line, table.header[columns[0]])
        else:
            out.add(item, min(periods), None, problems, line, table.header[columns[0]])
    problems.raise_if_any()
    read = out.read()
    name = Path(table.source).name
    what = "release" if by == "fix_version" else "sprint"
    read.notes.insert(
        0,
        Info(
            f"{name}: roadmap read from the column '{label}' ({len(read.roadmap)} items); the "
            + (
                "finish is the period of the earliest release."
                if by == "fix_version"
                else "start is the earliest sprint."
            )
        ),
    )
    if undated:
        read.notes.append(
            f"{name}: {sum(undated.values())} item(s) left out of the roadmap: no {what} date for "
            f"{_shown(sorted(undated))}. Fix: add them to {RELEASES_NAME}.csv (version, release_date)."
        )
    if undated and not len(read.roadmap):
        raise InputError(
            InputProblem(
                table.source,
                f"no {label} value has a date, so the export gives no roadmap.",
                f"put {RELEASES_NAME}.csv (version, release_date) next to it, or write roadmap.csv (item_id, start).",
                None,
                label,
            )
        )
    return read


def read_workspace_roadmap(
    data_dir: str | Path, backlog: pd.DataFrame, settings: Settings, source: str = "auto"
) -> RoadmapRead:
    """The roadmap of a workspace. ``source``: ``file`` (roadmap.csv|xlsx, which must exist),
    ``fix_version`` or ``sprint`` (the Jira export's columns, dated by releases.csv if there is
    one), or ``auto``: roadmap.csv|xlsx if there is one, else the fix versions if there is a
    releases.csv, else no roadmap (an empty table, no notes)."""
    if source not in SOURCES:
        raise ValueError(f"source must be one of {', '.join(SOURCES)}, not {source!r}")
    data_dir = Path(data_dir)
    path = roadmap_file(data_dir)
    releases = roadmap_file(data_dir, RELEASES_NAME)
    if source == "file" or (source == "auto" and path is not None):
        if path is None:
            raise InputError.single(
                data_dir / f"{ROADMAP_NAME}.csv",
                "file not found.",
                f"put {ROADMAP_NAME}.csv (item_id, start) into {data_dir}.",
            )
        return read_roadmap(path, backlog, settings)
    if source == "auto" and releases is None:
        return RoadmapRead(empty_roadmap(), [], "")
    by = "fix_version" if source == "auto" else source
    return read_jira_roadmap(backlog_file(data_dir), backlog, settings, by=by, releases=releases)


__all__ = [
    "RELEASES_NAME",
    "ROADMAP_COLUMNS",
    "ROADMAP_NAME",
    "RoadmapRead",
    "empty_roadmap",
    "name_period",
    "parse_period",
    "period_of_date",
    "read_jira_roadmap",
    "read_releases",
    "read_roadmap",
    "read_workspace_roadmap",
    "roadmap_file",
]
