"""What changed between two recommendation runs, and why.

A run is the store's tables as ``dict[str, pd.DataFrame]`` (backlog, teams, settings,
kpi_baselines, portfolio_plan, plan_run_info, stress_test_summary, ...). This module
compares an earlier run (``before``) with a later one (``after``) and offers three tables:

* :func:`input_changes`: the differences of the inputs themselves (columns
  :data:`INPUT_CHANGE_COLUMNS`), one row per difference, ``kind`` in :data:`INPUT_KINDS`:
  backlog items added or removed, every changed field of an item, KPI baselines that moved
  by more than :data:`KPI_REL_TOL`, capacity and cost per skill, every changed team field,
  and the settings (budget, rules, and the settings that are no cause: company, currency,
  solver, explain, strict). ``before``/``after`` are text (None where a side has no value).
* :func:`item_changes`: one row per item whose decision or numbers changed (columns
  :data:`ITEM_CHANGE_COLUMNS`), ``change`` in :data:`CHANGE_KINDS`, with the causes as
  sentences and stable codes (:data:`CAUSE_CODES`).
* :func:`run_changes`: the plan's totals, the solver's status and gap, the stress test's
  NPV P10/P50 of the recommended plan per scenario and the KPI baselines per product
  (columns :data:`RUN_CHANGE_COLUMNS`; ``change`` = after - before).

The change of an item (from ``portfolio_plan``; an item missing from a plan is not funded):
"added" (funded now, not before), "removed" (funded before, not now), "moved" (funded in
both, another start period), "value changed" / "cost changed" (funded in both, same start,
value resp. cost differ by more than :data:`REL_TOL` of the larger one and more than
:data:`ABS_TOL_EUR`; value is checked first). Value and cost are the plan's (0 when not
funded, NaN when the item is not in that run's plan).

How causes are found (codes in this order; ``causes[k]`` is the sentence for ``cause_codes[k]``):

Item-level, from the item's own inputs in the two backlogs:

* ``new_item``: a candidate now, but not in the earlier backlog (or Done there).
* ``removed_from_backlog``: not in the later backlog, or Done there. This explains the item
  completely: no other cause is added (an item that is not a candidate cannot be funded).
* ``effort_changed``: an ``effort_*`` column (a skill missing from a backlog counts as 0),
  story_points or duration_periods changed.
* ``value_inputs_changed``: one of :data:`VALUE_FIELDS` changed (the product is among them,
  since it selects the KPI baseline).
* ``kpi_baseline_moved``: a metric of :data:`KPI_METRICS` (or the item's own kpi, when the
  baselines carry it) of the item's product moved by more than :data:`KPI_REL_TOL`.
* ``dependency_changed``: its depends_on or exclusive_group changed, or a related item's
  decision changed: a predecessor added, removed or moved (its finish bounds the item's
  start), a successor added or moved (a funded successor needs the item, finished in time),
  another item of its exclusive group added or removed (a group funds at most one item).
* ``item_rules_changed``: theme (strategic balance), deadline_period or status_category
  (work in progress continues) changed.
* ``must_have_added`` / ``must_have_removed``: the item is a Must-have (mandatory, or
  MoSCoW "Must") now and was not before, or the other way round.

Run-level, from settings, teams and the solver (they can move any item of an optimisation):

* ``capacity_changed``: a skill's capacity (sum of its teams' capacity_pw, and per-period
  overrides ``capacity_pw_p<N>``) or its cost per person-week (capacity-weighted mean of its
  teams' cost_per_pw) changed. Rule: it is given to an item whose effort (in either run) uses
  a changed skill, naming those skills; an item that uses none of them gets it only when no
  item-level cause explains its change (then capacity freed or taken elsewhere moved budget
  and periods to or from it), naming every changed skill. So a cause shown is either direct
  or the only candidate.
* ``budget_changed``: budget_per_period (compared per period; one number means that amount
  in every period) or budget_total changed.
* ``rule_changed``: any other settings field changed, except company, currency, solver,
  explain and strict (which do not change the plan's rules); the sentence names the paths.
* ``solver_stopped``: either run's plan_run_info status is not "Optimal", so that run's plan
  is only the best found in time; the sentence gives both gaps.

``unexplained`` when none applies (its sentence gives the solver's gaps when they are known:
within the gap tolerance, equally good plans may differ).

Optional tables: a comparison that needs a table is skipped when either run lacks it
(e.g. no stress_test_summary: no NPV rows; no teams: no capacity cause). item_changes
needs portfolio_plan in both runs and raises ModelError without it. Every table is
sorted deterministically (change kind order, then item_id; kind order, then key and field).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from models.errors import ModelError
from models.schemas import EFFORT_PREFIX

Run = Mapping[str, pd.DataFrame]

REL_TOL = 0.005  # relative tolerance on an item's value and cost (0.5 %)
ABS_TOL_EUR = 1.0  # and the absolute one (EUR)
KPI_REL_TOL = 0.005  # a KPI baseline "moved" when it changed by more than 0.5 %
FLOAT_TOL = 1e-9  # relative slack when comparing input numbers (effort, capacity, settings)

CHANGE_KINDS = ("added", "removed", "moved", "value changed", "cost changed")
CAUSE_CODES = (
    "new_item",
    "removed_from_backlog",
    "effort_changed",
    "value_inputs_changed",
    "kpi_baseline_moved",
    "dependency_changed",
    "item_rules_changed",
    "must_have_added",
    "must_have_removed",
    "capacity_changed",
    "budget_changed",
    "rule_changed",
    "solver_stopped",
    "unexplained",
)
INPUT_KINDS = ("item_added", "item_removed", "item_field", "kpi_baseline", "skill", "team", "budget", "rule", "setting")

ITEM_CHANGE_COLUMNS = [
    "item_id",
    "title",
    "change",
    "start_before",
    "start_after",
    "value_before_eur",
    "value_after_eur",
    "cost_before_eur",
    "cost_after_eur",
    "causes",
    "cause_codes",
]
RUN_CHANGE_COLUMNS = ["metric", "scope", "before", "after", "change", "unit"]
INPUT_CHANGE_COLUMNS = ["kind", "key", "field", "before", "after"]

EFFORT_FIELDS = ("story_points", "duration_periods")  # besides every effort_* column
VALUE_FIELDS = (
    "product",
    "kpi",
    "uplift",
    "reach",
    "impact",
    "confidence",
    "business_value",
    "time_criticality",
    "risk_reduction",
    "differentiation",
    "okr",
    "value_inputs",
)
DEPENDENCY_FIELDS = ("depends_on", "exclusive_group")
ITEM_RULE_FIELDS = ("theme", "deadline_period", "status_category")
MUST_FIELDS = ("mandatory", "moscow")
SET_FIELDS = ("depends_on", "labels", "components")  # lists compared as sets
KPI_METRICS = ("mrr", "mau", "churn_rate", "conversion_rate", "arpu", "mrr_growth_per_month")
RUN_KPI_METRICS = {"mrr": "EUR per month", "mau": "users", "churn_rate": "share per month", "conversion_rate": "share"}
BUDGET_FIELDS = ("budget_per_period", "budget_total")
NOT_A_CAUSE = ("company", "currency", "solver", "explain", "strict")  # top-level settings that leave the rules alone
SETTINGS_COLUMNS = ("start", "periods", "period_months", "discount_rate")  # used when settings_json is missing
RECOMMENDED_PLAN = "recommended"
MAX_FIELDS_IN_SENTENCE = 4


# ---------------------------------------------------------------- values and text


def _plain(v: object) -> object:
    """A comparable Python value: None for missing, sorted tuples for lists, floats for numbers."""
    if v is None:
        return None
    if isinstance(v, (list, tuple, np.ndarray, set)):
        return tuple(sorted(str(x) for x in v))
    if v is pd.NA or v is pd.NaT:
        return None
    if isinstance(v, (bool, np.bool_)):
        return bool(v)
    if isinstance(v, (int, float, np.integer, np.floating)):
        f = float(v)
        return None if math.isnan(f) else f
    if isinstance(v, pd.Timestamp):
        return v.date().isoformat()
    return v


def _same(a: object, b: object, rel: float = FLOAT_TOL) -> bool:
    a, b = _plain(a), _plain(b)
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=rel, abs_tol=1e-12)
    return a == b


def _fmt(v: object, human: bool = False) -> str | None:
    """Text of a value (None for missing); ``human`` adds thousands separators."""
    v = _plain(v)
    if v is None:
        return None
    if isinstance(v, tuple):
        return "[" + ", ".join(v) + "]"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        if v.is_integer() and abs(v) < 1e15:
            return f"{int(v):,}" if human and abs(v) >= 1000 else str(int(v))
        if abs(v) >= 100:
            text = f"{v:,.2f}" if human else f"{v:.2f}"
            return text.rstrip("0").rstrip(".")
        return f"{v:.4g}"
    return str(v)


def _arrow(before: object, after: object) -> str:
    return f"{_fmt(before, True) or 'none'} -> {_fmt(after, True) or 'none'}"


def _pct(share: float) -> str:
    if share is None or not np.isfinite(share):
        return "unknown"
    return f"{share * 100:.2f}".rstrip("0").rstrip(".") + " %"


def _listing(parts: list[str]) -> str:
    if len(parts) > MAX_FIELDS_IN_SENTENCE:
        extra = len(parts) - MAX_FIELDS_IN_SENTENCE
        parts = [*parts[:MAX_FIELDS_IN_SENTENCE], f"and {extra} more"]
    return ", ".join(parts)


def _table(run: Run, name: str) -> pd.DataFrame | None:
    t = run.get(name)
    return t if isinstance(t, pd.DataFrame) else None


def _both(before: Run, after: Run, name: str) -> tuple[pd.DataFrame, pd.DataFrame] | None:
    b, a = _table(before, name), _table(after, name)
    return None if b is None or a is None else (b, a)


def _first_row(t: pd.DataFrame | None) -> dict:
    return {} if t is None or t.empty else t.iloc[0].to_dict()


# ---------------------------------------------------------------- inputs


def _by_key(t: pd.DataFrame, key: str) -> pd.DataFrame:
    t = t.copy()
    t[key] = t[key].astype(str)
    return t.drop_duplicates(key, keep="last").set_index(key)


def _backlog_rows(b: pd.DataFrame, a: pd.DataFrame) -> list[dict]:
    b, a = _by_key(b, "item_id"), _by_key(a, "item_id")
    rows: list[dict] = []
    for i in sorted(set(a.index) - set(b.index)):
        rows.append(
            {"kind": "item_added", "key": i, "field": "title", "before": None, "after": _plain(a.at[i, "title"])}
        )
    for i in sorted(set(b.index) - set(a.index)):
        rows.append(
            {"kind": "item_removed", "key": i, "field": "title", "before": _plain(b.at[i, "title"]), "after": None}
        )
    cols = sorted(set(b.columns) | set(a.columns))
    common = sorted(set(a.index) & set(b.index))
    for c in cols:
        default = 0.0 if c.startswith(EFFORT_PREFIX) else None  # a skill a backlog lacks: no effort
        vb = b[c].reindex(common) if c in b.columns else pd.Series(default, index=common, dtype=object)
        va = a[c].reindex(common) if c in a.columns else pd.Series(default, index=common, dtype=object)
        for i, x, y in zip(common, vb.tolist(), va.tolist(), strict=True):
            if not _same(x, y):
                rows.append({"kind": "item_field", "key": i, "field": c, "before": _plain(x), "after": _plain(y)})
    return rows


def _item_kpis(run: Run) -> set[str]:
    bl = _table(run, "backlog")
    return set() if bl is None or "kpi" not in bl.columns else {str(k) for k in bl["kpi"].dropna()}


def _kpi_metrics(before: Run, after: Run, b: pd.DataFrame, a: pd.DataFrame) -> list[str]:
    """KPI_METRICS plus the items' own kpis that both baselines carry as numbers."""
    own = sorted((_item_kpis(before) | _item_kpis(after)) - set(KPI_METRICS))
    metrics = [m for m in KPI_METRICS if m in b.columns or m in a.columns]
    return metrics + [
        m
        for m in own
        if m in b.columns
        and m in a.columns
        and pd.api.types.is_numeric_dtype(b[m])
        and pd.api.types.is_numeric_dtype(a[m])
    ]


def _kpi_rows(before: Run, after: Run) -> list[dict]:
    pair = _both(before, after, "kpi_baselines")
    if pair is None:
        return []
    b, a = (_by_key(t, "product") for t in pair)
    rows = []
    for product in sorted(set(b.index) | set(a.index)):
        for m in _kpi_metrics(before, after, b, a):
            x = b.at[product, m] if product in b.index and m in b.columns else None
            y = a.at[product, m] if product in a.index and m in a.columns else None
            if not _same(x, y, rel=KPI_REL_TOL):
                rows.append(
                    {"kind": "kpi_baseline", "key": product, "field": m, "before": _plain(x), "after": _plain(y)}
                )
    return rows


def _override_periods(t: pd.DataFrame) -> list[int]:
    prefix = "capacity_pw_p"
    return [int(c[len(prefix) :]) for c in t.columns if c.startswith(prefix) and c[len(prefix) :].isdigit()]


def _skill_table(t: pd.DataFrame, periods: list[int]) -> pd.DataFrame:
    """Per skill: capacity_pw (sum), capacity_pw_p<N> (sum with overrides), cost_per_pw (capacity-weighted mean)."""
    t = t.copy()
    t["skill"] = t["skill"].astype(str)
    cap = t["capacity_pw"].astype(float)
    out = pd.DataFrame({"capacity_pw": cap.groupby(t["skill"]).sum()})
    for p in periods:
        col = f"capacity_pw_p{p}"
        eff = t[col].astype(float).fillna(cap) if col in t.columns else cap
        out[col] = eff.groupby(t["skill"]).sum()
    if "cost_per_pw" in t.columns:
        weighted = (cap * t["cost_per_pw"].astype(float)).groupby(t["skill"]).sum()
        out["cost_per_pw"] = weighted / out["capacity_pw"].where(out["capacity_pw"] > 0)
    return out


def _team_rows(before: Run, after: Run) -> list[dict]:
    pair = _both(before, after, "teams")
    if pair is None:
        return []
    b, a = pair
    periods = sorted(set(_override_periods(b)) | set(_override_periods(a)))
    sb, sa = _skill_table(b, periods), _skill_table(a, periods)
    rows = []
    for skill in sorted(set(sb.index) | set(sa.index)):
        for c in sorted(set(sb.columns) | set(sa.columns), key=lambda c: (c == "cost_per_pw", c)):
            x = sb.at[skill, c] if skill in sb.index and c in sb.columns else None
            y = sa.at[skill, c] if skill in sa.index and c in sa.columns else None
            if not _same(x, y):
                rows.append({"kind": "skill", "key": skill, "field": c, "before": _plain(x), "after": _plain(y)})
    tb, ta = _by_key(b, "team"), _by_key(a, "team")
    cols = sorted(set(tb.columns) | set(ta.columns))
    for team in sorted(set(tb.index) | set(ta.index)):
        for c in cols:
            x = tb.at[team, c] if team in tb.index and c in tb.columns else None
            y = ta.at[team, c] if team in ta.index and c in ta.columns else None
            if not _same(x, y):
                rows.append({"kind": "team", "key": team, "field": c, "before": _plain(x), "after": _plain(y)})
    return rows


def _flatten(d: Mapping, prefix: str = "") -> dict[str, object]:
    out: dict[str, object] = {}
    for k, v in d.items():
        path = f"{prefix}{k}"
        if isinstance(v, Mapping):  # an empty mapping adds no leaf: {} and a missing key are the same
            out.update(_flatten(v, path + "."))
        else:
            out[path] = v
    return out


def _settings_leaves(t: pd.DataFrame) -> dict[str, object]:
    """The settings as path -> value; budget_per_period as one leaf per period (``budget_per_period[N]``)."""
    row = _first_row(t)
    raw = row.get("settings_json")
    if isinstance(raw, str) and raw.strip():
        try:
            s = json.loads(raw)
        except json.JSONDecodeError as e:
            raise ModelError(
                f"settings table: settings_json is not valid JSON ({e}). "
                "Fix: re-run the pipeline to rewrite the settings."
            ) from e
    else:
        s = {c: row[c] for c in ("company", *SETTINGS_COLUMNS) if c in row}
    budget = s.pop("budget_per_period", None)
    leaves = _flatten(s)
    if budget is not None:
        periods = int(_plain(s.get("periods", row.get("periods"))) or 1)
        per = list(budget) if isinstance(budget, (list, tuple)) else [budget] * periods
        leaves.update({f"budget_per_period[{p}]": v for p, v in enumerate(per, start=1)})
    return leaves


def _settings_kind(path: str) -> str:
    root = path.split(".")[0].split("[")[0]
    if root in BUDGET_FIELDS:
        return "budget"
    return "setting" if root in NOT_A_CAUSE else "rule"


def _settings_rows(before: Run, after: Run) -> list[dict]:
    pair = _both(before, after, "settings")
    if pair is None:
        return []
    b, a = (_settings_leaves(t) for t in pair)
    rows = []
    for path in sorted(set(b) | set(a)):
        x, y = b.get(path), a.get(path)
        if not _same(x, y):
            rows.append(
                {
                    "kind": _settings_kind(path),
                    "key": "settings",
                    "field": path,
                    "before": _plain(x),
                    "after": _plain(y),
                }
            )
    return rows


def _period_sort(field: str) -> tuple:
    """budget_per_period[10] after budget_per_period[9]."""
    if field.endswith("]") and "[" in field:
        name, _, num = field[:-1].partition("[")
        if num.isdigit():
            return (name, int(num))
    return (field, 0)


def _input_frame(before: Run, after: Run) -> pd.DataFrame:
    """input_changes with the raw values (numbers stay numbers) in before/after."""
    rows: list[dict] = []
    pair = _both(before, after, "backlog")
    if pair is not None:
        rows += _backlog_rows(*pair)
    rows += _kpi_rows(before, after)
    rows += _team_rows(before, after)
    rows += _settings_rows(before, after)
    if not rows:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in INPUT_CHANGE_COLUMNS})
    order = {k: n for n, k in enumerate(INPUT_KINDS)}
    rows.sort(key=lambda r: (order[r["kind"]], str(r["key"]), _period_sort(str(r["field"]))))
    return pd.DataFrame(rows, columns=INPUT_CHANGE_COLUMNS).astype(object)


def input_changes(before: Run, after: Run) -> pd.DataFrame:
    """The input differences between two runs (columns INPUT_CHANGE_COLUMNS; see the module docstring).

    kind / key / field: item_added, item_removed (key item_id, field "title"); item_field (key
    item_id, field the backlog column); kpi_baseline (key product, field the metric); skill (key
    skill, field capacity_pw [pw per period], capacity_pw_p<N> or cost_per_pw [EUR]); team (key
    team, field the column); budget, rule, setting (key "settings", field the path, e.g.
    ``quick_wins.min_items``, ``budget_per_period[3]``). before/after are text (lists as
    ``[a, b]``), None when a side has no value. Sorted by kind (INPUT_KINDS order), key and field.
    A table missing in either run is skipped.
    """
    out = _input_frame(before, after)
    for c in ("before", "after"):
        out[c] = pd.Series([_fmt(v) for v in out[c]], index=out.index, dtype=object)
    return out


# ---------------------------------------------------------------- decisions


def _decisions(plan: pd.DataFrame) -> pd.DataFrame:
    """item_id -> funded, start (Int64), value, cost, title."""
    p = _by_key(plan, "item_id")
    funded = p["funded"].fillna(False).astype(bool) if "funded" in p.columns else pd.Series(True, index=p.index)
    start = p["start_period"] if "start_period" in p.columns else pd.Series(pd.NA, index=p.index)
    return pd.DataFrame(
        {
            "funded": funded,
            "start": pd.to_numeric(start, errors="coerce").astype("Int64").where(funded, pd.NA),
            "value": pd.to_numeric(p.get("value", pd.Series(0.0, index=p.index)), errors="coerce").where(funded, 0.0),
            "cost": pd.to_numeric(p.get("cost", pd.Series(0.0, index=p.index)), errors="coerce").where(funded, 0.0),
            "title": p["title"] if "title" in p.columns else pd.Series(None, index=p.index, dtype=object),
        }
    )


def _differs_eur(x: float, y: float) -> bool:
    if not (np.isfinite(x) and np.isfinite(y)):
        return np.isfinite(x) != np.isfinite(y)
    return abs(x - y) > max(ABS_TOL_EUR, REL_TOL * max(abs(x), abs(y)))


def _classify(b: pd.Series | None, a: pd.Series | None) -> str | None:
    fb = b is not None and bool(b["funded"])
    fa = a is not None and bool(a["funded"])
    if fa and not fb:
        return "added"
    if fb and not fa:
        return "removed"
    if not (fa and fb):
        return None
    sb, sa = b["start"], a["start"]
    if (pd.isna(sb) != pd.isna(sa)) or (not pd.isna(sb) and int(sb) != int(sa)):
        return "moved"
    if _differs_eur(b["value"], a["value"]):
        return "value changed"
    if _differs_eur(b["cost"], a["cost"]):
        return "cost changed"
    return None


# ---------------------------------------------------------------- causes


def _candidates(bl: pd.DataFrame | None) -> set[str] | None:
    if bl is None:
        return None
    if "status_category" not in bl.columns:
        return set(bl["item_id"].astype(str))
    return set(bl.loc[bl["status_category"].astype(str) != "Done", "item_id"].astype(str))


def _is_must(row: pd.Series | None) -> tuple[bool, bool]:
    """(mandatory, MoSCoW Must) of a backlog row."""
    if row is None:
        return False, False
    mandatory = _plain(row.get("mandatory"))
    return bool(mandatory) if mandatory is not None else False, str(row.get("moscow")) == "Must"


def _skills_used(rows: Iterable[pd.Series | None]) -> set[str]:
    used = set()
    for r in rows:
        if r is None:
            continue
        for c, v in r.items():
            v = _plain(v)
            if str(c).startswith(EFFORT_PREFIX) and isinstance(v, float) and v > 0:
                used.add(str(c)[len(EFFORT_PREFIX) :])
    return used


@dataclass
class _Context:
    """Everything the causes of one pair of runs need, built once."""

    bl_before: pd.DataFrame | None  # backlog by item_id
    bl_after: pd.DataFrame | None
    cand_before: set[str] | None
    cand_after: set[str] | None
    fields: dict[str, dict[str, tuple[object, object]]]  # item -> column -> (before, after)
    kpi: dict[str, list[tuple[str, object, object]]]  # product -> [(metric, before, after)]
    skills: dict[str, list[str]]  # skill -> sentence parts
    budget: list[str]
    rules: list[str]
    solver: str | None
    gaps: tuple[float, float]
    decision_changed: dict[str, str] = field(default_factory=dict)  # item -> added/removed/moved
    successors: dict[str, set[str]] = field(default_factory=dict)
    group_of: dict[str, set[str]] = field(default_factory=dict)  # item -> its exclusive groups (either run)
    groups: dict[str, set[str]] = field(default_factory=dict)  # group -> items (either run)

    def row(self, which: str, item: str) -> pd.Series | None:
        bl = self.bl_before if which == "before" else self.bl_after
        return bl.loc[item] if bl is not None and item in bl.index else None


def _solver_sentence(before: Run, after: Run) -> tuple[str | None, tuple[float, float]]:
    rb, ra = _first_row(_table(before, "plan_run_info")), _first_row(_table(after, "plan_run_info"))
    gb, ga = _num(rb.get("gap")), _num(ra.get("gap"))
    sb, sa = rb.get("status"), ra.get("status")
    stopped = [s is not None and str(s) != "Optimal" for s in (sb, sa)]
    if not any(stopped):
        return None, (gb, ga)
    which = "in both runs" if all(stopped) else ("in the earlier run" if stopped[0] else "in the later run")
    statuses = {str(s) for s, st in zip((sb, sa), stopped, strict=True) if st}
    how = (
        "at its time limit"
        if statuses == {"TimeLimit"}
        else f"without proving optimality ({', '.join(sorted(statuses))})"
    )
    return f"the solver stopped {how} {which} (gap before {_pct(gb)}, after {_pct(ga)})", (gb, ga)


def _context(before: Run, after: Run, changes: pd.DataFrame) -> _Context:
    blb, bla = _table(before, "backlog"), _table(after, "backlog")
    if blb is None or bla is None:  # item causes need both backlogs
        blb = bla = None
    fields: dict[str, dict] = {}
    kpi: dict[str, list] = {}
    skills: dict[str, list[str]] = {}
    budget, rules = [], []
    for r in changes.itertuples(index=False):
        if r.kind == "item_field":
            fields.setdefault(r.key, {})[r.field] = (r.before, r.after)
        elif r.kind == "kpi_baseline":
            kpi.setdefault(r.key, []).append((r.field, r.before, r.after))
        elif r.kind == "skill":
            unit = "EUR/pw" if r.field == "cost_per_pw" else "pw per period"
            what = "cost" if r.field == "cost_per_pw" else "capacity"
            if r.field.startswith("capacity_pw_p"):
                what = f"capacity in period {r.field[len('capacity_pw_p') :]}"
            skills.setdefault(r.key, []).append(f"{r.key} {what} {_arrow(r.before, r.after)} {unit}")
        elif r.kind == "budget":
            name = "total" if r.field == "budget_total" else f"period {_period_sort(r.field)[1]}"
            budget.append(f"{name} {_arrow(r.before, r.after)} EUR")
        elif r.kind == "rule":
            rules.append(f"{r.field} {_arrow(r.before, r.after)}")
    solver, gaps = _solver_sentence(before, after)
    ctx = _Context(
        bl_before=None if blb is None else _by_key(blb, "item_id"),
        bl_after=None if bla is None else _by_key(bla, "item_id"),
        cand_before=_candidates(blb),
        cand_after=_candidates(bla),
        fields=fields,
        kpi=kpi,
        skills=skills,
        budget=budget,
        rules=rules,
        solver=solver,
        gaps=gaps,
    )
    for bl in (ctx.bl_before, ctx.bl_after):
        if bl is None:
            continue
        if "depends_on" in bl.columns:
            for item, deps in bl["depends_on"].items():
                for d in _plain(deps) or ():
                    ctx.successors.setdefault(str(d), set()).add(item)
        if "exclusive_group" in bl.columns:
            for item, g in bl["exclusive_group"].dropna().items():
                ctx.group_of.setdefault(item, set()).add(str(g))
                ctx.groups.setdefault(str(g), set()).add(item)
    return ctx


def _field_sentence(label: str, changed: dict[str, tuple[object, object]], names: Iterable[str]) -> str | None:
    parts = [f"{n} {_arrow(*changed[n])}" for n in names if n in changed]
    return f"{label}: {_listing(parts)}" if parts else None


def _item_causes(item: str, ctx: _Context) -> list[tuple[str, str]]:
    """Item-level (code, sentence) pairs, in CAUSE_CODES order."""
    out: list[tuple[str, str]] = []
    if ctx.cand_before is None or ctx.cand_after is None:
        return out
    rb, ra = ctx.row("before", item), ctx.row("after", item)
    if item in ctx.cand_after and item not in ctx.cand_before:
        out.append(("new_item", "new in the backlog" if rb is None else "a candidate again (it was Done before)"))
        return out
    if item in ctx.cand_before and item not in ctx.cand_after:
        out.append(
            ("removed_from_backlog", "no longer in the backlog" if ra is None else "Done now, so no longer a candidate")
        )
        return out
    changed = ctx.fields.get(item, {})
    effort = sorted(n for n in changed if n.startswith(EFFORT_PREFIX)) + [n for n in EFFORT_FIELDS if n in changed]
    for code, label, names in (
        ("effort_changed", "effort changed", effort),
        ("value_inputs_changed", "value inputs changed", VALUE_FIELDS),
    ):
        sentence = _field_sentence(label, changed, names)
        if sentence:
            out.append((code, sentence))
    products = {str(r["product"]) for r in (rb, ra) if r is not None and "product" in r.index}
    own_kpi = {str(r["kpi"]) for r in (rb, ra) if r is not None and "kpi" in r.index and _plain(r["kpi"]) is not None}
    moved = [
        f"{p} {m} {_arrow(x, y)}"
        for p in sorted(products)
        for m, x, y in ctx.kpi.get(p, [])
        if m in KPI_METRICS or m in own_kpi
    ]
    if moved:
        out.append(("kpi_baseline_moved", f"KPI baseline moved: {_listing(moved)}"))
    deps = [f"{n} {_arrow(*changed[n])}" for n in DEPENDENCY_FIELDS if n in changed]
    preds = {
        str(d) for r in (rb, ra) if r is not None and "depends_on" in r.index for d in (_plain(r["depends_on"]) or ())
    }
    related = [(p, "predecessor") for p in sorted(preds)]
    related += [(s, "successor") for s in sorted(ctx.successors.get(item, set()) - preds)]
    mates = set().union(*(ctx.groups[g] for g in ctx.group_of.get(item, set()))) - {item}
    related += [(m, "exclusive-group item") for m in sorted(mates)]
    relevant = {
        "predecessor": CHANGE_KINDS[:3],
        "successor": ("added", "moved"),
        "exclusive-group item": CHANGE_KINDS[:2],
    }
    deps += [
        f"{role} {other} {ctx.decision_changed[other]}"
        for other, role in related
        if ctx.decision_changed.get(other) in relevant[role]
    ]
    if deps:
        out.append(("dependency_changed", f"dependencies changed: {_listing(deps)}"))
    sentence = _field_sentence("planning fields changed", changed, ITEM_RULE_FIELDS)
    if sentence:
        out.append(("item_rules_changed", sentence))
    (mb, sb), (ma, sa) = _is_must(rb), _is_must(ra)
    if (mb or sb) != (ma or sa):
        why = "mandatory" if mb != ma else "MoSCoW Must"
        if ma or sa:
            out.append(("must_have_added", f"now a Must-have ({why})"))
        else:
            out.append(("must_have_removed", f"no longer a Must-have ({why})"))
    return out


def _causes(item: str, ctx: _Context) -> tuple[list[str], list[str]]:
    pairs = _item_causes(item, ctx)
    if not any(code == "removed_from_backlog" for code, _ in pairs):
        if ctx.skills:
            used = _skills_used([ctx.row("before", item), ctx.row("after", item)]) & set(ctx.skills)
            if used:
                parts = [p for s in sorted(used) for p in ctx.skills[s]]
                pairs.append(("capacity_changed", f"capacity changed: {_listing(parts)}"))
            elif not pairs:
                parts = [p for s in sorted(ctx.skills) for p in ctx.skills[s]]
                pairs.append(
                    (
                        "capacity_changed",
                        f"capacity changed in skills it does not use ({_listing(parts)}), moving other items",
                    )
                )
        if ctx.budget:
            pairs.append(("budget_changed", f"budget changed: {_listing(ctx.budget)}"))
        if ctx.rules:
            pairs.append(("rule_changed", f"rules changed: {_listing(ctx.rules)}"))
        if ctx.solver:
            pairs.append(("solver_stopped", ctx.solver))
    if not pairs:
        gb, ga = ctx.gaps
        text = "no input change explains this"
        if np.isfinite(gb) or np.isfinite(ga):
            text += (
                f"; both plans are optimal within the solver's gap (before {_pct(gb)}, after {_pct(ga)}),"
                " so equally good plans may differ"
            )
        pairs.append(("unexplained", text))
    return [s for _, s in pairs], [c for c, _ in pairs]


def _empty_item_changes() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "item_id": pd.Series(dtype=object),
            "title": pd.Series(dtype=object),
            "change": pd.Series(dtype=object),
            "start_before": pd.Series(dtype="Int64"),
            "start_after": pd.Series(dtype="Int64"),
            "value_before_eur": pd.Series(dtype=float),
            "value_after_eur": pd.Series(dtype=float),
            "cost_before_eur": pd.Series(dtype=float),
            "cost_after_eur": pd.Series(dtype=float),
            "causes": pd.Series(dtype=object),
            "cause_codes": pd.Series(dtype=object),
        }
    )


def _plan(run: Run, which: str) -> pd.DataFrame:
    t = _table(run, "portfolio_plan")
    if t is None or "item_id" not in t.columns:
        raise ModelError(
            f"the {which} run has no portfolio_plan table (with item_id), so its decisions cannot be compared. "
            "Fix: run the plan (portfolio_plan asset) for that run first."
        )
    return t


def item_changes(before: Run, after: Run) -> pd.DataFrame:
    """One row per item whose decision or numbers changed, with its causes (columns ITEM_CHANGE_COLUMNS).

    change: one of CHANGE_KINDS; start_before/start_after: start period (Int64, NA when not
    funded); value_*_eur and cost_*_eur: the plan's value and cost (EUR; 0 when not funded, NaN
    when not in that run's plan); causes: sentences, never empty; cause_codes: one code of
    CAUSE_CODES per sentence. Sorted by change (CHANGE_KINDS order), then item_id.
    Raises ModelError when either run has no portfolio_plan.
    """
    db, da = _decisions(_plan(before, "earlier")), _decisions(_plan(after, "later"))
    rows = []
    for item in sorted(set(db.index) | set(da.index)):
        b = db.loc[item] if item in db.index else None
        a = da.loc[item] if item in da.index else None
        change = _classify(b, a)
        if change is None:
            continue
        title = next((r["title"] for r in (a, b) if r is not None and _plain(r["title"]) is not None), None)
        rows.append(
            {
                "item_id": item,
                "title": title,
                "change": change,
                "start_before": b["start"] if b is not None else pd.NA,
                "start_after": a["start"] if a is not None else pd.NA,
                "value_before_eur": b["value"] if b is not None else np.nan,
                "value_after_eur": a["value"] if a is not None else np.nan,
                "cost_before_eur": b["cost"] if b is not None else np.nan,
                "cost_after_eur": a["cost"] if a is not None else np.nan,
            }
        )
    if not rows:
        return _empty_item_changes()
    ctx = _context(before, after, _input_frame(before, after))
    ctx.decision_changed = {r["item_id"]: r["change"] for r in rows if r["change"] in ("added", "removed", "moved")}
    if ctx.bl_after is not None or ctx.bl_before is not None:
        for r in rows:  # the backlog's title where the plan has none
            if r["title"] is None:
                src = ctx.row("after", r["item_id"])
                src = src if src is not None else ctx.row("before", r["item_id"])
                r["title"] = None if src is None else src.get("title")
    for r in rows:
        r["causes"], r["cause_codes"] = _causes(r["item_id"], ctx)
    out = pd.DataFrame(rows, columns=ITEM_CHANGE_COLUMNS)
    out["start_before"] = out["start_before"].astype("Int64")
    out["start_after"] = out["start_after"].astype("Int64")
    for c in ("value_before_eur", "value_after_eur", "cost_before_eur", "cost_after_eur"):
        out[c] = out[c].astype(float)
    out["_order"] = out["change"].map({k: n for n, k in enumerate(CHANGE_KINDS)})
    return out.sort_values(["_order", "item_id"], kind="stable").drop(columns="_order").reset_index(drop=True)


# ---------------------------------------------------------------- run level


def _num(v: object) -> float:
    v = _plain(v)
    return float(v) if isinstance(v, (float, bool)) else np.nan


def _plan_totals(run: Run) -> dict[str, float]:
    info = _first_row(_table(run, "plan_run_info"))
    plan = _table(run, "portfolio_plan")
    funded = (
        plan.loc[plan["funded"].fillna(False).astype(bool)] if plan is not None and "funded" in plan.columns else None
    )
    totals = {
        "value": _num(info.get("value_eur")),
        "cost": _num(info.get("cost_eur")),
        "funded": _num(info.get("n_funded")),
    }
    if funded is not None:  # the plan table stands in where run info is missing
        fallback = {"value": funded.get("value"), "cost": funded.get("cost"), "funded": None}
        for k, col in fallback.items():
            if not np.isfinite(totals[k]):
                totals[k] = float(len(funded)) if k == "funded" else (float(col.sum()) if col is not None else np.nan)
    status = info.get("status")
    totals["optimal"] = np.nan if status is None else float(str(status) == "Optimal")
    totals["gap"] = _num(info.get("gap"))
    return totals


def _recommended(t: pd.DataFrame) -> pd.DataFrame:
    t = t.loc[t["plan"].astype(str) == RECOMMENDED_PLAN] if "plan" in t.columns else t
    return _by_key(t, "scenario")


def run_changes(before: Run, after: Run) -> pd.DataFrame:
    """Run-level before/after (columns RUN_CHANGE_COLUMNS; before, after, change are floats).

    Rows, in this order: plan value and plan cost (EUR), funded items (count), solver proved
    optimal (1 = yes, 0 = no) and solver gap (share), from plan_run_info (the funded rows of
    portfolio_plan stand in for missing totals); NPV P10 and P50 of the recommended plan per
    scenario of stress_test_summary (scope = scenario; "baseline" first, then by name); the
    KPI baselines mrr, mau, churn_rate, conversion_rate per product (scope = product). A part
    whose table is missing in either run is skipped; a scenario or product present in one run
    only has NaN on the other side.
    """
    rows: list[tuple[str, str, float, float, str]] = []
    has_plan = [
        _table(r, "plan_run_info") is not None or _table(r, "portfolio_plan") is not None for r in (before, after)
    ]
    if all(has_plan):
        tb, ta = _plan_totals(before), _plan_totals(after)
        for key, metric, unit in (
            ("value", "plan value", "EUR"),
            ("cost", "plan cost", "EUR"),
            ("funded", "funded items", "items"),
            ("optimal", "solver proved optimal", "1 = yes, 0 = no"),
            ("gap", "solver gap", "share"),
        ):
            if np.isfinite(tb[key]) or np.isfinite(ta[key]):
                rows.append((metric, "plan", tb[key], ta[key], unit))
    pair = _both(before, after, "stress_test_summary")
    if pair is not None and all("scenario" in t.columns for t in pair):
        sb, sa = (_recommended(t) for t in pair)
        for scenario in sorted(set(sb.index) | set(sa.index), key=lambda s: (s != "baseline", s)):
            for col, metric in (("npv_p10", "NPV P10"), ("npv_p50", "NPV P50")):
                x = _num(sb.at[scenario, col]) if scenario in sb.index and col in sb.columns else np.nan
                y = _num(sa.at[scenario, col]) if scenario in sa.index and col in sa.columns else np.nan
                rows.append((metric, scenario, x, y, "EUR"))
    pair = _both(before, after, "kpi_baselines")
    if pair is not None and all("product" in t.columns for t in pair):
        kb, ka = (_by_key(t, "product") for t in pair)
        for product in sorted(set(kb.index) | set(ka.index)):
            for metric, unit in RUN_KPI_METRICS.items():
                if metric not in kb.columns and metric not in ka.columns:
                    continue
                x = _num(kb.at[product, metric]) if product in kb.index and metric in kb.columns else np.nan
                y = _num(ka.at[product, metric]) if product in ka.index and metric in ka.columns else np.nan
                rows.append((f"baseline {metric}", product, x, y, unit))
    out = pd.DataFrame(rows, columns=["metric", "scope", "before", "after", "unit"])
    out["before"] = out["before"].astype(float)
    out["after"] = out["after"].astype(float)
    out["change"] = out["after"] - out["before"]
    return out[RUN_CHANGE_COLUMNS].reset_index(drop=True)
