"""Stage 4 of the portfolio optimiser: turn the solution into tables, and check any plan
independently of the solver.

Tables (money in EUR, effort in person-weeks):

* decisions (:class:`models.schemas.PlanDecisions` plus context): one row per candidate.
* capacity (:class:`models.schemas.CapacityUsage` plus period_label): per skill and period.
* budget: per period, budget_eur, spend_eur and utilisation.
* run_info: one row describing the solve (solver, status, gap, time, sizes, seed).

:func:`independent_check` recomputes capacity, budget, precedence and the other rules
from the decisions table alone, so a wrong model or a mis-read solution shows up as a
list of violations; :func:`plan_violations` checks the rules on a plan given as
item -> start period (no table needed).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from models.portfolio.build import PortfolioModel, balance_themes, exclusive_groups
from models.portfolio.inputs import PortfolioInput
from models.portfolio.solve import SolveStats
from models.schemas import CapacityUsage, PlanDecisions, validate

TOL_PW = 1e-6
TOL_EUR = 1e-4


@dataclass
class PortfolioResult:
    """The optimised plan as tables."""

    decisions: pd.DataFrame
    capacity: pd.DataFrame
    budget: pd.DataFrame
    run_info: pd.DataFrame

    @property
    def funded(self) -> list[str]:
        """item_ids of the funded items."""
        return self.decisions.loc[self.decisions["funded"], "item_id"].tolist()

    @property
    def status(self) -> str:
        return str(self.run_info["status"].iloc[0])


def _reason(
    inp: PortfolioInput,
    item: str,
    start: int | None,
    starts: dict[str, int],
    row: dict | None = None,
    groups: dict[str, list[str]] | None = None,
    ranking: str | None = None,
) -> str:
    """Why an item is in or out of the plan ``starts``; ``ranking``: the ranking method of a
    greedy plan, which leaves items out for a higher-ranked item (not a higher-value one)
    and leaves out items worth nothing net of cost and risk."""
    items, s = inp.items, inp.settings
    row = items.loc[item] if row is None else row
    groups = exclusive_groups(inp) if groups is None else groups
    if start is not None:
        if bool(row["mandatory"]):
            return f"mandatory, due {s.period_label(int(row['deadline']))}"
        if row["status_category"] == "In Progress":
            return "in progress: continued"
        return f"worth {inp.value_of(item, start):,.0f} EUR for {float(row['cost_eur']):,.0f} EUR"
    if not row["rule_starts"]:
        return f"cannot finish within the plan ({int(row['duration_periods'])} periods)"
    missing = [p for p in row["predecessors"] if p not in starts]
    if missing:
        return f"needs {', '.join(missing)}, which is not funded"
    if row["predecessors"]:
        dur = items["duration_periods"]
        ready = max(starts[p] + int(dur[p]) for p in row["predecessors"])
        if ready > max(row["rule_starts"]):
            last = max(row["predecessors"], key=lambda p: starts[p] + int(dur[p]))
            finish = s.period_label(starts[last] + int(dur[last]) - 1)
            return f"its predecessor {last} finishes in {finish}, too late to start it within the plan"
    for g, ids in groups.items():
        if item in ids:
            chosen = [i for i in ids if i in starts]
            if chosen:
                return f"alternative {chosen[0]} chosen (group {g})"
    best = max(inp.value_of(item, t) for t in row["rule_starts"])
    if best <= 0:
        return "no value within the value horizon"
    prefix = "in progress: stopped, " if row["status_category"] == "In Progress" else ""
    if ranking is None:
        return prefix + "capacity or budget go to higher-value items"
    if max(inp.objective_of(item, int(t)) for t in row["rule_starts"]) <= 0:
        return prefix + "worth nothing net of cost and risk at any start, left out"
    return prefix + f"capacity, budget or a WIP limit went to higher-ranked items (ranking {ranking})"


def decisions_table(inp: PortfolioInput, starts: dict[str, int], ranking: str | None = None) -> pd.DataFrame:
    """One row per candidate: item_id, funded, start_period, finish_period, value (EUR, 0
    if not funded; a replaced item's less what it loses to the funded item replacing it), cost
    (EUR, 0 if not funded), item_cost_eur, best_value_eur (value at its best allowed start),
    product, title, theme, status_category, mandatory, reason.
    ``ranking``: the ranking method when ``starts`` is a greedy plan (the reasons then say
    so, see :func:`_reason`)."""
    items = inp.items
    groups = exclusive_groups(inp)
    lost = inp.replacement_losses(starts)  # a replaced item is worth its benefit until its successor lands
    rows = []
    for i, row in zip(items.index, items.to_dict("records"), strict=True):
        t = starts.get(i)
        d = int(row["duration_periods"])
        allowed = list(row["rule_starts"])
        rows.append(
            {
                "item_id": i,
                "funded": t is not None,
                "start_period": t,
                "finish_period": None if t is None else t + d - 1,
                "value": 0.0 if t is None else inp.value_of(i, t) - lost.get(i, 0.0),
                "cost": 0.0 if t is None else float(row["cost_eur"]),
                "item_cost_eur": float(row["cost_eur"]),
                "best_value_eur": max((inp.value_of(i, s) for s in allowed), default=0.0),
                "product": row["product"],
                "title": row["title"],
                "theme": row["theme"],
                "status_category": row["status_category"],
                "mandatory": bool(row["mandatory"]),
                "reason": _reason(inp, i, t, starts, row, groups, ranking),
            }
        )
    out = pd.DataFrame(
        rows,
        columns=[
            "item_id",
            "funded",
            "start_period",
            "finish_period",
            "value",
            "cost",
            "item_cost_eur",
            "best_value_eur",
            "product",
            "title",
            "theme",
            "status_category",
            "mandatory",
            "reason",
        ],
    )
    out["start_period"] = pd.array(out["start_period"], dtype="Int64")
    out["finish_period"] = pd.array(out["finish_period"], dtype="Int64")
    out["funded"] = out["funded"].astype(bool)
    return validate(out, PlanDecisions, "plan decisions")


def _funded_rows(decisions: pd.DataFrame) -> pd.DataFrame:
    return decisions.loc[decisions["funded"].astype(bool)]


def usage_by_period(decisions: pd.DataFrame, inp: PortfolioInput) -> tuple[dict, dict]:
    """Effort (pw) per (skill, period) and spend (EUR) per period of the funded items,
    spread evenly over each item's duration; computed from the decisions alone."""
    used: dict[tuple[str, int], float] = {}
    spend: dict[int, float] = {}
    items = inp.items
    for r in _funded_rows(decisions).itertuples():
        i, t = r.item_id, int(r.start_period)
        d = int(items.at[i, "duration_periods"])
        for p in range(t, t + d):
            for skill in inp.skills:
                used[skill, p] = used.get((skill, p), 0.0) + inp.effort(i, skill) / d
            spend[p] = spend.get(p, 0.0) + float(items.at[i, "cost_eur"]) / d
    return used, spend


def capacity_table(decisions: pd.DataFrame, inp: PortfolioInput) -> pd.DataFrame:
    """skill, period, period_label, capacity_pw, used_pw, utilisation (used / capacity)."""
    used, _ = usage_by_period(decisions, inp)
    cap = inp.capacity.copy()
    cap["period_label"] = cap["period"].map(inp.settings.period_label)
    cap["used_pw"] = [used.get((s, int(p)), 0.0) for s, p in zip(cap["skill"], cap["period"], strict=True)]
    cap["utilisation"] = np.where(
        cap["capacity_pw"] > 0, cap["used_pw"] / cap["capacity_pw"].where(cap["capacity_pw"] > 0, 1.0), 0.0
    )
    cap = cap[["skill", "period", "period_label", "capacity_pw", "used_pw", "utilisation"]]
    return validate(cap, CapacityUsage, "capacity usage")


def budget_table(decisions: pd.DataFrame, inp: PortfolioInput) -> pd.DataFrame:
    """period, period_label, budget_eur, spend_eur, utilisation (spend / budget)."""
    _, spend = usage_by_period(decisions, inp)
    s = inp.settings
    rows = []
    for p in inp.periods:
        b, sp = s.budget(p), spend.get(p, 0.0)
        rows.append(
            {
                "period": p,
                "period_label": s.period_label(p),
                "budget_eur": b,
                "spend_eur": sp,
                "utilisation": sp / b if b > 0 else (0.0 if sp == 0 else np.inf),
            }
        )
    return pd.DataFrame(rows, columns=["period", "period_label", "budget_eur", "spend_eur", "utilisation"])


def run_info_table(model: PortfolioModel, stats: SolveStats, decisions: pd.DataFrame) -> pd.DataFrame:
    """One row: solver, status, has_solution, objective, best_bound, gap, time_s,
    time_limit_s, gap_rel_target, threads, n_variables, n_constraints, n_items, n_funded,
    value_eur, cost_eur, tie_break_eur, seed."""
    row = {
        "solver": stats.solver,
        "status": stats.status,
        "has_solution": stats.has_solution,
        "objective": stats.objective,
        "best_bound": stats.best_bound,
        "gap": stats.gap,
        "time_s": stats.time_s,
        "time_limit_s": stats.time_limit_s,
        "gap_rel_target": stats.gap_rel_target,
        "threads": stats.threads,
        "n_variables": stats.n_variables,
        "n_constraints": stats.n_constraints,
        "n_items": len(model.inp.items),
        "n_funded": int(decisions["funded"].sum()),
        "value_eur": float(decisions["value"].sum()),
        "cost_eur": float(decisions["cost"].sum()),
        "tie_break_eur": model.tie_break_eur,
        "seed": stats.seed,
    }
    out = pd.DataFrame([row])
    for col in ("objective", "best_bound", "gap"):
        out[col] = out[col].astype(float)
    return out


def results(model: PortfolioModel, stats: SolveStats) -> PortfolioResult:
    """The plan tables of a solved model."""
    inp = model.inp
    decisions = decisions_table(inp, model.chosen_starts())
    return PortfolioResult(
        decisions=decisions,
        capacity=capacity_table(decisions, inp),
        budget=budget_table(decisions, inp),
        run_info=run_info_table(model, stats, decisions),
    )


def independent_check(result: PortfolioResult | pd.DataFrame, inp: PortfolioInput) -> list[str]:
    """Violations of the planning rules by ``result.decisions`` (or a decisions table read
    back from the store) (empty list: none).

    Uses only the decisions and the inputs (never solver variables): every candidate has
    exactly one row; funded items start at an allowed period and finish within the plan
    and their finish_period matches their duration; skill capacity and budget (per period
    and total) hold with effort and cost spread evenly over the duration; every funded
    item's candidate predecessors are funded and finish before it starts; mandatory items
    are funded and finish by their deadline; In Progress items start in period 1 (and are
    funded unless settings.in_progress is "may_stop"); exclusive groups fund at most one
    item; strategic balance, OKR coverage, quick wins and WIP limits hold; value and cost
    match the inputs.
    """
    d = result.decisions if isinstance(result, PortfolioResult) else result
    s = inp.settings
    items = inp.items
    out: list[str] = []
    ids = d["item_id"].astype(str).tolist()
    if sorted(ids) != sorted(items.index) or len(set(ids)) != len(ids):
        extra = sorted(set(ids) - set(items.index))
        missing = sorted(set(items.index) - set(ids))
        out.append(f"decisions do not list each candidate once (missing {missing}, unknown {extra})")
        d = d.loc[d["item_id"].isin(items.index)].drop_duplicates("item_id")
    funded = _funded_rows(d)
    start = {r.item_id: int(r.start_period) for r in funded.itertuples() if not pd.isna(r.start_period)}
    for r in d.itertuples():
        i = r.item_id
        if r.funded and pd.isna(r.start_period):
            out.append(f"{i} is funded without a start period")
            continue
        if not r.funded:
            if not pd.isna(r.start_period) or abs(float(r.value)) > TOL_EUR or abs(float(r.cost)) > TOL_EUR:
                out.append(f"{i} is not funded but has a start period, value or cost")
            continue
        t = start[i]
        dur = int(items.at[i, "duration_periods"])
        if t not in items.at[i, "rule_starts"]:
            out.append(f"{i} starts in period {t}, which is not an allowed start")
        if t + dur - 1 > s.periods:
            out.append(f"{i} finishes in period {t + dur - 1}, after the last period {s.periods}")
        if pd.isna(r.finish_period) or int(r.finish_period) != t + dur - 1:
            out.append(f"{i} has finish_period {r.finish_period}, expected {t + dur - 1}")
        if t in items.at[i, "starts"] and abs(float(r.value) - inp.value_of(i, t)) > TOL_EUR * max(
            1.0, abs(inp.value_of(i, t))
        ):
            out.append(f"{i} has value {r.value}, expected {inp.value_of(i, t)}")
        if abs(float(r.cost) - float(items.at[i, "cost_eur"])) > TOL_EUR * max(1.0, float(items.at[i, "cost_eur"])):
            out.append(f"{i} has cost {r.cost}, expected {items.at[i, 'cost_eur']}")
        if items.at[i, "status_category"] == "In Progress" and t != 1:
            out.append(f"{i} is in progress but starts in period {t}")
    return out + plan_violations(inp, start)


def plan_violations(inp: PortfolioInput, start: dict[str, int]) -> list[str]:
    """Violations of the rules on the plan as a whole by ``start`` (candidate item_id ->
    start period of every funded item; empty list: none): skill capacity and budget (per
    period and total) with effort and cost spread evenly over the duration, precedence,
    Must-haves by their deadline, exclusive groups, work in progress, strategic balance,
    OKR coverage, quick wins and WIP limits. The checks of a decisions table's own rows
    (allowed starts, finish within the plan, value and cost) are
    :func:`independent_check`'s, which ends with these."""
    s = inp.settings
    items = inp.items
    out: list[str] = []
    plan = pd.DataFrame({"item_id": list(start), "funded": True, "start_period": list(start.values())})
    used, spend = usage_by_period(plan, inp)
    for (skill, p), u in sorted(used.items()):
        cap = inp.capacity_of(skill, p)
        if u > cap + TOL_PW * max(1.0, cap):
            out.append(f"capacity of {skill} in period {p} exceeded: {u:.4f} > {cap:.4f} pw")
    for p, sp in sorted(spend.items()):
        if p > s.periods:
            continue
        if sp > s.budget(p) + TOL_EUR * max(1.0, s.budget(p)):
            out.append(f"budget of period {p} exceeded: {sp:,.2f} > {s.budget(p):,.2f} EUR")
    if s.budget_total is not None:
        total = sum(float(items.at[i, "cost_eur"]) for i in start)
        if total > s.budget_total + TOL_EUR * max(1.0, s.budget_total):
            out.append(f"total budget exceeded: {total:,.2f} > {s.budget_total:,.2f} EUR")
    for j, t in start.items():
        for i in items.at[j, "predecessors"]:
            if i not in start:
                out.append(f"{j} is funded but its predecessor {i} is not")
            elif start[i] + int(items.at[i, "duration_periods"]) - 1 >= t:
                out.append(
                    f"{j} starts in period {t} before its predecessor {i} finishes "
                    f"(period {start[i] + int(items.at[i, 'duration_periods']) - 1})"
                )
    for i in items.index[items["mandatory"].astype(bool)]:
        if i not in start:
            out.append(f"mandatory item {i} is not funded")
        elif start[i] + int(items.at[i, "duration_periods"]) - 1 > int(items.at[i, "deadline"]):
            out.append(f"mandatory item {i} finishes after its deadline period {int(items.at[i, 'deadline'])}")
    for g, members in exclusive_groups(inp).items():
        chosen = [i for i in members if i in start]
        if len(chosen) > 1:
            out.append(f"exclusive group {g} funds more than one item: {', '.join(chosen)}")
    return out + _strategic_violations(inp, start)


def _strategic_violations(inp: PortfolioInput, start: dict[str, int]) -> list[str]:
    """Violations of the rules a strategy team sets: work in progress continues, strategic
    balance, OKR coverage, quick wins and WIP limits (start: item -> start period)."""
    s, items = inp.settings, inp.items
    dur = items["duration_periods"].astype(int)
    out = []
    for i in inp.must_continue:
        if start.get(i) != 1:
            out.append(f"in-progress item {i} does not continue in period 1")
    cost = items["cost_eur"].astype(float)
    total = sum(cost[i] for i in start)
    for key, b in s.strategic_balance.items():
        theme = key.strip().lower()
        spend = sum(cost[i] for i in balance_themes(inp)[theme] if i in start)
        share = spend / total if total > 0 else 0.0
        if total > 0 and (
            spend < b.min * total - TOL_EUR * max(1.0, total) or spend > b.max * total + TOL_EUR * max(1.0, total)
        ):
            out.append(f"theme {theme} has {share:.1%} of the planned spend, outside {b.min:.0%}-{b.max:.0%}")
    for kr, ids in sorted(inp.okr_items().items()):
        need = s.okr_coverage.required(kr)
        got = sum(1 for i in ids if i in start)
        if got < need:
            out.append(f"key result {kr} has {got} funded item(s), fewer than the {need} required")
    q = s.quick_wins
    if q.min_items > 0:
        wins = [i for i in start if bool(items.at[i, "small"]) and start[i] + dur[i] - 1 <= q.by_period]
        if len(wins) < q.min_items:
            out.append(
                f"{len(wins)} quick win(s) delivered by period {q.by_period}, fewer than the {q.min_items} required"
            )
    for team in inp.team_skills:
        n = s.wip_limit.limit(team)
        if n is None:
            continue
        mine = [i for i in inp.team_items(team) if i in start]
        for p in inp.periods:
            flying = [i for i in mine if start[i] <= p < start[i] + dur[i]]
            if len(flying) > n:
                out.append(f"team {team} has {len(flying)} items in flight in period {p}, more than its WIP limit {n}")
    return out
