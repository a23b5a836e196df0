"""The portfolio optimiser: which items to fund, and when (a PuLP MILP solved by HiGHS).

Stages, each a plain function so callers can step in between (e.g. add a constraint
after :func:`build_model`):

    inp = prepare_input(backlog, teams, values, settings)   # check and shape the inputs
    model = build_model(inp)                                 # variables, constraints, objective
    stats = solve(model)                                     # status, gap, time
    plan = results(model, stats)                             # decisions, capacity, budget, run_info
    independent_check(plan, inp)                             # [] when every rule holds

:func:`optimise` runs all four. ``values`` is :func:`models.valuation.value_by_start`.
"""

from __future__ import annotations

import pandas as pd

from models.portfolio.build import (
    BUILDERS,
    PortfolioModel,
    add_budget,
    add_capacity,
    add_exclusive,
    add_mandatory,
    add_one_start,
    add_precedence,
    add_balance,
    add_in_progress,
    add_okr_coverage,
    add_quick_wins,
    add_wip_limit,
    build_model,
    create_model,
    set_objective,
    write_lp,
)
from models.portfolio.inputs import PortfolioInput, prepare_input
from models.portfolio.results import PortfolioResult, independent_check, results
from models.portfolio.solve import SolveStats, diagnose_infeasibility, solve
from models.settings import Settings


def optimise(backlog: pd.DataFrame, teams: pd.DataFrame, values: pd.DataFrame, settings: Settings,
             time_limit_s: float | None = None) -> PortfolioResult:
    """Prepare, build, solve and tabulate in one call (time limit in seconds; default
    ``settings.solver.time_limit_s``). Raises ModelError for unusable inputs and
    SolverError when no plan exists or none was found in time."""
    inp = prepare_input(backlog, teams, values, settings)
    model = build_model(inp)
    stats = solve(model, time_limit_s=time_limit_s)
    return results(model, stats)


def check_plan(decisions: pd.DataFrame, backlog: pd.DataFrame, teams: pd.DataFrame, values: pd.DataFrame,
               settings: Settings) -> list[str]:
    """Violations of the planning rules by a decisions table, recomputed from the inputs alone
    (capacity, budget, precedence, Must-haves, exclusivity); empty list: the plan is valid."""
    return independent_check(decisions, prepare_input(backlog, teams, values, settings))


__all__ = [
    "BUILDERS",
    "PortfolioInput",
    "PortfolioModel",
    "PortfolioResult",
    "SolveStats",
    "add_budget",
    "add_capacity",
    "add_exclusive",
    "add_mandatory",
    "add_one_start",
    "add_precedence",
    "add_balance",
    "add_in_progress",
    "add_okr_coverage",
    "add_quick_wins",
    "add_wip_limit",
    "build_model",
    "check_plan",
    "create_model",
    "diagnose_infeasibility",
    "independent_check",
    "optimise",
    "prepare_input",
    "results",
    "set_objective",
    "solve",
    "write_lp",
]
