"""Optimisation: the funded and scheduled plan, capacity and budget use with their prices,
why each item is in or out, the price of each rule, value against budget, and greedy baselines."""

import dagster as dg
import pandas as pd

from models import portfolio
from models.portfolio.robust import robust_plan as optimise_robust
from models.settings import Settings, settings_from_table
from pipelines.preload import discovery_libraries, run_selects
from pipelines.resources import WeitblickConfig

GROUP = "optimisation"


def planning_settings(config: WeitblickConfig, settings: pd.DataFrame) -> Settings:
    """The stored settings with the run's overrides (time limits, explanation effort)."""
    s = settings_from_table(settings)
    solver = s.solver.model_copy(update={"time_limit_s": config.time_limit_s} if config.time_limit_s else {})
    overrides = {
        "time_limit_s": config.explain_time_limit_s,
        "near_misses": config.near_misses,
        "frontier_points": config.frontier_points,
    }
    explain = s.explain.model_copy(update={k: v for k, v in overrides.items() if v is not None})
    robust = s.robust
    if config.robust_futures == 0:
        robust = robust.model_copy(update={"enabled": False})
    elif config.robust_futures:
        robust = robust.model_copy(update={"futures": config.robust_futures})
    return s.model_copy(update={"solver": solver, "explain": explain, "robust": robust})


def _md(df: pd.DataFrame, rows: int = 15) -> dg.MetadataValue:
    return dg.MetadataValue.md(df.head(rows).to_markdown(index=False, floatfmt=",.0f"))


@dg.multi_asset(
    outs={
        "portfolio_plan": dg.AssetOut(
            group_name=GROUP,
            kinds={"python", "duckdb"},
            description="Per candidate item: funded or not, start and finish period.",
        ),
        "capacity_usage": dg.AssetOut(
            group_name=GROUP,
            kinds={"python", "duckdb"},
            description="Person-weeks per skill and period against capacity, with the "
            "shadow price of one more person-week.",
        ),
        "budget_usage": dg.AssetOut(
            group_name=GROUP, kinds={"python", "duckdb"}, description="Planned spend per period against budget."
        ),
        "plan_run_info": dg.AssetOut(
            group_name=GROUP,
            kinds={"python", "duckdb"},
            description="The solver's real status, proven gap, time and size.",
        ),
    },
)
def optimised_plan(
    config: WeitblickConfig,
    backlog: pd.DataFrame,
    teams: pd.DataFrame,
    value_by_start: pd.DataFrame,
    settings: pd.DataFrame,
):
    """Choose and schedule items under capacity, budget, precedence, Must-haves and the strategic rules."""
    result = portfolio.optimise(backlog, teams, value_by_start, planning_settings(config, settings))
    info = result.run_info.iloc[0]
    funded = result.decisions[result.decisions["funded"]]
    summary = {
        "status": str(info["status"]),
        "gap": float(info["gap"]),
        "value_eur": float(info["value_eur"]),
        "solve_s": float(info["time_s"]),
        "warm_start": str(info["warm_start"]),
    }
    yield dg.Output(
        result.decisions,
        "portfolio_plan",
        metadata={
            **summary,
            "funded": len(funded),
            "candidates": len(result.decisions),
            "preview": _md(funded[["item_id", "title", "start_period", "finish_period", "value"]]),
        },
    )
    priced = result.capacity.sort_values("shadow_price_eur_per_pw", ascending=False)
    yield dg.Output(
        result.capacity,
        "capacity_usage",
        metadata={
            "max_utilisation": float(result.capacity["utilisation"].max()),
            "preview": _md(priced[["skill", "period_label", "utilisation", "shadow_price_eur_per_pw"]], 10),
        },
    )
    yield dg.Output(result.budget, "budget_usage", metadata={"spend_eur": float(result.budget["spend_eur"].sum())})
    yield dg.Output(result.run_info, "plan_run_info", metadata=summary)


@dg.asset_check(
    asset="portfolio_plan",
    blocking=True,
    additional_ins={
        "backlog": dg.AssetIn("backlog"),
        "teams": dg.AssetIn("teams"),
        "value_by_start": dg.AssetIn("value_by_start"),
        "settings": dg.AssetIn("settings"),
    },
)
def plan_respects_constraints(
    portfolio_plan: pd.DataFrame,
    backlog: pd.DataFrame,
    teams: pd.DataFrame,
    value_by_start: pd.DataFrame,
    settings: pd.DataFrame,
) -> dg.AssetCheckResult:
    """Recompute every rule (capacity, budget, precedence, strategic rules) from the decisions alone."""
    problems = portfolio.check_plan(portfolio_plan, backlog, teams, value_by_start, settings_from_table(settings))
    return dg.AssetCheckResult(
        passed=not problems,
        description=f"{len(problems)} violations",
        metadata={"violations": dg.MetadataValue.md("\n".join(f"- {p}" for p in problems[:50]) or "none")},
    )


@dg.multi_asset(
    outs={
        "plan_explanations": dg.AssetOut(
            group_name=GROUP,
            kinds={"python", "duckdb"},
            description="Per item: in or out, the binding reason, what it would take, "
            "and the value lost if forced the other way.",
        ),
        "rule_prices": dg.AssetOut(
            group_name=GROUP,
            kinds={"python", "duckdb"},
            description="Value given up because of each planning rule (re-solved without it).",
        ),
    },
)
def plan_reasons(
    config: WeitblickConfig,
    backlog: pd.DataFrame,
    teams: pd.DataFrame,
    value_by_start: pd.DataFrame,
    settings: pd.DataFrame,
    portfolio_plan: pd.DataFrame,
    capacity_usage: pd.DataFrame,
    budget_usage: pd.DataFrame,
    plan_run_info: pd.DataFrame,
):
    """Explain every decision and price every rule by re-solving the plan with one change."""
    result = portfolio.result_from_tables(portfolio_plan, capacity_usage, budget_usage, plan_run_info)
    items, prices = portfolio.explain_plan(backlog, teams, value_by_start, planning_settings(config, settings), result)
    resolved = items.loc[items["resolved"]]
    yield dg.Output(
        items,
        "plan_explanations",
        metadata={
            "items": len(items),
            "re_solved": len(resolved),
            "preview": _md(resolved[["item_id", "funded", "forced", "loss_eur", "resolve_status"]]),
        },
    )
    yield dg.Output(
        prices,
        "rule_prices",
        metadata={
            "rules": len(prices),
            "preview": _md(prices[["rule", "price_eur", "price_low_eur", "price_high_eur", "status"]]),
        },
    )


@dg.asset(group_name=GROUP, kinds={"python", "duckdb"})
def efficient_frontier(
    config: WeitblickConfig,
    backlog: pd.DataFrame,
    teams: pd.DataFrame,
    value_by_start: pd.DataFrame,
    settings: pd.DataFrame,
    portfolio_plan: pd.DataFrame,
    capacity_usage: pd.DataFrame,
    budget_usage: pd.DataFrame,
    plan_run_info: pd.DataFrame,
) -> dg.Output:
    """Best plan value for a range of budgets, each solve warm-started from the one below."""
    result = portfolio.result_from_tables(portfolio_plan, capacity_usage, budget_usage, plan_run_info)
    df = portfolio.frontier(backlog, teams, value_by_start, planning_settings(config, settings), result)
    return dg.Output(
        df,
        metadata={
            "points": len(df),
            "preview": _md(df[["budget_share", "budget_eur", "value_eur", "status", "marginal_value"]]),
        },
    )


@dg.multi_asset(
    outs={
        "baseline_plans": dg.AssetOut(
            group_name=GROUP,
            kinds={"python", "duckdb"},
            description="Greedy plans by RICE, WSJF, value per effort and weighted score: "
            "value, validity and the optimiser's uplift over each.",
        ),
        "baseline_decisions": dg.AssetOut(
            group_name=GROUP,
            kinds={"python", "duckdb"},
            description="The greedy plans' decisions, one row per method and item.",
        ),
    },
)
def baseline_plans(
    config: WeitblickConfig,
    backlog: pd.DataFrame,
    teams: pd.DataFrame,
    value_by_start: pd.DataFrame,
    settings: pd.DataFrame,
    portfolio_plan: pd.DataFrame,
    capacity_usage: pd.DataFrame,
    budget_usage: pd.DataFrame,
    plan_run_info: pd.DataFrame,
):
    """Greedy plans by RICE, WSJF, value per effort and weighted score, and the optimiser's uplift over each."""
    result = portfolio.result_from_tables(portfolio_plan, capacity_usage, budget_usage, plan_run_info)
    summary, plans = portfolio.baselines(backlog, teams, value_by_start, planning_settings(config, settings), result)
    yield dg.Output(portfolio.stack_plans(plans), "baseline_decisions", metadata={"methods": len(plans)})
    yield dg.Output(
        summary,
        "baseline_plans",
        metadata={
            "best_baseline_eur": float(summary["value_eur"].max()),
            "min_uplift": float(summary["uplift"].min()),
            "preview": _md(summary[["method", "value_eur", "n_funded", "valid", "uplift"]]),
        },
    )


@dg.multi_asset(
    outs={
        "robust_decisions": dg.AssetOut(
            group_name=GROUP,
            kinds={"python", "duckdb"},
            description="The plan optimised to hold up over sampled futures of the items' values: per candidate "
            "funded or not, start and finish (no rows when settings.robust is off).",
        ),
        "robust_comparison": dg.AssetOut(
            group_name=GROUP,
            kinds={"python", "duckdb"},
            description="The recommended and the robust plans on held-out futures: mean, P10, P50, CVaR and worst "
            "value, items and cost.",
        ),
        "robust_items": dg.AssetOut(
            group_name=GROUP,
            kinds={"python", "duckdb"},
            description="Per candidate: core (in every good plan), borderline (in some) or exterior (in none).",
        ),
        "robust_run_info": dg.AssetOut(
            group_name=GROUP,
            kinds={"python", "duckdb"},
            description="Objective, alpha, futures and seeds, each solve's status and proven gap, the price of "
            "robustness and the gain in P10.",
        ),
    },
)
def robust_plan(
    context: dg.AssetExecutionContext,
    config: WeitblickConfig,
    backlog: pd.DataFrame,
    teams: pd.DataFrame,
    kpi_history: pd.DataFrame,
    business_cases: pd.DataFrame,
    value_by_start: pd.DataFrame,
    settings: pd.DataFrame,
    portfolio_plan: pd.DataFrame,
    capacity_usage: pd.DataFrame,
    budget_usage: pd.DataFrame,
    plan_run_info: pd.DataFrame,
):
    """Optimise the plan over sampled futures (CVaR blended with the mean) and compare it on held-out futures."""
    s = planning_settings(config, settings)
    recommended = portfolio.result_from_tables(portfolio_plan, capacity_usage, budget_usage, plan_run_info)
    # HiGHS leaves a core idle while it solves: scenario discovery's libraries load meanwhile (if it runs)
    preload = discovery_libraries if run_selects(context, "scenario_discovery") else None
    out = optimise_robust(backlog, teams, kpi_history, business_cases, value_by_start, s, recommended, preload)
    if out.comparison.empty:  # switched off (settings.robust.enabled: false, or --robust-futures 0)
        yield dg.Output(out.result.decisions, "robust_decisions", metadata={"enabled": False})
        yield dg.Output(out.comparison, "robust_comparison", metadata={"enabled": False})
        yield dg.Output(out.items, "robust_items", metadata={"enabled": False})
        yield dg.Output(out.run_info, "robust_run_info", metadata={"enabled": False})
        return
    info = out.run_info.iloc[0]
    summary = {
        "objective": str(info["objective"]),
        "futures": int(info["futures"]),
        "held_out": int(info["held_out"]),
        "seed": int(info["seed"]),
        "status": str(info[f"{info['objective']}_status"]),
        "gap": float(info[f"{info['objective']}_gap"]),
        "price_of_robustness_eur": float(info["price_of_robustness_eur"]),
        "p10_gain_eur": float(info["p10_gain_eur"]),
        "wall_s": float(info["wall_s"]),
    }
    funded = out.result.decisions[out.result.decisions["funded"]]
    yield dg.Output(
        out.result.decisions,
        "robust_decisions",
        metadata={**summary, "funded": len(funded), "preview": _md(funded[["item_id", "title", "start_period"]])},
    )
    yield dg.Output(out.comparison, "robust_comparison", metadata={**summary, "preview": _md(out.comparison)})
    counts = out.items["class"].value_counts()
    yield dg.Output(
        out.items,
        "robust_items",
        metadata={k: int(counts.get(k, 0)) for k in ("core", "borderline", "exterior")}
        | {"preview": _md(out.items.loc[out.items["class"] == "borderline"])},
    )
    yield dg.Output(out.run_info, "robust_run_info", metadata=summary)
