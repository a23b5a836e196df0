"""Stress tests: a Mesa agent-based model of a plan's delivery and its markets, and the
scenarios (EMA-style: constants, uncertainties, shocks) it runs through.

Typical use::

    plan = build_plan("recommended", decisions, backlog, teams, kpi_history, settings)
    result = stress_test([plan], load_scenarios(scenarios_dir()), seed=0)  # local processes
    summary = summarise_runs(result.runs)

See README.md in this folder for the model and its assumptions.
"""

from models.simulation.agents import CompetitorAgent, MarketSegmentAgent, TeamAgent, bass_step_hazard
from models.simulation.model import (
    DELIVERY_COLUMNS,
    OKR_ATTAINMENT_COLUMNS,
    OKR_METRICS,
    SERIES_COLUMNS,
    PortfolioMarketModel,
)
from models.simulation.plan import SimulationPlan, build_plan, market_state, okr_table, single_product_plan
from models.simulation.roles import RESOLUTION_COLUMNS, Company, Resolved, company_facts, resolve, resolve_for_plan
from models.simulation.runner import (
    PLAN_NAMES,
    SUMMARY_FIELDS,
    Chunk,
    ChunkResult,
    RunOutcome,
    StressTest,
    candidate_plans,
    compare_plans,
    make_chunks,
    okr_chances,
    okr_met_share,
    replication_seed,
    resolve_scenarios,
    run,
    run_chunk,
    run_replications,
    select_scenarios,
    series_bands,
    simulate,
    stress_test,
    summarise_run,
    summarise_runs,
)
from models.simulation.scenario import (
    PARAMETER_NAMES,
    Parameters,
    Role,
    Scenario,
    load_library,
    load_scenario,
    load_scenarios,
    scenario_from_yaml,
    scenario_table,
    scenarios_from_table,
)

__all__ = [
    "DELIVERY_COLUMNS",
    "OKR_ATTAINMENT_COLUMNS",
    "OKR_METRICS",
    "PARAMETER_NAMES",
    "PLAN_NAMES",
    "RESOLUTION_COLUMNS",
    "SERIES_COLUMNS",
    "SUMMARY_FIELDS",
    "Chunk",
    "ChunkResult",
    "Company",
    "CompetitorAgent",
    "MarketSegmentAgent",
    "Parameters",
    "PortfolioMarketModel",
    "Resolved",
    "Role",
    "RunOutcome",
    "Scenario",
    "SimulationPlan",
    "StressTest",
    "TeamAgent",
    "bass_step_hazard",
    "build_plan",
    "candidate_plans",
    "company_facts",
    "compare_plans",
    "load_library",
    "load_scenario",
    "load_scenarios",
    "make_chunks",
    "market_state",
    "okr_chances",
    "okr_met_share",
    "okr_table",
    "replication_seed",
    "resolve",
    "resolve_for_plan",
    "resolve_scenarios",
    "run",
    "run_chunk",
    "run_replications",
    "scenario_from_yaml",
    "scenario_table",
    "scenarios_from_table",
    "select_scenarios",
    "series_bands",
    "simulate",
    "single_product_plan",
    "stress_test",
    "summarise_run",
    "summarise_runs",
]
