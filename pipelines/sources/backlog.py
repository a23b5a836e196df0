"""Turn rows read from a Jira export or a backlog table into the canonical Backlog table.

Both readers hand over :class:`RawBacklog` (cells keyed by canonical field names, links
already turned into "depends on" edges); :func:`build_backlog` parses every cell, fills
documented defaults, converts estimates into person-weeks per skill, resolves the
hierarchy (initiatives) and the dependencies, and validates the result against
:class:`models.schemas.Backlog`.

Units: efforts in person-weeks (pw) per skill; story points are divided by the velocity
(story points per person-week) of the skill's team(s); Jira's Original Estimate is in
seconds, at 40 hours per person-week. Periods are 1-based planning periods of
``settings.period_months`` months starting at ``settings.start``.

Defaults for missing values (each reported once in the notes with the rows affected):
product = Jira project name, theme = inherited from the nearest ancestor that has one,
else ``grow``; MoSCoW ``Should``; KPI ``none`` with uplift 0; differentiation ``parity``;
RICE/WSJF inputs (reach, impact, confidence, business value, time criticality, risk
reduction) = the median of the items that have a value, else neutral constants
(1, 1, 80 %, 1, 1, 1); duration = as many periods as it takes to spend the effort with at
most half of a skill's capacity per period.

Replacements: ``replaces`` (a table's comma/semicolon separated ids, Jira's custom field
"Replaces", or its "Replaces" issue links) names items whose KPI effect this item supersedes.
Ids that are not in the file or not planned are dropped with a note naming item and id; a
replacement of another product or KPI is kept and noted (it has no effect in the simulation).
"""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime

import pandas as pd

from models.checks import find_cycles
from models.errors import InputError, InputProblem
from models.schemas import BACKLOG_DEFAULTS, EFFORT_PREFIX, MAX_DURATION_PERIODS, Backlog, validate
from models.settings import Settings
from pipelines.sources.values import (
    SECONDS_PER_PERSON_WEEK,
    Info,
    Problems,
    did_you_mean,
    is_blank,
    normalise_token,
    parse_datetime,
    parse_duration_seconds,
    parse_fraction,
    parse_number,
    parse_relative_change,
    split_list,
    text,
)

# Issue types that group work but are not planned themselves.
CONTAINER_TYPES = frozenset({"initiative", "theme", "objective", "strategicinitiative"})
SHARE_OF_CAPACITY_PER_ITEM = 0.5  # default duration: an item uses at most half a skill per period

NEUTRAL = {
    "reach": 1.0,
    "impact": 1.0,
    "confidence": 0.8,
    "business_value": 1.0,
    "time_criticality": 1.0,
    "risk_reduction": 1.0,
}

_THEMES = {
    "run": "run",
    "runthebusiness": "run",
    "grow": "grow",
    "growthebusiness": "grow",
    "transform": "transform",
    "transformthebusiness": "transform",
}
_MOSCOW = {
    "must": "Must",
    "musthave": "Must",
    "m": "Must",
    "should": "Should",
    "shouldhave": "Should",
    "s": "Should",
    "could": "Could",
    "couldhave": "Could",
    "c": "Could",
    "wont": "Won't",
    "wonthave": "Won't",
    "willnot": "Won't",
    "w": "Won't",
}
_KPIS = {
    "conversionrate": "conversion_rate",
    "conversion": "conversion_rate",
    "churnrate": "churn_rate",
    "churn": "churn_rate",
    "arpu": "arpu",
    "averagerevenueperuser": "arpu",
    "mau": "mau",
    "monthlyactiveusers": "mau",
    "acquisition": "mau",
    "newusers": "mau",
    "cost": "cost",
    "costs": "cost",
    "costsaving": "cost",
    "costsavings": "cost",
    "kosten": "cost",
    "nps": "nps",
    "netpromoterscore": "nps",
    "none": "none",
    "": "none",
    "na": "none",
    "keine": "none",
}
_DIFFERENTIATION = {
    "parity": "parity",
    "differentiator": "differentiator",
    "differentiating": "differentiator",
    "differentiation": "differentiator",
}
# Jira status categories: today's names, the older New/Complete, the API keys, German UI names
_STATUS_CATEGORY = {
    "todo": "To Do",
    "new": "To Do",
    "open": "To Do",
    "backlog": "To Do",
    "undefined": "To Do",
    "nocategory": "To Do",
    "zuerledigen": "To Do",
    "offen": "To Do",
    "inprogress": "In Progress",
    "indeterminate": "In Progress",
    "inarbeit": "In Progress",
    "done": "Done",
    "complete": "Done",
    "completed": "Done",
    "closed": "Done",
    "fertig": "Done",
    "erledigt": "Done",
}
_DONE_STATUSES = {
    "done",
    "closed",
    "resolved",
    "complete",
    "completed",
    "released",
    "fixed",
    "cancelled",
    "canceled",
    "wontdo",
    "wontfix",
    "rejected",
}
_PROGRESS_STATUSES = {
    "inprogress",
    "inreview",
    "indevelopment",
    "development",
    "implementing",
    "testing",
    "intest",
    "inqa",
    "review",
    "codereview",
    "inarbeit",
}
# RICE impact words and Jira Service Management's Impact values -> RICE impact scale
_IMPACT_WORDS = {
    "massive": 3.0,
    "extensive": 3.0,
    "high": 2.0,
    "significant": 2.0,
    "medium": 1.0,
    "moderate": 1.0,
    "low": 0.5,
    "minor": 0.5,
    "minimal": 0.25,
}
# the choice columns: field -> (mapping of normalised tokens, the values to name in a fix)
CHOICES = {
    "theme": (_THEMES, "Run, Grow, Transform"),
    "moscow": (_MOSCOW, "Must, Should, Could, Won't"),
    "kpi": (_KPIS, "Conversion Rate, Churn Rate, ARPU, MAU, Cost, NPS, None"),
    "differentiation": (_DIFFERENTIATION, "Parity, Differentiator"),
}
# What the valuation and the scores read of an item, as a source may give it (canonical fields).
VALUE_FIELDS = (*NEUTRAL, "kpi", "uplift", "moscow", "theme", "okr", "differentiation")


def given_value_inputs(r: dict) -> str:
    """The value inputs an item's source gave, before any default: ``kpi`` when it names a KPI
    (not none) with a non-zero uplift, and each RICE/WSJF input (reach, impact, confidence,
    business_value, time_criticality, risk_reduction) with a cell; comma-separated, "" for none.
    MoSCoW, theme, OKR and differentiation rank or constrain items but give them no value."""
    given = [name for name in NEUTRAL if r.get(name) is not None]
    if r.get("kpi") not in (None, "none") and r.get("uplift"):
        given.insert(0, "kpi")
    return ",".join(given)


_BOOL = {
    "true": True,
    "yes": True,
    "ja": True,
    "y": True,
    "j": True,
    "1": True,
    "x": True,
    "wahr": True,
    "false": False,
    "no": False,
    "nein": False,
    "n": False,
    "0": False,
    "falsch": False,
}

SKILL_SYNONYMS: dict[str, tuple[str, ...]] = {
    "backend": ("backend", "be", "api", "server", "services", "backendservices"),
    "frontend": ("frontend", "fe", "web", "webui", "ui", "userinterface", "webapp"),
    "mobile": ("mobile", "app", "apps", "ios", "android", "mobileapp"),
    "data": ("data", "analytics", "dataanalytics", "ml", "ai", "machinelearning", "datascience", "bi", "dataplatform"),
    "ux": ("ux", "design", "uxui", "uiux", "userexperience", "uxdesign"),
    "qa": ("qa", "test", "testing", "quality", "qualityassurance", "platform", "qaplatform", "devops", "qs"),
}


@dataclass
class BacklogRead:
    """A validated canonical backlog and what the reader did to get there."""

    backlog: pd.DataFrame  # validated models.schemas.Backlog (+ jira_key, parent, labels, components)
    notes: list[str]  # what was mapped by default / ignored / dropped, in plain words


@dataclass
class RawItem:
    """One row of the source: cells by canonical field, plus dependency edges."""

    line: int
    cells: dict[str, object]
    depends_on: list[str] = field(default_factory=list)  # keys this item waits for
    required_by: list[str] = field(default_factory=list)  # keys that wait for this item
    replaces: list[str] = field(default_factory=list)  # keys whose KPI effect this item supersedes
    replaced_by: list[str] = field(default_factory=list)  # keys that supersede this item's effect
    origin: dict[str, str] = field(default_factory=dict)  # field -> header its value came from


@dataclass
class RawBacklog:
    """What a source reader hands to :func:`build_backlog`."""

    source: str
    items: list[RawItem]
    columns: dict[str, str]  # canonical field -> header as written in the file
    decimal_comma: bool = False
    notes: list[str] = field(default_factory=list)
    kind: str = "table"  # "jira" or "table"
    present: set[str] | None = None  # fields with a column in the file (default: keys of columns)


@dataclass
class SkillBook:
    """Skills of the teams, with capacity (pw per period) and velocity (SP per pw) per skill."""

    skills: list[str]
    capacity: dict[str, float]
    velocity: dict[str, float]
    lookup: dict[str, str]

    @classmethod
    def from_teams(cls, teams: pd.DataFrame) -> SkillBook:
        capacity: dict[str, float] = defaultdict(float)
        weighted_velocity: dict[str, float] = defaultdict(float)
        skills: list[str] = []
        lookup: dict[str, str] = {}
        for row in teams.itertuples(index=False):
            skill = str(row.skill)
            if skill not in skills:
                skills.append(skill)
            capacity[skill] += float(row.capacity_pw)
            weighted_velocity[skill] += float(row.capacity_pw) * float(row.velocity_sp_per_pw)
            lookup.setdefault(normalise_token(row.team), skill)
        velocity = {s: weighted_velocity[s] / capacity[s] for s in skills}
        for skill in skills:
            lookup[normalise_token(skill)] = skill
            for synonym in SKILL_SYNONYMS.get(skill, ()):
                lookup.setdefault(synonym, skill)
        return cls(skills, dict(capacity), velocity, lookup)

    def match(self, name: object) -> str | None:
        """The skill a component, team or split entry names (case-insensitive), if any."""
        return self.lookup.get(normalise_token(name))

    def capacity_shares(self) -> dict[str, float]:
        total = sum(self.capacity.values())
        return {s: self.capacity[s] / total for s in self.skills}


def period_of(day: date | datetime, settings: Settings) -> int:
    """1-based planning period containing ``day`` (days before the start give 0 or less)."""
    start = settings.start
    months = (day.year - start.year) * 12 + (day.month - start.month)
    if day.day < start.day:
        months -= 1
    return months // settings.period_months + 1


def build_backlog(raw: RawBacklog, teams: pd.DataFrame, settings: Settings) -> BacklogRead:
    """Parse, default, convert, link and validate ``raw`` into a :class:`BacklogRead`."""
    builder = _Builder(raw, SkillBook.from_teams(teams), settings)
    return builder.run()


def parse_value_cells(raw: RawBacklog, teams: pd.DataFrame, settings: Settings, kpis: dict[str, str]) -> dict:
    """The non-empty :data:`VALUE_FIELDS` cells of every row of ``raw`` (keyed by its ``key``
    cell), parsed as :func:`build_backlog` parses them: {key: {field: value}}. ``kpis`` gives an
    item's KPI where its row names none (an uplift reads by its KPI). Raises InputError naming
    the file, line, column and fix of every bad cell."""
    builder = _Builder(raw, SkillBook.from_teams(teams), settings)
    parsed: dict[str, dict[str, object]] = {}
    for item in raw.items:
        key = text(item.cells.get("key"))
        cells: dict[str, object] = {}
        for name in VALUE_FIELDS:
            if name == "uplift":
                continue
            value = builder.value_cell(item, name)
            if value is not None:
                cells[name] = value
        uplift = builder.value_cell(item, "uplift", cells.get("kpi") or kpis.get(key))
        if uplift is not None:
            cells["uplift"] = uplift
        parsed[key] = cells
    builder.problems.raise_if_any()
    return parsed


class _Builder:
    def __init__(self, raw: RawBacklog, book: SkillBook, settings: Settings):
        self.raw = raw
        self.book = book
        self.settings = settings
        self.problems = Problems(raw.source)
        self.notes: list[str] = list(raw.notes)
        self.jira = raw.kind == "jira"

    # -- helpers ---------------------------------------------------------------------------
    def col(self, name: str) -> str:
        return self.raw.columns.get(name, name)

    def has(self, name: str) -> bool:
        present = self.raw.present if self.raw.present is not None else self.raw.columns
        return name in present

    def cell(self, item: RawItem, name: str) -> object | None:
        value = item.cells.get(name)
        if isinstance(value, list):
            return value or None
        return None if is_blank(value) else value

    def bad(self, item: RawItem, name: str, message: str, fix: str) -> None:
        self.problems.add(message, fix, item.line, item.origin.get(name) or self.col(name))

    def number(self, item: RawItem, name: str, what: str, fix: str, minimum: float = 0.0) -> float | None:
        value = self.cell(item, name)
        if value is None:
            return None
        try:
            number = parse_number(value, self.raw.decimal_comma)
        except ValueError as exc:
            self.bad(item, name, f"{what} {text(value)!r} is not a number ({exc}).", fix)
            return None
        if number < minimum:
            self.bad(item, name, f"{what} {text(value)!r} is below {minimum:g}.", fix)
            return None
        return number

    def choice(
        self,
        item: RawItem,
        name: str,
        mapping: dict,
        allowed: str,
        problem: str = "is not a known value.",
        fix: str | None = None,
    ):
        """The canonical value of a cell through ``mapping`` (keys: normalised tokens); None
        when the cell is empty or not in the mapping (then reported with ``problem`` and ``fix``)."""
        value = self.cell(item, name)
        if value is None:
            return None
        token = normalise_token(value)
        if token in mapping:
            return mapping[token]
        self.bad(
            item,
            name,
            f"{text(value)!r} {problem}",
            fix or f"use one of {allowed}.{did_you_mean(text(value), allowed.split(', '))}",
        )
        return None

    # -- the steps -------------------------------------------------------------------------
    def run(self) -> BacklogRead:
        items = self.raw.items
        keys = self._keys(items)
        records = [self._parse(item, key) for item, key in zip(items, keys, strict=True)]
        self.problems.raise_if_any()
        self._hierarchy(records)
        plannable = self._estimate(records)
        self.problems.raise_if_any()
        self._defaults(plannable)
        self._links(records, plannable)
        self._replacements(records, plannable)
        self._exclusive_groups(plannable)
        frame, lines = self._frame(plannable)
        backlog = validate(frame, Backlog, self.raw.source, row_labels=lines)
        return BacklogRead(backlog.reset_index(drop=True), self.notes)

    def _keys(self, items: list[RawItem]) -> list[str]:
        seen: dict[str, int] = {}
        keys = []
        for item in items:
            key = text(item.cells.get("key"))
            if not key:
                self.bad(item, "key", "the row has no key.", "give every row its own key (e.g. IOT-12).")
            elif key in seen:
                self.bad(
                    item,
                    "key",
                    f"key {key!r} appears again (first on line {seen[key]}).",
                    "keep one row per item; remove or rename the duplicate.",
                )
            else:
                seen[key] = item.line
            keys.append(key)
        return keys

    def _parse(self, item: RawItem, key: str) -> dict:
        r: dict = {"_item": item, "key": key, "_defaulted": set()}
        r["title"] = text(self.cell(item, "title"))
        if not r["title"]:
            self.bad(item, "title", "the title (summary) is empty.", "enter a short title.")
        r["item_type"] = text(self.cell(item, "item_type"))
        r["container"] = normalise_token(r["item_type"]) in CONTAINER_TYPES
        r["product"] = text(self.cell(item, "product")) or text(self.cell(item, "project_name"))
        if not r["product"]:
            r["product"] = text(self.cell(item, "project_key")) or key.rsplit("-", 1)[0]
            r["_defaulted"].add("product")
        r["status"] = text(self.cell(item, "status"))
        category = self.choice(item, "status_category", _STATUS_CATEGORY, "To Do, In Progress, Done")
        if category is None and self.cell(item, "status_category") is None:
            category = self._category_from_status(r["status"])
            r["_defaulted"].add("status_category")
        r["status_category"] = category or "To Do"
        if not r["status"]:
            r["status"] = r["status_category"]
        r["parent"] = text(self.cell(item, "parent")) or None
        r["parent_summary"] = text(self.cell(item, "parent_summary")) or None
        r["initiative"] = text(self.cell(item, "initiative")) or None
        r["issue_id"] = text(self.cell(item, "issue_id")) or None
        r["labels"] = split_list(self.cell(item, "labels") or [])
        r["components"] = split_list(self.cell(item, "components") or [])
        for name in CHOICES:
            r[name] = self.choice(item, name, *CHOICES[name])
        r["okr"] = text(self.cell(item, "okr")) or None
        r["jira_key"] = text(self.cell(item, "jira_key")) or (key if self.jira else None)
        r["exclusive_group"] = text(self.cell(item, "exclusive_group")) or None
        r["replaces_cell"] = [k for v in self._listed(item, "replaces") for k in split_list(v, on_space=True)]
        sp_fix = "enter a number of story points such as 5 or 13, or leave the cell empty."
        r["story_points"] = self.number(item, "story_points", "story points", sp_fix)
        r["estimate_s"] = self._seconds(item)
        r["efforts"] = self._table_efforts(item)
        r["split"] = self._split(item)
        r["impact"] = self._impact(item)
        for name, what in (
            ("reach", "reach"),
            ("business_value", "business value"),
            ("time_criticality", "time criticality"),
            ("risk_reduction", "risk reduction"),
        ):
            r[name] = self.number(item, name, what, f"enter a number of 0 or more for {what}.")
        r["confidence"] = self._confidence(item)
        r["uplift"] = self._uplift(item, r["kpi"])
        r["value_inputs"] = given_value_inputs(r)
        r["duration"] = self._duration(item)
        r["deadline"] = self._deadline(item)
        r["mandatory_cell"] = self._bool(item, "mandatory")
        return r

    def value_cell(self, item: RawItem, name: str, kpi: str | None = None) -> object | None:
        """One cell of :data:`VALUE_FIELDS` parsed as the backlog reads it (None when empty or bad;
        bad cells are recorded); ``kpi`` is the item's KPI, which says how ``uplift`` reads."""
        if name in CHOICES:
            return self.choice(item, name, *CHOICES[name])
        if name == "impact":
            return self._impact(item)
        if name == "confidence":
            return self._confidence(item)
        if name == "uplift":
            return self._uplift(item, kpi)
        if name == "okr":
            return text(self.cell(item, "okr")) or None
        what = name.replace("_", " ")
        return self.number(item, name, what, f"enter a number of 0 or more for {what}.")

    def _listed(self, item: RawItem, name: str) -> list[str]:
        """The texts of a cell that may hold one value or a list of them (repeated columns)."""
        value = self.cell(item, name)
        if value is None:
            return []
        return [text(v) for v in value] if isinstance(value, list) else [text(value)]

    def _category_from_status(self, status: str) -> str:
        token = normalise_token(status)
        if token in _DONE_STATUSES:
            return "Done"
        if token in _PROGRESS_STATUSES:
            return "In Progress"
        return "To Do"

    def _seconds(self, item: RawItem) -> float | None:
        value = self.cell(item, "original_estimate")
        if value is None:
            return None
        try:
            seconds = parse_duration_seconds(value, self.raw.decimal_comma)
        except ValueError:
            self.bad(
                item,
                "original_estimate",
                f"original estimate {text(value)!r} is not a duration.",
                "enter seconds (as Jira exports them, e.g. 144000) or text such as '1w 2d 4h'.",
            )
            return None
        if seconds < 0:
            self.bad(item, "original_estimate", "the original estimate is negative.", "enter 0 or more.")
            return None
        return seconds

    def _table_efforts(self, item: RawItem) -> dict[str, float]:
        efforts = {}
        for skill in self.book.skills:
            name = EFFORT_PREFIX + skill
            value = self.number(item, name, f"effort for {skill}", "enter person-weeks as a number of 0 or more.")
            if value is not None:
                efforts[skill] = value
        return efforts

    def _split(self, item: RawItem) -> dict[str, float] | None:
        value = self.cell(item, "skill_split")
        if value is None:
            return None
        entries = re.findall(r"([^\d,;:=%+]+?)\s*[:=]?\s*(\d+(?:[.,]\d+)?)\s*(%?)", text(value))
        if not entries:
            self.bad(
                item,
                "skill_split",
                f"skill split {text(value)!r} cannot be read.",
                "write it like 'Backend 50%, Frontend 30%, QA 20%'.",
            )
            return None
        shares: dict[str, float] = defaultdict(float)
        percent = any(p for _, _, p in entries)
        numbers = [float(n.replace(",", ".")) for _, n, _ in entries]
        if not percent and all(n <= 1 for n in numbers):
            numbers = [n * 100 for n in numbers]
        ok = True
        for (name, _, _), number in zip(entries, numbers, strict=True):
            skill = self.book.match(name)
            if skill is None:
                ok = False
                self.bad(
                    item,
                    "skill_split",
                    f"no team has the skill {name.strip()!r}.",
                    "use the skills of teams.csv ("
                    + ", ".join(self.book.skills)
                    + ")."
                    + did_you_mean(name.strip(), self.book.skills),
                )
            else:
                shares[skill] += number
        total = sum(shares.values())
        if ok and abs(total - 100) > 2:
            self.bad(
                item, "skill_split", f"the shares add up to {total:g} %, not 100 %.", "make the shares add up to 100 %."
            )
            ok = False
        return {s: v / total for s, v in shares.items()} if ok and total > 0 else None

    def _impact(self, item: RawItem) -> float | None:
        value = self.cell(item, "impact")
        if value is not None and not isinstance(value, (int, float)):
            words = normalise_token(value)
            for word, score in _IMPACT_WORDS.items():
                if words.startswith(word):
                    return score
        return self.number(
            item, "impact", "impact", "enter a RICE impact (0.25, 0.5, 1, 2, 3) or massive/high/medium/low/minimal."
        )

    def _confidence(self, item: RawItem) -> float | None:
        value = self.cell(item, "confidence")
        if value is None:
            return None
        try:
            return parse_fraction(value, self.raw.decimal_comma)
        except ValueError as exc:
            self.bad(
                item,
                "confidence",
                f"confidence {text(value)!r} is not a share ({exc}).",
                "enter a percentage from 0% to 100% (e.g. 80%) or a fraction (0.8).",
            )
            return None

    def _uplift(self, item: RawItem, kpi: str | None) -> float | None:
        value = self.cell(item, "uplift")
        if value is None:
            return None
        try:
            if kpi == "cost":
                if text(value).endswith("%"):
                    raise ValueError("a cost uplift is EUR saved per month, not a percentage")
                cleaned = re.sub(r"(?i)\s*(/|per|pro)\s*(monat|month|mon|mo|m)\.?\s*$", "", text(value))
                return parse_number(cleaned, self.raw.decimal_comma)
            return parse_relative_change(value, self.raw.decimal_comma)
        except ValueError as exc:
            fix = (
                "enter EUR saved per month, e.g. 4500."
                if kpi == "cost"
                else "enter a relative change such as +3% or 0.03 (negative for less churn or cost)."
            )
            self.bad(item, "uplift", f"KPI uplift {text(value)!r} cannot be read ({exc}).", fix)
            return None

    def _duration(self, item: RawItem) -> int | None:
        name = "duration_quarters" if self.has("duration_quarters") else "duration_periods"
        number = self._whole_number(
            item,
            name,
            "duration {!r} is not a whole number of 1 or more.",
            "enter the number of quarters (1, 2, 3 ...) the item takes.",
        )
        if number is not None and name == "duration_quarters":  # quarters -> planning periods
            return math.ceil(number * 3 / self.settings.period_months)
        return number

    def _whole_number(self, item: RawItem, name: str, message: str, fix: str) -> int | None:
        """A cell holding a whole number >= 1; None when empty or bad (bad cells are recorded)."""
        value = self.cell(item, name)
        if value is None:
            return None
        try:
            number = parse_number(value, self.raw.decimal_comma)
        except ValueError:
            number = float("nan")
        if not (number >= 1 and float(number).is_integer()):
            self.bad(item, name, message.format(text(value)), fix)
            return None
        return int(number)

    def _deadline(self, item: RawItem) -> int | None:
        if self.has("deadline_period") and not self.has("due_date"):
            return self._whole_number(
                item,
                "deadline_period",
                "deadline period {!r} is not a period number.",
                f"enter the period (1 to {self.settings.periods}) by which the item must be done.",
            )
        value = self.cell(item, "due_date")
        if value is None:
            return None
        try:
            due = parse_datetime(value)
        except ValueError:
            self.bad(
                item,
                "due_date",
                f"due date {text(value)!r} is not a date.",
                "write a date like 30/Jun/27, 30/Jun/27 05:00 PM, 2027-06-30 or 30.06.2027.",
            )
            return None
        return period_of(due, self.settings)

    def _bool(self, item: RawItem, name: str) -> bool | None:
        return self.choice(item, name, _BOOL, "true, false", "is not yes/no.", "enter true or false (yes/no).")

    def _hierarchy(self, records: list[dict]) -> None:
        by_key = {r["key"]: r for r in records if r["key"]}
        by_id = {r["issue_id"]: r for r in records if r["issue_id"]}

        def parent_of(r: dict) -> dict | None:
            ref = r["parent"]
            if not ref:
                return None
            return by_key.get(ref) or by_id.get(ref)

        for r in records:
            parent = parent_of(r)
            if parent is not None:
                r["parent"] = parent["key"]  # a numeric parent id becomes the parent's key
            if r["container"]:
                continue
            initiative, theme, seen = None, None, {r["key"]}
            node = parent
            while node is not None and node["key"] not in seen:
                seen.add(node["key"])
                if theme is None and node["theme"] is not None:
                    theme = node["theme"]
                if initiative is None and node["container"]:
                    initiative = node["title"]
                node = parent_of(node)
            if r["initiative"] is None:
                r["initiative"] = initiative
                if initiative is None and parent is None and r["parent_summary"]:
                    r["initiative"] = r["parent_summary"]
            if r["theme"] is None and theme is not None:
                r["theme"] = theme
                r["_defaulted"].add("theme_inherited")
        containers = [r for r in records if r["container"]]
        if containers:
            types = sorted({r["item_type"] for r in containers})
            self.notes.append(
                Info(
                    f"{len(containers)} items of type {', '.join(types)} group other items and are not planned "
                    "themselves; their title is the 'initiative' of the items below them."
                )
            )

    @staticmethod
    def _must_be_planned(r: dict) -> bool:
        """A Must-have (a mandatory cell, or MoSCoW Must without one) that is not Done."""
        mandatory = r["mandatory_cell"] if r["mandatory_cell"] is not None else r["moscow"] == "Must"
        return bool(mandatory) and r["status_category"] != "Done"

    def _unestimated_must(self, r: dict, given: bool) -> None:
        """A Must-have without an estimate is never dropped: it is a problem at its estimate cell."""
        item = r["_item"]
        name = "original_estimate" if self.has("original_estimate") and not self.has("story_points") else "story_points"
        what = "is estimated at zero" if given else "has no estimate"
        units = "story points or an original estimate" if self.jira else "story points or effort per skill"
        self.bad(
            item,
            name,
            f"the Must-have {r['key']} {what}, so it cannot be planned, and a Must-have is never left out.",
            f"enter its {units}, or drop its Must-have status (MoSCoW or mandatory) if it need not be done.",
        )

    def _estimate(self, records: list[dict]) -> list[dict]:
        plannable, no_estimate, zero_estimate = [], [], []
        share_source: Counter = Counter()
        for r in records:
            if r["container"]:
                continue
            efforts = dict.fromkeys(self.book.skills, 0.0)
            if sum(r["efforts"].values()) > 0:
                efforts.update(r["efforts"])
                r["estimate_source"] = "person-weeks"
            elif r["story_points"] or r["estimate_s"]:
                shares, source = self._shares(r)
                share_source[source] += 1
                if r["story_points"]:
                    for skill, share in shares.items():
                        efforts[skill] = r["story_points"] * share / self.book.velocity[skill]
                    r["estimate_source"] = "story points"
                else:
                    total_pw = r["estimate_s"] / SECONDS_PER_PERSON_WEEK
                    for skill, share in shares.items():
                        efforts[skill] = total_pw * share
                    r["estimate_source"] = "original estimate"
            else:
                given = r["story_points"] is not None or r["estimate_s"] is not None or bool(r["efforts"])
                if self._must_be_planned(r):
                    self._unestimated_must(r, given)
                (zero_estimate if given else no_estimate).append(r)
                continue
            r["effort"] = efforts
            plannable.append(r)
        if no_estimate:
            self.notes.append(
                f"{len(no_estimate)} items have no estimate (no story points, no original estimate"
                f"{', no effort' if not self.jira else ''}) and cannot be planned; dropped"
                f" (e.g. {_examples([r['key'] for r in no_estimate])})."
            )
        if zero_estimate:
            self.notes.append(
                f"{len(zero_estimate)} items are estimated at zero and cannot be planned; dropped"
                f" (e.g. {_examples([r['key'] for r in zero_estimate])})."
            )
        self.dropped = {r["key"]: "no estimate" for r in no_estimate + zero_estimate}
        by_source = Counter(r.get("estimate_source") for r in plannable)
        if by_source.get("story points"):
            velocities = ", ".join(f"{s} {v:.2f}" for s, v in self.book.velocity.items())
            self.notes.append(
                Info(
                    f"{by_source['story points']} items: story points converted to person-weeks "
                    f"with the teams' velocity (story points per person-week: {velocities})."
                )
            )
        if by_source.get("original estimate"):
            self.notes.append(
                Info(
                    f"{by_source['original estimate']} items without story points: Original "
                    "Estimate (seconds) converted at 40 hours per person-week."
                )
            )
        if share_source.get("components"):
            self.notes.append(
                f"{share_source['components']} items have no skill split: effort shared equally "
                "among the skills their components name."
            )
        if share_source.get("capacity"):
            shares = ", ".join(f"{s} {v:.0%}" for s, v in self.book.capacity_shares().items())
            self.notes.append(
                f"{share_source['capacity']} items have no skill split and no component that "
                f"names a skill: effort shared by the teams' capacity ({shares})."
            )
        return plannable

    def _shares(self, r: dict) -> tuple[dict[str, float], str]:
        if r["split"]:
            return r["split"], "split"
        named = []
        for component in r["components"]:
            skill = self.book.match(component)
            if skill is not None and skill not in named:
                named.append(skill)
        if named:
            return {s: 1.0 / len(named) for s in named}, "components"
        return self.book.capacity_shares(), "capacity"

    def _defaults(self, plannable: list[dict]) -> None:
        n = len(plannable)
        counts: Counter = Counter()

        def fill(r: dict, name: str, default: object) -> None:
            if r[name] is None:
                r[name] = default
                counts[name] += 1

        medians = {}
        for name in NEUTRAL:
            values = [r[name] for r in plannable if r[name] is not None]
            medians[name] = float(pd.Series(values).median()) if values else NEUTRAL[name]
        uplift_ignored = 0
        for r in plannable:
            for name in ("theme", "moscow", "kpi"):
                fill(r, name, BACKLOG_DEFAULTS[name])
            if r["kpi"] == "none" and r["uplift"]:
                uplift_ignored += 1
                r["uplift"] = 0.0
            if r["uplift"] is None:
                r["uplift"] = BACKLOG_DEFAULTS["uplift"]
                if r["kpi"] != "none":
                    counts["uplift"] += 1
            fill(r, "differentiation", BACKLOG_DEFAULTS["differentiation"])
            for name in NEUTRAL:
                fill(r, name, medians[name])
            if r["duration"] is None:
                r["duration"] = self._default_duration(r["effort"])
                counts["duration"] += 1
            cap = min(MAX_DURATION_PERIODS, self.settings.periods)
            if r["duration"] > cap:
                r["duration"] = cap
                counts["duration_capped"] += 1
            r["mandatory"] = r["mandatory_cell"] if r["mandatory_cell"] is not None else r["moscow"] == "Must"
            if r["deadline"] is not None and r["deadline"] < 1:
                r["deadline"] = 1
                counts["deadline_early"] += 1
            if r["deadline"] is not None and r["deadline"] > self.settings.periods:
                counts["deadline_late"] += 1
        inherited = sum("theme_inherited" in r["_defaulted"] for r in plannable)
        if inherited:
            self.notes.append(
                f"{inherited} of {n} items have no strategic theme of their own: taken from their initiative (parent)."
            )
        product_default = sum("product" in r["_defaulted"] for r in plannable)
        if product_default:
            self.notes.append(
                f"{product_default} of {n} items have no product or project name: product set to the project key."
            )
        category_default = sum("status_category" in r["_defaulted"] for r in plannable)
        if category_default:
            self.notes.append(
                f"{category_default} of {n} items have no status category: derived from "
                "their status (done/closed/resolved -> Done, in progress/review -> In Progress, "
                "else To Do)."
            )
        labels = {
            "theme": "strategic theme",
            "moscow": "MoSCoW priority",
            "kpi": "KPI",
            "uplift": "KPI uplift",
            "differentiation": "differentiation",
        }
        for name, what in labels.items():
            if counts[name]:
                default = BACKLOG_DEFAULTS[name]
                shown = f"'{default}'" if isinstance(default, str) else f"{default:g}"
                self.notes.append(self._default_note(name, what, shown, counts[name], n))
        for name in NEUTRAL:
            if counts[name]:
                source = "the median of the other items" if counts[name] < n else "a neutral value"
                value = f"{medians[name]:.0%}" if name == "confidence" else f"{medians[name]:g}"
                self.notes.append(
                    self._default_note(name, name.replace("_", " "), f"{value} ({source})", counts[name], n)
                )
        if counts["duration"]:
            self.notes.append(
                self._default_note(
                    "duration_quarters" if self.jira else "duration_periods",
                    "duration",
                    "the periods needed "
                    f"to spend the effort with at most {SHARE_OF_CAPACITY_PER_ITEM:.0%} of a skill's capacity "
                    "per period",
                    counts["duration"],
                    n,
                )
            )
        if counts["duration_capped"]:
            self.notes.append(
                f"{counts['duration_capped']} items last longer than the "
                f"{min(MAX_DURATION_PERIODS, self.settings.periods)} periods that can be planned: "
                "duration shortened to that."
            )
        if uplift_ignored:
            self.notes.append(f"{uplift_ignored} items give a KPI uplift but no KPI: uplift ignored (set to 0).")
        if counts["deadline_early"]:
            self.notes.append(
                f"{counts['deadline_early']} items are due before the plan starts "
                f"({self.settings.start.isoformat()}): deadline set to period 1."
            )
        if counts["deadline_late"]:
            self.notes.append(
                Info(
                    f"{counts['deadline_late']} items are due after the last planning period "
                    f"({self.settings.periods}); their deadline does not bind within the plan."
                )
            )

    def _default_note(self, name: str, what: str, default: str, count: int, n: int) -> str:
        if not self.has(name):
            return f"no '{self.col(name)}' column: {what} set to {default} for all {count} items."
        return f"{count} of {n} items have no {what}: set to {default}."

    def _default_duration(self, effort: dict[str, float]) -> int:
        periods = 1
        for skill, pw in effort.items():
            limit = SHARE_OF_CAPACITY_PER_ITEM * self.book.capacity[skill]
            if pw > 0 and limit > 0:
                periods = max(periods, math.ceil(pw / limit - 1e-9))
        return periods

    def _links(self, records: list[dict], plannable: list[dict]) -> None:
        kept = {r["key"]: r for r in plannable}
        known = {r["key"]: r for r in records}
        if self.raw.kind == "table":  # a table is the whole backlog: a link out of it is a typo
            for r in records:
                for other in r["_item"].depends_on:
                    if other not in known:
                        self.problems.add(
                            f"depends on {other!r}, which is not in the table.",
                            "correct the id or add the item." + did_you_mean(other, sorted(known)),
                            r["_item"].line,
                            self.col("links"),
                        )
            self.problems.raise_if_any()
        edges: set[tuple[str, str]] = set()  # (prerequisite, dependent)
        for r in records:
            item = r["_item"]
            for other in item.depends_on:
                edges.add((other, r["key"]))
            for other in item.required_by:
                edges.add((r["key"], other))
        lost: dict[str, list[str]] = defaultdict(list)
        deps: dict[str, list[str]] = defaultdict(list)
        for pre, post in sorted(edges):
            if post not in kept:
                continue  # the dependent item is not planned: nothing to keep
            if pre == post:
                lost["self"].append(post)
            elif pre in kept and kept[pre]["status_category"] == "Done":
                lost["done"].append(f"{post}->{pre}")
            elif pre in kept:
                deps[post].append(pre)
            elif pre not in known:
                lost["missing"].append(f"{post}->{pre}")
            elif known[pre]["container"]:
                lost["container"].append(f"{post}->{pre}")
            else:
                lost["unplanned"].append(f"{post}->{pre}")
        reasons = {
            "missing": "point at items that are not in the file",
            "unplanned": "point at items that are dropped (no estimate)",
            "container": "point at initiatives, which are not planned",
            "done": "point at items that are already done (the dependency is met)",
            "self": "point at the item itself",
        }
        for reason, text_ in reasons.items():
            if lost[reason]:
                self.notes.append(
                    f"{len(lost[reason])} dependencies {text_}: dropped (e.g. {_examples(lost[reason])})."
                )
        for r in plannable:
            r["depends_on"] = sorted(set(deps.get(r["key"], [])), key=_natural)
        kept_count = sum(len(r["depends_on"]) for r in plannable)
        if kept_count:
            self.notes.append(
                Info(
                    f"{kept_count} dependencies between planned items kept "
                    f"({sum(1 for r in plannable if r['depends_on'])} items wait for others)."
                )
            )
        self._check_cycles(plannable)

    def _check_cycles(self, plannable: list[dict]) -> None:
        edges = [(d, r["key"]) for r in plannable for d in r["depends_on"]]
        line_of = {r["key"]: r["_item"].line for r in plannable}
        problems = []
        for cycle in find_cycles(edges):  # predecessor -> successor; read it as "waits for" backwards
            waits = cycle[::-1]
            where = ", ".join(f"{k} (line {line_of[k]})" for k in waits[:-1])
            problems.append(
                InputProblem(
                    self.raw.source,
                    f"the dependencies form a cycle: {' waits for '.join(waits)}.",
                    f"remove one of these links; the items are {where}.",
                    line_of[waits[0]],
                    self.col("links"),
                )
            )
        if problems:
            raise InputError(problems)

    def _replacements(self, records: list[dict], plannable: list[dict]) -> None:
        """Resolve ``replaces`` (this item supersedes the other's KPI effect) into item_ids of the
        backlog: ids not in the file, of items that are not planned, or of the item itself are
        dropped; a replacement of another product or KPI is kept (it has no effect in the
        simulation); every one of these is noted with the item and the id."""
        kept = {r["key"]: r for r in plannable}
        known = {r["key"]: r for r in records}
        pairs: set[tuple[str, str]] = set()  # (replacing, replaced)
        for r in records:
            item = r["_item"]
            for other in [*r["replaces_cell"], *item.replaces]:
                pairs.add((r["key"], other))
            for other in item.replaced_by:
                pairs.add((other, r["key"]))
        lost: dict[str, list[str]] = defaultdict(list)
        across: list[str] = []
        replaces: dict[str, list[str]] = defaultdict(list)
        for new, old in sorted(pairs):
            if new not in kept:
                continue  # the replacing item is not planned: it never acts
            if new == old:
                lost["self"].append(f"{new} replaces {old}")
            elif old in kept:
                replaces[new].append(old)
                if (kept[new]["product"], kept[new]["kpi"]) != (kept[old]["product"], kept[old]["kpi"]):
                    across.append(f"{new} replaces {old}")
            elif old not in known:
                lost["missing"].append(f"{new} replaces {old}")
            elif known[old]["container"]:
                lost["container"].append(f"{new} replaces {old}")
            else:
                lost["unplanned"].append(f"{new} replaces {old}")
        reasons = {
            "missing": "name items that are not in the file",
            "unplanned": "name items that are dropped (no estimate)",
            "container": "name initiatives, which are not planned",
            "self": "name the item itself",
        }
        for reason, text_ in reasons.items():
            if lost[reason]:
                self.notes.append(f"{len(lost[reason])} replacements {text_}: dropped ({_pairs(lost[reason])}).")
        if across:
            self.notes.append(
                f"{_pairs(across)} on another product/KPI: no effect in the simulation "
                "(a replacement only ends the effect of an item of the same product and KPI)."
            )
        for r in plannable:
            r["replaces"] = sorted(set(replaces.get(r["key"], [])), key=_natural)
        count = sum(len(r["replaces"]) for r in plannable)
        if count:
            self.notes.append(
                Info(
                    f"{count} replacements between planned items kept: a replaced item's KPI effect "
                    "ends from the month after the item replacing it is delivered."
                )
            )

    def _exclusive_groups(self, plannable: list[dict]) -> None:
        sizes = Counter(r["exclusive_group"] for r in plannable if r["exclusive_group"])
        alone = sorted(g for g, n in sizes.items() if n == 1)
        if alone:
            self.notes.append(
                Info(
                    f"{len(alone)} alternative groups have a single planned item "
                    f"({_examples(alone)}); nothing to choose between."
                )
            )
        if sizes:
            self.notes.append(
                Info(
                    f"{len(sizes)} groups of exclusive alternatives "
                    f"({sum(sizes.values())} items): at most one item per group can be funded."
                )
            )

    def _frame(self, plannable: list[dict]) -> tuple[pd.DataFrame, pd.Series]:
        rows = []
        for r in plannable:
            row = {
                "item_id": r["key"],
                "title": r["title"],
                "product": r["product"],
                "theme": r["theme"],
                "item_type": r["item_type"] or "item",
                "status": r["status"],
                "status_category": r["status_category"],
                "initiative": r["initiative"],
            }
            for skill in self.book.skills:
                row[EFFORT_PREFIX + skill] = round(r["effort"][skill], 6)
            row.update(
                {
                    "story_points": r["story_points"],
                    "duration_periods": r["duration"],
                    "reach": r["reach"],
                    "impact": r["impact"],
                    "confidence": r["confidence"],
                    "business_value": r["business_value"],
                    "time_criticality": r["time_criticality"],
                    "risk_reduction": r["risk_reduction"],
                    "moscow": r["moscow"],
                    "kpi": r["kpi"],
                    "uplift": r["uplift"],
                    "differentiation": r["differentiation"],
                    "okr": r["okr"],
                    "depends_on": r["depends_on"],
                    "mandatory": bool(r["mandatory"]),
                    "deadline_period": r["deadline"],
                    "exclusive_group": r["exclusive_group"],
                    "replaces": r["replaces"],
                    "jira_key": r["jira_key"],
                    "parent": r["parent"],
                    "labels": r["labels"],
                    "components": r["components"],
                    "value_inputs": r["value_inputs"],
                }
            )
            rows.append(row)
        columns = (
            ["item_id", "title", "product", "theme", "item_type", "status", "status_category", "initiative"]
            + [EFFORT_PREFIX + s for s in self.book.skills]
            + [
                "story_points",
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
                "value_inputs",
            ]
        )
        frame = pd.DataFrame(rows, columns=columns)
        frame["story_points"] = frame["story_points"].astype(float)
        frame["deadline_period"] = pd.array(frame["deadline_period"].tolist(), dtype="Int64")
        for name in ("initiative", "okr", "exclusive_group", "jira_key", "parent"):
            frame[name] = frame[name].astype(object).where(frame[name].notna(), None)
        lines = pd.Series([r["_item"].line for r in plannable], index=frame.index)
        return frame, lines


def _examples(values: list[str], n: int = 3) -> str:
    values = sorted(set(values), key=_natural)
    shown = ", ".join(values[:n])
    return shown + (", ..." if len(values) > n else "")


def _pairs(pairs: list[str], n: int = 6) -> str:
    """'A replaces B' pairs in natural order, at most ``n`` named."""
    pairs = sorted(set(pairs), key=_natural)
    shown = ", ".join(pairs[:n])
    return shown + (f" and {len(pairs) - n} more" if len(pairs) > n else "")


def _natural(key: str) -> tuple:
    return tuple(int(p) if p.isdigit() else p for p in re.split(r"(\d+)", key))
