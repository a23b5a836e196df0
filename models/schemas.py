"""Canonical tables shared by every reader and every model (pandera DataFrameModels).

Every reader produces these tables; every model consumes only these. Units:
efforts in person-weeks (pw), money in EUR, periods are 1-based planning periods
(quarters by default), months are 1-based months from the start of the plan.

``validate(df, Model, source)`` turns pandera's failure cases into an
:class:`~models.errors.InputError` that names the file, row and column.
"""

from __future__ import annotations

import pandas as pd
import pandera.pandas as pa
from pandera.errors import SchemaErrors
from pandera.typing import Series

from models.errors import InputError, InputProblem

SKILLS_DEFAULT = ("backend", "frontend", "mobile", "data", "ux", "qa")
MOSCOW = ("Must", "Should", "Could", "Won't")
THEMES = ("run", "grow", "transform")
DIFFERENTIATION = ("parity", "differentiator")
# KPIs an item can move; "cost" means a saving in EUR per month (uplift is EUR/month).
KPIS = ("conversion_rate", "churn_rate", "arpu", "mau", "cost", "nps", "none")
EFFORT_PREFIX = "effort_"
MAX_DURATION_PERIODS = 8  # longest item a backlog may hold, in planning periods

# Values a backlog row takes when a generator or a test does not say otherwise (a plain
# To-Do epic of product "Product" with no KPI link, dependency or rule attached).
BACKLOG_DEFAULTS = {
    "title": "",
    "product": "Product",
    "theme": "grow",
    "item_type": "Epic",
    "status": "Open",
    "status_category": "To Do",
    "initiative": None,
    "story_points": None,
    "duration_periods": 1,
    "reach": 100.0,
    "impact": 1.0,
    "confidence": 1.0,
    "business_value": 1.0,
    "time_criticality": 1.0,
    "risk_reduction": 1.0,
    "moscow": "Should",
    "kpi": "none",
    "uplift": 0.0,
    "differentiation": "parity",
    "okr": None,
    "depends_on": None,
    "mandatory": False,
    "deadline_period": None,
    "exclusive_group": None,
}


def effort_columns(df: pd.DataFrame) -> list[str]:
    """The per-skill effort columns of a backlog table, in column order."""
    return [c for c in df.columns if c.startswith(EFFORT_PREFIX)]


def total_effort_pw(df: pd.DataFrame) -> pd.Series:
    """Total effort of each row in person-weeks: the sum of its ``effort_<skill>`` columns."""
    return df[effort_columns(df)].astype(float).fillna(0.0).sum(axis=1)


def skills_of(df: pd.DataFrame) -> list[str]:
    """Skill names present as ``effort_<skill>`` columns."""
    return [c[len(EFFORT_PREFIX) :] for c in effort_columns(df)]


def _is_str_list(s: pd.Series) -> pd.Series:
    return s.map(lambda v: isinstance(v, list) and all(isinstance(x, str) for x in v))


class Backlog(pa.DataFrameModel):
    """One row per plannable item (epic, feature, story...).

    ``depends_on`` lists the item_ids an item waits for. ``replaces`` (optional; missing means
    an empty list for every item) lists the item_ids whose KPI effect this item supersedes or
    cannibalises: from the month after this item is delivered, a replaced item of the same
    product and KPI stops acting and this item's own uplift acts instead (the simulation's
    "Uplifts", models/simulation/README.md). A replacement across products or KPIs is kept but
    has no effect; the backlog reader notes it, and drops ids that are not in the backlog.
    """

    item_id: Series[str] = pa.Field(unique=True, str_length={"min_value": 1})
    title: Series[str]
    product: Series[str]
    theme: Series[str] = pa.Field(isin=THEMES)
    item_type: Series[str]
    status: Series[str]
    status_category: Series[str] = pa.Field(isin=("To Do", "In Progress", "Done"))
    initiative: Series[str] = pa.Field(nullable=True)
    effort: Series[float] = pa.Field(ge=0, alias=r"^effort_\w+$", regex=True)
    story_points: Series[float] = pa.Field(ge=0, nullable=True)
    duration_periods: Series[int] = pa.Field(ge=1, le=MAX_DURATION_PERIODS)
    reach: Series[float] = pa.Field(ge=0)
    impact: Series[float] = pa.Field(ge=0)
    confidence: Series[float] = pa.Field(ge=0, le=1)
    business_value: Series[float] = pa.Field(ge=0)
    time_criticality: Series[float] = pa.Field(ge=0)
    risk_reduction: Series[float] = pa.Field(ge=0)
    moscow: Series[str] = pa.Field(isin=MOSCOW)
    kpi: Series[str] = pa.Field(isin=KPIS)
    uplift: Series[float]
    differentiation: Series[str] = pa.Field(isin=DIFFERENTIATION)
    okr: Series[str] = pa.Field(nullable=True)
    depends_on: Series[object]
    mandatory: Series[bool]
    deadline_period: Series[pd.Int64Dtype] = pa.Field(ge=1, nullable=True)
    exclusive_group: Series[str] = pa.Field(nullable=True)
    replaces: Series[object] | None

    @pa.check("depends_on", name="list_of_item_ids")
    def _depends_on_lists(cls, s: Series[object]) -> Series[bool]:
        return _is_str_list(s)

    @pa.check("replaces", name="list_of_item_ids")
    def _replaces_lists(cls, s: Series[object]) -> Series[bool]:
        return _is_str_list(s)

    @pa.dataframe_check(name="effort_positive")
    def _has_effort(cls, df: pd.DataFrame) -> Series[bool]:
        return total_effort_pw(df) > 0

    class Config:
        strict = False  # readers may keep extra traceability columns (labels, epic, jira_key...)
        coerce = True


class Teams(pa.DataFrameModel):
    """One row per team; a team has one skill. Capacity is per planning period."""

    team: Series[str] = pa.Field(unique=True)
    skill: Series[str]
    headcount: Series[float] = pa.Field(ge=0)
    capacity_pw: Series[float] = pa.Field(gt=0)
    cost_per_pw: Series[float] = pa.Field(ge=0)
    velocity_sp_per_pw: Series[float] = pa.Field(gt=0)

    class Config:
        strict = False
        coerce = True


class KpiHistory(pa.DataFrameModel):
    """Monthly KPIs per product. Blank cells and missing months are allowed: the baselines
    impute them and say so (:func:`models.valuation.clean_kpi_history`)."""

    product: Series[str]
    month: Series[pd.Timestamp]
    mau: Series[float] = pa.Field(ge=0, nullable=True)
    dau: Series[float] = pa.Field(ge=0, nullable=True)
    new_users: Series[float] = pa.Field(ge=0, nullable=True)
    churned_users: Series[float] = pa.Field(ge=0, nullable=True)
    conversion_rate: Series[float] = pa.Field(ge=0, le=1, nullable=True)
    arpu: Series[float] = pa.Field(ge=0, nullable=True)
    mrr: Series[float] = pa.Field(ge=0, nullable=True)
    nps: Series[float] = pa.Field(ge=-100, le=100, nullable=True)
    cac: Series[float] = pa.Field(ge=0, nullable=True)

    @pa.dataframe_check(name="one_row_per_product_month")
    def _unique_month(cls, df: pd.DataFrame) -> Series[bool]:
        return ~df.duplicated(["product", "month"], keep=False)

    class Config:
        strict = False
        coerce = True


class Okrs(pa.DataFrameModel):
    """Objectives and key results; backlog items point at ``key_result`` through ``okr``."""

    objective: Series[str]
    key_result: Series[str] = pa.Field(unique=True)
    description: Series[str]
    product: Series[str] = pa.Field(nullable=True)
    metric: Series[str]
    baseline: Series[float] = pa.Field(nullable=True)
    target: Series[float]
    weight: Series[float] = pa.Field(ge=0)

    class Config:
        strict = False
        coerce = True


class PlanDecisions(pa.DataFrameModel):
    """The optimiser's decisions: one row per candidate item."""

    item_id: Series[str] = pa.Field(unique=True)
    funded: Series[bool]
    start_period: Series[pd.Int64Dtype] = pa.Field(ge=1, nullable=True)
    finish_period: Series[pd.Int64Dtype] = pa.Field(ge=1, nullable=True)
    value: Series[float]
    cost: Series[float] = pa.Field(ge=0)

    class Config:
        strict = False
        coerce = True


class CapacityUsage(pa.DataFrameModel):
    """Planned use of each skill in each period."""

    skill: Series[str]
    period: Series[int] = pa.Field(ge=1)
    capacity_pw: Series[float] = pa.Field(ge=0)
    used_pw: Series[float] = pa.Field(ge=0)
    utilisation: Series[float] = pa.Field(ge=0)

    class Config:
        strict = False
        coerce = True


def validate(
    df: pd.DataFrame,
    model: type[pa.DataFrameModel],
    source: str,
    row_offset: int = 2,
    row_labels: pd.Series | None = None,
) -> pd.DataFrame:
    """Validate ``df`` against ``model``; raise InputError naming file, line and column.

    ``row_offset`` maps a positional row index to the line in the file (2 for a CSV with
    one header line). ``row_labels`` (same index as ``df``) gives a line number per row
    where the reader knows it better (e.g. after filtering rows).
    """
    try:
        return model.validate(df, lazy=True)
    except SchemaErrors as exc:
        problems: list[InputProblem] = []
        cases = exc.failure_cases
        seen: set[tuple] = set()
        for _, case in cases.iterrows():
            column = case.get("column")
            column = None if column is None or (isinstance(column, float) and pd.isna(column)) else str(column)
            idx = case.get("index")
            row = None
            if idx is not None and not (isinstance(idx, float) and pd.isna(idx)):
                try:
                    if row_labels is not None and idx in row_labels.index:
                        row = int(row_labels.loc[idx])
                    else:
                        row = int(df.index.get_loc(idx)) + row_offset
                except (KeyError, TypeError, ValueError):
                    row = None
            check = str(case.get("check"))
            value = case.get("failure_case")
            if check in _FRAME_CHECKS:
                column, value = _FRAME_CHECKS[check]
            key = (column, row, check)
            if key in seen:
                continue
            seen.add(key)
            if check == "column_in_dataframe":
                msg, fix = f"required column '{value}' is missing.", f"add a column named '{value}'."
                column = str(value)
            elif check in _FRAME_CHECKS:
                msg, fix = value, _fix_for(check)
            else:
                msg = f"value {value!r} fails check {check}."
                fix = _fix_for(check)
            problems.append(InputProblem(source, msg, fix, row, column))
            if len(problems) >= 50:
                break
        raise InputError(problems) from None


# dataframe-level checks: the column to report and the message
_FRAME_CHECKS = {
    "effort_positive": ("effort_*", "the item has no effort in any skill."),
    "one_row_per_product_month": ("month", "the same product and month appear twice."),
}


def _fix_for(check: str) -> str:
    if check == "effort_positive":
        return "enter story points or a person-week effort for at least one skill."
    if check == "one_row_per_product_month":
        return "keep one row per product and month."
    if check.startswith("isin"):
        return f"use one of the allowed values {check[len('isin(') : -1]}."
    if "unique" in check or "duplicates" in check:
        return "give every row its own id."
    if check.startswith(("coerce_dtype", "dtype")):
        return "enter a number (or a date) in this cell."
    if "not_nullable" in check:
        return "fill in this cell."
    return "correct the value."
