"""The team's current roadmap: read from the workspace, valued and checked like any plan, and
compared with the recommended plan.

Assets: ``current_roadmap`` (group inputs: item_id, start_period, finish_period; no rows when
the workspace has no roadmap), ``roadmap_decisions`` (the optimiser's decisions format, for the
stress test as the plan "current"), ``roadmap_check`` (one summary row like a greedy baseline's)
and ``roadmap_violations`` (each broken rule, where and by how much), ``roadmap_comparison``
(the items only one of the recommended plan and the roadmap funds, and why). Every one of them
is a table without rows when the workspace has no roadmap.
"""

from pathlib import Path

import dagster as dg
import pandas as pd

from models.portfolio.roadmap import compare_plans, value_roadmap
from models.settings import settings_from_table
from pipelines.assets.inputs import _reader_metadata
from pipelines.resources import WeitblickConfig
from pipelines.sources.roadmap import ROADMAP_NAME, read_workspace_roadmap

GROUP = "optimisation"


def _md(df: pd.DataFrame, rows: int = 15) -> dg.MetadataValue:
    return dg.MetadataValue.md(df.head(rows).to_markdown(index=False, floatfmt=",.0f") if len(df) else "none")


@dg.asset(group_name="inputs", kinds={"python", "duckdb"})
def current_roadmap(config: WeitblickConfig, backlog: pd.DataFrame, settings: pd.DataFrame) -> dg.Output[pd.DataFrame]:
    """The team's current roadmap (roadmap.csv, or the Jira export's fix versions dated by releases.csv)."""
    read = read_workspace_roadmap(config.data_path(), backlog, settings_from_table(settings), config.roadmap_source)
    path = Path(read.source) if read.source else config.data_path() / f"{ROADMAP_NAME}.csv"
    source = read.source or f"none ({path.name} not in {config.data_path()})"
    return dg.Output(
        read.roadmap,
        metadata={
            "items": len(read.roadmap),
            "source": source,
            **_reader_metadata(path, read.notes),
        },
    )


@dg.multi_asset(
    outs={
        "roadmap_decisions": dg.AssetOut(
            group_name=GROUP,
            kinds={"python", "duckdb"},
            description="The current roadmap in the optimiser's decisions format (one row per candidate item).",
        ),
        "roadmap_check": dg.AssetOut(
            group_name=GROUP,
            kinds={"python", "duckdb"},
            description="The current roadmap's value, objective, cost, validity and violations, one row.",
        ),
        "roadmap_violations": dg.AssetOut(
            group_name=GROUP,
            kinds={"python", "duckdb"},
            description="Every planning rule the current roadmap breaks: where and by how much.",
        ),
    },
)
def roadmap_plan(
    backlog: pd.DataFrame,
    teams: pd.DataFrame,
    value_by_start: pd.DataFrame,
    settings: pd.DataFrame,
    current_roadmap: pd.DataFrame,
):
    """Value the current roadmap with the optimiser's values and check it against every planning rule."""
    decisions, summary, violations = value_roadmap(
        backlog, teams, value_by_start, settings_from_table(settings), current_roadmap
    )
    funded = decisions.loc[decisions["funded"].astype(bool)]
    yield dg.Output(
        decisions,
        "roadmap_decisions",
        metadata={
            "funded": len(funded),
            "preview": _md(funded[["item_id", "title", "start_period", "finish_period", "value"]]),
        },
    )
    row = summary.iloc[0] if len(summary) else None
    yield dg.Output(
        summary,
        "roadmap_check",
        metadata={
            "value_eur": float(row["value_eur"]) if row is not None else 0.0,
            "valid": bool(row["valid"]) if row is not None else True,
            "violations": len(violations),
        },
    )
    yield dg.Output(
        violations,
        "roadmap_violations",
        metadata={
            "violations": len(violations),
            "rules": ", ".join(sorted(set(violations["rule"]))) or "none",
            "preview": _md(violations[["rule", "where", "period_label", "amount", "unit", "message"]], 30),
        },
    )


@dg.asset(group_name=GROUP, kinds={"python", "duckdb"})
def roadmap_comparison(
    portfolio_plan: pd.DataFrame, roadmap_decisions: pd.DataFrame, roadmap_violations: pd.DataFrame
) -> dg.Output[pd.DataFrame]:
    """The items only one of the recommended plan and the current roadmap funds, and why."""
    df = compare_plans(portfolio_plan, roadmap_decisions, roadmap_violations)
    counts = df["change"].value_counts()
    return dg.Output(
        df,
        metadata={
            "recommended_only": int(counts.get("recommended only", 0)),
            "current_only": int(counts.get("current only", 0)),
            "preview": _md(df[["item_id", "title", "change", "reason"]], 30),
        },
    )


@dg.asset_check(asset=current_roadmap, blocking=True, additional_ins={"backlog": dg.AssetIn("backlog")})
def current_roadmap_items_known(current_roadmap: pd.DataFrame, backlog: pd.DataFrame) -> dg.AssetCheckResult:
    """Every item of the roadmap is once in it and is a backlog item."""
    ids = current_roadmap["item_id"]
    problems = [f"{i} is in the roadmap more than once" for i in sorted(set(ids[ids.duplicated()]))]
    problems += [f"{i} is not in the backlog" for i in sorted(set(ids) - set(backlog["item_id"]))]
    return dg.AssetCheckResult(
        passed=not problems,
        description=f"{len(problems)} roadmap problems" if problems else "no roadmap problems",
        metadata={"problems": dg.MetadataValue.md("\n".join(f"- {p}" for p in problems[:50]) or "none")},
    )
