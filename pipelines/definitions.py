"""The one Dagster code location of Weitblick.

``defs`` is loaded lazily (``@dg.definitions``), so the environment (WEITBLICK_HOME) is read
when the code location loads, not when this module is imported. ``build_definitions`` lets the
CLI and tests point the same graph at other data and another store.
"""

from __future__ import annotations

import os
from pathlib import Path

import dagster as dg

from pipelines.assets import inputs, optimisation, review, roadmap, simulation, valuation
from pipelines.progress import progress_logger
from pipelines.resources import build_resources
from pipelines.sensors import build_workspace_sensor

ASSET_MODULES = [inputs, valuation, optimisation, roadmap, simulation, review]


def build_definitions(home: Path | None = None, **config) -> dg.Definitions:
    """All assets, checks, the ``refresh`` job, its weekly schedule and the sensor on the
    workspace's files, with resources under ``home``. Every job runs in one process (the
    in-process executor): the refresh lock and the run's staging schema belong to one run."""
    assets = dg.load_assets_from_modules(ASSET_MODULES)
    assets.append(review.build_promotion([k for a in assets for k in a.keys]))
    checks = dg.load_asset_checks_from_modules(ASSET_MODULES)
    refresh = dg.define_asset_job(
        "refresh",
        selection=dg.AssetSelection.all(),
        description="Re-read the inputs, re-value, re-optimise, stress-test and render the review.",
    )
    weekly = dg.ScheduleDefinition(
        name="weekly_refresh",
        job=refresh,
        cron_schedule="0 6 * * 1",
        execution_timezone="Europe/Berlin",
        default_status=dg.DefaultScheduleStatus.RUNNING,
        description="Every Monday 06:00 (Berlin): refresh the recommendation.",
    )
    return dg.Definitions(
        assets=assets,
        asset_checks=checks,
        jobs=[refresh],
        schedules=[weekly],
        sensors=[build_workspace_sensor(refresh)],
        resources=build_resources(home, **config),
        executor=dg.in_process_executor,
        # Dagster's console log, and one line per stage for the command line (switched on in its run config)
        loggers={"console": dg.colored_console_logger, "progress": progress_logger()},
    )


DATA_ENV = "WEITBLICK_DATA"  # the workspace of the code location (make ui DATA=DIR)


@dg.definitions
def defs() -> dg.Definitions:
    """The code location the UI and the daemon load. Its workspace is ``WEITBLICK_DATA`` when
    set (Dagster reads it when a run starts, through ``EnvVar``), else the demo company."""
    config = {"data_dir": dg.EnvVar(DATA_ENV)} if os.environ.get(DATA_ENV) else {}
    return build_definitions(**config)
