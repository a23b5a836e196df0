"""The store's all-or-nothing promotion, its history and the refresh lock, on small stores
written by hand (the end-to-end refreshes are in test_all_or_nothing.py)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta

import duckdb
import pandas as pd
import pytest

from models.errors import StoreError
from pipelines.lock import holder, refresh_lock
from pipelines.paths import HISTORY_SCHEMA, STORE_SCHEMA
from pipelines.promotion import (
    DIFF_TABLES,
    current_run,
    drop_unfinished_runs,
    find_run,
    history,
    input_files_of,
    promote,
    prune,
    run_tables,
)
from pipelines.store import read_tables, run_schema

RUN_A = "0a0a0a0a-0000-4000-8000-00000000000a"
RUN_B = "0b0b0b0b-0000-4000-8000-00000000000b"
RUN_C = "0c0c0c0c-0000-4000-8000-00000000000c"
FILES = pd.DataFrame(
    {"role": ["workspace", "library scenario"], "file": ["teams.csv", "baseline.yaml"], "sha256": ["aa", "bb"]}
).assign(path="", bytes=[10, 20])


def _write_run(store, run_id: str, **tables: pd.DataFrame) -> None:
    schema = run_schema(run_id)
    with duckdb.connect(str(store)) as con:
        con.execute(f"create schema if not exists {schema}")
        for name, df in tables.items():
            con.register("df", df)
            con.execute(f"create or replace table {schema}.{name} as select * from df")
            con.unregister("df")


def _record(run_id: str, minute: int, value: float = 1.0) -> dict:
    ts = datetime(2026, 12, 7, 6, 0) + timedelta(minutes=minute)
    return {
        "run_id": run_id,
        "started_at": ts,
        "finished_at": ts + timedelta(seconds=30),
        "trigger": "command",
        "value_eur": value,
        "versions": {"pulp": "x"},
        "seeds": {"root": 1},
        "config": {},
    }


def test_promotion_swaps_every_table_at_once_and_keeps_the_history(tmp_path):
    store = tmp_path / "store.duckdb"
    _write_run(store, RUN_A, plan=pd.DataFrame({"item": ["a"], "start": [1]}), extra=pd.DataFrame({"x": [1]}))
    assert promote(store, _record(RUN_A, 0, 10.0), FILES) == []
    assert read_tables(store, "plan")["plan"]["start"].tolist() == [1]

    # run B recomputes the plan only: the extra table is carried over into B's schema, so B stands alone
    _write_run(store, RUN_B, plan=pd.DataFrame({"item": ["a"], "start": [2]}))
    assert promote(store, _record(RUN_B, 60, 20.0), FILES.assign(sha256=["cc", "bb"])) == ["extra"]
    assert read_tables(store, "plan")["plan"]["start"].tolist() == [2]
    assert read_tables(store, "extra", schema=run_schema(RUN_B))["extra"]["x"].tolist() == [1]

    runs = history(store)
    assert runs["run_id"].tolist() == [RUN_A, RUN_B]
    assert runs["carried_over"].tolist() == [[], ["extra"]]
    assert runs.loc[0, "versions"] == {"pulp": "x"} and runs.loc[0, "seeds"] == {"root": 1}
    assert current_run(store)["run_id"] == RUN_B
    assert input_files_of(store, RUN_A)["sha256"].tolist() == ["aa", "bb"]
    assert input_files_of(store, RUN_B)["sha256"].tolist() == ["cc", "bb"]
    # the old run's tables are still there to compare with
    assert run_tables(store, runs.iloc[0], "plan", "gone")["plan"]["start"].tolist() == [1]


def test_a_failing_promotion_leaves_current_and_history_as_they_were(tmp_path):
    store = tmp_path / "store.duckdb"
    _write_run(store, RUN_A, plan=pd.DataFrame({"item": ["a"], "start": [1]}))
    promote(store, _record(RUN_A, 0), FILES)
    _write_run(store, RUN_B, plan=pd.DataFrame({"item": ["a"], "start": [2]}))
    with pytest.raises(Exception, match=r"(?i)duplicate|constraint"):  # the same run id twice breaks the history's key
        promote(store, _record(RUN_A, 1) | {"run_id": RUN_A}, FILES.head(0))
    # ... and a run that wrote nothing is refused before anything changes
    with pytest.raises(StoreError, match="wrote no tables"):
        promote(store, _record(RUN_C, 2), FILES)
    assert read_tables(store, "plan")["plan"]["start"].tolist() == [1]
    assert history(store)["run_id"].tolist() == [RUN_A]


def test_a_store_written_before_staging_is_taken_over(tmp_path):
    store = tmp_path / "store.duckdb"
    with duckdb.connect(str(store)) as con:  # the old layout: plain tables in the current schema
        con.execute(f"create schema {STORE_SCHEMA}")
        con.execute(f"create table {STORE_SCHEMA}.plan as select 1 as start")
    _write_run(store, RUN_A, plan=pd.DataFrame({"start": [5]}))
    promote(store, _record(RUN_A, 0), FILES)
    assert read_tables(store, "plan")["plan"]["start"].tolist() == [5]


def test_unfinished_runs_are_dropped_and_old_runs_keep_only_what_a_comparison_reads(tmp_path):
    store = tmp_path / "store.duckdb"
    more = {name: pd.DataFrame({"x": [1]}) for name in ("stress_test_runs", "efficient_frontier", "rule_prices")}
    for i, run in enumerate((RUN_A, RUN_B)):
        _write_run(store, run, portfolio_plan=pd.DataFrame({"x": [i]}), settings=pd.DataFrame({"x": [i]}), **more)
        promote(store, _record(run, i), FILES)
    _write_run(store, RUN_C, plan=pd.DataFrame({"x": [9]}))  # a refresh that never finished
    killed = "0d0d0d0d-0000-4000-8000-00000000000d"
    _write_run(store, killed, plan=pd.DataFrame({"x": [9]}))
    assert drop_unfinished_runs(store, keep=RUN_C) == [run_schema(killed)]
    assert prune(store, keep_runs=1) == [RUN_A]
    assert prune(store, keep_runs=1) == []  # nothing left to drop
    with duckdb.connect(str(store), read_only=True) as con:
        schemas = {r[0] for r in con.execute("select schema_name from information_schema.schemata").fetchall()}

        def tables(run):
            query = f"select table_name from duckdb_tables() where schema_name = '{run_schema(run)}'"
            return {r[0] for r in con.execute(query).fetchall()}

        kept_a, kept_b = tables(RUN_A), tables(RUN_B)
        pruned = con.execute(f"select run_id, pruned from {HISTORY_SCHEMA}.runs order by run_id").fetchall()
    assert run_schema(killed) not in schemas and run_schema(RUN_C) in schemas
    assert kept_a == {"portfolio_plan", "settings"} and set(DIFF_TABLES) >= kept_a
    assert kept_b == {"portfolio_plan", "settings", *more}  # the newest keeps everything
    assert pruned == [(RUN_A, True), (RUN_B, False)]


def test_runs_are_found_by_the_first_characters_of_their_id(tmp_path):
    store = tmp_path / "store.duckdb"
    for i, run in enumerate((RUN_A, RUN_B)):
        _write_run(store, run, plan=pd.DataFrame({"x": [i]}))
        promote(store, _record(run, i), FILES)
    assert find_run(store, "0b0b")["run_id"] == RUN_B
    with pytest.raises(StoreError, match=r"'0' matches several runs .*promoted: 0a0a0a0a, 0b0b0b0b.*Fix: give more"):
        find_run(store, "0")
    with pytest.raises(StoreError, match=r"'ffff' is not a promoted run"):
        find_run(store, "ffff")


def test_a_second_refresh_is_refused_and_named(tmp_path):
    lock = tmp_path / "refresh.lock"
    refused = rf"another refresh is writing into .*run {RUN_A} \(process {os.getpid()}"
    with refresh_lock(lock, RUN_A, "schedule"), pytest.raises(StoreError, match=refused), refresh_lock(lock, RUN_B):
        pass
    with refresh_lock(lock, RUN_B) as me:  # released on exit
        assert holder(lock)["run_id"] == RUN_B == me["run_id"]


def test_a_lock_left_by_a_killed_refresh_does_not_block_the_next(tmp_path):
    lock = tmp_path / "refresh.lock"
    code = (
        "import sys, time\nfrom pipelines.lock import refresh_lock\n"
        f"with refresh_lock({str(lock)!r}, 'killed-run'):\n    print('locked', flush=True)\n    time.sleep(600)\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "locked"
        with pytest.raises(StoreError, match="killed-run"), refresh_lock(lock, RUN_A):
            pass
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        proc.kill()
        proc.stdout.close()
    deadline = time.monotonic() + 5
    with refresh_lock(lock, RUN_A) as me:  # the kernel dropped the dead process's lock
        assert me["run_id"] == RUN_A and time.monotonic() < deadline
