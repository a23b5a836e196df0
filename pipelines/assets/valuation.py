"""Valuation: KPI baselines, a business case per item, value by start period, priority scores,
portfolio health."""

import dagster as dg
import pandas as pd

from models import health, scoring, valuation
from models.settings import settings_from_table
from pipelines.resources import WeitblickConfig

GROUP = "valuation"


def _preview(df: pd.DataFrame, rows: int = 10) -> dg.MetadataValue:
    return dg.MetadataValue.md(df.head(rows).to_markdown(index=False))


@dg.multi_asset(
    outs={
        "kpi_baselines": dg.AssetOut(
            group_name=GROUP,
            kinds={"python", "duckdb"},
            description="Per product: KPI levels, trends, churn and retention, CLV and "
            "CAC payback that business cases start from.",
        ),
        "kpi_imputations": dg.AssetOut(
            group_name=GROUP,
            kinds={"python", "duckdb"},
            description="Every KPI value the baselines filled in or replaced, and why.",
        ),
    },
)
def kpi_baselines(kpi_history: pd.DataFrame, settings: pd.DataFrame):
    """Per product: the KPI levels a business case starts from, after filling gaps and replacing outliers."""
    clean, imputations = valuation.clean_kpi_history(kpi_history)
    df = valuation.baselines_from_clean(clean, imputations, settings_from_table(settings))
    shown = df[
        [
            "product",
            "mau",
            "churn_rate",
            "arpu",
            "mrr",
            "mrr_growth_per_year",
            "clv_eur",
            "cac_payback_months",
            "imputation_note",
        ]
    ]
    yield dg.Output(
        df,
        "kpi_baselines",
        metadata={"products": len(df), "preview": dg.MetadataValue.md(shown.to_markdown(index=False, floatfmt=",.3g"))},
    )
    yield dg.Output(
        imputations,
        "kpi_imputations",
        metadata={
            "values": len(imputations),
            "outliers": int(imputations["reason"].str.startswith("outlier").sum()),
            "preview": _preview(imputations, rows=20),
        },
    )


@dg.asset(group_name=GROUP, kinds={"python", "duckdb"})
def business_cases(
    backlog: pd.DataFrame, teams: pd.DataFrame, kpi_history: pd.DataFrame, settings: pd.DataFrame
) -> dg.Output[pd.DataFrame]:
    """Per item: cost, monthly cash effect from the KPI it moves, NPV, ROI and break-even."""
    df = valuation.business_cases(backlog, teams, kpi_history, settings_from_table(settings))
    return dg.Output(
        df,
        metadata={
            "items": len(df),
            "total_npv_eur": float(df["npv_eur"].sum()),
            "fallback_valued": int((df["value_basis"] != "kpi").sum()),
            "preview": _preview(df.sort_values("npv_eur", ascending=False)),
        },
    )


@dg.asset(group_name=GROUP, kinds={"python", "duckdb"})
def value_by_start(
    backlog: pd.DataFrame, business_cases: pd.DataFrame, settings: pd.DataFrame
) -> dg.Output[pd.DataFrame]:
    """Discounted value of each item for each start period: the cost of delay the optimiser sees."""
    df = valuation.value_by_start(backlog, business_cases, settings_from_table(settings))
    wide = df.pivot(index="item_id", columns="start_period", values="value_eur").add_prefix("start P")
    return dg.Output(
        df,
        metadata={
            "rows": len(df),
            "items": df["item_id"].nunique(),
            "preview": dg.MetadataValue.md(wide.head(10).reset_index().to_markdown(index=False, floatfmt=",.0f")),
        },
    )


@dg.asset(group_name=GROUP, kinds={"python", "duckdb"})
def priority_scores(backlog: pd.DataFrame, settings: pd.DataFrame) -> dg.Output[pd.DataFrame]:
    """RICE, WSJF, weighted score, MoSCoW and value-vs-effort quadrant, with ranks per method."""
    df = scoring.priority_scores(backlog, settings_from_table(settings))
    return dg.Output(df, metadata={"items": len(df), "preview": _preview(df)})


@dg.asset(group_name=GROUP, kinds={"python", "duckdb"})
def rank_agreement(config: WeitblickConfig, priority_scores: pd.DataFrame) -> dg.Output[pd.DataFrame]:
    """How far the prioritisation methods agree: rank correlation and top-k overlap per pair."""
    df = scoring.rank_correlation(priority_scores, top_k=config.rank_top_k)
    return dg.Output(
        df,
        metadata={
            "pairs": len(df),
            "min_spearman": float(df["spearman"].min()),
            "preview": dg.MetadataValue.md(df.to_markdown(index=False, floatfmt=".2f")),
        },
    )


@dg.asset(group_name=GROUP, kinds={"python", "duckdb"})
def rank_stability(config: WeitblickConfig, backlog: pd.DataFrame, settings: pd.DataFrame) -> dg.Output[pd.DataFrame]:
    """Chance that each item stays in the top k of each method when estimates and weights vary."""
    df = scoring.rank_stability(
        backlog, settings_from_table(settings), top_k=config.rank_top_k, draws=config.stability_draws, seed=config.seed
    )
    top = df.loc[df["base_rank"] <= config.rank_top_k].sort_values(["method", "base_rank"])
    return dg.Output(
        df,
        metadata={
            "draws": config.stability_draws,
            "seed": config.seed,
            "preview": dg.MetadataValue.md(
                top[["method", "item_id", "base_rank", "p_top_k", "rank_p10", "rank_p90"]].to_markdown(
                    index=False, floatfmt=".2f"
                )
            ),
        },
    )


@dg.asset_check(asset=business_cases, blocking=True)
def business_cases_finite(business_cases: pd.DataFrame) -> dg.AssetCheckResult:
    """Costs are non-negative and every NPV is a finite number."""
    return _check(valuation.case_problems(business_cases))


@dg.asset(group_name=GROUP, kinds={"python", "duckdb"})
def portfolio_health(
    portfolio_plan: pd.DataFrame, kpi_baselines: pd.DataFrame, settings: pd.DataFrame
) -> dg.Output[pd.DataFrame]:
    """Per product and theme: capital tied against value created, flags, spend shares and growth/share matrix."""
    df = health.portfolio_health(portfolio_plan, kpi_baselines, settings_from_table(settings))
    flagged = df.loc[df["flags"] != "", ["level", "name", "flags", "reasons"]]
    shown = df[
        [
            "level",
            "name",
            "capital_tied_eur_per_year",
            "value_created_eur_per_year",
            "value_per_eur_tied",
            "share_of_investment",
            "matrix",
            "flags",
        ]
    ]
    return dg.Output(
        df,
        metadata={
            "flagged": len(flagged),
            "flags": dg.MetadataValue.md(flagged.to_markdown(index=False) if len(flagged) else "none"),
            "preview": dg.MetadataValue.md(shown.to_markdown(index=False, floatfmt=",.2f")),
        },
    )


@dg.asset_check(asset=priority_scores, blocking=True)
def priority_ranks_complete(priority_scores: pd.DataFrame) -> dg.AssetCheckResult:
    """Every method ranks every item exactly once: ranks 1..n without gaps or ties."""
    return _check(scoring.rank_problems(priority_scores))


@dg.asset_check(asset="kpi_baselines", blocking=True)
def kpi_baselines_sound(kpi_baselines: pd.DataFrame) -> dg.AssetCheckResult:
    """Rates are shares, money is not negative, and a missing churn rate is explained."""
    return _check(valuation.baseline_problems(kpi_baselines))


@dg.asset_check(asset=portfolio_health, blocking=True)
def portfolio_health_sound(portfolio_health: pd.DataFrame) -> dg.AssetCheckResult:
    """Capital tied, run cost and investment are not negative."""
    return _check(health.health_problems(portfolio_health))


def _check(problems: list[str]) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(passed=not problems, metadata={"problems": "; ".join(problems[:20]) or "none"})
