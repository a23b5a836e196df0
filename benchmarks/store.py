"""A year of weekly refreshes in one store: promotion time, pruning, store size and the cost of
a diff, with real tables, and the time to open the store (median of five), which every step of a
refresh pays for each table it reads or writes.

Takes a store with a current recommendation (default ``var/store.duckdb``, e.g. after
``make demo``), copies it to a temporary folder and, ``--runs`` times, copies the current run's
tables into a new run's schema (as a refresh writes them), promotes it
(:func:`pipelines.promotion.promote`, one transaction) and prunes the runs beyond
``--keep-runs``. One JSON line per run (promote and prune time, file size), then a summary line
with the time of ``weitblick diff``'s comparison (:mod:`models.diff`) of the last two runs and
of reading the history.

    .venv/bin/python benchmarks/store.py --runs 52 --keep-runs 8
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
import uuid
from datetime import datetime, timedelta
from pathlib import Path

import duckdb
from _common import emit

from models import diff
from pipelines import paths
from pipelines.promotion import DIFF_TABLES, current_run, history, input_files_of, promote, prune, run_tables
from pipelines.store import run_schema, tables_in


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--store", type=Path, default=paths.store_path(), help="a store with a current recommendation")
    ap.add_argument("--runs", type=int, default=52, help="refreshes to add (default: a year of weeks)")
    ap.add_argument("--keep-runs", type=int, default=8, help="runs that keep their per-replication tables")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="weitblick-store-bench-") as tmp:
        store = Path(tmp) / "store.duckdb"
        shutil.copy2(args.store, store)
        first = current_run(store)
        if first is None:
            raise SystemExit(f"{args.store} has no promoted run: refresh first (make demo)")
        files = input_files_of(store, first["run_id"]).assign(path="")
        source = first["schema_name"]
        with duckdb.connect(str(store), read_only=True) as con:
            tables = sorted(tables_in(con, source))
            rows = sum(con.execute(f"select count(*) from {source}.{t}").fetchone()[0] for t in tables)
        emit("store_source", tables=len(tables), rows=rows, bytes=store.stat().st_size)
        start = datetime(2027, 1, 4, 6)
        for week in range(1, args.runs + 1):
            run_id = str(uuid.uuid4())
            source = current_run(store)["schema_name"]  # the newest run keeps every table
            t0 = time.perf_counter()
            with duckdb.connect(str(store)) as con:  # what a refresh writes: every table in its own schema
                con.execute(f"create schema {run_schema(run_id)}")
                for t in tables:
                    con.execute(f"create table {run_schema(run_id)}.{t} as select * from {source}.{t}")
            write_s = time.perf_counter() - t0
            when = start + timedelta(weeks=week)
            record = {"run_id": run_id, "started_at": when, "finished_at": when + timedelta(minutes=2)}
            record |= {"trigger": "schedule", "versions": {}, "seeds": {}, "config": {}}
            t0 = time.perf_counter()
            promote(store, record, files)
            promote_s = time.perf_counter() - t0
            t0 = time.perf_counter()
            pruned = prune(store, args.keep_runs)
            prune_s = time.perf_counter() - t0
            opens = []
            for _ in range(5):  # what every step of a refresh pays for each table it reads or writes
                t0 = time.perf_counter()
                duckdb.connect(str(store), read_only=True).close()
                opens.append(time.perf_counter() - t0)
            emit(
                "store_run",
                week=week,
                write_s=round(write_s, 3),
                promote_s=round(promote_s, 3),
                prune_s=round(prune_s, 3),
                pruned=len(pruned),
                bytes=store.stat().st_size,
                open_ms=round(1000 * sorted(opens)[2], 1),
            )
        t0 = time.perf_counter()
        runs = history(store)
        history_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        before, after = (run_tables(store, runs.iloc[i], *DIFF_TABLES) for i in (-2, -1))
        diff.item_changes(before, after)
        diff.run_changes(before, after)
        diff_s = time.perf_counter() - t0
        emit(
            "store_summary",
            runs=len(runs),
            keep_runs=args.keep_runs,
            bytes=store.stat().st_size,
            history_s=round(history_s, 3),
            diff_s=round(diff_s, 3),
        )


if __name__ == "__main__":
    main()
