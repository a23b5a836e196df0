"""A workspace's own scenarios: its scenarios/ folder adds to or overrides the library, through the
config resource and the ``scenario_library`` asset, and the stress test records what the roles meant."""

from __future__ import annotations

import shutil
from pathlib import Path

import dagster as dg
import pytest

from models.errors import ScenarioError
from models.simulation import load_library
from pipelines import paths
from pipelines.assets.simulation import scenario_library
from pipelines.cli import INPUT_ASSETS, PLAN_ASSETS, STRESS_ASSETS
from pipelines.definitions import build_definitions
from pipelines.resources import WeitblickConfig
from pipelines.store import read_tables, run_schema

OVERRIDE = """\
name: market_shift
description: A smaller shift, to the fastest-growing product (judgement).
replications: 4
seed: 11
shocks:
  - {type: market_shift, month: 6, size: 0.1, from_product: {largest: mrr}, to_product: {fastest_growing: mau}}
"""
NEW = """\
name: price_war
description: Price pressure on the product with the most users (judgement).
replications: 4
seed: 5
shocks:
  - {type: price_pressure, month: 4, size: 0.1, product: {largest: mau}}
  - {type: budget_cut, month: 4, size: 0.1, skill: {most_loaded: true}}
"""


def workspace(tmp_path: Path, **files: str) -> Path:
    """A copy of the demo company's data with ``scenarios/<name>.yaml`` files."""
    ws = tmp_path / "workspace"
    shutil.copytree(paths.demo_data_dir(), ws, ignore=shutil.ignore_patterns("*.py", "*.md"))
    (ws / "scenarios").mkdir()
    for name, text in files.items():
        (ws / "scenarios" / f"{name}.yaml").write_text(text, encoding="utf-8")
    return ws


def test_the_workspace_folder_is_found_next_to_the_data(tmp_path):
    ws = workspace(tmp_path, price_war=NEW)
    assert WeitblickConfig(data_dir=str(ws)).scenario_folders() == (paths.scenarios_dir(), ws / "scenarios")
    assert WeitblickConfig().scenario_folders() == (paths.scenarios_dir(), None)  # the demo has none
    other = tmp_path / "mine"
    cfg = WeitblickConfig(data_dir=str(ws), scenarios_dir=str(tmp_path / "lib"), workspace_scenarios_dir=str(other))
    assert cfg.scenario_folders() == (tmp_path / "lib", other)


def test_workspace_scenarios_add_to_and_override_the_library(tmp_path):
    ws = workspace(tmp_path, market_shift=OVERRIDE, price_war=NEW)
    found = load_library(paths.scenarios_dir(), ws / "scenarios")
    assert len(found) == 11 and list(found) == sorted(found)
    assert found["market_shift"].replications == 4 and found["market_shift"].source == str(
        ws / "scenarios" / "market_shift.yaml"
    )
    assert found["market_shift"]._origin == f"workspace (overrides {paths.scenarios_dir() / 'market_shift.yaml'})"
    assert found["price_war"]._origin == "workspace" and found["baseline"]._origin == "library"


def test_a_broken_workspace_scenario_or_a_missing_folder_is_named(tmp_path):
    ws = workspace(tmp_path, price_war=NEW.replace("size: 0.1, product", "size: 0.1, prodct"))
    with pytest.raises(ScenarioError) as exc:
        load_library(paths.scenarios_dir(), ws / "scenarios")
    (p,) = exc.value.problems
    assert (p.file, p.row, p.column) == (str(ws / "scenarios" / "price_war.yaml"), 6, "shocks.0.prodct")
    with pytest.raises(ScenarioError, match="scenario folder not found"):
        load_library(paths.scenarios_dir(), tmp_path / "nowhere")


@pytest.mark.slow
def test_scenario_library_asset_records_where_each_scenario_came_from(tmp_path):
    ws = workspace(tmp_path, market_shift=OVERRIDE, price_war=NEW)
    result = dg.materialize([scenario_library], resources={"config": WeitblickConfig(data_dir=str(ws))})
    assert result.success
    table = result.output_for_node("scenario_library").set_index("name")
    assert len(table) == 11
    assert table.loc["market_shift", "source"] == str(ws / "scenarios" / "market_shift.yaml")
    assert table.loc["market_shift", "origin"].startswith("workspace (overrides ")
    assert table.loc["price_war", "origin"] == "workspace" and table.loc["baseline", "origin"] == "library"
    assert table.loc["price_war", "roles"] == (
        "price_pressure@4 product {largest: mau}; budget_cut@4 skill {most_loaded: true}"
    )
    meta = result.asset_materializations_for_node("scenario_library")[0].metadata
    assert meta["workspace"].value == str(ws / "scenarios")


# what `weitblick stress-test` materialises
STRESS_SELECTION = [*INPUT_ASSETS, *PLAN_ASSETS, *STRESS_ASSETS]


def stress_test_on(data: Path, home: Path, scenarios: list[str]) -> dg.ExecuteInProcessResult:
    """The recommended plan of the company in ``data`` through ``scenarios``, twice each."""
    defs = build_definitions(
        home,
        data_dir=str(data),
        replications=2,
        workers=1,
        time_limit_s=5.0,
        stress_test_plans=["recommended"],
        stress_test_scenarios=scenarios,
        robust_futures=0,
    )
    with dg.DagsterInstance.ephemeral() as instance:
        return defs.resolve_job_def("refresh").execute_in_process(
            instance=instance, raise_on_error=False, asset_selection=[dg.AssetKey(k) for k in STRESS_SELECTION]
        )


@pytest.mark.slow
def test_the_stress_test_runs_workspace_scenarios_and_records_the_roles(tmp_path):
    ws = workspace(tmp_path, market_shift=OVERRIDE, price_war=NEW)
    result = stress_test_on(ws, tmp_path / "home", ["market_shift", "price_war", "regulatory_change"])
    assert result.success
    t = read_tables(
        paths.store_path(tmp_path / "home"),
        "stress_test_run_info",
        "stress_test_runs",
        schema=run_schema(result.run_id),  # a run of part of the graph is not promoted: its own tables
    )
    assert set(t["stress_test_runs"]["scenario"]) == {"market_shift", "price_war", "regulatory_change"}
    resolved = t["stress_test_run_info"].iloc[0]["resolved"]
    # the demo's products: IoT Platform earns the most, the Field Service App grows fastest, the portal has most users
    assert "market_shift: shock 1 from_product {largest: mrr} -> IoT Platform" in resolved
    assert "market_shift: shock 1 to_product {fastest_growing: mau} -> Field Service App" in resolved
    assert "price_war: shock 1 product {largest: mau} -> Customer Portal" in resolved
    assert "price_war: shock 2 skill {most_loaded: true} -> qa" in resolved
    assert "regulatory_change: shock 1 effort.0.skill {largest: capacity} -> backend" in resolved
    meta = {e.asset_key.to_user_string(): e.materialization.metadata for e in result.get_asset_materialization_events()}
    assert "IoT Platform" in meta["stress_test_run_info"]["resolved"].value
