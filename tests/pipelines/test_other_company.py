"""A company whose product, skill and team names are not the demo's, with other budgets, runs
every command: plan, the stress test over the whole scenario library, scores, health and the
frontier (the library's scenarios name products and skills by role, not by the demo's names)."""

from __future__ import annotations

import json

import pytest
from pipelines_testkit import OTHER_PRODUCTS, invoke, other_company

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def nordwind(tmp_path_factory):
    return str(other_company(tmp_path_factory.mktemp("other") / "nordwind"))


def _json(*args: str):
    result = invoke(*args, "--format", "json")
    assert result.exit_code == 0, result.stderr[-3000:]
    return json.loads(result.stdout)


def test_plan_and_stress_test_over_the_whole_library(nordwind):
    plan = _json("plan", "--data", nordwind, "--no-explain", "--time-limit", "5")
    assert plan["value"] > 0 and plan["funded"]
    stress = _json(
        "stress-test", "--data", nordwind, "--replications", "1", "--plans", "recommended", "--time-limit", "5"
    )
    # every library scenario (all ten files in scenarios/) ran, once each
    assert len(stress["scenarios"]) == 10 and stress["runs"] == 10
    summary = stress["summary"]
    assert all(r["npv_p50"] > 0 for r in summary)
    # the roles of the scenarios that once named the demo's products and skills, in this company's names
    resolved = stress["resolved"]
    assert "market_shift: shock 1 from_product {largest: mrr} -> Sensor Cloud" in resolved
    assert "market_shift: shock 1 to_product {largest: mau} -> Service Hub" in resolved
    assert "budget_cut: shock 2 skill {largest: cost_per_pw} -> analytics" in resolved
    assert "regulatory_change: shock 1 effort.1.skill {largest: capacity, rank: 2} -> webui" in resolved
    assert "vuca_storm: shock 1 effort.0.skill {largest: capacity} -> services" in resolved


def test_scores_health_and_frontier(nordwind):
    scores = _json("scores", "--data", nordwind, "--top", "3", "--draws", "20")
    assert len(scores["top"]) == 3
    health = _json("health", "--data", nordwind, "--time-limit", "3")
    products = {r["name"] for r in health["health"] if r["level"] == "product"}
    assert products == set(OTHER_PRODUCTS.values())
    frontier = _json("frontier", "--data", nordwind, "--time-limit", "3", "--points", "2")
    assert 1.0 in {r["budget_share"] for r in frontier}
