"""The input files of a workspace and the ``workspace_changed`` sensor: one refresh per change of
content (new, changed or removed file), none for an unchanged or merely touched workspace.

The sensor is evaluated in-process with ``dg.build_sensor_context`` on a copy of the demo company;
no daemon, no run. Restarts: Dagster keeps a sensor's cursor as the string the evaluation returned
and hands that string to the next evaluation, in a new process after a restart. The test of a
restart therefore passes the cursor on as a string through a fresh instance, after a JSON round
trip, and checks that the unchanged workspace requests nothing.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import dagster as dg
import pytest

from models.errors import InputError
from pipelines import paths
from pipelines.resources import WeitblickConfig
from pipelines.sensors import (
    CHANGED_TAG,
    MINIMUM_INTERVAL_SECONDS,
    SENSOR_NAME,
    TRIGGER_TAG,
    build_workspace_sensor,
    changes,
    describe_changes,
)
from pipelines.sources.files import fingerprint, input_files

DEMO = paths.demo_data_dir()
LIBRARY = paths.scenarios_dir()
DEMO_TABLES = ["backlog.csv", "kpis.csv", "okrs.csv", "settings.yaml", "teams.csv"]


@dg.asset
def _probe() -> int:
    return 1


REFRESH = dg.define_asset_job("refresh", selection=[_probe])
SENSOR = build_workspace_sensor(REFRESH)


@pytest.fixture
def workspace(tmp_path) -> Path:
    """A copy of the demo company (with its README and generator script, which are not inputs)."""
    folder = tmp_path / "acme"
    shutil.copytree(DEMO, folder)
    return folder


def evaluate(data_dir: Path, cursor: str | None = None, **config) -> dg.SensorResult | dg.SkipReason:
    context = dg.build_sensor_context(
        cursor=cursor,
        resources={"config": WeitblickConfig(data_dir=str(data_dir), **config)},
        instance=dg.DagsterInstance.ephemeral(),
    )
    return SENSOR(context)


def requested(result) -> list[dg.RunRequest]:
    return list(result.run_requests or []) if isinstance(result, dg.SensorResult) else []


# ----------------------------------------------------------------------------- input files


def test_the_demo_inputs_are_its_five_tables_and_the_ten_library_scenarios():
    files = input_files(DEMO, LIBRARY, None)
    assert list(files.columns) == ["role", "file", "path", "sha256", "bytes"]
    assert files["role"].tolist() == ["workspace"] * 5 + ["library scenario"] * 10
    assert files["file"].tolist()[:5] == DEMO_TABLES  # README.md and generate.py are not inputs
    assert files["file"].tolist()[5:] == sorted(p.name for p in LIBRARY.glob("*.yaml"))
    assert "baseline.yaml" in files["file"].tolist()
    teams = files.set_index("file").loc["teams.csv"]
    assert Path(teams["path"]).is_absolute() and Path(teams["path"]) == (DEMO / "teams.csv").resolve()
    assert teams["bytes"] == (DEMO / "teams.csv").stat().st_size
    assert len(teams["sha256"]) == 64 and int(teams["sha256"], 16) >= 0


def test_a_file_hash_is_the_sha256_of_its_content(tmp_path):
    (tmp_path / "teams.csv").write_bytes(b"abc")
    (tmp_path / "notes.txt").write_bytes(b"not an input")
    (tmp_path / "~$backlog.xlsx").write_bytes(b"Excel's lock file")
    (tmp_path / "old.csv").mkdir()  # a folder with an input's suffix is no input
    library = tmp_path / "library"
    library.mkdir()
    (library / "a.yml").write_bytes(b"")
    files = input_files(tmp_path, library, None)
    assert files[["role", "file", "bytes"]].values.tolist() == [
        ["workspace", "teams.csv", 3],
        ["library scenario", "a.yml", 0],
    ]
    # known answers: sha256("abc") and sha256("")
    assert files["sha256"].tolist() == [
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    ]


def test_a_workspace_scenario_folder_is_listed_between_the_tables_and_the_library(workspace):
    (workspace / "scenarios").mkdir()
    (workspace / "scenarios" / "our_budget.yaml").write_text("name: our_budget\n", encoding="utf-8")
    library, own = WeitblickConfig(data_dir=str(workspace)).scenario_folders()
    assert own == workspace / "scenarios"
    files = input_files(workspace, library, own)
    assert files["role"].tolist() == ["workspace"] * 5 + ["workspace scenario"] + ["library scenario"] * 10
    assert files["file"].tolist()[5] == "our_budget.yaml"


def test_the_fingerprint_follows_content_not_modification_time_or_row_order(workspace):
    before = input_files(workspace, LIBRARY, None)
    assert fingerprint(before) == fingerprint(before.sample(frac=1, random_state=1))
    assert fingerprint(before) == fingerprint(input_files(DEMO, LIBRARY, None))  # same bytes, other folder
    later = (workspace / "teams.csv").stat().st_mtime + 3600
    os.utime(workspace / "teams.csv", (later, later))
    assert fingerprint(input_files(workspace, LIBRARY, None)) == fingerprint(before)
    text = (workspace / "teams.csv").read_bytes()
    (workspace / "teams.csv").write_bytes(text[:-1] + (b"9" if text[-1:] != b"9" else b"8"))
    assert fingerprint(input_files(workspace, LIBRARY, None)) != fingerprint(before)


def test_a_missing_folder_is_an_input_error_naming_it(tmp_path):
    with pytest.raises(InputError) as info:
        input_files(tmp_path / "nowhere", LIBRARY, None)
    (problem,) = info.value.problems
    assert problem.file == str(tmp_path / "nowhere") and "not found" in problem.message and problem.fix
    with pytest.raises(InputError, match="workspace scenario folder not found"):
        input_files(DEMO, LIBRARY, tmp_path / "no_scenarios")


# ----------------------------------------------------------------------------- the sensor


def test_the_sensor_runs_by_default_for_its_job_and_says_what_it_watches():
    assert SENSOR.name == SENSOR_NAME == "workspace_changed"
    assert SENSOR.default_status == dg.DefaultSensorStatus.RUNNING
    assert SENSOR.minimum_interval_seconds == MINIMUM_INTERVAL_SECONDS == 60
    assert SENSOR.job_name == "refresh"
    assert SENSOR.required_resource_keys == {"config"}
    assert "content hash" in SENSOR.description and "modification time" in SENSOR.description
    defs = dg.Definitions(
        assets=[_probe], jobs=[REFRESH], sensors=[SENSOR], resources={"config": WeitblickConfig(data_dir=str(DEMO))}
    )
    dg.Definitions.validate_loadable(defs)
    assert defs.resolve_sensor_def(SENSOR_NAME).job_name == "refresh"


def test_one_refresh_per_change_of_content(workspace):
    # first look: one run, keyed by the change (none -> the fingerprint), and a cursor with every file's hash
    first = evaluate(workspace)
    (run,) = requested(first)
    files = input_files(workspace, LIBRARY, None)
    assert run.run_key == f"none->{fingerprint(files)}"
    assert run.tags == {TRIGGER_TAG: "sensor", CHANGED_TAG: "first check: all 15 input files"}
    assert json.loads(first.cursor) == {f"{r}/{f}": h for r, f, h in files[["role", "file", "sha256"]].values}

    # nothing changed: no run, the reason says so
    again = evaluate(workspace, first.cursor)
    assert isinstance(again, dg.SkipReason) and again.skip_message.startswith("no input file changed since")

    # one byte of teams.csv: one run naming it
    text = (workspace / "teams.csv").read_bytes()
    (workspace / "teams.csv").write_bytes(text[:-1] + (b"9" if text[-1:] != b"9" else b"8"))
    edited = evaluate(workspace, first.cursor)
    (run,) = requested(edited)
    assert run.tags[CHANGED_TAG] == "changed: teams.csv" and run.run_key != requested(first)[0].run_key
    assert evaluate(workspace, edited.cursor).skip_message.startswith("no input file changed")

    # undoing the edit is a change of its own: a refresh of the files as they are again, under a new key
    (workspace / "teams.csv").write_bytes(text)
    (undone,) = requested(evaluate(workspace, edited.cursor))
    assert undone.tags[CHANGED_TAG] == "changed: teams.csv"
    assert undone.run_key.endswith(fingerprint(files)) and undone.run_key not in {
        run.run_key,
        f"none->{fingerprint(files)}",
    }
    (workspace / "teams.csv").write_bytes(text[:-1] + (b"9" if text[-1:] != b"9" else b"8"))

    # touched only (same content, new modification time): no run
    later = (workspace / "backlog.csv").stat().st_mtime + 3600
    os.utime(workspace / "backlog.csv", (later, later))
    assert isinstance(evaluate(workspace, edited.cursor), dg.SkipReason)

    # a removed file is a change too
    (workspace / "okrs.csv").unlink()
    removed = evaluate(workspace, edited.cursor)
    (run,) = requested(removed)
    assert run.tags[CHANGED_TAG] == "removed: okrs.csv"
    assert "workspace/okrs.csv" not in json.loads(removed.cursor)

    # a new workspace scenario (the workspace's scenarios/ folder) is one too
    (workspace / "scenarios").mkdir()
    (workspace / "scenarios" / "our_budget.yaml").write_text("name: our_budget\n", encoding="utf-8")
    (run,) = requested(evaluate(workspace, removed.cursor))
    assert run.tags[CHANGED_TAG] == "new: our_budget.yaml (workspace scenario)"


def test_a_changed_library_scenario_requests_a_refresh(workspace, tmp_path):
    library = tmp_path / "library"
    shutil.copytree(LIBRARY, library)
    first = evaluate(workspace, scenarios_dir=str(library))
    with (library / "budget_cut.yaml").open("a", encoding="utf-8") as f:
        f.write("\n# reviewed\n")
    (run,) = requested(evaluate(workspace, first.cursor, scenarios_dir=str(library)))
    assert run.tags[CHANGED_TAG] == "changed: budget_cut.yaml (library scenario)"


def test_the_cursor_survives_a_restart_as_the_string_dagster_stores(workspace):
    first = evaluate(workspace)
    stored = json.loads(json.dumps({"cursor": first.cursor}))["cursor"]  # what the instance persists
    assert isinstance(first.cursor, str) and stored == first.cursor
    # a new process: a fresh instance and context, only the stored string carried over
    assert isinstance(evaluate(workspace, stored), dg.SkipReason)


def test_a_cursor_the_sensor_did_not_write_counts_as_a_first_look(workspace):
    for cursor in ("not json", "[1, 2]", '{"workspace/teams.csv": 1}'):
        (run,) = requested(evaluate(workspace, cursor))
        assert run.tags[CHANGED_TAG].startswith("first check")


def test_an_unreadable_workspace_is_skipped_with_the_reason(tmp_path):
    result = evaluate(tmp_path / "nowhere")
    assert isinstance(result, dg.SkipReason)
    assert str(tmp_path / "nowhere") in result.skip_message and "data folder not found" in result.skip_message


def test_the_changed_tag_names_a_few_files_and_counts_the_rest():
    before = {f"workspace/{n}.csv": "a" for n in "abcdefg"}
    now = {**{k: "b" for k in before if k < "workspace/e"}, "workspace/z.csv": "a", "library scenario/x.yaml": "a"}
    found = changes(before, now)
    assert found == {
        "new": ["library scenario/x.yaml", "workspace/z.csv"],
        "changed": ["workspace/a.csv", "workspace/b.csv", "workspace/c.csv", "workspace/d.csv"],
        "removed": ["workspace/e.csv", "workspace/f.csv", "workspace/g.csv"],
    }
    assert describe_changes(found) == (
        "changed: a.csv, b.csv, c.csv, d.csv; new: x.yaml (library scenario) and 1 more; removed: 3 files"
    )
    assert describe_changes(changes(before, before)) == ""
