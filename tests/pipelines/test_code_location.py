"""The code location as the UI and the daemon load it: its workspace from WEITBLICK_DATA, the
weekly refresh running by default, and the instance settings the project writes."""

from __future__ import annotations

import shutil

import dagster as dg
import pytest

from pipelines import paths
from pipelines.definitions import DATA_ENV, defs
from pipelines.store import DAGSTER_YAML, prepare_home


def _load() -> dg.Definitions:
    return defs.load_fn()  # what `dagster dev -m pipelines.definitions` loads


def test_the_weekly_refresh_runs_by_default():
    schedule = _load().get_repository_def().get_schedule_def("weekly_refresh")
    assert schedule.default_status == dg.DefaultScheduleStatus.RUNNING
    assert (schedule.cron_schedule, schedule.execution_timezone) == ("0 6 * * 1", "Europe/Berlin")


def test_a_home_gets_a_dagster_yaml_without_telemetry_and_keeps_its_own(tmp_path):
    instance = prepare_home(tmp_path / "home")
    assert (instance / "dagster.yaml").read_text(encoding="utf-8") == DAGSTER_YAML
    with dg.DagsterInstance.from_config(str(instance)) as loaded:
        assert loaded.get_settings("telemetry") == {"enabled": False}
        assert loaded.get_settings("nux") == {"enabled": False}  # no "Join the community" dialog in the UI
    (instance / "dagster.yaml").write_text("telemetry:\n  enabled: true\n", encoding="utf-8")
    prepare_home(tmp_path / "home")
    assert "enabled: true" in (instance / "dagster.yaml").read_text(encoding="utf-8")


@pytest.mark.slow
def test_the_code_location_reads_the_workspace_named_by_weitblick_data(tmp_path, monkeypatch):
    data = tmp_path / "acme"
    shutil.copytree(paths.demo_data_dir(), data)
    text = (data / "settings.yaml").read_text(encoding="utf-8")
    (data / "settings.yaml").write_text(text.replace("Keller Industrie-Software GmbH", "Acme AG"), encoding="utf-8")
    monkeypatch.setenv(DATA_ENV, str(paths.demo_data_dir()))
    location = _load()
    # the resource holds the variable, not its value: Dagster reads it when a run starts
    monkeypatch.setenv(DATA_ENV, str(data))
    with dg.DagsterInstance.ephemeral() as instance:
        result = location.resolve_job_def("refresh").execute_in_process(
            instance=instance, asset_selection=[dg.AssetKey("settings")]
        )
    (event,) = result.get_asset_materialization_events()
    meta = event.materialization.metadata
    assert meta["company"].value == "Acme AG" and meta["source"].value == str(data / "settings.yaml")
