"""Plans run through many one-run futures (runner.run_futures via models.exploration.explore): the same
numbers serially and on two processes, common random numbers across plans, roles resolved once per
shock shape exactly as one by one."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pandas as pd
import pytest

from models.exploration import explore, future_scenarios, library_drivers, sample_futures
from models.simulation import load_library, resolve_for_plan
from models.simulation.runner import _resolve_future, run_futures

SCENARIOS = Path(__file__).resolve().parents[3] / "scenarios"


@pytest.fixture(scope="module")
def library():
    return load_library(SCENARIOS)


def _futures(plan, library, n: int = 6, seed: int = 3):
    drivers = library_drivers(library, plan.months)
    return drivers, sample_futures(drivers, n, seed)


def test_explore_gives_the_same_numbers_serially_and_on_two_processes(demo_plan, library):
    drivers, futures = _futures(demo_plan, library)
    twin = dataclasses.replace(demo_plan, name="twin")
    serial = explore([demo_plan, twin], futures, drivers, library, seed=11, workers=1)
    parallel = explore([demo_plan, twin], futures, drivers, library, seed=11, workers=2)
    assert list(serial.columns) == ["plan", "future", "seed", *serial.columns[3:]]
    assert len(serial) == 2 * len(futures)
    pd.testing.assert_frame_equal(serial, parallel)
    # common random numbers: the same plan under two names meets the same futures with the same seeds
    a = serial.loc[serial["plan"] == "demo"].drop(columns="plan").reset_index(drop=True)
    b = serial.loc[serial["plan"] == "twin"].drop(columns="plan").reset_index(drop=True)
    pd.testing.assert_frame_equal(a, b)
    assert a["seed"].nunique() == len(futures)  # one seed per future
    assert a["npv_eur"].nunique() > 1  # the futures differ


def test_run_futures_chunks_futures_and_records_one_row_per_run(demo_plan, library):
    drivers, futures = _futures(demo_plan, library, n=5)
    sims = future_scenarios(futures, drivers, library)
    result = run_futures([demo_plan], sims, seed=2, workers=1, chunk_size=2, keep_series=True)
    assert result.info["chunks"] == 3 and result.info["runs"] == 5 and result.info["scenarios"] == 5
    assert result.runs["scenario"].tolist() == [s.name for s in sims]
    assert (result.runs["replication"] == 0).all()
    assert set(result.series["scenario"]) == {s.name for s in sims}
    assert set(result.okrs["scenario"]) <= {s.name for s in sims}
    assert "futures" in set(result.resolutions["scenario"])  # the roles, recorded once per shock shape


def test_roles_resolved_per_shock_shape_equal_resolving_each_future(demo_plan, library):
    drivers, futures = _futures(demo_plan, library, n=4)
    cache: dict = {}
    for future in future_scenarios(futures, drivers, library):
        cached = _resolve_future(future, demo_plan, cache).shocks
        direct = resolve_for_plan(future, demo_plan).scenario.shocks
        assert [s.type for s in cached] == [s.type for s in direct]
        for a, b in zip(cached, direct, strict=True):
            assert a.model_dump(exclude={"effort"}) == pytest.approx(b.model_dump(exclude={"effort"}))
            if hasattr(a, "effort"):
                assert a.effort == pytest.approx(b.effort)
    assert len(cache) == len(drivers.loc[drivers["kind"] == "shock"])  # one resolution per shock shape
