"""The roadmap assets through ``materialize``: a workspace with the demo's roadmap, and one
without a roadmap (every table empty, with its columns)."""

from __future__ import annotations

import shutil

import dagster as dg
import pytest

from models.portfolio.roadmap import COMPARE_COLUMNS, SUMMARY_COLUMNS, VIOLATION_COLUMNS
from pipelines.assets.inputs import backlog, kpi_history, notes_in, settings, teams
from pipelines.assets.roadmap import current_roadmap, roadmap_comparison, roadmap_plan
from pipelines.assets.valuation import business_cases, value_by_start
from pipelines.paths import demo_data_dir, project_root
from pipelines.resources import WeitblickConfig

ASSETS = [settings, teams, backlog, kpi_history, business_cases, value_by_start, current_roadmap, roadmap_plan]


def workspace(tmp_path, with_roadmap: bool):
    ws = tmp_path / "ws"
    ws.mkdir()
    for name in ("settings.yaml", "teams.csv", "kpis.csv", "okrs.csv", "backlog.csv"):
        shutil.copy(demo_data_dir() / name, ws / name)
    if with_roadmap:
        shutil.copy(project_root() / "tests" / "data" / "roadmap" / "roadmap.csv", ws / "roadmap.csv")
    return ws


@pytest.mark.parametrize("with_roadmap", [True, False])
def test_roadmap_assets(tmp_path, with_roadmap):
    ws = workspace(tmp_path, with_roadmap)
    result = dg.materialize(ASSETS, resources={"config": WeitblickConfig(data_dir=str(ws))})
    assert result.success
    roadmap = result.output_for_node("current_roadmap")
    decisions = result.output_for_node("roadmap_plan", "roadmap_decisions")
    summary = result.output_for_node("roadmap_plan", "roadmap_check")
    violations = result.output_for_node("roadmap_plan", "roadmap_violations")
    assert list(summary.columns) == SUMMARY_COLUMNS and list(violations.columns) == VIOLATION_COLUMNS
    notes = notes_in(result.asset_materializations_for_node("current_roadmap")[0].metadata)
    if with_roadmap:
        assert len(roadmap) == 25 and decisions["funded"].sum() == 25
        assert summary["method"].tolist() == ["current"] and not summary["valid"].item()
        assert any("PORTAL-149" in n for _, n, _ in notes)
        assert all(f == str(ws / "roadmap.csv") for f, _, _ in notes)
        # the recommended plan's stand-in: the roadmap against itself moved one item out
        plan = decisions.copy()
        first = plan.index[plan["funded"]][0]
        plan.loc[first, ["funded", "start_period", "finish_period", "value", "cost"]] = [False, None, None, 0.0, 0.0]
        plan.loc[first, "reason"] = "capacity or budget go to higher-value items"
        out = roadmap_comparison(portfolio_plan=plan, roadmap_decisions=decisions, roadmap_violations=violations)
        diff = out.value
        assert diff["change"].tolist() == ["current only"]
    else:
        assert roadmap.empty and decisions.empty and summary.empty and violations.empty and notes == []
        out = roadmap_comparison(portfolio_plan=decisions, roadmap_decisions=decisions, roadmap_violations=violations)
        assert out.value.empty and list(out.value.columns) == COMPARE_COLUMNS
