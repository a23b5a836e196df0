"""Every `weitblick` command turns an error the user caused into one message on stderr and
exit code 1, never a traceback; and the command line starts without its heavy libraries.

The commands run in this process (Typer's CliRunner, stdout and stderr apart) on bad inputs
that fail before anything is solved, so each test takes seconds. Those that run part of the
Dagster job carry the ``slow`` marker; the start-up test runs one quick interpreter without
Dagster and stays in the fast tier, where a slow start would be noticed first.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from models.errors import StoreError
from pipelines import cli, paths
from pipelines.cli import app
from pipelines.store import prepare_home, read_tables


def _weitblick(*args: str):
    # an exception that escapes the command (a traceback for a user) fails the test itself
    return CliRunner().invoke(app, list(args), catch_exceptions=False)


def _one_message(result, *expected: str) -> str:
    """The command failed with exit code 1 and a plain message on stderr naming ``expected``."""
    assert result.exit_code == 1, result.output
    assert result.stdout == ""
    assert "Traceback" not in result.output and "Stack Trace" not in result.output
    for text in expected:
        assert text in result.stderr, result.stderr
    return result.stderr


def _demo_copy(tmp_path: Path) -> Path:
    data = tmp_path / "data"
    shutil.copytree(paths.demo_data_dir(), data)
    return data


def _break_teams(data: Path) -> None:
    """teams.csv, line 3: capacity_pw 'lots'."""
    lines = (data / "teams.csv").read_text(encoding="utf-8").splitlines()
    header, row = lines[0].split(","), lines[2].split(",")
    row[header.index("capacity_pw")] = "lots"
    lines[2] = ",".join(row)
    (data / "teams.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")


def _add_formula(data: Path, formula: str) -> int:
    """Adds scoring_formulas.mine to settings.yaml; returns its line."""
    path = data / "settings.yaml"
    text = path.read_text(encoding="utf-8").rstrip("\n") + "\n"
    path.write_text(text + f'scoring_formulas:\n  mine: "{formula}"\n', encoding="utf-8")
    return text.count("\n") + 2


# -- one test per command ---------------------------------------------------------------------


def test_demo_with_a_home_that_is_a_file(tmp_path, monkeypatch):
    home = tmp_path / "notes.txt"
    home.write_text("not a folder", encoding="utf-8")
    monkeypatch.setenv("WEITBLICK_HOME", str(home))
    message = _one_message(_weitblick("demo"), f"WEITBLICK_HOME {home} is a file, not a folder.", "Fix: point")
    assert message.count("\n") == 1  # one line


@pytest.mark.slow
def test_plan_refuses_a_scoring_formula_it_does_not_use(tmp_path):
    # plan never scores, yet a broken formula in the settings is refused when they load
    data = _demo_copy(tmp_path)
    line = _add_formula(data, "reech * impact")
    _one_message(
        _weitblick("plan", "--data", str(data), "--format", "json"),
        f"settings.yaml, line {line}, column 'scoring_formulas.mine'",
        "unknown name 'reech' at column 1. Did you mean 'reach'? Fix: use arithmetic",
    )


def test_explain_refuses_an_unknown_or_done_item_before_planning(monkeypatch):
    def no_plan(*args, **kwargs):
        raise AssertionError("the plan was computed for an item that is not a candidate")

    monkeypatch.setattr(cli, "_run_plan", no_plan)
    demo = str(paths.demo_data_dir())
    message = _one_message(_weitblick("explain", "NOPE-1", "--data", demo), "NOPE-1 is not a candidate")
    assert "Fix: name a backlog item that is not Done" in message
    _one_message(_weitblick("explain", "FIELD-52", "--data", demo), "FIELD-52 is Done; ")
    _one_message(_weitblick("explain", "IOT-1"), "Did you mean IOT-1")  # the demo by default; ids that contain it


@pytest.mark.slow
def test_frontier_names_the_broken_file_line_and_column(tmp_path):
    data = _demo_copy(tmp_path)
    _break_teams(data)
    _one_message(_weitblick("frontier", "--data", str(data), "--points", "3"), "teams.csv", "line 3", "capacity_pw")


@pytest.mark.slow
def test_scores_refuse_a_formula_that_overflows(tmp_path):
    # 1e9 ** 10 = 1e90 per factor; four of them pass float64's 1.8e308: no score instead of a blank rank
    data = _demo_copy(tmp_path)
    _add_formula(data, " * ".join(["reach", *["999999999 ** 10"] * 4]))
    message = _one_message(
        _weitblick("scores", "--data", str(data), "--draws", "5", "--format", "json"),
        "settings scoring_formulas.mine: the formula",
        "gives no finite score for 140 item(s)",
        "Fix: keep the score within that range",
    )
    assert "Traceback" not in message


@pytest.mark.slow
def test_health_names_a_missing_kpi_file(tmp_path):
    data = _demo_copy(tmp_path)
    (data / "kpis.csv").unlink()
    _one_message(_weitblick("health", "--data", str(data)), "kpis", "Fix: ")


SCENARIO_BREAKS = {
    "misspelt key": ("budget_cut.yaml", "replications:", "replicatons:", "unknown key 'replicatons'"),
    "negative choice weight": (
        "baseline.yaml",
        "weights: [0.03, 0.03, 0.04, 0.90]",
        "weights: [0.03, -0.03, 0.04, 0.90]",
        "weights must be >= 0",
    ),
    "uniform low above high": (
        "competitor_entry.yaml",
        "low: 4, high: 12",
        "low: 12, high: 4",
        "low 12.0 exceeds high 4.0",
    ),
}


def _broken_scenarios(tmp_path: Path, case: str) -> tuple[Path, str]:
    file, old, new, expected = SCENARIO_BREAKS[case]
    folder = tmp_path / "scenarios"
    shutil.copytree(paths.scenarios_dir(), folder)
    text = (folder / file).read_text(encoding="utf-8")
    assert old in text
    (folder / file).write_text(text.replace(old, new, 1), encoding="utf-8")
    return folder / file, expected


@pytest.mark.parametrize("case", list(SCENARIO_BREAKS))
def test_stress_test_names_the_broken_scenario_file(tmp_path, monkeypatch, case):
    path, expected = _broken_scenarios(tmp_path, case)
    monkeypatch.setattr(paths, "scenarios_dir", lambda: path.parent)
    message = _one_message(_weitblick("stress-test", "--format", "json"), str(path), ", line ", expected, "Fix: ")
    assert message.count("\n") == 1


@pytest.mark.slow
def test_a_broken_scenario_file_in_a_refresh_is_one_plain_message(tmp_path):
    # the asset the refresh and the stress test read, configured as the code location configures it
    import dagster as dg

    from pipelines.definitions import build_definitions

    path, expected = _broken_scenarios(tmp_path, "misspelt key")
    defs = build_definitions(tmp_path / "home", scenarios_dir=str(path.parent))
    with dg.DagsterInstance.ephemeral() as instance:
        result = cli._execute(defs, instance, selection=["scenario_library"])
    assert not result.success
    assert cli._failures(result) == [
        f"scenario_library: {path}, line 10, column 'replicatons': {expected}. Fix: remove it or correct its spelling."
    ]


# -- the store -------------------------------------------------------------------------------


def test_store_errors_name_the_store_and_the_fix(tmp_path):
    with pytest.raises(StoreError, match=r"no store at .*Fix: run 'weitblick demo'"):
        read_tables(tmp_path / "none.duckdb", "backlog")
    import duckdb

    store = tmp_path / "store.duckdb"
    duckdb.connect(str(store)).close()
    with pytest.raises(StoreError, match=r"table weitblick.backlog is not in .*Fix: refresh first"):
        read_tables(store, "backlog")
    junk = tmp_path / "junk.duckdb"
    junk.write_text("not a database", encoding="utf-8")
    with pytest.raises(StoreError, match=r"cannot open the store .*junk.duckdb.*Fix: "):
        read_tables(junk, "backlog")
    folder_store = tmp_path / "home"
    paths.store_path(folder_store).mkdir(parents=True)
    with pytest.raises(StoreError, match=r"is a folder, not a DuckDB file. Fix: move that folder away"):
        prepare_home(folder_store)
    assert prepare_home(tmp_path / "new") == paths.dagster_home(tmp_path / "new")
    assert paths.dagster_home(tmp_path / "new").is_dir()


# -- start-up ---------------------------------------------------------------------------------


def test_the_command_line_starts_without_its_heavy_libraries():
    heavy = ("dagster", "pandas", "mesa", "pulp", "duckdb", "models.simulation", "pipelines.definitions")
    code = f"import sys, pipelines.cli; print(' '.join(m for m in {heavy!r} if m in sys.modules))"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert proc.stdout.strip() == ""
    # the plan names of the help text come from the light module the simulation re-exports
    from models import names, simulation

    assert simulation.PLAN_NAMES == names.PLAN_NAMES


@pytest.mark.slow
def test_strict_reading_stops_on_a_note_that_changes_the_data(tmp_path):
    # the demo's export leaves 11 items without a KPI (set to 'none'): strict reading refuses it
    flag = _weitblick("scores", "--data", "data/demo", "--draws", "5", "--format", "json", "--strict")
    assert flag.exit_code == 1 and flag.stdout == ""
    assert "11 of 140 items have no KPI: set to 'none'. (strict reading" in flag.stderr
    assert "Traceback" not in flag.stderr
    # the same from the settings
    data = tmp_path / "data"
    shutil.copytree(paths.demo_data_dir(), data)
    with (data / "settings.yaml").open("a", encoding="utf-8") as f:
        f.write("strict: true\n")
    setting = _weitblick("scores", "--data", str(data), "--draws", "5", "--format", "json")
    assert setting.exit_code == 1 and "(strict reading" in setting.stderr
