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

import pulp

from models.errors import ModelError, SolverError
from models.portfolio.build import MONEY_SCALE, PortfolioModel, build_model, exclusive_groups
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


def _coerce_option(highs, key: str, value):
    """A HiGHS option value of the option's own type; ModelError for unknown options."""
    import highspy

    status, kind = highs.getOptionType(key)
    if status != highspy.HighsStatus.kOk:
        raise ModelError(f"HiGHS has no option '{key}'. Fix: use a name from the HiGHS options list.")
    T = highspy.HighsOptionType
    if kind == T.kBool:
        if isinstance(value, str):
            if value.lower() not in ("true", "false", "on", "off", "1", "0"):
                raise ModelError(f"HiGHS option '{key}' is true/false, got {value!r}.")
            return value.lower() in ("true", "on", "1")
        return bool(value)
    if kind == T.kInt:
        return int(value)
    if kind == T.kDouble:
        return float(value)
    return str(value)


def highs_options(options: dict) -> dict:
    """HiGHS options (name -> value) with each value converted to the option's own type, so
    strings from a command line work ("0.3", "true"); ModelError for an unknown option or a
    true/false option given something else."""
    if not options:
        return {}
    import highspy

    probe = highspy.Highs()
    return {k: _coerce_option(probe, k, v) for k, v in options.items()}


def make_solver(
    name: str,
    time_limit_s: float,
    gap_rel: float,
    threads: int | None,
    seed: int,
    msg: bool,
    warm_start: bool = False,
    **options,
) -> tuple[pulp.LpSolver, str]:
    """The PuLP solver object for ``name`` ("highs" or "cbc") and the name to record;
    ``options`` go to HiGHS as named options (e.g. mip_heuristic_effort=0.1), converted to
    each option's type by :func:`highs_options` (ModelError for an unknown one)."""
    if name == "cbc":
        cbc = pulp.COIN_CMD(
            msg=msg, timeLimit=time_limit_s, gapRel=gap_rel, threads=threads, randomSeed=seed, warmStart=warm_start
        )
        if cbc.available():
            return cbc, "CBC"
        label = "HiGHS (cbc requested, not installed)"
    else:
        label = "HiGHS"
    solver = pulp.HiGHS(
        msg=msg,
        timeLimit=time_limit_s,
        gapRel=gap_rel,
        threads=threads,
        random_seed=seed,
        warmStart=warm_start,
        **highs_options(options),
    )
    return solver, label


def _constant_rows_hold(model: PortfolioModel) -> bool:
    """With nothing to decide, whether every row (all constants, e.g. "0 >= 2 quick wins") holds."""
    for c in model.prob.constraints():
        k = c.constant  # rows are stored as expression + constant (sense) 0
        if (
            (c.sense == pulp.LpConstraintLE and k > 1e-9)
            or (c.sense == pulp.LpConstraintGE and k < -1e-9)
            or (c.sense == pulp.LpConstraintEQ and abs(k) > 1e-9)
        ):
            return False
    return True


def set_start(model: PortfolioModel, starts: dict[str, int]) -> None:
    """Give the solver a plan to start from (item -> start period): x[i,t] = 1 for those,
    0 for every other variable. The solver checks it and ignores it when it breaks a rule."""
    for (i, t), v in model.x.items():
        v.setInitialValue(1.0 if starts.get(i) == t else 0.0)


def solve(
    model: PortfolioModel,
    time_limit_s: float | None = None,
    gap_rel: float | None = None,
    threads: int | None = None,
    msg: bool = False,
    warm_start: dict[str, int] | None = None,
    **options,
) -> SolveStats:
    """Solve the model; defaults come from ``settings.solver``.

    ``warm_start`` (item -> start period) hands the solver a plan to improve on (see
    :func:`set_start`); ``options`` are passed to HiGHS.

    Returns the stats when the solver hands back a plan (status "Optimal", "TimeLimit",
    ...). Raises SolverError (with the solver's status) when it does not: an infeasible
    model gets a diagnosis in the planner's words (see :func:`diagnose_infeasibility`).
    """
    cfg = model.inp.settings.solver
    limit = float(time_limit_s if time_limit_s is not None else cfg.time_limit_s)
    gap_target = float(gap_rel if gap_rel is not None else cfg.gap_rel)
    threads = threads if threads is not None else cfg.threads
    n_vars, n_cons = len(model.x), len(model.prob.constraints())
    if not model.x and not _constant_rows_hold(model):
        raise SolverError(
            "No plan satisfies every rule: " + "; ".join(diagnose_infeasibility(model.inp)) + ".", "Infeasible"
        )
    if not model.x:
        return SolveStats(
            "none (nothing to decide)",
            "Optimal",
            True,
            0.0,
            0.0,
            0.0,
            0.0,
            limit,
            gap_target,
            threads,
            cfg.seed,
            0,
            n_cons,
        )
    if warm_start is not None:
        set_start(model, warm_start)
    solver, label = make_solver(
        cfg.name, limit, gap_target, threads, cfg.seed, msg, warm_start=warm_start is not None, **options
    )
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


# Constraint families whose rows may stretch in the elastic model; one unit of slack is one
# unit of the row (pw for cap, thousands of EUR for budget, budget_total and balance, items
# for the count rows).
ELASTIC = ("cap", "budget", "budget_total", "excl", "balance", "okr", "quick_wins", "wip_limit")


def diagnose_infeasibility(inp: PortfolioInput, time_limit_s: float = 30.0) -> list[str]:
    """Reasons, in the planner's words, why no plan can satisfy the rules.

    Solves an elastic copy of the model: the Must-haves (with their deadlines and
    dependencies) and the work in progress stay hard; capacity, budget, alternatives,
    strategic balance, OKR coverage, quick wins and WIP limits may stretch at a cost, and
    the least total stretch (person-weeks, thousands of EUR, items) is found. Every row
    that had to stretch becomes a sentence with its shortfall, e.g. "the Must-haves and
    the work in progress need 14.0 more data person-weeks in Q1 2027 than the data teams
    have (33.0)".
    """
    m = build_model(inp)
    slack: dict[str, pulp.LpVariable] = {}
    for family in ELASTIC:
        for name in m.constraints.get(family, []):
            c = m.prob.get_constraint_by_name(name)
            v = m.prob.add_variable(f"stretch_{name}", lowBound=0)
            c.set_coefficient(v, -1.0 if c.sense == pulp.LpConstraintLE else 1.0)
            slack[name] = v
    m.prob.sense = pulp.LpMinimize
    m.prob.setObjective(pulp.lpSum(slack.values()))
    raw = m.prob.solve(pulp.HiGHS(msg=False, timeLimit=time_limit_s, gapRel=0.0))
    if not raw.has_solution:
        forced = inp.forced_items
        return [
            f"the Must-haves and work in progress ({', '.join(forced) or 'none'}) cannot be scheduled "
            "together with their deadlines and dependencies; fix: move a deadline or drop a mandatory flag"
        ]
    starts = m.chosen_starts()
    forced = set(inp.forced_items)
    dur = inp.items["duration_periods"].astype(int)

    def running(p: int) -> list[str]:
        return sorted(i for i, t in starts.items() if i in forced and t <= p < t + dur[i])

    reasons = []
    who = "the Must-haves and the work in progress"
    for family in ELASTIC:
        for name in m.constraints.get(family, []):
            amount = slack[name].value() or 0.0
            if amount > 1e-6:
                reasons.append(_stretch_reason(inp, family, m.keys[name], amount, starts, running, who))
    if not reasons:
        reasons.append(
            "no capacity, budget or planning rule has to stretch: the conflict lies in conditions "
            "added to the model after it was built (such as items forced in or out) or within the "
            "solver's tolerances"
        )
    return reasons


def _stretch_reason(
    inp: PortfolioInput, family: str, key: tuple, amount: float, starts: dict[str, int], running, who: str
) -> str:
    """One stretched row of the elastic model in the planner's words (amount in the row's units)."""
    s = inp.settings
    if family == "cap":
        skill, p = key
        ids = ", ".join(i for i in running(p) if inp.effort(i, skill) > 0)
        return (
            f"{who} need {amount:.1f} more {skill} person-weeks in {s.period_label(p)} than the {skill} teams "
            f"have ({inp.capacity_of(skill, p):.1f}; running then: {ids}); fix: add {skill} capacity in "
            f"{s.period_label(p)}, move a deadline or drop a mandatory flag"
        )
    if family == "budget":
        (p,) = key
        return (
            f"{who} need {amount / MONEY_SCALE:,.0f} EUR more in {s.period_label(p)} than its budget "
            f"({s.budget(p):,.0f} EUR); fix: raise that budget, move a deadline or drop a mandatory flag"
        )
    if family == "budget_total":
        return (
            f"{who} cost {amount / MONEY_SCALE:,.0f} EUR more than the total budget "
            f"({s.budget_total:,.0f} EUR); fix: raise budget_total or drop a mandatory flag"
        )
    if family == "excl":
        (g,) = key
        both = [i for i in exclusive_groups(inp)[g] if i in starts]
        return (
            f"the items {', '.join(both)} must all be funded but are alternatives in exclusive group '{g}'; "
            "fix: keep only one of them mandatory"
        )
    if family == "balance":
        kind, theme = key
        b = s.strategic_balance[theme]
        bound = f"at least {b.min:.0%}" if kind == "min" else f"at most {b.max:.0%}"
        return (
            f"theme {theme.strip().lower()} cannot get {bound} of the planned spend ({amount / MONEY_SCALE:,.0f} "
            "EUR short) once the Must-haves and running work are in; fix: relax strategic_balance"
        )
    if family == "okr":
        (kr,) = key
        return (
            f"key result {kr} cannot get {s.okr_coverage.required(kr)} funded item(s) ({amount:.0f} short); "
            f"fix: lower okr_coverage for {kr} or add capacity"
        )
    if family == "quick_wins":
        q = s.quick_wins
        return (
            f"only {q.min_items - amount:.0f} quick win(s) (at most {q.max_effort_pw:g} person-weeks) can be "
            f"delivered by {s.period_label(q.by_period)}, {q.min_items} are asked; "
            "fix: lower quick_wins.min_items or raise max_effort_pw"
        )
    team, p = key  # wip_limit
    return (
        f"team {team} would need {amount:.0f} more item(s) in flight in {s.period_label(p)} than its "
        f"WIP limit {s.wip_limit.limit(team)}; fix: raise wip_limit for {team} or move a deadline"
    )
