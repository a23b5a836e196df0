"""The stress test as a user runs it (`weitblick stress-test`, in-process) and as assets with their metadata."""

from __future__ import annotations

import csv
import json
import re
import shutil
from pathlib import Path

import dagster as dg
import pandas as pd
import pytest
from pipelines_testkit import invoke

from pipelines import paths
from pipelines.cli import INPUT_ASSETS, PLAN_ASSETS, STRESS_ASSETS
from pipelines.definitions import build_definitions
from pipelines.store import read_tables, run_schema

PLANS = ["recommended", "robust", "rice", "wsjf", "value_per_effort", "weighted_score", "status_quo"]


@pytest.mark.slow
def test_stress_test_json_on_the_demo_company():
    # the README's command
    result = invoke(
        "stress-test",
        "--data",
        "data/demo",
        "--scenarios",
        "baseline,budget_cut",
        "--replications",
        "3",
        "--time-limit",
        "5",
        "--format",
        "json",
    )
    assert result.exit_code == 0, result.stderr[-3000:]
    payload = json.loads(result.stdout)  # stdout is exactly one JSON object
    # the recommended and robust plans, the four greedy baselines and the status quo, each through both
    # scenarios 3 times
    assert payload["plans"] == PLANS and payload["scenarios"] == ["baseline", "budget_cut"]
    assert payload["runs"] == 7 * 2 * 3 and payload["replications"] == 3
    assert payload["backend"] == "processes" and payload["workers"] >= 1
    assert payload["root_seed"] == 20270101 and 0 <= payload["min_seed"] < payload["max_seed"]
    summary = pd.DataFrame(payload["summary"])
    assert len(summary) == 14 and (summary["runs"] == 3).all()
    assert (summary["npv_p10"] <= summary["npv_p50"]).all() and (summary["npv_p50"] <= summary["npv_p90"]).all()
    assert summary["okr_met_share_mean"].between(0, 1).all()
    # a budget cut delivers less on time than the baseline, for the recommended plan
    rec = summary[summary["plan"] == "recommended"].set_index("scenario")
    assert rec.loc["budget_cut", "on_time_share_mean"] < rec.loc["baseline", "on_time_share_mean"]
    okrs = pd.DataFrame(payload["okrs"])
    assert {"plan", "scenario", "key_result", "target", "chance_met", "value_p50"} <= set(okrs.columns)
    assert okrs["chance_met"].between(0, 1).all() and (okrs["runs"] == 3).all()
    # every plan and scenario judges the same key results
    assert okrs.groupby(["plan", "scenario"]).size().nunique() == 1


def _tenfold_uplifts(workspace: Path) -> None:
    """Multiply every KPI uplift of the workspace's Jira export by ten ("+3%" -> "+30%", EUR too)."""
    path = workspace / "backlog.csv"
    with path.open(newline="", encoding="utf-8-sig") as f:
        rows = list(csv.reader(f))
    k = rows[0].index("Custom field (KPI Uplift)")
    for row in rows[1:]:
        text = row[k].strip()
        if text:
            number = float(text.rstrip("%"))
            row[k] = f"{number * 10:+g}" + ("%" if text.endswith("%") else "")
    with path.open("w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows(rows)


def test_recommended_against_the_status_quo_is_plausible_and_tenfold_uplifts_are_not(tmp_path):
    """The acceptance of the value a CFO believes: the recommended plan and the status quo run side by
    side; on the demo the recommended plan's P50 MRR path is within what the history makes believable,
    on a copy whose uplifts are ten times the estimates the check fails and names the items."""
    args = ["--plans", "recommended,status_quo", "--scenarios", "baseline", "--replications", "8"]
    demo = invoke("stress-test", "--data", "data/demo", *args, "--time-limit", "5", "--format", "json")
    assert demo.exit_code == 0, demo.stderr[-3000:]
    payload = json.loads(demo.stdout)
    assert payload["plans"] == ["recommended", "status_quo"]
    summary = pd.DataFrame(payload["summary"]).set_index("plan")
    assert summary.loc["status_quo", "npv_increment_p50"] == 0
    assert summary.loc["recommended", "npv_increment_mean"] > 0  # the plan adds to doing nothing
    assert payload["implausible"] == []
    rows = pd.DataFrame(payload["plausibility"])
    assert set(rows["plan"]) == {"recommended", "status_quo"} and not rows["flagged"].any()

    inflated = tmp_path / "inflated"
    shutil.copytree("data/demo", inflated)
    _tenfold_uplifts(inflated)
    result = invoke("stress-test", "--data", str(inflated), *args, "--time-limit", "5")
    assert result.exit_code == 0, result.stderr[-3000:]
    flagged = [line for line in result.stdout.splitlines() if line.startswith("Implausible recommended:")]
    assert flagged, result.stdout[-3000:]
    # it names the items whose estimates carry the excess, by their ids in the export
    assert re.search(r"most of it from [A-Z]+-\d+ \(\+\d", result.stdout), result.stdout[-3000:]


def test_stress_test_names_unknown_scenarios_and_plans():
    # refused before any plan is computed
    result = invoke("stress-test", "--scenarios", "baseline,meteor", "--format", "json")
    assert result.exit_code == 2 and result.stdout == ""
    assert "unknown scenarios meteor" in result.stderr and "budget_cut" in result.stderr
    assert "Traceback" not in result.stderr
    plans = invoke("stress-test", "--plans", "recommended,gut")
    assert plans.exit_code == 2 and "unknown plans gut" in plans.stderr


@pytest.mark.slow
def test_stress_test_assets_record_seeds_workers_and_wall_time(tmp_path):
    defs = build_definitions(
        tmp_path,
        replications=2,
        workers=1,
        time_limit_s=5.0,
        stress_test_plans=["recommended", "wsjf"],
        robust_futures=0,
        stress_test_scenarios=["baseline", "talent_attrition"],
    )
    # what `weitblick stress-test` materialises, and the bands the review draws
    selection = [*INPUT_ASSETS, *PLAN_ASSETS, *STRESS_ASSETS, "stress_test_bands"]
    with dg.DagsterInstance.ephemeral() as instance:
        result = defs.resolve_job_def("refresh").execute_in_process(
            instance=instance, raise_on_error=False, asset_selection=[dg.AssetKey(k) for k in selection]
        )
    assert result.success
    events = {
        e.asset_key.to_user_string(): e.materialization.metadata for e in result.get_asset_materialization_events()
    }
    meta = {k: getattr(v, "value", v) for k, v in events["stress_test_runs"].items()}
    assert meta["runs"] == 2 * 2 * 2 and meta["replications"] == "2" and meta["root_seed"] == 20270101
    assert meta["workers"] == 1 and meta["backend"] == "serial" and meta["wall_s"] > 0
    assert meta["plans"] == "recommended, wsjf" and meta["scenarios"] == "baseline, talent_attrition"
    t = read_tables(
        paths.store_path(tmp_path),
        "stress_test_runs",
        "stress_test_okrs",
        "stress_test_summary",
        "stress_test_run_info",
        "stress_test_bands",
        schema=run_schema(result.run_id),  # a run of part of the graph is not promoted: its own tables
    )
    runs = t["stress_test_runs"]
    low, high = (int(s) for s in meta["seeds"].split(" .. "))
    assert (low, high) == (runs["seed"].min(), runs["seed"].max())
    # common random numbers: both plans see the same seeds
    assert runs.groupby("plan")["seed"].apply(frozenset).nunique() == 1
    assert len(t["stress_test_summary"]) == 4 and set(t["stress_test_okrs"]["plan"]) == {"recommended", "wsjf"}
    assert t["stress_test_run_info"].iloc[0]["runs"] == 8
    assert set(t["stress_test_bands"]["plan"]) == {"recommended", "wsjf"}


def _own_scenario(folder):
    """A scenarios folder with one scenario of its own: the library's baseline under another name."""
    folder.mkdir()
    text = (paths.scenarios_dir() / "baseline.yaml").read_text(encoding="utf-8")
    (folder / "our_outlook.yaml").write_text(text.replace("name: baseline", "name: our_outlook"), encoding="utf-8")
    return folder


def test_scenarios_dir_adds_its_scenarios_to_the_names_the_command_knows(tmp_path):
    folder = _own_scenario(tmp_path / "scenarios")
    # refused before any plan is computed, naming the workspace's scenario among the library's
    result = invoke("stress-test", "--scenarios", "our_outlok", "--scenarios-dir", str(folder))
    assert result.exit_code == 2 and "our_outlook" in result.stderr and "budget_cut" in result.stderr
