"""Stage 3 of the portfolio optimiser: solve the model and say honestly how it went.

The status is the solver's own reason for stopping ("Optimal", "TimeLimit",
"Infeasible", ...), never upgraded: a solve that stops at its time limit is reported as
"TimeLimit" with its proven gap, even when the plan it returns happens to be optimal.
The gap is |objective - best bound| / |objective| (0 when both are 0; differences below
1e-9 of the objective, floating-point noise, count as 0).

HiGHS (through highspy) is the default solver; ``settings.solver.name == "cbc"`` uses
PuLP's COIN_CMD when a CBC binary is available and falls back to HiGHS otherwise (the
run info records which solver ran).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import networkx as nx
import pulp

from models.errors import SolverError
from models.portfolio.build import MONEY_SCALE, PortfolioModel, exclusive_groups
from models.portfolio.inputs import PortfolioInput

NO_SOLUTION_MESSAGES = {
    "TimeLimit": "no plan was found within the time limit of {limit:g} s; raise solver.time_limit_s",
}


@dataclass(frozen=True)
class SolveStats:
    """How one solve went. Money in EUR (objective and best_bound converted back from the
    model's thousands of EUR), times in seconds, gap as a fraction. ``raw`` is PuLP's own
    record of the solve (in model units)."""

    solver: str
    status: str
    has_solution: bool
    objective: float | None
    best_bound: float | None
    gap: float | None
    time_s: float
    time_limit_s: float
    gap_rel_target: float
    threads: int | None
    seed: int
    n_variables: int
    n_constraints: int
    raw: pulp.LpSolveStats | None = None


def relative_gap(objective: float | None, bound: float | None) -> float | None:
    """|objective - bound| / |objective|; None when either is unknown."""
    if objective is None or bound is None or not math.isfinite(objective) or not math.isfinite(bound):
        return None
    diff = abs(objective - bound)
    if diff <= 1e-9 * max(1.0, abs(objective)):
        return 0.0
    return diff / abs(objective) if objective != 0 else math.inf


def make_solver(name: str, time_limit_s: float, gap_rel: float, threads: int | None, seed: int,
                msg: bool) -> tuple[pulp.LpSolver, str]:
    """The PuLP solver object for ``name`` ("highs" or "cbc") and the name to record."""
    if name == "cbc":
        cbc = pulp.COIN_CMD(msg=msg, timeLimit=time_limit_s, gapRel=gap_rel, threads=threads,
                            randomSeed=seed)
        if cbc.available():
            return cbc, "CBC"
        label = "HiGHS (cbc requested, not installed)"
    else:
        label = "HiGHS"
    solver = pulp.HiGHS(msg=msg, timeLimit=time_limit_s, gapRel=gap_rel, threads=threads, random_seed=seed)
    return solver, label


def solve(model: PortfolioModel, time_limit_s: float | None = None, gap_rel: float | None = None,
          threads: int | None = None, msg: bool = False) -> SolveStats:
    """Solve the model; defaults come from ``settings.solver``.

    Returns the stats when the solver hands back a plan (status "Optimal", "TimeLimit",
    ...). Raises SolverError (with the solver's status) when it does not: an infeasible
    model gets a diagnosis in the planner's words (see :func:`diagnose_infeasibility`).
    """
    cfg = model.inp.settings.solver
    limit = float(time_limit_s if time_limit_s is not None else cfg.time_limit_s)
    gap_target = float(gap_rel if gap_rel is not None else cfg.gap_rel)
    threads = threads if threads is not None else cfg.threads
    n_vars, n_cons = len(model.x), len(model.prob.constraints())
    if not model.x:
        return SolveStats("none (nothing to decide)", "Optimal", True, 0.0, 0.0, 0.0, 0.0, limit,
                          gap_target, threads, cfg.seed, 0, n_cons)
    solver, label = make_solver(cfg.name, limit, gap_target, threads, cfg.seed, msg)
    raw = model.prob.solve(solver)
    status = pulp.LpSolveStatus(raw.status).name
    if not raw.has_solution:
        if raw.status in (pulp.LpSolveStatus.Infeasible, pulp.LpSolveStatus.Undefined):
            reasons = diagnose_infeasibility(model.inp)
            raise SolverError("No plan satisfies every rule: " + "; ".join(reasons) + ".", status)
        template = NO_SOLUTION_MESSAGES.get(status, "the solver stopped without a plan (status {status})")
        raise SolverError(template.format(limit=limit, status=status) + ".", status)
    objective = raw.objective if raw.objective is not None else model.prob.objective.value()
    objective = None if objective is None else objective / MONEY_SCALE  # back to EUR
    bound = None if raw.best_bound is None else raw.best_bound / MONEY_SCALE
    return SolveStats(
        solver=label,
        status=status,
        has_solution=True,
        objective=objective,
        best_bound=bound,
        gap=relative_gap(objective, bound),
        time_s=float(raw.time),
        time_limit_s=limit,
        gap_rel_target=gap_target,
        threads=threads,
        seed=cfg.seed,
        n_variables=n_vars,
        n_constraints=n_cons,
        raw=raw,
    )


def _required_by(inp: PortfolioInput) -> dict[int, list[str]]:
    """Per deadline period d: the mandatory items due by d plus all their predecessors
    (which must finish before them), i.e. the work that must be done by the end of d."""
    items = inp.items
    g = nx.DiGraph()
    g.add_nodes_from(items.index)
    for j, ps in items["predecessors"].items():
        g.add_edges_from((p, j) for p in ps)
    out: dict[int, list[str]] = {}
    musts = items.index[items["mandatory"].astype(bool)]
    for d in sorted({int(items.at[i, "deadline"]) for i in musts}):
        due = [i for i in musts if int(items.at[i, "deadline"]) <= d]
        need = set(due)
        for i in due:
            need |= nx.ancestors(g, i)
        out[d] = sorted(need)
    return out


def diagnose_infeasibility(inp: PortfolioInput) -> list[str]:
    """Reasons, in the planner's words, why no plan can satisfy the rules.

    Checks that necessarily fail when they show a shortfall: the mandatory items (with
    their predecessors) due by a period need more of a skill, or more budget, than the
    periods up to it provide; mandatory items that are alternatives of each other. When
    none applies, names the mandatory items whose combination (with dependencies and
    in-progress work) cannot be scheduled.
    """
    s = inp.settings
    items = inp.items
    reasons: list[str] = []
    for d, need in _required_by(inp).items():
        label = s.period_label(d)
        for skill in inp.skills:
            total = sum(inp.effort(i, skill) for i in need)
            have = sum(inp.capacity_of(skill, p) for p in range(1, d + 1))
            if total > have + 1e-6:
                reasons.append(
                    f"the mandatory items {', '.join(need)} need {total - have:.1f} more {skill} person-weeks "
                    f"by {label} than the {skill} teams have ({total:.1f} needed, {have:.1f} available); "
                    "fix: add capacity, move a deadline or drop a mandatory flag"
                )
        cost = float(items.loc[need, "cost_eur"].sum())
        budget = sum(s.budget(p) for p in range(1, d + 1))
        if cost > budget + 1e-6:
            reasons.append(
                f"the mandatory items {', '.join(need)} cost {cost - budget:,.0f} EUR more by {label} than the "
                f"budget of periods 1-{d} ({cost:,.0f} EUR needed, {budget:,.0f} EUR available); "
                "fix: raise the budget, move a deadline or drop a mandatory flag"
            )
    musts = list(items.index[items["mandatory"].astype(bool)])
    if s.budget_total is not None:
        cost = float(items.loc[musts, "cost_eur"].sum()) if musts else 0.0
        if cost > s.budget_total + 1e-6:
            reasons.append(
                f"the mandatory items cost {cost:,.0f} EUR, more than the total budget of {s.budget_total:,.0f} EUR; "
                "fix: raise budget_total or drop a mandatory flag"
            )
    for g, ids in exclusive_groups(inp).items():
        both = [i for i in ids if i in musts]
        if len(both) > 1:
            reasons.append(f"the mandatory items {', '.join(both)} are alternatives in exclusive group '{g}'; "
                           "fix: keep only one of them mandatory")
    if not reasons:
        shown = ", ".join(musts) if musts else "(none)"
        reasons.append(
            f"the mandatory items {shown} cannot all be scheduled within capacity and budget together with "
            "their dependencies and the work in progress; fix: add capacity, move a deadline or drop a mandatory flag"
        )
    return reasons
