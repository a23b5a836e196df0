"""The team's current roadmap as one more plan: valued, checked against the planning rules and
compared with the recommendation.

A roadmap is item -> start period (and, where the team wrote one, a finish period), read by
:mod:`pipelines.sources.roadmap`. This module turns it into what the optimiser and the greedy
baselines produce, so it can be stress-tested beside them (as the plan ``current``):

* :func:`roadmap_plan`: (decisions, summary, violations) of a roadmap on a
  :class:`~models.portfolio.inputs.PortfolioInput`. ``decisions`` is the optimiser's format
  (:func:`models.portfolio.results.decisions_table`: one row per candidate); ``summary`` is
  one row with the columns of :func:`models.portfolio.greedy.baseline_plans`'s summary
  (``method`` is the plan's name) plus the counts below; ``violations`` one row per broken
  rule, with where and by how much (:data:`VIOLATION_COLUMNS`).
* :func:`value_roadmap`: the same from the canonical tables (backlog, teams, value_by_start,
  settings and the reader's roadmap table); an empty roadmap gives empty tables.
* :func:`compare_plans`: the items only one of two plans funds, and why.

Placing. An item is funded at its roadmap start t when t is one of its ``starts`` (it
finishes within the plan and value_by_start has a row for t). Its value is then
``inp.value_of(i, t)``, the number the optimiser maximises, so the roadmap's value and the
recommended plan's are comparable (a roadmap that is the optimiser's own plan has exactly
its value). An item the model cannot place (it starts before period 1 or after the last
period, or runs past the plan's end) is not funded in the decisions and is reported as an
``outside_plan`` violation; its work is then counted neither in capacity and budget nor in
value, like every item the decisions leave out. The precedence and deadline checks use its
roadmap start all the same.

Rules (one ``rule`` name each, the figures in ``amount`` and ``unit``; money in EUR, effort
in person-weeks (pw), time in planning periods; the same tolerances as
:func:`models.portfolio.results.plan_violations`):

* ``outside_plan``: periods beyond the plan; ``allowed_start``: an in-progress item that starts
  after period 1 (running work continues in period 1 or stops; it does not restart later).
* ``capacity`` (skill, period: pw over capacity), ``budget`` (period: EUR over budget),
  ``budget_total`` (EUR over the total budget); effort and cost spread evenly over the
  duration, as in the model.
* ``precedence``: a predecessor missing from the roadmap (1 item), or finishing in or after
  the period its successor starts (periods of overlap).
* ``must_have``: a Must-have not in the roadmap; ``deadline``: a Must-have finishing after
  its deadline (periods late); ``in_progress``: running work that must continue and is not in
  the roadmap.
* ``exclusive``: items of an exclusive group beyond the first; ``balance``: a theme's share of
  the planned spend outside its bounds (percentage points); ``okr``: funded items a key result
  lacks; ``quick_wins``: quick wins lacking; ``wip``: items in flight beyond a team's limit.
* ``finish`` (kind ``data``, not a rule): the roadmap's finish differs from its start plus
  the item's duration (signed periods: negative = the roadmap promises it earlier than the
  estimate allows). The estimate is kept; the difference is reported, never silently mended.

``valid`` in the summary: no violation of kind ``rule``. When every roadmap item is placed,
the rules broken are those :func:`models.portfolio.results.independent_check` finds on the
decisions, now with their figures (a test pins that, rule by rule; the check words an
in-progress item restarted later in three lines, this module in one ``allowed_start`` row).
"""

from __future__ import annotations

import pandas as pd

from models.errors import ModelError
from models.portfolio.build import balance_themes, exclusive_groups
from models.portfolio.inputs import PortfolioInput, prepare_input
from models.portfolio.results import TOL_EUR, TOL_PW, decisions_table
from models.settings import Settings

PLAN_NAME = "current"  # the roadmap's name among the plans (stress test, comparisons)
VIOLATION_COLUMNS = ["rule", "kind", "item_id", "where", "period", "period_label", "amount", "unit", "message"]
SUMMARY_COLUMNS = [
    "method",
    "n_funded",
    "value_eur",
    "objective_eur",
    "cost_eur",
    "valid",
    "violations",
    "n_items",
    "n_outside_plan",
    "n_violations",
]
COMPARE_COLUMNS = [
    "item_id",
    "title",
    "change",
    "recommended_start",
    "current_start",
    "recommended_value_eur",
    "current_value_eur",
    "reason",
]


def period_unit(settings: Settings, n: float = 2) -> str:
    """The word for ``n`` planning periods: quarter(s), month(s) or period(s)."""
    word = {3: "quarter", 1: "month"}.get(settings.period_months, "period")
    return word if abs(n) == 1 else word + "s"


def eur_text(x: float) -> str:
    """Money for a message: 84.3 kEUR, 1.25 M EUR, 512 EUR."""
    if abs(x) >= 1e6:
        return f"{x / 1e6:,.2f} M EUR"
    if abs(x) >= 1e3:
        return f"{x / 1e3:,.1f} kEUR"
    return f"{x:,.0f} EUR"


class _Found:
    """Collects violations as rows of VIOLATION_COLUMNS."""

    def __init__(self, settings: Settings):
        self.s = settings
        self.rows: list[dict] = []

    def add(
        self,
        rule: str,
        message: str,
        amount: float,
        unit: str,
        item: str | None = None,
        where: str = "",
        period: int | None = None,
        kind: str = "rule",
    ) -> None:
        self.rows.append(
            {
                "rule": rule,
                "kind": kind,
                "item_id": item,
                "where": where or (item or ""),
                "period": period,
                "period_label": "" if period is None else self.s.period_label(period),
                "amount": float(amount),
                "unit": unit,
                "message": message,
            }
        )

    def table(self) -> pd.DataFrame:
        out = pd.DataFrame(self.rows, columns=VIOLATION_COLUMNS)
        out["period"] = pd.array(out["period"], dtype="Int64")
        out["amount"] = out["amount"].astype(float)
        out["item_id"] = out["item_id"].astype(object)
        return out


def _check_items(inp: PortfolioInput, starts: dict[str, int], finishes: dict[str, int] | None) -> None:
    unknown = [i for i in starts if i not in inp.items.index]
    unknown += [i for i in (finishes or {}) if i not in starts and i not in unknown]
    if unknown:
        shown = ", ".join(map(str, unknown[:5])) + (" ..." if len(unknown) > 5 else "")
        raise ModelError(
            f"the roadmap names item(s) that are not candidates: {shown}. "
            "Fix: give a start only to backlog items that are not Done (pipelines.sources.roadmap drops Done items)."
        )


def placed_starts(inp: PortfolioInput, starts: dict[str, int]) -> dict[str, int]:
    """The roadmap's items the model can place: item -> start for starts that are among the
    item's ``starts`` (finish within the plan, with a value_by_start row)."""
    items = inp.items
    return {i: int(t) for i, t in starts.items() if int(t) in items.at[i, "starts"]}


def roadmap_violations(
    inp: PortfolioInput, starts: dict[str, int], finishes: dict[str, int] | None = None
) -> pd.DataFrame:
    """Every rule the roadmap ``starts`` (candidate item_id -> start period) breaks, one row
    each (:data:`VIOLATION_COLUMNS`; the rules and units are in the module docstring).
    ``finishes``: the finish periods the roadmap states, where it states one."""
    _check_items(inp, starts, finishes)
    s, items = inp.settings, inp.items
    T = s.periods
    found = _Found(s)
    dur = items["duration_periods"].astype(int)
    cost = items["cost_eur"].astype(float)
    unit = period_unit(s)
    placed = placed_starts(inp, starts)
    last = s.period_label(T)

    # the roadmap's own rows
    for i, t in starts.items():
        t, d = int(t), int(dur[i])
        f = t + d - 1
        if i not in placed:
            if t < 1:
                n = 1 - t
                msg = f"{i} starts {n} {period_unit(s, n)} before the plan's first period {s.period_label(1)}"
            elif t > T:
                n = f - T
                msg = f"{i} starts in {s.period_label(t)}, after the plan's last period {last}"
            elif f > T:
                n = f - T
                msg = (
                    f"{i} starts in {s.period_label(t)} and takes {d} {period_unit(s, d)}: it finishes in "
                    f"{s.period_label(f)}, {n} {period_unit(s, n)} after the plan ends ({last})"
                )
            else:
                n = 0
                msg = f"{i} has no value for a start in {s.period_label(t)} (value_by_start has no row for it)"
            found.add(
                "outside_plan",
                msg + " (not valued, not counted in capacity or budget)",
                n,
                unit,
                i,
                period=t,
            )
        elif t not in items.at[i, "rule_starts"]:
            found.add(
                "allowed_start",
                f"in-progress item {i} starts in {s.period_label(t)}: running work continues in "
                f"{s.period_label(1)} or stops, it does not restart later",
                t - 1,
                unit,
                i,
                period=t,
            )
        given = (finishes or {}).get(i)
        if given is not None and not pd.isna(given) and int(given) != f:
            diff = int(given) - f
            found.add(
                "finish",
                f"the roadmap has {i} finish in {s.period_label(int(given))}, but it takes {d} "
                f"{period_unit(s, d)} from {s.period_label(t)} and finishes in {s.period_label(f)} "
                f"({abs(diff)} {period_unit(s, diff)} "
                + ("earlier than its duration allows)" if diff < 0 else "later than its duration needs)"),
                diff,
                unit,
                i,
                period=int(given),
                kind="data",
            )

    # capacity and budget per period, total budget
    used: dict[tuple[str, int], float] = {}
    spend: dict[int, float] = {}
    for i, t in placed.items():
        d = int(dur[i])
        for p in range(t, t + d):
            for skill in inp.skills:
                e = inp.effort(i, skill)
                if e:
                    used[skill, p] = used.get((skill, p), 0.0) + e / d
            spend[p] = spend.get(p, 0.0) + float(cost[i]) / d
    for (skill, p), u in sorted(used.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        cap = inp.capacity_of(skill, p)
        if u > cap + TOL_PW * max(1.0, cap):
            share = f"{u / cap:.0%} of {cap:,.1f} pw" if cap > 0 else "no capacity at all"
            found.add(
                "capacity",
                f"{skill} over capacity in {s.period_label(p)} by {u - cap:,.1f} pw ({u:,.1f} pw planned, {share})",
                u - cap,
                "pw",
                where=skill,
                period=p,
            )
    for p, sp in sorted(spend.items()):
        b = s.budget(p)
        if sp > b + TOL_EUR * max(1.0, b):
            share = f", {sp / b:.0%}" if b > 0 else ""
            found.add(
                "budget",
                f"budget of {s.period_label(p)} exceeded by {eur_text(sp - b)} "
                f"({eur_text(sp)} planned against {eur_text(b)}{share})",
                sp - b,
                "EUR",
                where="budget",
                period=p,
            )
    total = float(sum(cost[i] for i in placed))
    if s.budget_total is not None and total > s.budget_total + TOL_EUR * max(1.0, s.budget_total):
        found.add(
            "budget_total",
            f"total budget exceeded by {eur_text(total - s.budget_total)} ({eur_text(total)} planned against "
            f"{eur_text(s.budget_total)})",
            total - s.budget_total,
            "EUR",
            where="budget",
        )

    # precedence (on the roadmap's starts, placed or not)
    for j, t in starts.items():
        t = int(t)
        for i in items.at[j, "predecessors"]:
            if i not in starts:
                found.add(
                    "precedence",
                    f"{j} needs {i}, which is not in the roadmap",
                    1,
                    "items",
                    j,
                    where=f"{j} after {i}",
                    period=t,
                )
                continue
            fi = int(starts[i]) + int(dur[i]) - 1
            if fi >= t:
                n = fi - t + 1
                found.add(
                    "precedence",
                    f"{j} starts in {s.period_label(t)} before its predecessor {i} finishes ({s.period_label(fi)}): "
                    f"{n} {period_unit(s, n)} too early",
                    n,
                    unit,
                    j,
                    where=f"{j} after {i}",
                    period=t,
                )

    # Must-haves and running work
    for i in items.index[items["mandatory"].astype(bool)]:
        due = int(items.at[i, "deadline"])
        if i not in starts:
            found.add(
                "must_have",
                f"Must-have {i} is not in the roadmap (due {s.period_label(due)})",
                1,
                "items",
                i,
                period=due,
            )
            continue
        f = int(starts[i]) + int(dur[i]) - 1
        if f > due:
            n = f - due
            found.add(
                "deadline",
                f"deadline of {i} ({s.period_label(due)}) missed by {n} {period_unit(s, n)} "
                f"(finishes {s.period_label(f)})",
                n,
                unit,
                i,
                period=due,
            )
    for i in inp.must_continue:
        if i not in starts:
            found.add(
                "in_progress",
                f"in-progress item {i} is not in the roadmap: running work continues in {s.period_label(1)} "
                "(settings in_progress: continue)",
                1,
                "items",
                i,
                period=1,
            )

    # the strategic rules
    for g, members in exclusive_groups(inp).items():
        chosen = [i for i in members if i in placed]
        if len(chosen) > 1:
            found.add(
                "exclusive",
                f"exclusive group {g} has {len(chosen)} items in the roadmap ({', '.join(chosen)}); at most one may be",
                len(chosen) - 1,
                "items",
                where=str(g),
            )
    themes = balance_themes(inp) if s.strategic_balance else {}
    for key, bounds in s.strategic_balance.items():
        theme = key.strip().lower()
        if total <= 0:
            continue
        share = sum(cost[i] for i in themes[theme] if i in placed) / total
        tol = TOL_EUR * max(1.0, total) / total
        if share < bounds.min - tol:
            off, side, bound = bounds.min - share, "below its minimum", bounds.min
        elif share > bounds.max + tol:
            off, side, bound = share - bounds.max, "above its maximum", bounds.max
        else:
            continue
        found.add(
            "balance",
            f"theme {theme} has {share:.1%} of the planned spend, {off * 100:.1f} pp {side} {bound:.0%}",
            off * 100,
            "pp",
            where=theme,
        )
    for kr, ids in sorted(inp.okr_items().items()):
        need = s.okr_coverage.required(kr)
        got = sum(1 for i in ids if i in placed)
        if got < need:
            found.add(
                "okr",
                f"key result {kr} has {got} item(s) in the roadmap, {need} required",
                need - got,
                "items",
                where=kr,
            )
    q = s.quick_wins
    if q.min_items > 0:
        wins = sum(1 for i, t in placed.items() if bool(items.at[i, "small"]) and t + dur[i] - 1 <= q.by_period)
        if wins < q.min_items:
            found.add(
                "quick_wins",
                f"{wins} quick win(s) delivered by {s.period_label(q.by_period)}, {q.min_items} required",
                q.min_items - wins,
                "items",
                where="quick wins",
                period=q.by_period,
            )
    for team in inp.team_skills:
        limit = s.wip_limit.limit(team)
        if limit is None:
            continue
        mine = [i for i in inp.team_items(team) if i in placed]
        for p in inp.periods:
            n = sum(1 for i in mine if placed[i] <= p < placed[i] + dur[i])
            if n > limit:
                found.add(
                    "wip",
                    f"team {team} has {n} items in flight in {s.period_label(p)}, "
                    f"{n - limit} over its WIP limit {limit}",
                    n - limit,
                    "items",
                    where=team,
                    period=p,
                )
    return found.table()


def _roadmap_reasons(inp: PortfolioInput, decisions: pd.DataFrame, starts: dict[str, int]) -> list[str]:
    s = inp.settings
    dur = inp.items["duration_periods"].astype(int)
    out = []
    for i, funded, reason in zip(decisions["item_id"], decisions["funded"], decisions["reason"], strict=True):
        if funded:
            out.append(f"in the roadmap: {reason}")
        elif i in starts:
            t = int(starts[i])
            out.append(
                f"in the roadmap from {s.period_label(t)} to {s.period_label(t + int(dur[i]) - 1)}, "
                "outside the plan: not valued"
            )
        else:
            out.append("not in the roadmap")
    return out


def roadmap_plan(
    inp: PortfolioInput, starts: dict[str, int], finishes: dict[str, int] | None = None, name: str = PLAN_NAME
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Value and check a roadmap (candidate item_id -> start period; ``finishes``: the finish
    periods it states, optional).

    Returns (decisions, summary, violations): decisions in the optimiser's format with the
    roadmap's reasons ("in the roadmap: ...", "not in the roadmap", "... outside the plan");
    summary one row (method = ``name``, n_funded, value_eur, objective_eur, cost_eur, valid,
    violations ("; "-joined messages of the rule violations), n_items (roadmap entries),
    n_outside_plan, n_violations (all rows of violations, data included)); violations from
    :func:`roadmap_violations`. Raises ModelError for items that are not candidates."""
    starts = {str(i): int(t) for i, t in starts.items()}
    violations = roadmap_violations(inp, starts, finishes)
    placed = placed_starts(inp, starts)
    decisions = decisions_table(inp, placed)
    decisions["reason"] = _roadmap_reasons(inp, decisions, starts)
    rules = violations.loc[violations["kind"] == "rule"]
    summary = _summary_table(
        [
            {
                "method": name,
                "n_funded": len(placed),
                "value_eur": inp.plan_value(placed),
                "objective_eur": inp.plan_objective(placed),
                "cost_eur": float(sum(float(inp.items.at[i, "cost_eur"]) for i in placed)),
                "valid": rules.empty,
                "violations": "; ".join(rules["message"]),
                "n_items": len(starts),
                "n_outside_plan": int((violations["rule"] == "outside_plan").sum()),
                "n_violations": len(violations),
            }
        ]
    )
    return decisions, summary, violations


def _summary_table(rows: list[dict]) -> pd.DataFrame:
    """The summary rows with SUMMARY_COLUMNS and their types (also without rows)."""
    out = pd.DataFrame(rows, columns=SUMMARY_COLUMNS)
    types = {"valid": bool, "method": object, "violations": object}
    for col in SUMMARY_COLUMNS:
        out[col] = out[col].astype(types.get(col, float if col.endswith("_eur") else "int64"))
    return out


def roadmap_dicts(roadmap: pd.DataFrame) -> tuple[dict[str, int], dict[str, int]]:
    """(starts, finishes) of a roadmap table (item_id, start_period, finish_period nullable)."""
    starts = {str(i): int(t) for i, t in zip(roadmap["item_id"], roadmap["start_period"], strict=True)}
    finishes = {}
    if "finish_period" in roadmap.columns:
        finishes = {
            str(i): int(f) for i, f in zip(roadmap["item_id"], roadmap["finish_period"], strict=True) if not pd.isna(f)
        }
    return starts, finishes


def empty_decisions() -> pd.DataFrame:
    """A decisions table without rows, with the optimiser's columns and types."""
    out = pd.DataFrame(
        {
            "item_id": pd.Series(dtype=str),
            "funded": pd.Series(dtype=bool),
            "start_period": pd.Series(dtype="Int64"),
            "finish_period": pd.Series(dtype="Int64"),
            "value": pd.Series(dtype=float),
            "cost": pd.Series(dtype=float),
            "item_cost_eur": pd.Series(dtype=float),
            "best_value_eur": pd.Series(dtype=float),
            "product": pd.Series(dtype=str),
            "title": pd.Series(dtype=str),
            "theme": pd.Series(dtype=str),
            "status_category": pd.Series(dtype=str),
            "mandatory": pd.Series(dtype=bool),
            "reason": pd.Series(dtype=str),
        }
    )
    return out


def value_roadmap(
    backlog: pd.DataFrame,
    teams: pd.DataFrame,
    values: pd.DataFrame,
    settings: Settings,
    roadmap: pd.DataFrame,
    name: str = PLAN_NAME,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """:func:`roadmap_plan` from the canonical tables (``values``: value_by_start; ``roadmap``:
    item_id, start_period, finish_period as :mod:`pipelines.sources.roadmap` reads it). A
    roadmap without rows (the workspace has none) gives three tables without rows, with the
    same columns."""
    if roadmap.empty:
        return empty_decisions(), _summary_table([]), _Found(settings).table()
    starts, finishes = roadmap_dicts(roadmap)
    return roadmap_plan(prepare_input(backlog, teams, values, settings), starts, finishes, name)


def compare_plans(
    recommended: pd.DataFrame,
    current: pd.DataFrame,
    violations: pd.DataFrame | None = None,
    moved: bool = False,
) -> pd.DataFrame:
    """The items only one of two plans funds, and why (:data:`COMPARE_COLUMNS`).

    ``recommended`` and ``current``: decisions tables (the optimiser's format; ``current`` is
    usually :func:`roadmap_plan`'s); ``violations``: the current plan's
    (:func:`roadmap_violations`), for its reasons. change is "recommended only" or "current
    only" (and "moved", both fund it at different starts, when ``moved``). reason: for an item
    only the recommended plan funds, its ``reason`` there (and what the roadmap's checks say
    about the item, e.g. that the roadmap has it outside the plan); for an item only the
    current plan funds, the rules it breaks there, else "not in the recommended plan: <the
    recommended plan's reason>". Rows: recommended only first, then current only, then moved,
    each in the recommended table's order; values in EUR (0 where a plan does not fund it). A
    ``current`` table without rows (the workspace has no roadmap) gives a table without rows:
    there is nothing to compare, which is not a roadmap that funds nothing."""
    if current.empty:
        return _compare_table([])
    rec = recommended.set_index("item_id")
    cur = current.set_index("item_id")
    by_item: dict[str, list[str]] = {}
    if violations is not None and len(violations):
        for i, msg in zip(violations["item_id"], violations["message"], strict=True):
            if isinstance(i, str):
                by_item.setdefault(i, []).append(msg)
    ids = list(dict.fromkeys([*rec.index, *cur.index]))

    def funded(table: pd.DataFrame, i: str) -> bool:
        return i in table.index and bool(table.at[i, "funded"])

    def start(table: pd.DataFrame, i: str):
        return table.at[i, "start_period"] if funded(table, i) else pd.NA

    def value(table: pd.DataFrame, i: str) -> float:
        return float(table.at[i, "value"]) if funded(table, i) else 0.0

    groups: dict[str, list[dict]] = {"recommended only": [], "current only": [], "moved": []}
    for i in ids:
        in_rec, in_cur = funded(rec, i), funded(cur, i)
        rec_reason = str(rec.at[i, "reason"]) if i in rec.index else "not a candidate of the recommended plan"
        if in_rec and not in_cur:
            change = "recommended only"
            reason = rec_reason + "".join(f" (roadmap: {m})" for m in by_item.get(i, []))
        elif in_cur and not in_rec:
            change = "current only"
            reason = "; ".join(by_item[i]) if i in by_item else f"not in the recommended plan: {rec_reason}"
        elif moved and in_rec and in_cur and int(rec.at[i, "start_period"]) != int(cur.at[i, "start_period"]):
            change = "moved"
            reason = f"recommended: {rec_reason}" + "".join(f"; {m}" for m in by_item.get(i, []))
        else:
            continue
        title = rec.at[i, "title"] if i in rec.index else cur.at[i, "title"]
        groups[change].append(
            {
                "item_id": i,
                "title": title,
                "change": change,
                "recommended_start": start(rec, i),
                "current_start": start(cur, i),
                "recommended_value_eur": value(rec, i),
                "current_value_eur": value(cur, i),
                "reason": reason,
            }
        )
    return _compare_table([r for rows in groups.values() for r in rows])


def _compare_table(rows: list[dict]) -> pd.DataFrame:
    out = pd.DataFrame(rows, columns=COMPARE_COLUMNS)
    for col in ("recommended_start", "current_start"):
        out[col] = pd.array(out[col], dtype="Int64")
    for col in ("recommended_value_eur", "current_value_eur"):
        out[col] = out[col].astype(float)
    return out


__all__ = [
    "COMPARE_COLUMNS",
    "PLAN_NAME",
    "SUMMARY_COLUMNS",
    "VIOLATION_COLUMNS",
    "compare_plans",
    "empty_decisions",
    "period_unit",
    "placed_starts",
    "roadmap_dicts",
    "roadmap_plan",
    "roadmap_violations",
    "value_roadmap",
]
