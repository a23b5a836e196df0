"""The code location loads, and its asset graph matches the reviewed snapshot.

A change to assets, groups, dependencies, checks, jobs or schedules shows up here; after an
intended change, regenerate with ``WEITBLICK_UPDATE_SNAPSHOTS=1 make test`` and review the diff.
The lazy ``defs`` the UI loads are checked by ``make validate`` (``dagster definitions validate``,
run by CI before the tests) and served by ``dagster dev`` in test_ui.py.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import dagster as dg

from pipelines.definitions import build_definitions

SNAPSHOT = Path(__file__).parent / "snapshots" / "asset_graph.json"


def graph_snapshot(definitions: dg.Definitions) -> dict:
    repo = definitions.get_repository_def()
    graph = repo.asset_graph
    assets = {}
    for key in sorted(graph.get_all_asset_keys(), key=lambda k: k.to_user_string()):
        node = graph.get(key)
        assets[key.to_user_string()] = {
            "group": node.group_name,
            "deps": sorted(k.to_user_string() for k in node.parent_keys),
        }
    checks = {}
    for check_key in sorted(graph.asset_check_keys, key=lambda k: (k.asset_key.to_user_string(), k.name)):
        spec = graph.get_check_spec(check_key)
        checks[f"{check_key.asset_key.to_user_string()}:{check_key.name}"] = {
            "blocking": bool(spec.blocking),
            "inputs": sorted(d.asset_key.to_user_string() for d in spec.additional_deps),
        }
    jobs = sorted(j.name for j in repo.get_all_jobs() if not j.name.startswith("__"))
    schedules = {
        s.name: {"cron": s.cron_schedule, "job": s.job_name, "timezone": s.execution_timezone}
        for s in repo.schedule_defs
    }
    return {"assets": assets, "checks": checks, "jobs": jobs, "schedules": schedules}


def test_asset_graph_matches_snapshot():
    snap = graph_snapshot(build_definitions())
    if os.environ.get("WEITBLICK_UPDATE_SNAPSHOTS"):
        SNAPSHOT.write_text(json.dumps(snap, indent=2, sort_keys=True) + "\n")
    assert snap == json.loads(SNAPSHOT.read_text())


def test_every_input_is_guarded_by_a_blocking_check():
    snap = graph_snapshot(build_definitions())
    inputs = [k for k, v in snap["assets"].items() if v["group"] == "inputs"]
    guarded = {name.split(":")[0] for name, c in snap["checks"].items() if c["blocking"]}
    assert set(inputs) <= guarded, set(inputs) - guarded
    assert {
        "backlog:backlog_ids_unique",
        "backlog:backlog_dependencies_resolve",
        "backlog:backlog_no_cycles",
        "teams:teams_capacity_positive",
        "portfolio_plan:plan_respects_constraints",
    } <= set(snap["checks"])


def test_groups_follow_the_design():
    groups = {v["group"] for v in graph_snapshot(build_definitions())["assets"].values()}
    assert groups == {"inputs", "valuation", "optimisation", "simulation", "review"}
