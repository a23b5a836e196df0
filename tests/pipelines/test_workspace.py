"""`weitblick init`: a workspace from a Jira export, with nothing invented, that plans at once
when the team's own files are given."""

from __future__ import annotations

import json
from datetime import date

import pytest
from pipelines_testkit import invoke

from models.errors import InputError
from models.settings import load_settings
from pipelines import paths
from pipelines.sources.tables import read_teams
from pipelines.workspace import init_workspace, summarise_export

DEMO = paths.demo_data_dir()
DURASPACE_IN_README = "tests/data/jira/duraspace_585_issues_excerpt_DERIVED.csv"  # from the project root
DURASPACE = paths.project_root() / DURASPACE_IN_README


def test_a_workspace_from_the_export_alone_lists_what_to_fill_in(tmp_path):
    folder = tmp_path / "acme"
    ws = init_workspace(folder, DEMO / "backlog.csv", company="Acme GmbH", today=date(2026, 12, 4))
    assert set(ws.files) == {"backlog.csv", "teams.csv", "okrs.csv", "kpis.csv", "settings.yaml", "README.md"}
    # the export is copied unchanged
    assert (folder / "backlog.csv").read_bytes() == (DEMO / "backlog.csv").read_bytes()
    # the teams sheet names the skills of the export's Skill Split, with nothing made up
    lines = (folder / "teams.csv").read_text(encoding="utf-8").splitlines()
    assert lines[0] == "team,skill,headcount,capacity_pw,cost_per_pw,velocity_sp_per_pw"
    assert [line.split(",")[1] for line in lines[1:]] == ["backend", "data", "frontend", "mobile", "qa", "ux"]
    assert all(line.endswith(",,,,") for line in lines[1:])
    # the key results the items point at, to be defined
    okrs = (folder / "okrs.csv").read_text(encoding="utf-8").splitlines()
    assert [line.split(",")[1] for line in okrs[1:]] == sorted({line.split(",")[1] for line in okrs[1:]})
    assert len(okrs) == 1 + 10
    # settings: valid, from the current quarter, no rule naming a theme or key result
    s = load_settings(folder / "settings.yaml")
    assert (s.company, s.start, s.periods) == ("Acme GmbH", date(2026, 10, 1), 8)
    assert s.strategic_balance == {} and s.okr_coverage.min_items == 0
    readme = (folder / "README.md").read_text(encoding="utf-8")
    assert "## What to fill in next" in readme and "teams.csv: enter each team's headcount" in readme
    assert any(step.startswith("settings.yaml: set budget_per_period") for step in ws.next_steps)
    # without teams the items' effort is unknown: the values sheet waits for them
    assert not (folder / "values.xlsx").exists()
    assert any(step.startswith("once teams.csv is filled in: weitblick values-template") for step in ws.next_steps)


def test_init_refuses_a_folder_with_files_and_a_file_that_is_no_jira_export(tmp_path):
    (tmp_path / "old.txt").write_text("keep me", encoding="utf-8")
    with pytest.raises(InputError, match="not empty"):
        init_workspace(tmp_path, DEMO / "backlog.csv")
    assert (tmp_path / "old.txt").read_text(encoding="utf-8") == "keep me"
    with pytest.raises(InputError) as info:
        init_workspace(tmp_path / "new", DEMO / "teams.csv")
    (problem,) = info.value.problems
    assert problem.row == 1 and "not a Jira export" in problem.message and "Export CSV (all fields)" in problem.fix
    assert not (tmp_path / "new").exists()


def test_a_real_export_names_its_projects_as_products():
    export = summarise_export(DURASPACE)
    assert export.products and export.skills == [] and export.key_results == []


@pytest.mark.slow
def test_a_workspace_made_by_init_plans_at_once(tmp_path):
    folder = tmp_path / "keller"
    made = invoke(
        "init",
        str(folder),
        "--jira",
        str(DEMO / "backlog.csv"),
        "--teams",
        str(DEMO / "teams.csv"),
        "--okrs",
        str(DEMO / "okrs.csv"),
        "--kpis",
        str(DEMO / "kpis.csv"),
        "--company",
        "Keller GmbH",
    )
    assert made.exit_code == 0, made.stderr
    assert "Next:" in made.stdout and f"weitblick plan --data {folder}" in made.stdout
    assert (folder / "values.xlsx").is_file() and not (folder / "values.csv").exists()
    teams = read_teams(folder / "teams.csv")
    budget = load_settings(folder / "settings.yaml").budget(1)
    assert budget == pytest.approx(float((teams["capacity_pw"] * teams["cost_per_pw"]).sum()))
    result = invoke("plan", "--data", str(folder), "--no-explain", "--time-limit", "5", "--format", "json")
    assert result.exit_code == 0, result.stderr[-3000:]
    payload = json.loads(result.stdout)
    assert payload["status"] in {"Optimal", "TimeLimit"} and payload["value"] > 0 and payload["funded"]
    assert f"Read {folder}" in result.stderr
    again = invoke("init", str(folder), "--jira", str(DEMO / "backlog.csv"))
    assert again.exit_code == 1 and "not empty" in again.stderr and "Traceback" not in again.stderr


@pytest.mark.slow
def test_the_readmes_walkthrough_on_a_real_export(tmp_path):
    # the README's two commands, on a real export without value fields
    folder = tmp_path / "duraspace"
    made = invoke("init", str(folder), "--jira", DURASPACE_IN_README, "--teams", "data/demo/teams.csv")
    assert made.exit_code == 0, made.stderr
    assert "values.xlsx: fill in what you know" in made.stdout
    stopped = invoke("plan", "--data", str(folder))
    assert stopped.exit_code == 1 and stopped.stdout == ""
    assert "none of the 117 candidate items has a value input" in stopped.stderr
    assert "values-template" in stopped.stderr and "Traceback" not in stopped.stderr
