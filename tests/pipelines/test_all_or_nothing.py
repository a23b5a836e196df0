"""A refresh you can trust, as a user runs it (``weitblick refresh`` in a subprocess) on a home
holding the session's demo run as its current recommendation:

* a refresh that fails (a workspace scenario with an unknown key, an infeasible Must-have),
  one killed with ``kill -9`` during the stress test, and one started while another holds the
  home each leave ``weitblick status`` and the current tables exactly as they were, and say so;
* a refresh after one item's story points and one team's capacity changed is promoted, and
  ``weitblick diff`` names the items whose decision changed with the causes "effort changed"
  and "capacity changed"; ``weitblick history`` lists both runs with their input hashes.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import dagster as dg
import pandas as pd
import pytest
from pipelines_testkit import WEITBLICK, home_env, run_weitblick

from pipelines import paths
from pipelines.lock import refresh_lock
from pipelines.promotion import drop_unfinished_runs, history
from pipelines.store import prepare_home, read_tables, run_schema

pytestmark = pytest.mark.slow

# the least effort that still plans, explains and stress-tests (the plan reports TimeLimit and its gap)
FAST = (
    "--replications",
    "1",
    "--time-limit",
    "1",
    "--explain-time-limit",
    "0.05",
    "--robust-futures",
    "0",
    "--discovery-futures",
    "20",
)
CURRENT_TABLES = ("portfolio_plan", "plan_run_info", "stress_test_summary", "backlog", "teams", "settings")


@pytest.fixture
def home(copy_of_demo_store) -> Path:
    return copy_of_demo_store


def _env(home: Path) -> dict[str, str]:
    return home_env(home, home / "reports")


def _json(home: Path, *args: str):
    """``weitblick ARGS --format json`` on ``home``, in this process (the reading commands are quick)."""
    from typer.testing import CliRunner

    from pipelines.cli import app

    result = CliRunner(env=_env(home)).invoke(app, [*args, "--format", "json"], catch_exceptions=False)
    assert result.exit_code == 0, result.stderr[-2000:]
    return json.loads(result.stdout)


def _snapshot(home: Path) -> tuple[dict, dict[str, pd.DataFrame], int]:
    return (
        _json(home, "status"),
        read_tables(paths.store_path(home), *CURRENT_TABLES),
        len(history(paths.store_path(home))),
    )


def _assert_unchanged(home: Path, before) -> None:
    status, tables, runs = _snapshot(home)
    assert status == before[0]
    for name in CURRENT_TABLES:
        pd.testing.assert_frame_equal(tables[name], before[1][name], obj=name)
    assert runs == before[2]


def _workspace(tmp_path: Path) -> Path:
    ws = tmp_path / "ws"
    shutil.copytree(paths.demo_data_dir(), ws)
    return ws


def _edit_backlog(ws: Path, item: str, factor: float) -> None:
    """Multiply ``item``'s story points in the Jira export by ``factor``."""
    path = ws / "backlog.csv"
    with path.open(newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    key, points = rows[0].index("Issue key"), rows[0].index("Custom field (Story Points)")
    (row,) = [r for r in rows[1:] if r[key] == item]
    row[points] = f"{float(row[points]) * factor:g}"
    with path.open("w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows(rows)


def _unknown_scenario_key(ws: Path) -> str:
    (ws / "scenarios").mkdir()
    text = (paths.scenarios_dir() / "baseline.yaml").read_text(encoding="utf-8")
    (ws / "scenarios" / "baseline.yaml").write_text(text + "replicatons: 3\n", encoding="utf-8")
    return "replicatons"


def _infeasible_must_have(ws: Path) -> str:
    _edit_backlog(ws, "IOT-129", 60)  # a Must-have due in the first half year, now far beyond any team's capacity
    return "IOT-129"


@pytest.mark.parametrize("breakage", [_unknown_scenario_key, _infeasible_must_have], ids=["scenario", "must_have"])
def test_a_failed_refresh_leaves_the_current_recommendation_as_it_was(home, tmp_path, breakage):
    before = _snapshot(home)
    ws = _workspace(tmp_path)
    named = breakage(ws)
    proc = run_weitblick("refresh", "--data", str(ws), *FAST, env=_env(home))
    assert proc.returncode == 1
    assert f"The refresh failed; the current recommendation is unchanged: run {before[0]['run_id'][:8]}" in proc.stderr
    assert named in proc.stderr and "Traceback" not in proc.stderr
    _assert_unchanged(home, before)


def test_a_refresh_killed_during_the_stress_test_changes_nothing_and_blocks_nothing(home, tmp_path):
    before = _snapshot(home)
    env = _env(home)
    # the instance's SQLite files exist before the refresh starts: the test polls the instance while the
    # refresh writes to it, and two processes creating the same fresh databases race on their migrations
    with dg.DagsterInstance.from_config(str(prepare_home(home))):
        pass
    proc = subprocess.Popen(
        [WEITBLICK, "refresh", *FAST[2:], "--replications", "200"],  # a stress test long enough to be killed in
        env=env,
        cwd=paths.project_root(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # its own process group: the stress test's workers die with it
    )
    try:
        run_id = _wait_for_step(paths.dagster_home(home), "stress_test", proc)
        time.sleep(1.0)
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode == -signal.SIGKILL
    _assert_unchanged(home, before)
    store = paths.store_path(home)
    assert "portfolio_plan" in read_tables(store, "portfolio_plan", schema=run_schema(run_id))  # it had written
    with refresh_lock(paths.lock_path(home), "next-run"):  # the dead run's lock is gone with its process
        assert drop_unfinished_runs(store) == [run_schema(run_id)]  # and the next refresh drops its tables


def _wait_for_step(dagster_home: Path, step: str, proc: subprocess.Popen, timeout_s: float = 240) -> str:
    """The id of the run in ``dagster_home`` once ``step`` has started (fails if the process ends first)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        assert proc.poll() is None, "the refresh ended before its stress test started"
        if (dagster_home / "history").exists():
            with dg.DagsterInstance.from_config(str(dagster_home)) as instance:
                runs = instance.get_runs(limit=1)
                if runs:
                    starts = instance.all_logs(runs[0].run_id, of_type=dg.DagsterEventType.STEP_START)
                    if any(e.step_key == step for e in starts):
                        return runs[0].run_id
        time.sleep(0.5)
    raise AssertionError(f"{step} did not start within {timeout_s} s")


def test_a_second_refresh_on_the_same_home_is_refused(home):
    before = _snapshot(home)
    with refresh_lock(paths.lock_path(home), "the-running-one", "schedule"):
        proc = run_weitblick("refresh", *FAST, env=_env(home))
    assert proc.returncode == 1
    assert "another refresh is writing into" in proc.stderr and "the-running-one" in proc.stderr
    assert "the current recommendation is unchanged" in proc.stderr
    _assert_unchanged(home, before)


def test_diff_names_the_changed_items_with_their_causes_and_history_lists_both_runs(home, tmp_path):
    first = _json(home, "status")
    ws = _workspace(tmp_path)
    _edit_backlog(ws, "IOT-341", 8)  # a funded item (not a Must-have), now eight times the work
    teams = (ws / "teams.csv").read_text(encoding="utf-8")
    assert "Web Experience,frontend,5,55," in teams
    (ws / "teams.csv").write_text(teams.replace("Web Experience,frontend,5,55,", "Web Experience,frontend,5,40,"))
    proc = run_weitblick("refresh", "--data", str(ws), *FAST, env=_env(home))
    assert proc.returncode == 0, proc.stderr[-3000:]
    # one line per stage on stderr while it ran
    for stage in ("reading the workspace ...", "solving the plan ...", "plan: ", "stress test: ", "promoting the run"):
        assert stage in proc.stderr, stage
    second = _json(home, "status")
    assert second["run_id"] != first["run_id"] and second["data_dir"] == str(ws)

    diff = _json(home, "diff")
    assert (diff["before"]["run_id"], diff["after"]["run_id"]) == (first["run_id"], second["run_id"])
    items = {i["item_id"]: i for i in diff["items"]}
    assert "IOT-341" in items and "effort_changed" in items["IOT-341"]["cause_codes"]
    assert items["IOT-341"]["change"] in ("removed", "moved")
    with_capacity = [i for i in items.values() if "capacity_changed" in i["cause_codes"]]
    assert with_capacity and all("frontend capacity 55 -> 40" in " ".join(i["causes"]) for i in with_capacity)
    assert all(i["causes"] and "unexplained" not in i["cause_codes"] for i in items.values())
    inputs = {(c["kind"], c["key"], c["field"]) for c in diff["inputs"]}
    assert ("item_field", "IOT-341", "story_points") in inputs and ("skill", "frontend", "capacity_pw") in inputs
    value = next(r for r in diff["run"] if r["metric"] == "plan value")
    assert value["after"] == pytest.approx(second["value_eur"]) and value["before"] == pytest.approx(first["value_eur"])

    runs = _json(home, "history")
    assert [r["run_id"] for r in runs] == [first["run_id"], second["run_id"]] and runs[-1]["current"]
    assert runs[0]["inputs_sha256"] != runs[1]["inputs_sha256"]
    hashes = [{f["file"]: f["sha256"] for f in r["input_files"] if f["role"] == "workspace"} for r in runs]
    assert {f for f in hashes[0] if hashes[0][f] != hashes[1].get(f)} == {"backlog.csv", "teams.csv"}
    assert runs[1]["trigger"] == "command" and runs[1]["versions"]["highspy"] and runs[1]["seeds"]["stress_test"]
    assert runs[1]["solver_status"] in ("Optimal", "TimeLimit") and runs[1]["settings_sha256"]

    html = (home / "reports" / "review.html").read_text(encoding="utf-8")
    assert "What changed since" in html and "IOT-341" in html
    assert not (home / "reports" / ".staging").exists()
