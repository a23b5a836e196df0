"""Greedy baseline plans: what planners do today, as a yardstick the optimiser must beat.

A planner ranks the candidates by a prioritisation score and fills the plan from the top
of the list, each item at its earliest start that still fits. This module does exactly
that, under the same rules as the MILP (:mod:`models.portfolio.build`):

* :data:`RANKINGS` and :func:`ranking_scores`: the ranking methods ("rice", "wsjf",
  "value_per_effort", "weighted_score"); higher scores first, NaN last, ties by item_id.
* :func:`greedy_starts`: item -> start period for one ranking (the order of item_ids).
* :func:`baseline_plans`: one plan per method, a summary table (value, objective, cost,
  valid, violations) and the decisions tables in the optimiser's format.
* :func:`greedy_warm_start`: the best valid greedy plan, to warm-start the MILP.

The rule, step by step (money in EUR, effort in person-weeks per period, effort and cost
spread evenly over an item's duration d, as in the model):

1. Forced items first. Work in progress that must continue (``inp.must_continue``) starts
   in period 1. Mandatory items, in order of their deadline, start at the earliest allowed
   start (``rule_starts``) that lets them finish by the deadline and fits; their unfunded
   predecessors are forced too, earlier, with the deadline the chain leaves them. A forced
   item that fits nowhere is placed anyway (at its earliest start in the window): the
   plan then shows the overload among its violations instead of silently dropping a
   Must-have.
2. A pre-pass for the min-type rules, in ranking order: small items that can finish by
   ``quick_wins.by_period`` until ``quick_wins.min_items`` are delivered, then items of
   each key result until ``okr_coverage`` is met. Here an item is placed even when its
   objective is not positive (the rule asks for it, as in the MILP).
3. The ranking: each item not yet placed, whose exclusive group is still free and whose
   predecessors are all placed, goes to the earliest of its ``rule_starts`` that is after
   every predecessor has finished, has objective_eur > 0 (an item worth nothing is left
   out) and keeps skill capacity, budget per period, the total budget and the WIP limit
   per team (an item is in flight for team k if ``inp.team_items(k)`` lists it).

What a greedy cannot guarantee: it never moves or drops an item once placed, so it can
miss feasible plans and is usually below the optimum (that gap is the point of the
baseline). Strategic balance is not enforced while filling: its shares depend on the final
total, so neither the minimum nor the maximum share is sought. The pre-pass for quick
wins and OKR coverage is a best effort (it fails when capacity, budget or predecessors
stand in the way). Every plan is therefore checked with
:func:`models.portfolio.results.independent_check`; the summary reports ``valid`` and the
violations as text.

Speed: usage is kept in one array (skills, budget, WIP teams) x periods of remaining
room, and each item's per-period use is precomputed once, so a ranking over 5,000 items,
8 periods and 6 skills takes about 0.1-0.2 s. Building the decisions tables and the
independent check take longer than the greedy itself on such sizes; greedy_warm_start
therefore checks the plans without a table (:func:`models.portfolio.results.plan_violations`;
a greedy plan's starts are allowed ones by construction), best plan first.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from models import scoring
from models.errors import ModelError
from models.names import RANKINGS, STATUS_QUO_PLAN
from models.portfolio.build import exclusive_groups
from models.portfolio.inputs import PortfolioInput
from models.portfolio.results import decisions_table, independent_check, plan_violations
from models.schemas import EFFORT_PREFIX

TOL_PW = 1e-9  # slack on capacity checks (pw per period); independent_check allows 1e-6
TOL_EUR = 1e-6  # slack on budget checks (EUR)


def ranking_scores(inp: PortfolioInput, method: str) -> pd.Series:
    """Score of every candidate under a ranking method (index item_id, higher is better;
    NaN ranks last).

    rice, wsjf: :mod:`models.scoring` on the candidates. weighted_score: the weighted score
    with ``settings.scoring_weights`` (scoring.DEFAULT_WEIGHTS when none are set, as in
    priority_scores), min-max normalised over the candidates.
    value_per_effort: the best objective_eur over the item's allowed starts (EUR) per
    person-week of total effort; NaN for an item without an allowed start or effort.
    """
    items = inp.items
    if method == "rice":
        s = scoring.rice(items)
    elif method == "wsjf":
        s = scoring.wsjf(items)
    elif method == "weighted_score":
        weights = dict(inp.settings.scoring_weights) or scoring.DEFAULT_WEIGHTS
        s = scoring.weighted_score(items, weights)
    elif method == "value_per_effort":
        best = [
            max((inp.objective_of(i, int(t)) for t in ts), default=np.nan) for i, ts in items["rule_starts"].items()
        ]
        effort = items["total_effort_pw"].astype(float).to_numpy()
        with np.errstate(divide="ignore", invalid="ignore"):
            score = np.where(effort > 0, np.asarray(best, dtype=float) / np.where(effort > 0, effort, 1.0), np.nan)
        s = pd.Series(score, index=items.index)
    else:
        raise ModelError(
            f"unknown ranking method {method!r}; use one of {', '.join(RANKINGS)}. Fix: pick a method from that list."
        )
    out = pd.Series(np.asarray(s, dtype=float), index=pd.Index(items.index.astype(str), name="item_id"), name=method)
    return out


def ranking_order(scores: pd.Series) -> list[str]:
    """item_ids from the highest score to the lowest; NaN last, ties by item_id."""
    return [str(i) for i in scoring.rank_desc(scores).sort_values(kind="stable").index]


@dataclass
class _Context:
    """Per-item arrays of one input, built once and shared by every ranking."""

    ids: list[str]
    pos: dict[str, int]
    dur: np.ndarray  # periods
    cost: np.ndarray  # EUR
    use: np.ndarray  # (n, rows): per-period use of each resource row
    need: np.ndarray  # (n, rows): room required per row (-inf where the item uses none)
    room: np.ndarray  # (rows, T + 2): capacity per row and period (column p = period p)
    budget_total: float  # math.inf when unset
    objective: np.ndarray  # (n, T + 1): objective_eur by start (NaN: no such start)
    rule_starts: list[list[int]]
    preds: list[list[int]]
    succs: list[list[int]]
    group: list[int]  # exclusive group index, -1 when none
    n_groups: int
    mandatory: np.ndarray
    deadline: np.ndarray
    small: np.ndarray
    okr: list[str]
    must_continue: list[int]


def _context(inp: PortfolioInput) -> _Context:
    items, s = inp.items, inp.settings
    ids = [str(i) for i in items.index]
    pos = {i: k for k, i in enumerate(ids)}
    n, T = len(ids), s.periods
    dur = items["duration_periods"].astype(int).to_numpy()
    cost = items["cost_eur"].astype(float).to_numpy()

    skills = inp.skills
    cols: list[np.ndarray] = []
    tols: list[float] = []
    caps: list[list[float]] = []
    for skill in skills:
        e = items[EFFORT_PREFIX + skill].fillna(0.0).astype(float).to_numpy()
        cols.append(e / dur)
        tols.append(TOL_PW)
        caps.append([inp.capacity_of(skill, p) for p in range(1, T + 1)])
    cols.append(cost / dur)
    tols.append(TOL_EUR)
    caps.append([s.budget(p) for p in range(1, T + 1)])
    for team in inp.team_skills:
        limit = s.wip_limit.limit(team)
        if limit is None:
            continue
        mine = np.zeros(n)
        members = [pos[i] for i in inp.team_items(team)]
        mine[members] = 1.0
        cols.append(mine)
        tols.append(1e-9)
        caps.append([float(limit)] * T)
    use = np.column_stack(cols) if cols else np.zeros((n, 0))
    need = np.where(use > 0, use - np.asarray(tols), -np.inf)
    room = np.zeros((len(cols), T + 2))
    room[:, 1 : T + 1] = np.asarray(caps, dtype=float).reshape(len(cols), T)

    objective = np.full((n, T + 1), np.nan)
    v = inp.values
    r = np.fromiter((pos.get(str(i), -1) for i in v["item_id"]), dtype=int, count=len(v))
    c = v["start_period"].astype(int).to_numpy()
    ok = (r >= 0) & (c >= 1) & (c <= T)
    objective[r[ok], c[ok]] = v["objective_eur"].astype(float).to_numpy()[ok]

    preds = [[pos[p] for p in ps] for ps in items["predecessors"]]
    succs: list[list[int]] = [[] for _ in range(n)]
    for j, ps in enumerate(preds):
        for p in ps:
            succs[p].append(j)
    groups = exclusive_groups(inp)
    group = [-1] * n
    for g, (_, members) in enumerate(groups.items()):
        for i in members:
            group[pos[i]] = g
    return _Context(
        ids=ids,
        pos=pos,
        dur=dur,
        cost=cost,
        use=use,
        need=need,
        room=room,
        budget_total=math.inf if s.budget_total is None else float(s.budget_total),
        objective=objective,
        rule_starts=[sorted(int(t) for t in ts) for ts in items["rule_starts"]],
        preds=preds,
        succs=succs,
        group=group,
        n_groups=len(groups),
        mandatory=items["mandatory"].astype(bool).to_numpy(),
        deadline=items["deadline"].astype(int).to_numpy(),
        small=items["small"].astype(bool).to_numpy(),
        okr=[str(k) for k in items["okr"]],
        must_continue=[pos[i] for i in inp.must_continue],
    )


class _Plan:
    """A plan being filled: remaining room per resource row and period, and the starts."""

    def __init__(self, ctx: _Context):
        self.ctx = ctx
        self.room = ctx.room.copy()
        self.budget_left = ctx.budget_total
        self.start: dict[int, int] = {}
        self.group_used = [False] * ctx.n_groups

    def ready(self, k: int) -> int | None:
        """First period after every predecessor finishes; None if one is not placed."""
        r = 1
        for p in self.ctx.preds[k]:
            t = self.start.get(p)
            if t is None:
                return None
            r = max(r, t + int(self.ctx.dur[p]))
        return r

    def fits(self, k: int, t: int) -> bool:
        ctx = self.ctx
        d = int(ctx.dur[k])
        if ctx.cost[k] > self.budget_left + TOL_EUR:
            return False
        return bool((self.room[:, t : t + d] >= ctx.need[k][:, None]).all())

    def place(self, k: int, t: int) -> None:
        ctx = self.ctx
        d = int(ctx.dur[k])
        self.room[:, t : t + d] -= ctx.use[k][:, None]
        self.budget_left -= ctx.cost[k]
        self.start[k] = t
        if ctx.group[k] >= 0:
            self.group_used[ctx.group[k]] = True

    def try_place(self, k: int, latest_finish: int | None = None, need_value: bool = True) -> bool:
        """Place item k at its earliest allowed start that fits (see the module docstring);
        False when there is none."""
        ctx = self.ctx
        if k in self.start or (ctx.group[k] >= 0 and self.group_used[ctx.group[k]]):
            return False
        ready = self.ready(k)
        if ready is None:
            return False
        d = int(ctx.dur[k])
        for t in ctx.rule_starts[k]:
            if t < ready:
                continue
            if latest_finish is not None and t + d - 1 > latest_finish:
                break
            if need_value and not ctx.objective[k, t] > 0:
                continue
            if self.fits(k, t):
                self.place(k, t)
                return True
        return False

    def force(self, k: int, latest_finish: int) -> None:
        """Place a forced item: the earliest start that fits and finishes by latest_finish,
        else the earliest start in that window regardless of room (violations show)."""
        if k in self.start:
            return
        ctx = self.ctx
        if self.try_place(k, latest_finish, need_value=False):
            return
        starts = ctx.rule_starts[k]
        if not starts:
            return  # prepare_input rejects such forced items; nothing to place
        ready = self.ready(k) or 1
        d = int(ctx.dur[k])
        window = [t for t in starts if t >= ready and t + d - 1 <= latest_finish]
        later = [t for t in starts if t >= ready]
        self.place(k, (window or later or starts)[0])


def _forced_deadlines(ctx: _Context) -> dict[int, int]:
    """Mandatory items and their ancestors -> the latest period each must finish by so
    that every mandatory item meets its deadline."""
    latest: dict[int, int] = {}
    stack = [(k, int(ctx.deadline[k])) for k in np.flatnonzero(ctx.mandatory)]
    while stack:
        k, f = stack.pop()
        if k in latest and latest[k] <= f:
            continue
        latest[k] = f
        start_by = f - int(ctx.dur[k]) + 1
        stack.extend((p, start_by - 1) for p in ctx.preds[k])
    return latest


def _fill(ctx: _Context, order: list[int], settings) -> dict[str, int]:
    plan = _Plan(ctx)
    T = settings.periods
    # 1. forced items: work in progress at period 1, then Must-haves (with their
    #    predecessors) by deadline; ancestors have strictly earlier deadlines, so they
    #    come first.
    for k in ctx.must_continue:
        if k not in plan.start and 1 in ctx.rule_starts[k]:
            plan.place(k, 1)
    latest = _forced_deadlines(ctx)
    for k in sorted(latest, key=lambda k: (latest[k], ctx.ids[k])):
        plan.force(k, min(latest[k], T))
    # 2. pre-pass for the min-type rules
    q = settings.quick_wins
    if q.min_items > 0:

        def wins() -> int:
            return sum(1 for k, t in plan.start.items() if ctx.small[k] and t + ctx.dur[k] - 1 <= q.by_period)

        got = wins()
        for k in order:
            if got >= q.min_items:
                break
            if ctx.small[k] and plan.try_place(k, latest_finish=q.by_period, need_value=False):
                got += 1
    cov = settings.okr_coverage
    by_kr: dict[str, list[int]] = {}
    for k in order:
        if ctx.okr[k]:
            by_kr.setdefault(ctx.okr[k], []).append(k)
    for kr in sorted(by_kr):
        need = cov.required(kr)
        got = sum(1 for k in plan.start if ctx.okr[k] == kr)
        for k in by_kr[kr]:
            if got >= need:
                break
            if plan.try_place(k, need_value=False):
                got += 1
    # 3. the ranking
    for k in order:
        plan.try_place(k)
    return {ctx.ids[k]: int(t) for k, t in sorted(plan.start.items())}


def _positions(ctx: _Context, order: list[str]) -> list[int]:
    unknown = [i for i in order if i not in ctx.pos]
    if unknown:
        shown = ", ".join(map(str, unknown[:5])) + (" ..." if len(unknown) > 5 else "")
        raise ModelError(
            f"the order names item(s) that are not candidates: {shown}. "
            "Fix: order only candidates (backlog items that are not Done), by their item_id."
        )
    seen: set[int] = set()
    out = []
    for i in order:
        k = ctx.pos[i]
        if k not in seen:
            seen.add(k)
            out.append(k)
    return out


def greedy_starts(inp: PortfolioInput, order: list[str]) -> dict[str, int]:
    """Start period of every item a greedy fill in ``order`` (item_ids, best first) funds;
    items missing from ``order`` are only placed when forced (see the module docstring)."""
    ctx = _context(inp)
    return _fill(ctx, _positions(ctx, list(order)), inp.settings)


def baseline_plans(
    inp: PortfolioInput, methods: tuple[str, ...] | list[str] = RANKINGS
) -> tuple[pd.DataFrame, dict[str, pd.DataFrame]]:
    """One greedy plan per ranking method.

    Returns the summary (one row per method: method, n_funded, value_eur (sum of value_eur
    at the chosen starts), objective_eur (sum of objective_eur, what the optimiser
    maximises), cost_eur, valid (no violation found by independent_check) and violations
    ("; "-joined, "" when valid)) and method -> decisions table
    (:func:`models.portfolio.results.decisions_table` with ``ranking=method``, the
    optimiser's format: where the optimiser says "capacity or budget go to higher-value
    items", a greedy plan says "... went to higher-ranked items (ranking <method>)", or that
    the item is worth nothing when its objective is not positive at any start).
    """
    ctx = _context(inp)
    rows, plans = [], {}
    for method in methods:
        starts = _fill(ctx, _positions(ctx, ranking_order(ranking_scores(inp, method))), inp.settings)
        decisions = decisions_table(inp, starts, ranking=method)
        rows.append(_summary_row(inp, method, starts, decisions))
        plans[method] = decisions
    summary = pd.DataFrame(
        rows, columns=["method", "n_funded", "value_eur", "objective_eur", "cost_eur", "valid", "violations"]
    )
    summary["valid"] = summary["valid"].astype(bool)
    return summary, plans


def status_quo_plan(inp: PortfolioInput) -> tuple[dict, pd.DataFrame]:
    """The counterfactual every plan is measured against: no new work; the items already In Progress
    continue in period 1 (as ``in_progress: continue`` has them), nothing else starts.

    Returns (summary row in :func:`baseline_plans`' columns with method ``status_quo``, decisions in
    the optimiser's format, reasons "running work continues" and "no new work in the status quo").
    Its violations (e.g. Must-haves left undone) are listed like a greedy plan's: the status quo is a
    yardstick, not a plan the rules allow."""
    running = inp.items.index[inp.items["status_category"].astype(str) == "In Progress"]
    starts = {str(i): 1 for i in running if 1 in set(inp.items.at[i, "rule_starts"])}
    decisions = decisions_table(inp, starts)
    decisions["reason"] = [
        "running work continues (status quo)" if f else "no new work in the status quo" for f in decisions["funded"]
    ]
    return _summary_row(inp, STATUS_QUO_PLAN, starts, decisions), decisions


def _summary_row(inp: PortfolioInput, method: str, starts: dict[str, int], decisions: pd.DataFrame) -> dict:
    """A plan's row of :func:`baseline_plans`' summary; its violations from the independent check."""
    problems = independent_check(decisions, inp)
    return {
        "method": method,
        "n_funded": len(starts),
        "value_eur": inp.plan_value(starts),
        "objective_eur": inp.plan_objective(starts),
        "cost_eur": float(sum(float(inp.items.at[i, "cost_eur"]) for i in starts)),
        "valid": not problems,
        "violations": "; ".join(problems),
    }


def greedy_warm_start(inp: PortfolioInput) -> dict[str, int] | None:
    """The valid greedy plan (item -> start) with the highest objective over RANKINGS, for
    warm-starting the MILP; None when no ranking gives a valid plan. A ranking that cannot
    be computed (e.g. scoring_weights naming an unknown criterion) is skipped. Validity is
    :func:`models.portfolio.results.plan_violations` (each start is one of the item's
    rule_starts by construction)."""
    ctx = _context(inp)
    plans: list[tuple[float, int, dict[str, int]]] = []
    for k, method in enumerate(RANKINGS):
        try:
            order = ranking_order(ranking_scores(inp, method))
        except ModelError:
            continue
        starts = _fill(ctx, _positions(ctx, order), inp.settings)
        plans.append((inp.plan_objective(starts), -k, starts))
    # check the best plan first: usually it is valid and one check (the slow part) suffices
    for _, _, starts in sorted(plans, key=lambda p: p[:2], reverse=True):
        if not plan_violations(inp, starts):
            return starts
    return None


__all__ = ["RANKINGS", "baseline_plans", "greedy_starts", "greedy_warm_start", "ranking_order", "ranking_scores"]
