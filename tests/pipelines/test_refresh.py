"""The whole graph refreshed on the demo company (the session's ``weitblick demo`` run, read
from its store, its Dagster instance and its report) and on bad input."""

from __future__ import annotations

import shutil
from pathlib import Path

import dagster as dg
import pandas as pd
import pytest
from pipelines_testkit import DEMO_REPLICATIONS

from models import portfolio
from models.portfolio.build import TIE_BREAK_EUR
from models.settings import settings_from_table
from pipelines import paths
from pipelines.definitions import build_definitions
from pipelines.store import read_tables

pytestmark = pytest.mark.slow

DEMO_HEADINGS = (
    "Recommended plan",
    "Capacity use",
    "Price of each rule",
    "Against greedy ranking",
    "Stress test",
    "status",
)


def _events(demo_run, event_type: dg.DagsterEventType) -> list:
    """The events of one type of the session's refresh, from the persistent instance the UI reads."""
    with dg.DagsterInstance.from_config(str(demo_run.dagster_home)) as instance:
        (run,) = instance.get_runs(filters=dg.RunsFilter(job_name="refresh"))
        assert run.is_success
        return [e.dagster_event for e in instance.all_logs(run.run_id, of_type=event_type)]


def test_demo_prints_the_plan_and_writes_the_report(demo_run):
    for heading in DEMO_HEADINGS:
        assert heading in demo_run.proc.stdout
    assert (demo_run.reports / "review.html").stat().st_size > 50_000


def test_refresh_materialises_every_asset(demo_run):
    events = _events(demo_run, dg.DagsterEventType.ASSET_MATERIALIZATION)
    materialised = {e.asset_key.to_user_string() for e in events}
    graph = build_definitions(demo_run.home).get_repository_def().asset_graph
    assert materialised == {k.to_user_string() for k in graph.get_all_asset_keys()}


def test_every_check_passes_on_the_demo(demo_run):
    evaluations = [e.event_specific_data for e in _events(demo_run, dg.DagsterEventType.ASSET_CHECK_EVALUATION)]
    assert len(evaluations) >= 12
    failed = [(e.asset_key.to_user_string(), e.check_name) for e in evaluations if not e.passed]
    assert failed == []


def test_plan_in_store_is_feasible_and_funds_every_must(demo_run):
    t = read_tables(demo_run.store, "portfolio_plan", "backlog", "teams", "settings", "plan_run_info", "value_by_start")
    plan, backlog = t["portfolio_plan"], t["backlog"]
    assert (
        portfolio.check_plan(plan, backlog, t["teams"], t["value_by_start"], settings_from_table(t["settings"])) == []
    )
    musts = set(backlog.loc[backlog["mandatory"] & (backlog["status_category"] != "Done"), "item_id"])
    funded = set(plan.loc[plan["funded"], "item_id"])
    assert musts and musts <= funded
    info = t["plan_run_info"].iloc[0]
    assert info["status"] in {"Optimal", "TimeLimit"}
    # "Optimal" only within the gap tolerance asked for
    assert info["status"] != "Optimal" or float(info["gap"]) <= float(info["gap_rel_target"]) + 1e-9
    # the plan is worth what its decisions say
    assert float(info["objective"]) == pytest.approx(float(plan.loc[plan["funded"], "value"].sum()), rel=1e-6)


def test_plan_is_explained_priced_and_within_its_proven_gap_of_the_greedy_baselines(demo_run):
    t = read_tables(
        demo_run.store,
        "settings",
        "portfolio_plan",
        "plan_run_info",
        "plan_explanations",
        "rule_prices",
        "baseline_plans",
        "efficient_frontier",
        "capacity_usage",
    )
    plan, expl = t["portfolio_plan"], t["plan_explanations"]
    assert sorted(expl["item_id"]) == sorted(plan["item_id"])
    assert expl.loc[~expl["funded"], "what_it_takes"].str.len().gt(0).all()
    # every Must-have that is not running work was re-solved forced out
    assert expl["resolved"].sum() >= 1 and set(expl.loc[expl["resolved"], "resolve_status"]) <= {
        "Optimal",
        "TimeLimit",
        "Infeasible",
    }
    prices = t["rule_prices"].set_index("rule")
    # the demo's settings state these rules: each is priced, never negative
    assert {"must", "in_progress", "balance", "okr", "quick_wins", "wip_limit", "budget_total"} <= set(prices.index)
    assert (prices["price_eur"] >= 0).all() and (prices["price_high_eur"] >= prices["price_low_eur"]).all()
    base = t["baseline_plans"]
    assert set(base["method"]) == {"rice", "wsjf", "value_per_effort", "weighted_score", "status_quo"}
    # the status quo (running work only) leaves the demo's Must-haves undone: a yardstick, never valid
    sq = base.set_index("method").loc["status_quo"]
    assert not sq["valid"] and "mandatory item" in sq["violations"] and sq["value_eur"] < plan["value"].sum()
    # A greedy plan that keeps every rule is a feasible plan of the MILP, so whatever the solver's
    # status, its proven bound is at least that plan's objective (value less the tie-break of one
    # cent per item and start period), and the plan is within its proven gap of that bound.
    best_greedy = float(base.loc[base["valid"], "value_eur"].max())
    info = t["plan_run_info"].iloc[0]
    tie_break = TIE_BREAK_EUR * settings_from_table(t["settings"]).periods * len(plan)
    assert float(info["best_bound"]) >= best_greedy - tie_break
    assert float(plan["value"].sum()) * (1 + float(info["gap"])) >= best_greedy - tie_break
    frontier = t["efficient_frontier"]
    assert 1.0 in set(frontier["budget_share"])
    assert (t["capacity_usage"]["shadow_price_eur_per_pw"] >= 0).all()


def test_stress_test_covers_every_scenario_with_recorded_seeds(demo_run):
    t = read_tables(demo_run.store, "stress_test_runs", "scenario_library", "stress_test_summary")
    runs = t["stress_test_runs"]
    assert set(runs["scenario"]) == set(t["scenario_library"]["name"])
    assert (runs.groupby(["plan", "scenario"]).size() == DEMO_REPLICATIONS).all()
    # the four greedy baselines and the status quo
    assert {"recommended", "robust"} <= set(runs["plan"]) and runs["plan"].nunique() == 7
    # every plan's gain over the status quo is measured in the same replications: 0 for the status quo itself
    summary = t["stress_test_summary"].set_index("plan")
    assert (summary.loc["status_quo", "npv_increment_p50"] == 0).all()
    assert summary["npv_increment_p50"].notna().all()
    assert runs["seed"].notna().all() and runs["seed"].nunique() == len(runs) // runs["plan"].nunique()
    assert len(t["stress_test_summary"]) == runs[["plan", "scenario"]].drop_duplicates().shape[0]


def test_the_robust_plan_is_compared_on_held_out_futures_and_its_items_classified(demo_run):
    t = read_tables(
        demo_run.store, "robust_decisions", "robust_comparison", "robust_items", "robust_run_info", "portfolio_plan"
    )
    info = t["robust_run_info"].iloc[0]
    assert info["futures"] == 12 and info["held_out"] > info["futures"] and info["held_out_seed"] != info["seed"]
    assert info["cvar_status"] in ("Optimal", "TimeLimit") and info["cvar_gap"] >= 0
    comparison = t["robust_comparison"].set_index("plan")
    assert list(comparison.index[:2]) == ["recommended", "robust"]
    assert (comparison["value_worst"] <= comparison["value_p10"]).all()
    assert (comparison["value_cvar"] <= comparison["value_p50"]).all()
    # the price and gain are the comparison's own differences
    assert info["price_of_robustness_eur"] == pytest.approx(
        comparison.at["recommended", "value_mean"] - comparison.at["robust", "value_mean"]
    )
    assert info["p10_gain_eur"] == pytest.approx(
        comparison.at["robust", "value_p10"] - comparison.at["recommended", "value_p10"]
    )
    # core items are in both good plans, exterior in neither
    rec = set(t["portfolio_plan"].query("funded")["item_id"])
    rob = set(t["robust_decisions"].query("funded")["item_id"])
    items = t["robust_items"]
    assert set(items.loc[items["class"] == "core", "item_id"]) == rec & rob
    assert set(items.loc[items["class"] == "borderline", "item_id"]) == rec ^ rob
    assert len(items) == len(t["portfolio_plan"])


def test_scenario_discovery_says_what_breaks_the_recommended_plan(demo_run):
    t = read_tables(
        demo_run.store,
        "scenario_discovery",
        "discovery_limits",
        "discovery_futures",
        "discovery_run_info",
        "discovery_trajectory",
    )
    info = t["discovery_run_info"].iloc[0]
    assert info["futures"] == 60 and len(t["discovery_futures"]) == 60 and info["drivers"] >= 20
    boxes = t["scenario_discovery"].query("plan == 'recommended'")
    assert len(boxes) >= 1 and boxes["sentence"].iloc[0].startswith("The recommended plan misses its NPV floor in ")
    failed = t["discovery_futures"]["recommended__failed"].astype(bool)
    assert 0 < failed.mean() < 1
    # a box is denser in misses than the futures as a whole, and its limits are stored per driver
    found = boxes.loc[boxes["box"] >= 1]
    assert (found["density"] > failed.mean()).all()
    limits = t["discovery_limits"].query("plan == 'recommended'")
    assert set(limits["box"]) == set(found["box"])
    assert "When it fails: The recommended plan" in demo_run.proc.stdout
    # the peeling trade-off: coverage falls and density rises as PRIM peels, one step is the box chosen
    steps = t["discovery_trajectory"].query("plan == 'recommended'")
    assert steps["chosen"].astype(bool).sum() == 1 and steps["coverage"].iloc[0] == pytest.approx(1.0)
    assert steps["coverage"].is_monotonic_decreasing


def test_review_report_is_rendered(demo_run):
    html = demo_run.reports / "review.html"
    text = html.read_text(encoding="utf-8")
    assert "The recommended plan" in text and "Stress test" in text
    assert text.count('src="data:image/png;base64') >= 3  # Gantt, capacity/budget, NPV/MRR figures
    assert "Traceback" not in text


def _break_teams(src: Path, dst: Path) -> None:
    shutil.copytree(src, dst)
    lines = (dst / "teams.csv").read_text(encoding="utf-8").splitlines(keepends=True)
    # the same team twice: the reader must refuse the file and stop the refresh
    (dst / "teams.csv").write_text("".join(lines) + lines[1], encoding="utf-8")


def test_failed_refresh_keeps_the_last_good_plan(copy_of_demo_store, tmp_path):
    home = copy_of_demo_store
    before = read_tables(paths.store_path(home), "portfolio_plan", "plan_run_info")
    bad = tmp_path / "bad"
    _break_teams(paths.demo_data_dir(), bad)
    defs = build_definitions(home, data_dir=str(bad), reports_dir=str(tmp_path / "reports"))
    with dg.DagsterInstance.ephemeral() as instance:
        result = defs.resolve_job_def("refresh").execute_in_process(instance=instance, raise_on_error=False)
    assert not result.success
    after = read_tables(paths.store_path(home), "portfolio_plan", "plan_run_info")
    pd.testing.assert_frame_equal(before["portfolio_plan"], after["portfolio_plan"])
    pd.testing.assert_frame_equal(before["plan_run_info"], after["plan_run_info"])


def test_the_readers_notes_are_stored_and_shown_in_the_report(demo_run):
    notes = read_tables(demo_run.store, "read_notes")["read_notes"]
    assert set(notes["asset"]) <= {"teams", "backlog", "kpi_history", "okrs"} and (notes["file"] == "backlog.csv").any()
    dropped = notes.loc[notes["note"].str.contains("dependencies point at items that are not in the file: dropped")]
    assert len(dropped) == 1 and "SEC-14" in dropped["note"].iloc[0]
    html = (demo_run.reports / "review.html").read_text(encoding="utf-8")
    assert "Appendix: what the readers noted" in html and "SEC-14" in html
