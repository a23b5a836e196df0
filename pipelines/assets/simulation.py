"""Simulation: the recommended plan run through every scenario of the library, many times over."""


import time

import dagster as dg
import pandas as pd

from models.settings import settings_from_table
from models.simulation import build_plan, run_replications, scenarios_from_table, series_bands, summarise_runs
from pipelines.resources import WeitblickConfig

GROUP = "simulation"


@dg.multi_asset(
    outs={
        "stress_test_runs": dg.AssetOut(group_name=GROUP, kinds={"python", "duckdb"},
                                        description="One row per plan, scenario and replication with its seed and outcome."),
        "stress_test_series": dg.AssetOut(group_name=GROUP, kinds={"python", "duckdb"},
                                          description="Monthly KPI series per product for every run."),
    },
)
def stress_test(config: WeitblickConfig, portfolio_plan: pd.DataFrame, backlog: pd.DataFrame,
                teams: pd.DataFrame, kpi_history: pd.DataFrame, settings: pd.DataFrame,
                scenario_library: pd.DataFrame):
    """Run the recommended plan through every scenario (Mesa model, seeded per replication)."""
    plan = build_plan("recommended", portfolio_plan, backlog, teams, kpi_history, settings_from_table(settings))
    started = time.perf_counter()
    runs, series = run_replications([plan], scenarios_from_table(scenario_library),
                                    replications=config.replications, seed=config.seed)
    meta = {"runs": len(runs), "root_seed": config.seed, "scenarios": runs["scenario"].nunique(),
            "wall_s": round(time.perf_counter() - started, 2)}
    yield dg.Output(runs, "stress_test_runs", metadata=meta)
    yield dg.Output(series, "stress_test_series", metadata={"rows": len(series)})


@dg.asset(group_name=GROUP, kinds={"python", "duckdb"})
def stress_test_summary(stress_test_runs: pd.DataFrame) -> dg.Output[pd.DataFrame]:
    """Per plan and scenario: NPV and MRR percentiles, on-time share and slip."""
    df = summarise_runs(stress_test_runs)
    return dg.Output(df, metadata={"preview": dg.MetadataValue.md(df.to_markdown(index=False))})


@dg.asset(group_name=GROUP, kinds={"python", "duckdb"})
def stress_test_bands(stress_test_series: pd.DataFrame) -> dg.Output[pd.DataFrame]:
    """Per plan, scenario and month: P10/P50/P90 of MRR, MAU and paying customers across replications."""
    df = series_bands(stress_test_series)
    return dg.Output(df, metadata={"rows": len(df)})
