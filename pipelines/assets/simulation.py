"""Simulation: the scenario library (with a workspace's own scenarios), and the recommended plan and
the greedy baselines run through every scenario, many times over, with the chance of meeting each
key result; and the open exploration of what breaks a plan (scenario discovery)."""

import dagster as dg
import pandas as pd

from models import portfolio
from models.exploration import explore_plans
from models.names import CURRENT_PLAN, ROBUST_PLAN, STATUS_QUO_PLAN
from models.plausibility import implausible, plausibility
from models.robustness import plan_robustness as robustness_of, ranking_agreement
from models.settings import settings_from_table
from models.simulation import (
    candidate_plans,
    load_library,
    okr_chances,
    scenario_table,
    scenarios_from_table,
    select_scenarios,
    series_bands,
    stress_test as run_stress_test,
    summarise_runs,
)
from pipelines.resources import WeitblickConfig

GROUP = "simulation"


def _plans(
    recommended: pd.DataFrame, robust: pd.DataFrame, baselines: pd.DataFrame, roadmap: pd.DataFrame
) -> dict[str, pd.DataFrame]:
    """The decisions of every candidate plan by name: recommended, robust (when optimised), the greedy
    baselines with the status quo, and the team's current roadmap (when it funds anything)."""
    decisions = {"recommended": recommended}
    if len(robust):
        decisions[ROBUST_PLAN] = robust
    decisions.update(portfolio.unstack_plans(baselines))
    if len(roadmap) and roadmap["funded"].astype(bool).any():
        decisions[CURRENT_PLAN] = roadmap
    return decisions


def _md(df: pd.DataFrame, rows: int = 20) -> dg.MetadataValue:
    return dg.MetadataValue.md(df.head(rows).to_markdown(index=False, floatfmt=",.2f"))


@dg.asset(group_name="inputs", kinds={"python", "duckdb"})
def scenario_library(config: WeitblickConfig) -> dg.Output[pd.DataFrame]:
    """Every scenario file of the library and of the workspace's scenarios/ (same name overrides), validated."""
    library, workspace = config.scenario_folders()
    df = scenario_table(load_library(library, workspace))
    return dg.Output(
        df,
        metadata={
            "scenarios": len(df),
            "names": ", ".join(df["name"]),
            "source": str(library),
            "workspace": str(workspace) if workspace else "none",
            "origins": _md(df[["name", "origin", "source", "roles"]], rows=100),
        },
    )


@dg.asset_check(asset=scenario_library, blocking=True)
def scenario_library_not_empty(scenario_library: pd.DataFrame) -> dg.AssetCheckResult:
    """At least one scenario; names unique."""
    problems = [] if len(scenario_library) else ["the scenarios folder holds no scenario file"]
    problems += [
        f"scenario {n} defined twice"
        for n in sorted(set(scenario_library.loc[scenario_library["name"].duplicated(), "name"]))
    ]
    return dg.AssetCheckResult(
        passed=not problems,
        description=f"{len(problems)} scenario library problems" if problems else "no scenario library problems",
        metadata={"problems": dg.MetadataValue.md("\n".join(f"- {p}" for p in problems[:50]) or "none")},
    )


@dg.multi_asset(
    outs={
        "stress_test_runs": dg.AssetOut(
            group_name=GROUP,
            kinds={"python", "duckdb"},
            description="One row per plan, scenario and replication with its seed, outcome and parameter values.",
        ),
        "stress_test_series": dg.AssetOut(
            group_name=GROUP, kinds={"python", "duckdb"}, description="Monthly KPI series per product for every run."
        ),
        "stress_test_okr_runs": dg.AssetOut(
            group_name=GROUP,
            kinds={"python", "duckdb"},
            description="One row per run and key result: value reached, met or not.",
        ),
        "stress_test_run_info": dg.AssetOut(
            group_name=GROUP,
            kinds={"python", "duckdb"},
            description="How the stress test ran: backend, workers, runs, root seed, seed range, wall time, "
            "and what each scenario role meant on this company (resolved).",
        ),
    },
)
def stress_test(
    config: WeitblickConfig,
    portfolio_plan: pd.DataFrame,
    robust_decisions: pd.DataFrame,
    baseline_decisions: pd.DataFrame,
    roadmap_decisions: pd.DataFrame,
    backlog: pd.DataFrame,
    teams: pd.DataFrame,
    kpi_history: pd.DataFrame,
    okrs: pd.DataFrame,
    settings: pd.DataFrame,
    scenario_library: pd.DataFrame,
):
    """Run the recommended and the robust plan, the greedy baselines, the status quo and the team's current
    roadmap (when the workspace has one) through the scenarios (Mesa model, seeded per replication)."""
    decisions = _plans(portfolio_plan, robust_decisions, baseline_decisions, roadmap_decisions)
    plans = candidate_plans(
        decisions, backlog, teams, kpi_history, settings_from_table(settings), okrs, names=config.stress_test_plans
    )
    scenarios = select_scenarios(scenarios_from_table(scenario_library), config.stress_test_scenarios)
    st = run_stress_test(
        plans,
        scenarios,
        replications=config.replications,
        seed=config.seed,
        workers=config.workers,
        dask_address=config.dask_address,
    )
    info = st.info
    meta = {
        "runs": info["runs"],
        "plans": ", ".join(p.name for p in plans),
        "scenarios": ", ".join(scenarios),
        "replications": str(info["replications"]),
        "root_seed": info["root_seed"],
        "seeds": f"{info['min_seed']} .. {info['max_seed']}",
        "wall_s": info["wall_s"],
        "backend": info["backend"],
        "workers": info["workers"],
        "chunks": info["chunks"],
        "resolved": _md(st.resolutions.drop(columns="plans"), rows=200) if len(st.resolutions) else "no roles",
    }
    yield dg.Output(st.runs, "stress_test_runs", metadata=meta)
    yield dg.Output(st.series, "stress_test_series", metadata={"rows": len(st.series)})
    yield dg.Output(
        st.okrs, "stress_test_okr_runs", metadata={"rows": len(st.okrs), "key_results": st.okrs["key_result"].nunique()}
    )
    yield dg.Output(st.run_info, "stress_test_run_info", metadata=meta)


@dg.asset(group_name=GROUP, kinds={"python", "duckdb"})
def stress_test_summary(stress_test_runs: pd.DataFrame) -> dg.Output[pd.DataFrame]:
    """Per plan and scenario: NPV and MRR mean and percentiles, on-time share, slip and OKR attainment."""
    df = summarise_runs(stress_test_runs)
    return dg.Output(
        df,
        metadata={
            "preview": _md(
                df[
                    [
                        "plan",
                        "scenario",
                        "runs",
                        "npv_p10",
                        "npv_p50",
                        "npv_p90",
                        "on_time_share_mean",
                        "okr_met_share_mean",
                    ]
                ]
            )
        },
    )


@dg.asset(group_name=GROUP, kinds={"python", "duckdb"})
def stress_test_okrs(stress_test_okr_runs: pd.DataFrame) -> dg.Output[pd.DataFrame]:
    """Per plan, scenario and key result: the chance of meeting its target and the value reached."""
    df = okr_chances(stress_test_okr_runs)
    return dg.Output(
        df,
        metadata={
            "rows": len(df),
            "preview": _md(df[["plan", "scenario", "key_result", "target", "chance_met", "value_p50"]]),
        },
    )


@dg.asset(group_name=GROUP, kinds={"python", "duckdb"})
def stress_test_bands(stress_test_series: pd.DataFrame) -> dg.Output[pd.DataFrame]:
    """Per plan, scenario and month: P10/P50/P90 of MRR, MAU and paying customers across replications."""
    df = series_bands(stress_test_series)
    return dg.Output(df, metadata={"rows": len(df)})


@dg.asset(group_name=GROUP, kinds={"python", "duckdb"})
def plan_plausibility(
    stress_test_series: pd.DataFrame,
    kpi_history: pd.DataFrame,
    business_cases: pd.DataFrame,
    portfolio_plan: pd.DataFrame,
    robust_decisions: pd.DataFrame,
    baseline_decisions: pd.DataFrame,
    roadmap_decisions: pd.DataFrame,
    settings: pd.DataFrame,
) -> dg.Output[pd.DataFrame]:
    """Per plan, product and plan year: the MRR growth of the stress test's P50 path against the best year on record."""
    decisions = _plans(portfolio_plan, robust_decisions, baseline_decisions, roadmap_decisions)
    s = settings_from_table(settings).plausibility
    df = plausibility(stress_test_series, kpi_history, business_cases, decisions, s)
    flagged = df.loc[df["flagged"]]
    return dg.Output(
        df,
        metadata={
            "rows": len(df),
            "scenario": s.scenario,
            "flagged": len(flagged),
            "plans_flagged": ", ".join(dict.fromkeys(flagged["plan"])) or "none",
            "preview": _md(df.drop(columns=["top_items"]), rows=40) if len(df) else "no rows",
        },
    )


@dg.asset_check(asset=plan_plausibility, blocking=False)
def recommended_plan_is_plausible(plan_plausibility: pd.DataFrame) -> dg.AssetCheckResult:
    """Warns when the recommended plan's P50 MRR path grows faster than the history makes believable."""
    problems = implausible(plan_plausibility, "recommended")
    others = [p for p in implausible(plan_plausibility) if not p.startswith("recommended:")]
    sq = plan_plausibility.loc[plan_plausibility["plan"] == STATUS_QUO_PLAN]
    return dg.AssetCheckResult(
        passed=not problems,
        severity=dg.AssetCheckSeverity.WARN,
        description="; ".join(problems)[:1000]
        if problems
        else "the recommended plan's P50 MRR path stays within what the history makes believable",
        metadata={
            "recommended": dg.MetadataValue.md("\n".join(f"- {p}" for p in problems) or "none flagged"),
            "other plans": dg.MetadataValue.md("\n".join(f"- {p}" for p in others) or "none flagged"),
            "status_quo_rows": len(sq),
        },
    )


@dg.asset(group_name=GROUP, kinds={"python", "duckdb"})
def plan_robustness(stress_test_runs: pd.DataFrame, settings: pd.DataFrame) -> dg.Output[pd.DataFrame]:
    """Per plan over every future of the stress test: expected NPV, P10, worst case, regret, satisficing, ranks."""
    df = robustness_of(stress_test_runs, settings_from_table(settings).satisficing)
    tau = ranking_agreement(df)
    return dg.Output(
        df,
        metadata={
            "plans": len(df),
            "futures": int(df["futures"].max()) if len(df) else 0,
            "preview": _md(df),
            "kendall_tau": _md(tau),
        },
    )


@dg.multi_asset(
    outs={
        "scenario_discovery": dg.AssetOut(
            group_name=GROUP,
            kinds={"python", "duckdb"},
            description="What breaks each explored plan: PRIM boxes over the library's drivers with coverage, "
            "density and the sentence that says it.",
        ),
        "discovery_limits": dg.AssetOut(
            group_name=GROUP,
            kinds={"python", "duckdb"},
            description="Per plan and box: the restricted drivers with their lower and upper limits.",
        ),
        "discovery_futures": dg.AssetOut(
            group_name=GROUP,
            kinds={"python", "duckdb"},
            description="The Latin hypercube futures (one column per driver) with each plan's NPV and failure.",
        ),
        "discovery_drivers": dg.AssetOut(
            group_name=GROUP,
            kinds={"python", "duckdb"},
            description="Every uncertain driver of the library: range, default, label, sources, feature scores.",
        ),
        "discovery_trajectory": dg.AssetOut(
            group_name=GROUP,
            kinds={"python", "duckdb"},
            description="The peeling trade-off of each plan's first box: coverage against density, step by step.",
        ),
        "discovery_run_info": dg.AssetOut(
            group_name=GROUP,
            kinds={"python", "duckdb"},
            description="Futures, seed, the floors that count as failure, the share failed per plan, wall time.",
        ),
    },
)
def scenario_discovery(
    config: WeitblickConfig,
    portfolio_plan: pd.DataFrame,
    robust_decisions: pd.DataFrame,
    baseline_decisions: pd.DataFrame,
    roadmap_decisions: pd.DataFrame,
    backlog: pd.DataFrame,
    teams: pd.DataFrame,
    kpi_history: pd.DataFrame,
    okrs: pd.DataFrame,
    business_cases: pd.DataFrame,
    settings: pd.DataFrame,
    scenario_library: pd.DataFrame,
):
    """Sample every driver of the library jointly and find the drivers and ranges where a plan misses its floors."""
    s = settings_from_table(settings)
    cfg = s.discovery
    decisions = _plans(portfolio_plan, robust_decisions, baseline_decisions, roadmap_decisions)
    names = list(dict.fromkeys([*(config.discovery_plans or cfg.plans), STATUS_QUO_PLAN]))
    plans = candidate_plans(decisions, backlog, teams, kpi_history, s, okrs, names=names)  # unknown: an error
    out = explore_plans(
        plans,
        scenarios_from_table(scenario_library),
        s.months,
        s.satisficing,
        futures=config.discovery_futures or cfg.futures,
        seed=cfg.seed,
        count=cfg.failure,
        min_coverage=cfg.min_coverage,
        max_boxes=cfg.max_boxes,
        workers=config.workers,
        npv_floor=cfg.npv_floor,
        item_values=dict(
            zip(business_cases["item_id"].astype(str), business_cases["pv_benefit_estimated_eur"], strict=True)
        ),
    )
    info = out.run_info.iloc[0].to_dict()
    meta = {k: info[k] for k in ("futures", "seed", "drivers", "failure", "plans", "failed_share", "wall_s")}
    sentences = dg.MetadataValue.md("\n".join(f"- {x}" for x in out.boxes["sentence"]) or "none")
    yield dg.Output(out.boxes, "scenario_discovery", metadata={**meta, "sentences": sentences})
    yield dg.Output(out.limits, "discovery_limits", metadata={"rows": len(out.limits)})
    yield dg.Output(out.futures, "discovery_futures", metadata={"rows": len(out.futures)})
    yield dg.Output(out.drivers, "discovery_drivers", metadata={"drivers": len(out.drivers)})
    yield dg.Output(out.trajectory, "discovery_trajectory", metadata={"steps": len(out.trajectory)})
    yield dg.Output(out.run_info, "discovery_run_info", metadata=meta)
