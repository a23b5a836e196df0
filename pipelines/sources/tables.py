"""Readers for the canonical input tables (CSV or Excel): teams, KPIs, OKRs, backlog.

:func:`read_table` is the common reader: it sniffs ``,`` vs ``;`` (and tab), reads
decimal commas in ``;`` files (German Excel), UTF-8 with or without BOM and Windows-1252,
matches headers case-insensitively (blanks and dashes count as ``_``), accepts aliases,
and refuses unknown columns (with a did-you-mean) and missing required columns.
The returned frame is indexed by the line of the file each row starts on (header =
line 1; in a workbook the sheet row), so later checks can still name the line.

Units: teams' ``capacity_pw`` is person-weeks per planning period, ``cost_per_pw`` EUR
per person-week, ``velocity_sp_per_pw`` story points per person-week; KPI money in EUR,
``conversion_rate`` a fraction (``4.2%`` and ``0.042`` both read as 0.042).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence
from pathlib import Path

import pandas as pd

from models.checks import MAX_FILLED_GAP, missing_month_runs
from models.schemas import EFFORT_PREFIX, KpiHistory, Okrs, Teams, validate
from models.settings import MAX_PERIODS, Settings
from pipelines.sources.backlog import BacklogRead, RawBacklog, RawItem, build_backlog
from pipelines.sources.jira import is_jira_header, jira_raw_backlog
from pipelines.sources.rawfile import RawTable, read_raw
from pipelines.sources.values import (
    Info,
    Problems,
    did_you_mean,
    is_blank,
    parse_datetime,
    parse_percent_or_number,
    split_list,
    text,
)


def column_key(name: str) -> str:
    """Normalised header: lower case, blanks and dashes as '_' ('Capacity PW' -> 'capacity_pw')."""
    return re.sub(r"[\s\-]+", "_", name.strip().lower())


def read_table(
    path: str | Path | RawTable,
    required: Sequence[str],
    optional: Sequence[str] = (),
    aliases: Mapping[str, str] | None = None,
    *,
    numeric: Collection[str] | None = (),
    dates: Collection[str] = (),
) -> pd.DataFrame:
    """Read a canonical table; columns are renamed to the canonical names given.

    ``aliases`` maps other header names to canonical ones. Columns in ``numeric`` are
    parsed as numbers (``80%`` -> 0.8; empty -> NaN; a bad cell is an InputError naming
    file, line and column); ``numeric=None`` converts every column whose cells all read
    as numbers. Columns in ``dates`` become Timestamps. Other cells are stripped text
    (empty -> None).

    ``path`` may also be a file already read by :func:`~pipelines.sources.rawfile.read_raw`.

    Returns a DataFrame indexed by file line (index name ``line``); ``df.attrs`` holds
    ``source`` (file name), ``headers`` (canonical -> header as written), ``notes`` and
    ``decimal_comma``.
    """
    raw = path if isinstance(path, RawTable) else read_raw(path)
    problems = Problems(raw.source)
    allowed = list(dict.fromkeys([*required, *optional]))
    lookup = {column_key(c): c for c in allowed}
    for alias, target in (aliases or {}).items():
        lookup.setdefault(column_key(alias), target)
    positions: dict[str, int] = {}
    headers: dict[str, str] = {}
    unknown: list[str] = []
    for i, header in enumerate(raw.header):
        if not header:
            if any(not is_blank(row[i]) for row in raw.rows):
                problems.add(
                    f"column {i + 1} has values but no header.", "give the column a name or delete it.", 1, f"#{i + 1}"
                )
            continue
        name = lookup.get(column_key(header))
        if name is None:
            unknown.append(header)
            problems.add(
                f"unknown column '{header}'.",
                (
                    "remove it or rename it."
                    + did_you_mean(column_key(header), allowed)
                    + f" Allowed columns: {', '.join(allowed)}."
                ),
                1,
                header,
            )
        elif name in positions:
            problems.add(f"column '{header}' repeats column '{headers[name]}'.", "keep one of them.", 1, header)
        else:
            positions[name] = i
            headers[name] = header
    for name in required:
        if name not in positions:
            hint = did_you_mean(name, unknown)
            problems.add(
                f"required column '{name}' is missing.",
                f"add a column named '{name}'." + (hint.replace("Did you mean", " Is it") if hint else ""),
                1,
                name,
            )
    problems.raise_if_any()

    data: dict[str, list] = {}
    for name, i in positions.items():
        data[name] = [row[i] for row in raw.rows]
    frame = pd.DataFrame(data, index=pd.Index(raw.lines, name="line"), columns=list(positions))
    numeric_columns = set(numeric) if numeric is not None else _numeric_looking(frame, raw.decimal_comma)
    for name in positions:
        if name in dates:
            frame[name] = _parse_dates(frame[name], problems, headers[name])
        elif name in numeric_columns:
            frame[name] = _parse_numbers(frame[name], problems, headers[name], raw.decimal_comma)
        else:
            frame[name] = pd.Series([text(v) or None for v in frame[name]], index=frame.index, dtype=object)
    problems.raise_if_any()
    frame.attrs.update(source=raw.source, headers=headers, notes=list(raw.notes), decimal_comma=raw.decimal_comma)
    return frame


def _numeric_looking(frame: pd.DataFrame, decimal_comma: bool) -> set[str]:
    names = set()
    for name in frame.columns:
        cells = [v for v in frame[name] if not is_blank(v)]
        try:
            for v in cells:
                parse_percent_or_number(v, decimal_comma)
        except ValueError:
            continue
        if cells:
            names.add(name)
    return names


def _parse_numbers(cells: pd.Series, problems: Problems, header: str, decimal_comma: bool) -> pd.Series:
    values = []
    for line, v in cells.items():
        if is_blank(v):
            values.append(float("nan"))
            continue
        try:
            number, percent = parse_percent_or_number(v, decimal_comma)
            values.append(number / 100.0 if percent else number)
        except ValueError:
            problems.add(
                f"{text(v)!r} is not a number.",
                "enter a number (e.g. 4.5, or 4,5 in a ';'-separated file).",
                int(line),
                header,
            )
            values.append(float("nan"))
    return pd.Series(values, index=cells.index, dtype=float)


def _parse_dates(cells: pd.Series, problems: Problems, header: str) -> pd.Series:
    values = []
    for line, v in cells.items():
        if is_blank(v):
            values.append(pd.NaT)
            continue
        try:
            values.append(pd.Timestamp(_parse_month_or_date(v)))
        except ValueError:
            problems.add(
                f"{text(v)!r} is not a date.", "write a date like 2024-01-01 or 01.01.2024.", int(line), header
            )
            values.append(pd.NaT)
    return pd.Series(values, index=cells.index, dtype="datetime64[ns]")


_MONTH_ONLY = (re.compile(r"^(\d{4})-(\d{1,2})$"), re.compile(r"^(\d{1,2})[./](\d{4})$"))


def _parse_month_or_date(value: object):
    s = text(value)
    m = _MONTH_ONLY[0].match(s)
    if m:
        return pd.Timestamp(int(m.group(1)), int(m.group(2)), 1).to_pydatetime()
    m = _MONTH_ONLY[1].match(s)
    if m:
        return pd.Timestamp(int(m.group(2)), int(m.group(1)), 1).to_pydatetime()
    try:
        return parse_datetime(value)
    except ValueError:
        pass
    for fmt in ("%b %Y", "%B %Y", "%b-%y", "%b %y"):
        try:
            return pd.to_datetime(s, format=fmt).to_pydatetime()
        except ValueError:
            continue
    raise ValueError("not a date")


def _lines(frame: pd.DataFrame) -> tuple[pd.DataFrame, pd.Series]:
    """A 0..n-1 indexed copy and the file line of every row, for ``validate``."""
    lines = pd.Series(frame.index.to_numpy(), index=pd.RangeIndex(len(frame)))
    return frame.reset_index(drop=True), lines


def _unique(frame: pd.DataFrame, column: str, problems: Problems, fix: str) -> None:
    first: dict[str, int] = {}
    header = frame.attrs.get("headers", {}).get(column, column)
    for line, value in frame[column].items():
        if value is None:
            continue
        if value in first:
            problems.add(f"{value!r} appears again (first on line {first[value]}).", fix, int(line), header)
        else:
            first[value] = int(line)


# -- teams -------------------------------------------------------------------------------------
TEAM_COLUMNS = ["team", "skill", "headcount", "capacity_pw", "cost_per_pw"]
TEAM_OPTIONAL = ["velocity_sp_per_pw"] + [f"capacity_pw_p{p}" for p in range(1, MAX_PERIODS + 1)]
TEAM_ALIASES = {
    "team_name": "team",
    "name": "team",
    "fte": "headcount",
    "people": "headcount",
    "capacity": "capacity_pw",
    "capacity_per_period": "capacity_pw",
    "cost": "cost_per_pw",
    "cost_per_person_week": "cost_per_pw",
    "velocity": "velocity_sp_per_pw",
}
DEFAULT_VELOCITY = 1.0


def read_teams(path: str | Path) -> pd.DataFrame:
    """Read teams.csv/.xlsx: one row per team with one skill. Returns validated Teams.

    Columns: team, skill, headcount, capacity_pw (person-weeks per period), cost_per_pw
    (EUR), velocity_sp_per_pw (story points per person-week; default 1.0) and optional
    per-period capacity overrides ``capacity_pw_p<N>`` (person-weeks in period N).
    ``df.attrs['notes']`` says what was defaulted.
    """
    numeric = ["headcount", "capacity_pw", "cost_per_pw", *TEAM_OPTIONAL]
    frame = read_table(path, TEAM_COLUMNS, TEAM_OPTIONAL, TEAM_ALIASES, numeric=numeric)
    source, notes = frame.attrs["source"], frame.attrs["notes"]
    problems = Problems(source)
    skills = []
    for line, value in frame["skill"].items():
        skill = column_key(value or "")
        if not re.fullmatch(r"[a-z][a-z0-9_]*", skill):
            problems.add(
                f"skill {value!r} is not a short name.",
                "use one lower-case word per skill, e.g. backend, frontend, mobile, data, ux, qa.",
                int(line),
                frame.attrs["headers"]["skill"],
            )
        skills.append(skill)
    frame["skill"] = skills
    _unique(frame, "team", problems, "give every team its own name.")
    problems.raise_if_any()
    if "velocity_sp_per_pw" not in frame.columns:
        frame["velocity_sp_per_pw"] = DEFAULT_VELOCITY
        notes.append(
            f"{Path(source).name}: no velocity_sp_per_pw column: {DEFAULT_VELOCITY:g} story point "
            "per person-week assumed for every team."
        )
    elif frame["velocity_sp_per_pw"].isna().any():
        n = int(frame["velocity_sp_per_pw"].isna().sum())
        frame["velocity_sp_per_pw"] = frame["velocity_sp_per_pw"].fillna(DEFAULT_VELOCITY)
        notes.append(f"{Path(source).name}: {n} teams without velocity: {DEFAULT_VELOCITY:g} assumed.")
    flat, lines = _lines(frame)
    teams = validate(flat, Teams, source, row_labels=lines)
    teams.attrs["notes"] = notes
    return teams


# -- KPI history -----------------------------------------------------------------------------
KPI_COLUMNS = [
    "product",
    "month",
    "mau",
    "dau",
    "new_users",
    "churned_users",
    "conversion_rate",
    "arpu",
    "mrr",
    "nps",
    "cac",
]
KPI_ALIASES = {
    "date": "month",
    "period": "month",
    "monthly_active_users": "mau",
    "daily_active_users": "dau",
    "conversion": "conversion_rate",
    "churned": "churned_users",
}


def read_kpis(path: str | Path) -> pd.DataFrame:
    """Read monthly KPIs per product; returns validated KpiHistory sorted by product and month.

    ``month`` becomes the Timestamp of the first day of the month (2024-01, 01.2024,
    2024-01-31 all read as 2024-01-01); money in EUR; conversion_rate a fraction.
    """
    frame = read_table(path, KPI_COLUMNS, (), KPI_ALIASES, numeric=KPI_COLUMNS[2:], dates=["month"])
    source, notes = frame.attrs["source"], frame.attrs["notes"]
    month = frame["month"]
    not_first = int((month.dt.day != 1).sum())
    if not_first:
        notes.append(f"{Path(source).name}: {not_first} months not given as the first day: read as their month.")
    frame["month"] = month.dt.to_period("M").dt.to_timestamp()
    flat, lines = _lines(frame)
    kpis = validate(flat, KpiHistory, source, row_labels=lines)
    kpis = kpis.sort_values(["product", "month"], kind="stable").reset_index(drop=True)
    notes.extend(_kpi_gaps(kpis, Path(source).name))
    kpis.attrs["notes"] = notes
    return kpis


def _kpi_gaps(kpis: pd.DataFrame, name: str) -> list[str]:
    """Notes on months without a row and blank cells (the KPI baselines impute both)."""
    notes = []
    runs = missing_month_runs(kpis)
    for product in dict.fromkeys(r.product for r in runs):
        short = [r for r in runs if r.product == product and r.length <= MAX_FILLED_GAP]
        gaps = [m for r in short for m in pd.period_range(r.first, r.last, freq="M")]
        if gaps:
            shown = ", ".join(str(m) for m in gaps[:6]) + (" ..." if len(gaps) > 6 else "")
            notes.append(
                f"{name}: {product} has no row for {len(gaps)} month(s) ({shown}); "
                "the KPI baselines interpolate them (table kpi_imputations)."
            )
        for r in runs:
            if r.product == product and r.length > MAX_FILLED_GAP:
                notes.append(
                    f"{name}: {product} has no row for the {r.length} months {r.first} to {r.last}: "
                    f"too many in a row to be filled in (at most {MAX_FILLED_GAP}); add them to the "
                    "KPI file (the KPI history check blocks the refresh until then)."
                )
    blank = kpis[KPI_COLUMNS[2:]].isna()
    if blank.to_numpy().any():
        cells = [
            f"{c} ({kpis.loc[i, 'product']} {kpis.loc[i, 'month']:%Y-%m})"
            for c in KPI_COLUMNS[2:]
            for i in kpis.index[blank[c]]
        ]
        notes.append(
            f"{name}: {len(cells)} blank cell(s): {', '.join(cells[:6])}{' ...' if len(cells) > 6 else ''}; "
            "the KPI baselines impute them (table kpi_imputations)."
        )
    return notes


# -- OKRs ------------------------------------------------------------------------------------
OKR_COLUMNS = ["objective", "key_result", "metric", "target"]
OKR_OPTIONAL = ["description", "product", "baseline", "weight"]
OKR_ALIASES = {"kr": "key_result", "key_result_id": "key_result", "kr_id": "key_result", "goal": "target"}


def read_okrs(path: str | Path) -> pd.DataFrame:
    """Read objectives and key results; returns validated Okrs (weight defaults to 1)."""
    frame = read_table(path, OKR_COLUMNS, OKR_OPTIONAL, OKR_ALIASES, numeric=["baseline", "target", "weight"])
    source, notes = frame.attrs["source"], frame.attrs["notes"]
    problems = Problems(source)
    _unique(frame, "key_result", problems, "give every key result its own id (e.g. KR-1.2).")
    problems.raise_if_any()
    if "description" not in frame.columns:
        frame["description"] = frame["key_result"]
    frame["description"] = frame["description"].where(frame["description"].notna(), frame["key_result"])
    for name in ("product", "baseline"):
        if name not in frame.columns:
            frame[name] = None if name == "product" else float("nan")
    if "weight" not in frame.columns or frame["weight"].isna().any():
        n = len(frame) if "weight" not in frame.columns else int(frame["weight"].isna().sum())
        frame["weight"] = frame.get("weight", pd.Series(float("nan"), index=frame.index)).fillna(1.0)
        notes.append(f"{Path(source).name}: {n} key results without weight: weight 1 assumed.")
    flat, lines = _lines(frame)
    okrs = validate(flat, Okrs, source, row_labels=lines)
    okrs.attrs["notes"] = notes
    return okrs


# -- backlog ---------------------------------------------------------------------------------
BACKLOG_REQUIRED = ["item_id", "title", "product"]
BACKLOG_OPTIONAL = [
    "theme",
    "item_type",
    "status",
    "status_category",
    "initiative",
    "story_points",
    "skill_split",
    "duration_periods",
    "reach",
    "impact",
    "confidence",
    "business_value",
    "time_criticality",
    "risk_reduction",
    "moscow",
    "kpi",
    "uplift",
    "differentiation",
    "okr",
    "depends_on",
    "mandatory",
    "deadline_period",
    "exclusive_group",
    "replaces",
    "jira_key",
    "parent",
    "labels",
    "components",
]
BACKLOG_ALIASES = {
    "id": "item_id",
    "key": "item_id",
    "summary": "title",
    "name": "title",
    "type": "item_type",
    "strategic_theme": "theme",
    "dependencies": "depends_on",
    "deadline": "deadline_period",
    "alternative_group": "exclusive_group",
    "supersedes": "replaces",
    "kpi_uplift": "uplift",
    "duration": "duration_periods",
}
_BACKLOG_FIELD = {"item_id": "key"}  # canonical table column -> build_backlog field


def read_backlog(path: str | Path, teams: pd.DataFrame, settings: Settings) -> BacklogRead:
    """Read the backlog: a Jira export (has an 'Issue key' column) or a canonical table.

    ``teams`` (validated Teams) gives skills and velocities, ``settings`` the calendar.
    A canonical table has item_id, title, product and either ``effort_<skill>`` columns
    (person-weeks per skill of the teams) or ``story_points`` (with an optional
    ``skill_split``); the other Backlog columns are optional with the documented defaults.
    """
    return build_backlog(raw_backlog(path, teams), teams, settings)


def raw_backlog(path: str | Path, teams: pd.DataFrame) -> RawBacklog:
    """The rows of a backlog file (Jira export or canonical table) before :func:`build_backlog`
    parses them, so cells from another file (a values sheet) can be merged in first."""
    raw = read_raw(path)
    if is_jira_header(raw.header):
        return jira_raw_backlog(raw)
    return _table_raw_backlog(raw, teams)


def read_backlog_table(path: str | Path | RawTable, teams: pd.DataFrame, settings: Settings) -> BacklogRead:
    """Read a canonical backlog table (.csv/.xlsx, or a file already read) into a validated Backlog."""
    return build_backlog(_table_raw_backlog(path, teams), teams, settings)


def _table_raw_backlog(path: str | Path | RawTable, teams: pd.DataFrame) -> RawBacklog:
    skills = list(dict.fromkeys(str(s) for s in teams["skill"]))
    efforts = [EFFORT_PREFIX + s for s in skills]
    frame = read_table(path, BACKLOG_REQUIRED, BACKLOG_OPTIONAL + efforts, BACKLOG_ALIASES, numeric=())
    headers = frame.attrs["headers"]
    columns = {_BACKLOG_FIELD.get(name, name): header for name, header in headers.items()}
    columns["links"] = headers.get("depends_on", "depends_on")
    items = []
    for line, row in frame.iterrows():
        cells = {_BACKLOG_FIELD.get(name, name): value for name, value in row.items() if name != "depends_on"}
        for name in ("labels", "components"):
            if name in cells:
                cells[name] = split_list(cells[name] or "")
        depends = split_list(row.get("depends_on") or "", on_space=True) if "depends_on" in row else []
        items.append(RawItem(int(line), cells, depends_on=depends))
    notes = list(frame.attrs["notes"])
    notes.append(Info(f"{Path(frame.attrs['source']).name}: read as a backlog table ({len(items)} rows)."))
    return RawBacklog(frame.attrs["source"], items, columns, frame.attrs["decimal_comma"], notes, kind="table")
