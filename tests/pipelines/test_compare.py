"""``weitblick compare``: the team's current roadmap against the recommended plan, as a user runs
it on a workspace with a roadmap.csv (and refused, before any solve, on one without)."""

from __future__ import annotations

import json
import shutil

import pytest
from pipelines_testkit import invoke

from pipelines import paths

ROADMAP = paths.project_root() / "tests" / "data" / "roadmap" / "roadmap.csv"


def test_compare_without_a_roadmap_says_how_to_give_one():
    result = invoke("compare", "--data", str(paths.demo_data_dir()))
    assert result.exit_code == 1
    assert "no roadmap in" in result.stderr and "Fix: put roadmap.csv (columns item_id, start" in result.stderr


@pytest.mark.slow
def test_compare_values_checks_and_stress_tests_the_roadmap_beside_the_recommendation(tmp_path):
    ws = tmp_path / "ws"
    shutil.copytree(paths.demo_data_dir(), ws)
    shutil.copy(ROADMAP, ws / "roadmap.csv")
    args = ("--scenarios", "baseline", "--replications", "2", "--time-limit", "2", "--format", "json")
    result = invoke("compare", "--data", str(ws), *args)
    assert result.exit_code == 0, result.stderr[-2000:]
    out = json.loads(result.stdout)
    rec, cur = out["plans"]["recommended"], out["plans"]["current"]
    roadmap_items = ROADMAP.read_text(encoding="utf-8").count("\n") - 1
    assert cur["n_funded"] <= roadmap_items and cur["value_eur"] > 0
    # the optimiser's plan keeps every rule and is worth more than a roadmap that breaks some
    assert rec["valid"] and rec["violations"] == 0 and rec["value_eur"] > cur["value_eur"]
    assert not cur["valid"] and cur["violations"] == len(out["violations"]) > 0
    assert {v["rule"] for v in out["violations"]} >= {"must_have"}  # the roadmap leaves Must-haves out
    assert {r["plan"] for r in out["stress_test"]} == {"recommended", "current"}
    assert all(r["npv_p10"] <= r["npv_p50"] <= r["npv_p90"] for r in out["stress_test"])
    assert {r["plan"] for r in out["okrs"]} == {"recommended", "current"}
    only = {r["item_id"]: r for r in out["only_one_funds"]}
    assert only and all(r["reason"] for r in only.values())
    assert {r["change"] for r in only.values()} <= {"recommended only", "current only"}


def test_compare_names_the_roadmap_sources_it_knows():
    result = invoke("compare", "--data", str(paths.demo_data_dir()), "--roadmap-from", "jira")
    assert result.exit_code == 2 and "auto, file, fix_version, sprint" in result.stderr


def test_refresh_and_plan_take_the_same_value_proxies():
    for command in ("refresh", "plan"):
        result = invoke(command, "--data", str(paths.demo_data_dir()), "--value-proxy", "votes")
        assert result.exit_code == 2 and "unknown proxy 'votes': use priority or none" in result.stderr
