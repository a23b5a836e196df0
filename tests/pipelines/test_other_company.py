"""A company whose product, skill and team names are not the demo's, with other budgets, runs
every command: a whole refresh (plan, explanations, the stress test over the whole scenario
library, the review report) into a home of its own, status and history, scores, health and
the frontier (the library's scenarios name products and skills by role, not by the demo's
names)."""

from __future__ import annotations

import json

import pytest
from pipelines_testkit import OTHER_PRODUCTS, home_env, invoke, other_company
from typer.testing import CliRunner

from pipelines import paths
from pipelines.store import read_tables

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def nordwind(tmp_path_factory):
    return str(other_company(tmp_path_factory.mktemp("other") / "nordwind"))


def _json(*args: str):
    result = invoke(*args, "--format", "json")
    assert result.exit_code == 0, result.stderr[-3000:]
    return json.loads(result.stdout)


def test_a_refresh_of_the_company_plans_and_stress_tests_it_over_the_whole_library(nordwind, tmp_path):
    from pipelines.cli import app

    home = tmp_path / "home"
    runner = CliRunner(env=home_env(home, home / "reports"))
    args = ["refresh", "--data", nordwind, "--replications", "1", "--time-limit", "2", "--explain-time-limit", "0.05"]
    args += ["--robust-futures", "0", "--discovery-futures", "20"]
    result = runner.invoke(app, args, catch_exceptions=False)
    assert result.exit_code == 0, result.stderr[-3000:]
    status = json.loads(runner.invoke(app, ["status", "--format", "json"]).stdout)
    assert status["data_dir"] == nordwind and status["value_eur"] > 0 and status["funded"]
    assert {i["product"] for i in status["funded"]} <= set(OTHER_PRODUCTS.values())
    (run,) = json.loads(runner.invoke(app, ["history", "--format", "json"]).stdout)
    assert run["run_id"] == status["run_id"] and run["trigger"] == "command" and run["current"]
    t = read_tables(paths.store_path(home), "stress_test_summary", "stress_test_run_info")
    # every library scenario (all ten files in scenarios/) ran, for the recommended plan and the baselines
    summary = t["stress_test_summary"]
    assert summary["scenario"].nunique() == 10 and "recommended" in set(summary["plan"])
    assert (summary["npv_p50"] > 0).all()
    # the roles of the scenarios that once named the demo's products and skills, in this company's names
    resolved = t["stress_test_run_info"]["resolved"].iloc[0]
    assert "market_shift: shock 1 from_product {largest: mrr} -> Sensor Cloud" in resolved
    assert "market_shift: shock 1 to_product {largest: mau} -> Service Hub" in resolved
    assert "budget_cut: shock 2 skill {largest: cost_per_pw} -> analytics" in resolved
    assert "regulatory_change: shock 1 effort.1.skill {largest: capacity, rank: 2} -> webui" in resolved
    assert "vuca_storm: shock 1 effort.0.skill {largest: capacity} -> services" in resolved
    # the open exploration draws the same library drivers on this company and says what breaks its plan
    found = read_tables(paths.store_path(home), "scenario_discovery", "discovery_drivers")
    assert found["scenario_discovery"]["sentence"].iloc[0].startswith("The recommended plan ")
    assert {"shock_market_shift", "shock_budget_cut"} <= set(found["discovery_drivers"]["driver"])
    html = (home / "reports" / "review.html").read_text(encoding="utf-8")
    assert "Nordwind" in html or status["company"] in html
    assert "This is the first recommendation in this store" in html


def test_scores_health_and_frontier(nordwind):
    scores = _json("scores", "--data", nordwind, "--top", "3", "--draws", "20")
    assert len(scores["top"]) == 3
    health = _json("health", "--data", nordwind, "--time-limit", "3")
    products = {r["name"] for r in health["health"] if r["level"] == "product"}
    assert products == set(OTHER_PRODUCTS.values())
    frontier = _json("frontier", "--data", nordwind, "--time-limit", "3", "--points", "2")
    assert 1.0 in {r["budget_share"] for r in frontier}
