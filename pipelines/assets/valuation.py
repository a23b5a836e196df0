"""Valuation: KPI baselines, a business case per item, value by start period, priority scores."""


import dagster as dg
import numpy as np
import pandas as pd

from models import scoring, valuation
from models.settings import settings_from_table
from pipelines.resources import WeitblickConfig

GROUP = "valuation"


def _preview(df: pd.DataFrame, rows: int = 10) -> dg.MetadataValue:
    return dg.MetadataValue.md(df.head(rows).to_markdown(index=False))


@dg.asset(group_name=GROUP, kinds={"python", "duckdb"})
def kpi_baselines(kpi_history: pd.DataFrame) -> dg.Output[pd.DataFrame]:
    """Per product: the KPI levels a business case starts from (last months of the history)."""
    df = valuation.kpi_baselines(kpi_history)
    return dg.Output(df, metadata={"products": len(df), "preview": _preview(df)})


@dg.asset(group_name=GROUP, kinds={"python", "duckdb"})
def business_cases(backlog: pd.DataFrame, teams: pd.DataFrame, kpi_history: pd.DataFrame,
                   settings: pd.DataFrame) -> dg.Output[pd.DataFrame]:
    """Per item: cost, monthly cash effect from the KPI it moves, NPV, ROI and break-even."""
    df = valuation.business_cases(backlog, teams, kpi_history, settings_from_table(settings))
    return dg.Output(df, metadata={
        "items": len(df),
        "total_npv_eur": float(df["npv_eur"].sum()),
        "fallback_valued": int((df["value_basis"] != "kpi").sum()),
        "preview": _preview(df.sort_values("npv_eur", ascending=False)),
    })


@dg.asset(group_name=GROUP, kinds={"python", "duckdb"})
def value_by_start(backlog: pd.DataFrame, business_cases: pd.DataFrame,
                   settings: pd.DataFrame) -> dg.Output[pd.DataFrame]:
    """Discounted value of each item for each start period: the cost of delay the optimiser sees."""
    df = valuation.value_by_start(backlog, business_cases, settings_from_table(settings))
    return dg.Output(df, metadata={"rows": len(df), "items": df["item_id"].nunique()})


@dg.asset(group_name=GROUP, kinds={"python", "duckdb"})
def priority_scores(backlog: pd.DataFrame, settings: pd.DataFrame) -> dg.Output[pd.DataFrame]:
    """RICE, WSJF, weighted score, MoSCoW and value-vs-effort quadrant, with ranks per method."""
    df = scoring.priority_scores(backlog, settings_from_table(settings))
    return dg.Output(df, metadata={"items": len(df), "preview": _preview(df)})


@dg.asset(group_name=GROUP, kinds={"python", "duckdb"})
def rank_agreement(config: WeitblickConfig, priority_scores: pd.DataFrame) -> dg.Output[pd.DataFrame]:
    """How far the prioritisation methods agree: rank correlation and top-k overlap per pair."""
    df = scoring.rank_correlation(priority_scores, top_k=config.rank_top_k)
    return dg.Output(df, metadata={"pairs": len(df), "min_spearman": float(df["spearman"].min()),
                                   "preview": dg.MetadataValue.md(df.to_markdown(index=False, floatfmt=".2f"))})


@dg.asset(group_name=GROUP, kinds={"python", "duckdb"})
def rank_stability(config: WeitblickConfig, backlog: pd.DataFrame, settings: pd.DataFrame) -> dg.Output[pd.DataFrame]:
    """Chance that each item stays in the top k of each method when estimates and weights vary."""
    df = scoring.rank_stability(backlog, settings_from_table(settings), top_k=config.rank_top_k,
                                draws=config.stability_draws, seed=config.seed)
    top = df.loc[df["base_rank"] <= config.rank_top_k].sort_values(["method", "base_rank"])
    return dg.Output(df, metadata={"draws": config.stability_draws, "seed": config.seed, "preview": dg.MetadataValue.md(
        top[["method", "item_id", "base_rank", "p_top_k", "rank_p10", "rank_p90"]].to_markdown(index=False,
                                                                                               floatfmt=".2f"))})


@dg.asset_check(asset=business_cases, blocking=True)
def business_cases_finite(business_cases: pd.DataFrame) -> dg.AssetCheckResult:
    """Costs are non-negative and every NPV is a finite number."""
    bad_cost = business_cases.loc[business_cases["cost_eur"] < 0, "item_id"].tolist()
    bad_npv = business_cases.loc[~np.isfinite(business_cases["npv_eur"].astype(float)), "item_id"].tolist()
    problems = [f"{i}: negative cost" for i in bad_cost] + [f"{i}: NPV not finite" for i in bad_npv]
    return dg.AssetCheckResult(passed=not problems, metadata={"problems": "; ".join(problems) or "none"})
