"""The whole graph materialised on an ephemeral instance, on the demo company and on bad input."""

from __future__ import annotations

import shutil
from pathlib import Path

import dagster as dg
import pandas as pd
import pytest

from models import portfolio
from models.settings import settings_from_table
from pipelines import paths
from pipelines.definitions import build_definitions
from pipelines.store import read_tables

REPLICATIONS = 4
# Solver effort for tests: short limits; the plan reports its gap honestly either way.
EFFORT = dict(time_limit_s=10.0, explain_time_limit_s=1.0, near_misses=2, frontier_points=3)


def _refresh(home: Path, **config) -> dg.ExecuteInProcessResult:
    config = {**EFFORT, **config}
    defs = build_definitions(home, replications=REPLICATIONS, reports_dir=str(home / "reports"), **config)
    with dg.DagsterInstance.ephemeral() as instance:
        return defs.resolve_job_def("refresh").execute_in_process(instance=instance, raise_on_error=False)


@pytest.fixture(scope="module")
def refreshed(tmp_path_factory):
    home = tmp_path_factory.mktemp("refresh")
    result = _refresh(home)
    return home, result


def test_refresh_materialises_every_asset(refreshed):
    home, result = refreshed
    assert result.success
    materialised = {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()}
    graph_assets = {
        k.to_user_string() for k in build_definitions(home).get_repository_def().asset_graph.get_all_asset_keys()
    }
    assert materialised == graph_assets


def test_every_check_passes_on_the_demo(refreshed):
    _, result = refreshed
    evaluations = result.get_asset_check_evaluations()
    assert len(evaluations) >= 12
    failed = [(e.asset_key.to_user_string(), e.check_name) for e in evaluations if not e.passed]
    assert failed == []


def test_plan_in_store_is_feasible_and_funds_every_must(refreshed):
    home, _ = refreshed
    t = read_tables(
        paths.store_path(home), "portfolio_plan", "backlog", "teams", "settings", "plan_run_info", "value_by_start"
    )
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


def test_plan_is_explained_priced_and_beats_the_greedy_baselines(refreshed):
    home, _ = refreshed
    t = read_tables(
        paths.store_path(home),
        "portfolio_plan",
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
    assert set(base["method"]) == {"rice", "wsjf", "value_per_effort", "weighted_score"}
    # warm-started from the best valid greedy plan, the optimiser never ends below it
    valid = base.loc[base["valid"], "value_eur"]
    # (up to the tie-break of one cent per item and period of delay)
    assert float(plan["value"].sum()) >= float(valid.max()) - 0.01 * 8 * len(plan)
    frontier = t["efficient_frontier"]
    assert 1.0 in set(frontier["budget_share"])
    assert (t["capacity_usage"]["shadow_price_eur_per_pw"] >= 0).all()


def test_stress_test_covers_every_scenario_with_recorded_seeds(refreshed):
    home, _ = refreshed
    t = read_tables(paths.store_path(home), "stress_test_runs", "scenario_library", "stress_test_summary")
    runs = t["stress_test_runs"]
    assert set(runs["scenario"]) == set(t["scenario_library"]["name"])
    assert (runs.groupby(["plan", "scenario"]).size() == REPLICATIONS).all()
    assert "recommended" in set(runs["plan"]) and runs["plan"].nunique() == 5  # and the four greedy baselines
    assert runs["seed"].notna().all() and runs["seed"].nunique() == len(runs) // runs["plan"].nunique()
    assert len(t["stress_test_summary"]) == runs[["plan", "scenario"]].drop_duplicates().shape[0]


def test_review_report_is_rendered(refreshed):
    home, _ = refreshed
    html = home / "reports" / "review.html"
    text = html.read_text(encoding="utf-8")
    assert "The recommended plan" in text and "Stress test" in text
    assert text.count('src="data:image/png;base64') >= 3  # Gantt, capacity/budget, NPV/MRR figures
    assert "Traceback" not in text


def _break_teams(src: Path, dst: Path) -> None:
    shutil.copytree(src, dst)
    lines = (dst / "teams.csv").read_text(encoding="utf-8").splitlines(keepends=True)
    # the same team twice: the reader must refuse the file and stop the refresh
    (dst / "teams.csv").write_text("".join(lines) + lines[1], encoding="utf-8")


def test_failed_refresh_keeps_the_last_good_plan(refreshed, tmp_path):
    home, _ = refreshed
    before = read_tables(paths.store_path(home), "portfolio_plan", "plan_run_info")
    bad = tmp_path / "bad"
    _break_teams(paths.demo_data_dir(), bad)
    result = _refresh(home, data_dir=str(bad))
    assert not result.success
    after = read_tables(paths.store_path(home), "portfolio_plan", "plan_run_info")
    pd.testing.assert_frame_equal(before["portfolio_plan"], after["portfolio_plan"])
    pd.testing.assert_frame_equal(before["plan_run_info"], after["plan_run_info"])
