"""Scale benchmark of the portfolio optimiser on random portfolios (items x quarters x skills).

Generates a random, feasible portfolio from a seed (numpy default_rng), solves it with the
optimiser ("weitblick": prepare_input + build_model, greedy warm start, solve) and, with
--reference, with a plain big-M formulation of the same rules coded here in PuLP (no warm
start, same HiGHS settings). Prints one JSON object per formulation:
  {"benchmark": "portfolio", "formulation": "weitblick"|"reference", "items": ..., "status": ...,
   "gap": ..., "build_s": ..., "solve_s": ..., "value": ..., "uplift_vs_greedy": ..., ...}
gap, uplifts and shares are fractions (0.005 = 0.5 %); money in EUR; times in seconds.
status is HiGHS's own reason for stopping ("TimeLimit" when it stopped at the limit).

    .venv/bin/python benchmarks/portfolio.py --items 1000 --quarters 8 --skills 6 --precedence 0.1 \
        --seed 1 --time-limit 30 [--reference] [--gap-rel 0.0] [--no-warm-start | --warm-start lp] \
        [--highs-option mip_heuristic_run_shifting=true ...] [--budget-share 0.45] [--skip-weitblick]

best_bound is HiGHS's bound on the objective (EUR, with the 0.01 EUR-per-period tie-break);
value is the plan's sum of value_eur; uplift_vs_greedy compares value with the best valid
plan of models.portfolio.greedy.baseline_plans (uplift_by_method: each valid method);
valid: models.portfolio.independent_check finds no violation in the plan.

The instance (see :func:`generate`): each item needs 1-3 of the skills (lognormal effort,
2-40 pw per skill) and takes 1-3 quarters; its value by start quarter is a base value
(total effort x 10,000 EUR/pw x a lognormal factor) declining by 3-8 % per quarter of delay;
with probability --precedence it depends on one earlier item; capacity per skill is 50 % of
the skill's total demand spread over the quarters; the budget per quarter is --budget-share
(default 45 %) of the cost of all demand per quarter; one team per skill at 4,000-5,500
EUR/pw; ~2 % mandatory items (deadline: the last quarter) and ~1 % In Progress items (one
quarter), both without predecessors and placed first-fit to make sure they fit together; a
few exclusive groups of two items. The planners' scoring inputs (reach, business value, time criticality, risk
reduction) are noisy views of the value, so the RICE/WSJF/weighted-score greedy plans rank
sensibly but not perfectly.

Why 45 % and not 55 %: with every skill capped at 50 % of its demand, no plan can spend more
than 50 % of the cost of all demand per quarter (spend = sum of effort x rate over the
skills), so a budget of 55 % never binds; 45 % (90 % of what the capacity allows) binds a
little. The output reports max_budget_utilisation and mean_capacity_utilisation of each plan.
"""

from __future__ import annotations

import argparse
import math
import time
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd
import pulp
from _common import emit, parse_option

from models.errors import SolverError
from models.portfolio import build_model, greedy, independent_check, prepare_input, results, solve
from models.portfolio.build import MONEY_SCALE, TIE_BREAK_EUR
from models.portfolio.inputs import PortfolioInput
from models.portfolio.results import budget_table, capacity_table, decisions_table, plan_violations
from models.portfolio.solve import relative_gap
from models.schemas import BACKLOG_DEFAULTS as SCHEMA_BACKLOG_DEFAULTS, SKILLS_DEFAULT, Backlog, Teams, validate
from models.settings import Settings

VALUE_PER_PW_EUR = 10_000.0  # base value of one person-week of effort before the random factor

BACKLOG_DEFAULTS = {**SCHEMA_BACKLOG_DEFAULTS, "product": "Bench"}


# ---------------------------------------------------------------------------------------
# random instance
# ---------------------------------------------------------------------------------------


@dataclass
class Instance:
    """A random portfolio in plain arrays (item index = position)."""

    ids: list[str]
    skills: list[str]
    quarters: int
    effort: np.ndarray  # items x skills, pw
    duration: np.ndarray  # quarters
    base_value: np.ndarray  # EUR when started in quarter 1
    decay: np.ndarray  # value lost per quarter of delay (fraction)
    pred: np.ndarray  # index of the one predecessor, -1 when none
    mandatory: np.ndarray  # bool; deadline = last quarter
    in_progress: np.ndarray  # bool; duration 1, continues in quarter 1
    group: list[str | None]  # exclusive group
    scores: dict[str, np.ndarray]  # planners' scoring inputs (reach, business_value, ...): noisy proxies of value
    capacity: np.ndarray  # pw per quarter and skill
    cost_per_pw: np.ndarray  # EUR per pw and skill
    budget: float  # EUR per quarter
    dropped_mandatory: int = 0
    dropped_in_progress: int = 0

    @property
    def n(self) -> int:
        return len(self.ids)

    @property
    def cost(self) -> np.ndarray:
        return self.effort @ self.cost_per_pw

    def starts(self, i: int) -> list[int]:
        """Start quarters that finish within the plan."""
        return list(range(1, self.quarters - int(self.duration[i]) + 2))

    def value(self, i: int, t: int) -> float:
        return round(float(self.base_value[i] * (1.0 - self.decay[i]) ** (t - 1)), 2)


def skill_names(k: int) -> list[str]:
    return [SKILLS_DEFAULT[s] if s < len(SKILLS_DEFAULT) else f"skill{s + 1}" for s in range(k)]


def generate(
    n: int, quarters: int, n_skills: int, precedence: float, seed: int, budget_share: float = 0.45
) -> Instance:
    """A random portfolio (see the module docstring); the same arguments give the same instance."""
    rng = np.random.default_rng(seed)
    skills = skill_names(n_skills)
    per_item = rng.integers(1, min(3, n_skills) + 1, size=n)
    effort = np.zeros((n, n_skills))
    for i in range(n):
        ks = rng.choice(n_skills, size=per_item[i], replace=False)
        effort[i, ks] = np.clip(rng.lognormal(math.log(8.0), 0.8, size=len(ks)), 2.0, 40.0).round(1)
    duration = rng.integers(1, 4, size=n)
    duration = np.minimum(duration, quarters)
    cost_per_pw = rng.uniform(4000.0, 5500.0, size=n_skills).round(0)
    base_value = (effort.sum(axis=1) * VALUE_PER_PW_EUR * rng.lognormal(0.0, 0.6, size=n)).round(2)
    decay = rng.uniform(0.03, 0.08, size=n)

    perm = rng.permutation(n)
    n_ip, n_mand = round(0.01 * n), round(0.02 * n)
    in_progress = np.zeros(n, dtype=bool)
    in_progress[perm[:n_ip]] = True
    mandatory = np.zeros(n, dtype=bool)
    mandatory[perm[n_ip : n_ip + n_mand]] = True
    duration[in_progress] = 1

    # one earlier item as predecessor with probability `precedence` (acyclic by construction)
    draw, pick = rng.random(n), rng.random(n)
    pred = np.full(n, -1)
    for j in range(1, n):
        if draw[j] < precedence and not (mandatory[j] or in_progress[j]):
            pred[j] = int(pick[j] * j)

    # exclusive groups of two among the free items
    pool = np.flatnonzero(~(mandatory | in_progress))
    n_groups = min(max(2, n // 100), len(pool) // 2)
    chosen = rng.choice(pool, size=2 * n_groups, replace=False) if n_groups else np.array([], dtype=int)
    group: list[str | None] = [None] * n
    for g in range(n_groups):
        group[int(chosen[2 * g])] = group[int(chosen[2 * g + 1])] = f"G{g + 1:04d}"

    capacity = (0.5 * effort.sum(axis=0) / quarters).round(1)
    capacity = np.maximum(capacity, 1.0)
    budget = round(budget_share * float((effort @ cost_per_pw).sum()) / quarters, 0)

    # what a planner scores with (RICE, WSJF, weighted score): noisy views of the value
    noisy = base_value * rng.lognormal(0.0, 0.5, size=n)
    quantile = noisy.argsort().argsort() / max(n - 1, 1)
    scores = {
        "reach": (noisy / 1000.0).round(1),
        "business_value": np.clip(np.round(1 + 9 * quantile), 1, 10),
        "time_criticality": np.clip(np.round(1 + 9 * (decay - 0.03) / 0.05 + rng.normal(0, 2, size=n)), 1, 10),
        "risk_reduction": rng.integers(1, 6, size=n).astype(float),
    }
    inst = Instance(
        ids=[f"P{i + 1:05d}" for i in range(n)],
        skills=skills,
        quarters=quarters,
        effort=effort,
        duration=duration,
        base_value=base_value,
        decay=decay,
        pred=pred,
        mandatory=mandatory,
        in_progress=in_progress,
        group=group,
        scores=scores,
        capacity=capacity,
        cost_per_pw=cost_per_pw,
        budget=budget,
    )
    _make_forced_fit(inst)
    return inst


def _make_forced_fit(inst: Instance) -> None:
    """Place the In Progress items in quarter 1 and the mandatory items first-fit; an item
    that does not fit loses its status, so the instance is feasible by construction."""
    Q = inst.quarters
    used = np.zeros((Q + 1, len(inst.skills)))
    spend = np.zeros(Q + 1)
    cost = inst.cost

    def fits(i: int, t: int) -> bool:
        d = int(inst.duration[i])
        per = inst.effort[i] / d
        return all(
            (used[p] + per <= inst.capacity + 1e-9).all() and spend[p] + cost[i] / d <= inst.budget + 1e-6
            for p in range(t, t + d)
        )

    def place(i: int, t: int) -> None:
        d = int(inst.duration[i])
        for p in range(t, t + d):
            used[p] += inst.effort[i] / d
            spend[p] += cost[i] / d

    for i in np.flatnonzero(inst.in_progress):
        if fits(i, 1):
            place(i, 1)
        else:
            inst.in_progress[i] = False
            inst.dropped_in_progress += 1
    for i in np.flatnonzero(inst.mandatory):
        t = next((t for t in inst.starts(i) if fits(i, t)), None)
        if t is None:
            inst.mandatory[i] = False
            inst.dropped_mandatory += 1
        else:
            place(i, t)


def canonical_tables(
    inst: Instance, time_limit_s: float, gap_rel: float
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, Settings]:
    """Backlog, teams, values (item_id, start_period, value_eur) and settings of an instance."""
    records = []
    for i, item in enumerate(inst.ids):
        rec = {"item_id": item, **BACKLOG_DEFAULTS, "title": f"Item {item}"}
        for k, s in enumerate(inst.skills):
            rec[f"effort_{s}"] = float(inst.effort[i, k])
        rec["duration_periods"] = int(inst.duration[i])
        rec["depends_on"] = [inst.ids[int(inst.pred[i])]] if inst.pred[i] >= 0 else []
        if inst.in_progress[i]:
            rec.update(status="In Development", status_category="In Progress")
        if inst.mandatory[i]:
            rec.update(mandatory=True, deadline_period=inst.quarters, moscow="Must")
        rec["exclusive_group"] = inst.group[i]
        for col, v in inst.scores.items():
            rec[col] = float(v[i])
        records.append(rec)
    backlog = pd.DataFrame(records)
    backlog["deadline_period"] = pd.array(backlog["deadline_period"], dtype="Int64")
    backlog = validate(backlog, Backlog, "benchmark backlog")
    teams = validate(
        pd.DataFrame(
            [
                {
                    "team": f"team_{s}",
                    "skill": s,
                    "headcount": round(float(inst.capacity[k]) / 12.0, 1),
                    "capacity_pw": float(inst.capacity[k]),
                    "cost_per_pw": float(inst.cost_per_pw[k]),
                    "velocity_sp_per_pw": 1.0,
                }
                for k, s in enumerate(inst.skills)
            ]
        ),
        Teams,
        "benchmark teams",
    )
    values = pd.DataFrame(
        [(item, t, inst.value(i, t)) for i, item in enumerate(inst.ids) for t in inst.starts(i)],
        columns=["item_id", "start_period", "value_eur"],
    )
    settings = Settings.model_validate(
        dict(
            company="Benchmark",
            start=date(2027, 1, 1),
            periods=inst.quarters,
            period_months=3,
            budget_per_period=inst.budget,
            in_progress="continue",
            solver={"time_limit_s": time_limit_s, "gap_rel": gap_rel, "seed": 0},
        )
    )
    return backlog, teams, values, settings


# ---------------------------------------------------------------------------------------
# the plain reference formulation (PuLP, big-M precedence)
# ---------------------------------------------------------------------------------------


def build_reference(
    inst: Instance, settings: Settings
) -> tuple[pulp.LpProblem, dict[tuple[int, int], pulp.LpVariable]]:
    """One binary per item and start quarter; one start per item; capacity and budget per
    quarter (effort and cost spread evenly over the duration); total budget when set;
    mandatory items by their deadline; In Progress items continue in quarter 1; at most one
    item per exclusive group; precedence with big-M on S_i = sum_t t x[i,t] and
    f_i = sum_t x[i,t]: f_j <= f_i and S_j >= S_i + d_i - M (1 - f_j), M = quarters + max
    duration. Objective: sum (value - 0.01 EUR x t) x, in thousands of EUR."""
    Q = inst.quarters
    prob = pulp.LpProblem("portfolio_reference", pulp.LpMaximize)
    x: dict[tuple[int, int], pulp.LpVariable] = {}
    for i in range(inst.n):
        for t in inst.starts(i):
            x[i, t] = prob.add_variable(f"x_{i}_{t}", cat="Binary")
    starts = {i: inst.starts(i) for i in range(inst.n)}
    f = {i: pulp.lpSum(x[i, t] for t in starts[i]) for i in range(inst.n)}
    S = {i: pulp.lpSum(t * x[i, t] for t in starts[i]) for i in range(inst.n)}
    for i in range(inst.n):
        if starts[i]:
            prob += (f[i] <= 1, f"one_start_{i}")
    running: dict[int, list[tuple[int, int, int]]] = {p: [] for p in range(1, Q + 1)}
    for i, t in x:
        d = int(inst.duration[i])
        for p in range(t, t + d):
            running[p].append((i, t, d))
    cost = inst.cost
    for p in range(1, Q + 1):
        for k, s in enumerate(inst.skills):
            terms = [(float(inst.effort[i, k]) / d) * x[i, t] for i, t, d in running[p] if inst.effort[i, k] > 0]
            if terms:
                prob += (pulp.lpSum(terms) <= float(inst.capacity[k]), f"cap_{s}_{p}")
        terms = [(MONEY_SCALE * float(cost[i]) / d) * x[i, t] for i, t, d in running[p] if cost[i] > 0]
        if terms:
            prob += (pulp.lpSum(terms) <= MONEY_SCALE * settings.budget(p), f"budget_{p}")
    if settings.budget_total is not None:
        prob += (
            pulp.lpSum(MONEY_SCALE * float(cost[i]) * v for (i, _), v in x.items())
            <= MONEY_SCALE * settings.budget_total,
            "budget_total",
        )
    for i in np.flatnonzero(inst.mandatory):
        d = int(inst.duration[i])
        prob += (pulp.lpSum(x[i, t] for t in starts[i] if t + d - 1 <= Q) == 1, f"must_{i}")
    for i in np.flatnonzero(inst.in_progress):
        prob += (x[i, 1] == 1, f"continue_{i}")
        later = [x[i, t] for t in starts[i] if t >= 2]
        if later:
            prob += (pulp.lpSum(later) == 0, f"wip_stop_{i}")
    groups: dict[str, list[int]] = {}
    for i, g in enumerate(inst.group):
        if g:
            groups.setdefault(g, []).append(i)
    for g, ids in sorted(groups.items()):
        prob += (pulp.lpSum(x[i, t] for i in ids for t in starts[i]) <= 1, f"excl_{g}")
    M = Q + int(inst.duration.max())
    for j in range(inst.n):
        i = int(inst.pred[j])
        if i < 0:
            continue
        prob += (f[j] - f[i] <= 0, f"prec_funded_{i}_{j}")
        prob += (S[j] - S[i] - M * f[j] >= int(inst.duration[i]) - M, f"prec_time_{i}_{j}")
    prob += pulp.lpSum(MONEY_SCALE * (inst.value(i, t) - TIE_BREAK_EUR * t) * v for (i, t), v in x.items())
    return prob, x


# ---------------------------------------------------------------------------------------
# greedy baselines
# ---------------------------------------------------------------------------------------


def baselines(inp: PortfolioInput) -> tuple[dict[str, float], float | None, str | None, float]:
    """Values of the valid greedy plans (method -> value_eur), the best of them and its
    method, and the seconds baseline_plans took."""
    t = time.perf_counter()
    summary, _ = greedy.baseline_plans(inp)
    secs = time.perf_counter() - t
    ok = summary.loc[summary["valid"].astype(bool)]
    by_method = {str(r.method): float(r.value_eur) for r in ok.itertuples()}
    if not by_method:
        return {}, None, None, secs
    best = max(by_method, key=by_method.get)
    return by_method, by_method[best], best, secs


def uplifts(value: float | None, by_method: dict[str, float], best: float | None) -> tuple[float | None, dict]:
    if value is None:
        return None, {}
    up = {m: (value - v) / v if v else None for m, v in by_method.items()}
    return ((value - best) / best if best else None), up


# ---------------------------------------------------------------------------------------
# prototype: a warm start guided by the LP relaxation (--warm-start lp)
# ---------------------------------------------------------------------------------------


def lp_guided_start(model, inp: PortfolioInput) -> dict[str, int] | None:
    """Item -> start of a greedy fill in the order of the LP relaxation: solve the built
    model as an LP (HiGHS, no integrality), rank the items by their funded share sum_t x[i,t]
    in the LP (highest first; ties by value per person-week at the best start), then fill
    the plan in that order with the greedy's rules (models.portfolio.greedy.greedy_starts:
    forced items first, each item at its earliest start that fits)."""
    model.prob.solve(pulp.HiGHS(msg=False, mip=False, random_seed=0))
    share: dict[str, float] = {}
    for (i, _), v in model.x.items():
        share[i] = share.get(i, 0.0) + (v.value() or 0.0)
    per_pw = greedy.ranking_scores(inp, "value_per_effort").fillna(0.0)  # no start or no effort: 0
    order = sorted(inp.items.index, key=lambda i: (-round(share.get(i, 0.0), 6), -per_pw[i], i))
    return greedy.greedy_starts(inp, order)


# ---------------------------------------------------------------------------------------
# runs
# ---------------------------------------------------------------------------------------


def utilisation(decisions: pd.DataFrame, inp: PortfolioInput) -> dict:
    """max_budget_utilisation (spend / budget, highest quarter) and mean_capacity_utilisation
    (used / capacity over skills and quarters) of a plan."""
    return dict(
        max_budget_utilisation=round(float(budget_table(decisions, inp)["utilisation"].max()), 4),
        mean_capacity_utilisation=round(float(capacity_table(decisions, inp)["utilisation"].mean()), 4),
    )


def instance_fields(args, inst: Instance) -> dict:
    return dict(
        items=args.items,
        quarters=args.quarters,
        skills=args.skills,
        precedence=args.precedence,
        seed=args.seed,
        budget_share=args.budget_share,
        n_dependencies=int((inst.pred >= 0).sum()),
        n_mandatory=int(inst.mandatory.sum()),
        n_in_progress=int(inst.in_progress.sum()),
        n_exclusive_groups=len({g for g in inst.group if g}),
        dropped_mandatory=inst.dropped_mandatory,
        dropped_in_progress=inst.dropped_in_progress,
    )


def run_weitblick(args, inst: Instance, tables, options: dict) -> tuple[dict, PortfolioInput, tuple]:
    """The optimiser's row, its input and the greedy baselines (see :func:`baselines`)."""
    backlog, teams, values, settings = tables
    t0 = time.perf_counter()
    inp = prepare_input(backlog, teams, values, settings)
    prepare_s = time.perf_counter() - t0
    model = build_model(inp)
    build_s = time.perf_counter() - t0

    greedy_baselines = baselines(inp)
    by_method, best, best_method, baselines_s = greedy_baselines
    ws, greedy_s, ws_value, ws_valid = None, None, None, None
    if not args.no_warm_start:
        t = time.perf_counter()
        ws = greedy.greedy_warm_start(inp) if args.warm_start == "greedy" else lp_guided_start(model, inp)
        greedy_s = time.perf_counter() - t
        if ws is not None:
            ws_value = float(sum(inp.value_of(i, t) for i, t in ws.items()))
            ws_valid = not plan_violations(inp, ws)

    t = time.perf_counter()
    row: dict = {}
    try:
        stats = solve(model, time_limit_s=args.time_limit, gap_rel=args.gap_rel, warm_start=ws, **options)
    except SolverError as exc:
        solve_s = time.perf_counter() - t
        row.update(
            status=exc.status,
            gap=None,
            value=None,
            objective=None,
            best_bound=None,
            valid=None,
            n_funded=None,
            n_variables=len(model.x),
            n_constraints=len(model.prob.constraints()),
            solver_s=None,
            error=str(exc)[:200],
        )
    else:
        solve_s = time.perf_counter() - t
        res = results(model, stats)
        info = res.run_info.iloc[0]
        row.update(
            status=stats.status,
            gap=stats.gap,
            value=float(info["value_eur"]),
            objective=stats.objective,
            best_bound=stats.best_bound,
            valid=not independent_check(res, inp),
            n_funded=int(info["n_funded"]),
            n_variables=stats.n_variables,
            n_constraints=stats.n_constraints,
            solver_s=round(stats.time_s, 3),
            **utilisation(res.decisions, inp),
        )
    up, up_by = uplifts(row["value"], by_method, best)
    out = dict(
        instance_fields(args, inst),
        formulation="weitblick",
        status=row.pop("status"),
        gap=row.pop("gap"),
        prepare_s=round(prepare_s, 3),
        build_s=round(build_s, 3),
        solve_s=round(solve_s, 3),
        greedy_s=None if greedy_s is None else round(greedy_s, 3),
        baselines_s=round(baselines_s, 3),
        value=row.pop("value"),
        **row,
        uplift_vs_greedy=up,
        uplift_by_method=up_by,
        greedy_best_method=best_method,
        greedy_best_value=best,
        warm_start=ws is not None,
        warm_start_method=None if args.no_warm_start else args.warm_start,
        warm_start_value=ws_value,
        warm_start_valid=ws_valid,
        time_limit_s=args.time_limit,
        gap_rel=args.gap_rel,
        options=options,
    )
    return out, inp, greedy_baselines


def run_reference(args, inst: Instance, settings: Settings, inp: PortfolioInput, greedy_baselines: tuple) -> dict:
    by_method, best, best_method, _ = greedy_baselines
    t0 = time.perf_counter()
    prob, x = build_reference(inst, settings)
    build_s = time.perf_counter() - t0
    solver = pulp.HiGHS(msg=False, timeLimit=args.time_limit, gapRel=args.gap_rel, threads=None, random_seed=0)
    t = time.perf_counter()
    raw = prob.solve(solver)
    solve_s = time.perf_counter() - t
    status = pulp.LpSolveStatus(raw.status).name
    row = dict(value=None, objective=None, best_bound=None, gap=None, valid=None, n_funded=None)
    if raw.has_solution:
        starts = {inst.ids[i]: t for (i, t), v in x.items() if v.value() is not None and v.value() > 0.5}
        dec = decisions_table(inp, starts)
        objective = raw.objective / MONEY_SCALE if raw.objective is not None else None
        bound = raw.best_bound / MONEY_SCALE if raw.best_bound is not None else None
        row.update(
            value=float(dec["value"].sum()),
            objective=objective,
            best_bound=bound,
            gap=relative_gap(objective, bound),
            valid=not independent_check(dec, inp),
            n_funded=len(starts),
            **utilisation(dec, inp),
        )
    up, up_by = uplifts(row["value"], by_method, best)
    return dict(
        instance_fields(args, inst),
        formulation="reference",
        status=status,
        gap=row.pop("gap"),
        build_s=round(build_s, 3),
        solve_s=round(solve_s, 3),
        greedy_s=None,
        value=row.pop("value"),
        **row,
        solver_s=round(float(raw.time), 3),
        uplift_vs_greedy=up,
        uplift_by_method=up_by,
        greedy_best_method=best_method,
        greedy_best_value=best,
        warm_start=False,
        n_variables=len(x),
        n_constraints=len(prob.constraints()),
        time_limit_s=args.time_limit,
        gap_rel=args.gap_rel,
        options={},
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--items", type=int, default=200)
    ap.add_argument("--quarters", type=int, default=8)
    ap.add_argument("--skills", type=int, default=6)
    ap.add_argument("--precedence", type=float, default=0.1, help="probability that an item depends on an earlier one")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument(
        "--budget-share",
        type=float,
        default=0.45,
        help="budget per quarter as a share of the cost of all demand per quarter (capacity allows 0.5)",
    )
    ap.add_argument("--time-limit", type=float, default=60.0, help="seconds per solve")
    ap.add_argument("--gap-rel", type=float, default=0.0, help="relative gap target (0 = prove optimality)")
    ap.add_argument("--reference", action="store_true", help="also solve the plain big-M formulation")
    ap.add_argument("--no-warm-start", action="store_true", help="do not start HiGHS from a plan")
    ap.add_argument(
        "--warm-start",
        choices=("greedy", "lp"),
        default="greedy",
        help="greedy: greedy_warm_start (best valid greedy plan); lp: prototype, a greedy fill in "
        "the order of the LP relaxation",
    )
    ap.add_argument(
        "--highs-option",
        type=parse_option,
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="extra HiGHS option for the weitblick solve (repeatable), e.g. mip_heuristic_effort=0.3",
    )
    ap.add_argument("--skip-weitblick", action="store_true", help="solve only the reference formulation")
    args = ap.parse_args()
    options = dict(args.highs_option)

    inst = generate(args.items, args.quarters, args.skills, args.precedence, args.seed, args.budget_share)
    tables = canonical_tables(inst, args.time_limit, args.gap_rel)
    if args.skip_weitblick:
        inp = prepare_input(*tables)
        greedy_baselines = baselines(inp) if args.reference else None
    else:
        row, inp, greedy_baselines = run_weitblick(args, inst, tables, options)
        emit("portfolio", **row)
    if args.reference:
        emit("portfolio", **run_reference(args, inst, tables[3], inp, greedy_baselines))


if __name__ == "__main__":
    main()
