"""The portfolio optimiser: which items to fund, and when (a PuLP MILP solved by HiGHS).

Stages, each a plain function so callers can step in between (e.g. add a constraint
after :func:`build_model`):

    inp = prepare_input(backlog, teams, values, settings)   # check and shape the inputs
    model = build_model(inp)                                 # variables, constraints, objective
    stats = solve(model)                                     # status, gap, time
    plan = results(model, stats)                             # decisions, capacity, budget, run_info
    independent_check(plan, inp)                             # [] when every rule holds

:func:`optimise` runs all four (warm-started from the best greedy plan only when
``settings.solver.warm_start`` asks for it; off by default). Then
:func:`explain_plan` (why each item is in or out, the price of each rule), :func:`frontier`
(value against budget) and :func:`baselines` (greedy plans and the optimiser's uplift).
``values`` is :func:`models.valuation.value_by_start`.
"""

from __future__ import annotations

import pandas as pd

from models.names import STATUS_QUO_PLAN
from models.portfolio.build import (
    BUILDERS,
    PortfolioModel,
    add_balance,
    add_budget,
    add_budget_total,
    add_capacity,
    add_exclusive,
    add_in_progress,
    add_mandatory,
    add_okr_coverage,
    add_one_start,
    add_precedence,
    add_quick_wins,
    add_wip_limit,
    build_model,
    create_model,
    set_objective,
    write_lp,
)
from models.portfolio.explain import (
    efficient_frontier,
    explain_all,
    explain_item,
    plan_starts,
    shadow_prices,
)
from models.portfolio.greedy import baseline_plans, greedy_warm_start, status_quo_plan
from models.portfolio.inputs import PortfolioInput, prepare_input
from models.portfolio.results import PortfolioResult, independent_check, results
from models.portfolio.solve import SolveStats, diagnose_infeasibility, solve
from models.settings import Settings


def optimise(
    backlog: pd.DataFrame,
    teams: pd.DataFrame,
    values: pd.DataFrame,
    settings: Settings,
    time_limit_s: float | None = None,
    warm_start: bool | None = None,
) -> PortfolioResult:
    """Prepare, build, solve and tabulate in one call (time limit in seconds; default
    ``settings.solver.time_limit_s``). With ``warm_start`` (default
    ``settings.solver.warm_start``) the solver starts from the best valid greedy plan
    (:mod:`models.portfolio.greedy`); measured on the demo and on random portfolios it
    neither helps nor hurts the proven gap beyond noise, so it is off by default. The
    capacity table carries the shadow price of one more person-week and the budget table
    that of one more EUR
    (:func:`models.portfolio.explain.shadow_prices`). Raises ModelError for unusable inputs
    and SolverError when no plan exists or none was found in time."""
    inp = prepare_input(backlog, teams, values, settings)
    model = build_model(inp)
    use = settings.solver.warm_start if warm_start is None else warm_start
    start = greedy_warm_start(inp) if use else None
    stats = solve(model, time_limit_s=time_limit_s, warm_start=start)
    result = results(model, stats)
    prices = shadow_prices(inp, plan_starts(result))
    result.capacity = result.capacity.merge(prices, on=["skill", "period"], how="left")
    budget_prices = prices.loc[prices["skill"] == "budget", ["period", "shadow_price_eur_per_pw"]]
    result.budget = result.budget.merge(
        budget_prices.rename(columns={"shadow_price_eur_per_pw": "shadow_price_eur_per_eur"}), on="period", how="left"
    )
    result.run_info["warm_start"] = "greedy" if start else "none"
    return result


def result_from_tables(
    decisions: pd.DataFrame, capacity: pd.DataFrame, budget: pd.DataFrame, run_info: pd.DataFrame
) -> PortfolioResult:
    """A PortfolioResult from its stored tables."""
    return PortfolioResult(decisions=decisions, capacity=capacity, budget=budget, run_info=run_info)


def explain_plan(
    backlog: pd.DataFrame, teams: pd.DataFrame, values: pd.DataFrame, settings: Settings, result: PortfolioResult
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(item explanations, rule prices) of a plan: see :mod:`models.portfolio.explain`."""
    return explain_all(prepare_input(backlog, teams, values, settings), result)


def explain_one(
    backlog: pd.DataFrame,
    teams: pd.DataFrame,
    values: pd.DataFrame,
    settings: Settings,
    result: PortfolioResult,
    item: str,
) -> dict:
    """Why one item is in or out and what it would take (:func:`models.portfolio.explain.explain_item`)."""
    return explain_item(prepare_input(backlog, teams, values, settings), result, item)


def frontier(
    backlog: pd.DataFrame,
    teams: pd.DataFrame,
    values: pd.DataFrame,
    settings: Settings,
    result: PortfolioResult | None = None,
) -> pd.DataFrame:
    """Best value for a range of budgets (:func:`models.portfolio.explain.efficient_frontier`)."""
    return efficient_frontier(prepare_input(backlog, teams, values, settings), result)


def baselines(
    backlog: pd.DataFrame, teams: pd.DataFrame, values: pd.DataFrame, settings: Settings, result: PortfolioResult
) -> tuple[pd.DataFrame, dict[str, pd.DataFrame]]:
    """Greedy plans by RICE, WSJF, value per effort and weighted score under the same rules, and
    the status quo (no new work, :func:`models.portfolio.greedy.status_quo_plan`), with the
    optimised plan's uplift over each: (summary with columns of
    :func:`models.portfolio.greedy.baseline_plans` plus optimised_value_eur and uplift
    (fraction of the baseline's value), decisions per method)."""
    inp = prepare_input(backlog, teams, values, settings)
    summary, plans = baseline_plans(inp)
    row, plans[STATUS_QUO_PLAN] = status_quo_plan(inp)
    summary = pd.concat([summary, pd.DataFrame([row], columns=summary.columns)], ignore_index=True)
    summary["valid"] = summary["valid"].astype(bool)
    best = float(result.decisions["value"].sum())
    summary["optimised_value_eur"] = best
    summary["uplift"] = [(best - v) / abs(v) if v else float("nan") for v in summary["value_eur"]]
    return summary, plans


def stack_plans(plans: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Decisions tables by method (as :func:`baselines` returns them) as one long table with
    a leading ``method`` column, for the store; :func:`unstack_plans` undoes it."""
    frames = [d.assign(method=m)[["method", *d.columns]] for m, d in plans.items()]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=["method"])


def unstack_plans(stacked: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """The decisions table of each method from :func:`stack_plans`'s long table, in its order."""
    return {str(m): d.drop(columns="method").reset_index(drop=True) for m, d in stacked.groupby("method", sort=False)}


def check_plan(
    decisions: pd.DataFrame, backlog: pd.DataFrame, teams: pd.DataFrame, values: pd.DataFrame, settings: Settings
) -> list[str]:
    """Violations of the planning rules by a decisions table, recomputed from the inputs alone
    (capacity, budget, precedence, Must-haves, exclusivity, running work, strategic balance,
    OKR coverage, quick wins, WIP limits); empty list: the plan is valid."""
    return independent_check(decisions, prepare_input(backlog, teams, values, settings))


__all__ = [
    "BUILDERS",
    "PortfolioInput",
    "PortfolioModel",
    "PortfolioResult",
    "SolveStats",
    "add_balance",
    "add_budget",
    "add_budget_total",
    "add_capacity",
    "add_exclusive",
    "add_in_progress",
    "add_mandatory",
    "add_okr_coverage",
    "add_one_start",
    "add_precedence",
    "add_quick_wins",
    "add_wip_limit",
    "baselines",
    "build_model",
    "check_plan",
    "create_model",
    "diagnose_infeasibility",
    "explain_one",
    "explain_plan",
    "frontier",
    "independent_check",
    "optimise",
    "prepare_input",
    "result_from_tables",
    "results",
    "set_objective",
    "solve",
    "stack_plans",
    "unstack_plans",
    "write_lp",
]
