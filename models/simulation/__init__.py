"""Stress tests: a Mesa agent-based model of a plan's delivery and its markets, and the
scenarios (EMA-style: constants, uncertainties, shocks) it runs through.

Typical use::

    plan = build_plan("recommended", decisions, backlog, teams, kpi_history, settings)
    runs, series = run_replications([plan], load_scenarios(scenarios_dir()), seed=0)
    summary = summarise_runs(runs)

See README.md in this folder for the model and its assumptions.
"""

from models.simulation.agents import CompetitorAgent, MarketSegmentAgent, TeamAgent, bass_step_hazard
from models.simulation.model import DELIVERY_COLUMNS, SERIES_COLUMNS, PortfolioMarketModel
from models.simulation.plan import SimulationPlan, build_plan, market_state, single_product_plan
from models.simulation.runner import (
    SUMMARY_FIELDS,
    ReplicationTask,
    RunOutcome,
    replication_seed,
    replication_tasks,
    run,
    run_replications,
    run_task,
    series_bands,
    simulate,
    summarise_run,
    summarise_runs,
)
from models.simulation.scenario import (
    PARAMETER_NAMES,
    Parameters,
    Scenario,
    load_scenario,
    load_scenarios,
    scenario_from_yaml,
    scenario_table,
    scenarios_from_table,
)

__all__ = [
    "DELIVERY_COLUMNS", "PARAMETER_NAMES", "SERIES_COLUMNS", "SUMMARY_FIELDS",
    "CompetitorAgent", "MarketSegmentAgent", "Parameters", "PortfolioMarketModel", "ReplicationTask",
    "RunOutcome", "Scenario", "SimulationPlan", "TeamAgent",
    "bass_step_hazard", "build_plan", "load_scenario", "load_scenarios", "market_state",
    "replication_seed", "replication_tasks", "run", "run_replications", "run_task", "scenario_from_yaml",
    "scenario_table", "scenarios_from_table", "series_bands", "simulate", "single_product_plan", "summarise_run",
    "summarise_runs",
]
