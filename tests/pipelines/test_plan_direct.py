"""`weitblick plan --no-explain` plans without Dagster (pipelines/direct.py): the same readers, notes,
input checks and model functions as the refresh's assets, so the same plan and the same messages."""

from __future__ import annotations

import json
import shutil

from pipelines_testkit import invoke

from pipelines import paths
from pipelines.direct import plan_directly


def test_same_plan_and_notes_as_the_assets(tmp_path):
    """The direct path and the assets (materialised as the other commands do) read the same notes
    and, at the same time limit, fund the same items at the same starts."""
    from pipelines.cli import _run_plan

    direct = invoke("plan", "--data", "data/demo", "--time-limit", "20", "--no-explain", "--format", "json")
    assert direct.exit_code == 0, direct.stderr[-2000:]
    a = json.loads(direct.stdout)
    tables = _run_plan(paths.demo_data_dir(), 20, ["business_cases"], tmp_path)
    plan = tables["portfolio_plan"]
    info = tables["plan_run_info"].iloc[0]
    assert a["status"] == info["status"] == "Optimal"  # within the demo's 1 % gap: the same solve
    funded = plan.loc[plan["funded"]]
    assert {(f["item_id"], f["start"]) for f in a["funded"]} == set(
        zip(funded["item_id"], funded["start_period"].astype(int), strict=True)
    )
    assert abs(a["value"] - float(info["value_eur"])) < 1.0
    assert "with 16 notes, 9 of them filling in, dropping or renaming data" in direct.stderr


def test_strict_reading_and_failed_checks_stop_it_with_the_assets_words(tmp_path):
    strict = invoke("plan", "--data", "data/demo", "--no-explain", "--strict", "--format", "json")
    assert strict.exit_code == 1 and strict.stdout == ""
    assert "strict reading: nothing is filled in, dropped or renamed" in strict.stderr
    assert "Traceback" not in strict.stderr
    bad = tmp_path / "ws"
    shutil.copytree(paths.demo_data_dir(), bad)
    kpis = (bad / "kpis.csv").read_text(encoding="utf-8").splitlines()
    gap = ("2025-02", "2025-03", "2025-04", "2025-05", "2025-06")  # five months of one product missing
    kept = [line for line in kpis if not (line.startswith("Field Service App,") and line.split(",")[1][:7] in gap)]
    assert len(kept) == len(kpis) - 5
    (bad / "kpis.csv").write_text("\n".join(kept) + "\n", encoding="utf-8")
    failed = invoke("plan", "--data", str(bad), "--no-explain")
    assert failed.exit_code == 1
    assert "check kpi_history_complete on kpi_history failed" in failed.stderr and "Field Service App" in failed.stderr
    assert "Traceback" not in failed.stderr


def test_plan_directly_returns_the_tables_the_console_prints():
    result = plan_directly(paths.demo_data_dir(), time_limit_s=10)
    assert {"settings", "business_cases", "portfolio_plan", "capacity_usage", "plan_run_info"} <= set(result.tables)
    assert result.tables["portfolio_plan"]["funded"].any()
    changing = [n for n in result.notes if not n[2]]
    assert len(result.notes) == 16 and len(changing) == 9  # as the demo's README run says


def test_the_direct_checks_are_the_refresh_s_blocking_input_checks():
    """Every blocking asset check on an input table has its entry in models.checks.blocking_input_checks,
    under the same name and table, and nothing else does (input_files_complete checks files, which the
    direct run reads itself)."""
    import dagster as dg

    from models import checks
    from models.settings import load_settings
    from pipelines import paths
    from pipelines.assets import inputs
    from pipelines.sources import load_inputs

    declared = {
        (spec.name, spec.asset_key.path[-1])
        for definition in dg.load_asset_checks_from_modules([inputs])
        for spec in definition.check_specs
        if spec.blocking
    } - {("input_files_complete", "input_files")}
    demo = load_inputs(paths.demo_data_dir())
    direct = checks.blocking_input_checks(
        demo.backlog, demo.teams, demo.kpi_history, demo.okrs, load_settings(paths.demo_data_dir() / "settings.yaml")
    )
    assert {(name, table) for name, table, _ in direct} == declared
    assert all(problems == [] for _, _, problems in direct)  # the demo passes every one
