"""Optimisation: the funded and scheduled plan, capacity and budget use, and the solver's run info."""


import dagster as dg
import pandas as pd

from models import portfolio
from models.settings import settings_from_table
from pipelines.resources import WeitblickConfig

GROUP = "optimisation"


@dg.multi_asset(
    outs={
        "portfolio_plan": dg.AssetOut(group_name=GROUP, kinds={"python", "duckdb"},
                                      description="Per candidate item: funded or not, start and finish period."),
        "capacity_usage": dg.AssetOut(group_name=GROUP, kinds={"python", "duckdb"},
                                      description="Planned person-weeks per skill and period against capacity."),
        "budget_usage": dg.AssetOut(group_name=GROUP, kinds={"python", "duckdb"},
                                    description="Planned spend per period against budget."),
        "plan_run_info": dg.AssetOut(group_name=GROUP, kinds={"python", "duckdb"},
                                     description="The solver's real status, proven gap, time and size."),
    },
)
def optimised_plan(config: WeitblickConfig, backlog: pd.DataFrame, teams: pd.DataFrame,
                   value_by_start: pd.DataFrame, settings: pd.DataFrame):
    """Choose and schedule items into periods under capacity, budget, precedence and Must-haves."""
    result = portfolio.optimise(backlog, teams, value_by_start, settings_from_table(settings),
                                time_limit_s=config.time_limit_s)
    info = result.run_info.iloc[0]
    funded = result.decisions[result.decisions["funded"]]
    summary = {"status": str(info["status"]), "gap": float(info["gap"]), "value_eur": float(info["objective"]),
               "solve_s": float(info["time_s"])}
    yield dg.Output(result.decisions, "portfolio_plan", metadata={
        **summary, "funded": len(funded), "candidates": len(result.decisions),
        "preview": dg.MetadataValue.md(funded.head(15)[["item_id", "title", "start_period", "finish_period",
                                                         "value"]].to_markdown(index=False))})
    yield dg.Output(result.capacity, "capacity_usage", metadata={
        "max_utilisation": float(result.capacity["utilisation"].max())})
    yield dg.Output(result.budget, "budget_usage", metadata={
        "spend_eur": float(result.budget["spend_eur"].sum())})
    yield dg.Output(result.run_info, "plan_run_info", metadata=summary)


@dg.asset_check(asset="portfolio_plan", blocking=True,
                additional_ins={"backlog": dg.AssetIn("backlog"), "teams": dg.AssetIn("teams"),
                                "value_by_start": dg.AssetIn("value_by_start"), "settings": dg.AssetIn("settings")})
def plan_respects_constraints(portfolio_plan: pd.DataFrame, backlog: pd.DataFrame, teams: pd.DataFrame,
                              value_by_start: pd.DataFrame, settings: pd.DataFrame) -> dg.AssetCheckResult:
    """Recompute capacity, budget and precedence from the decisions alone, independent of the solver."""
    problems = portfolio.check_plan(portfolio_plan, backlog, teams, value_by_start, settings_from_table(settings))
    return dg.AssetCheckResult(passed=not problems, description=f"{len(problems)} violations",
                               metadata={"violations": dg.MetadataValue.md(
                                   "\n".join(f"- {p}" for p in problems[:50]) or "none")})
