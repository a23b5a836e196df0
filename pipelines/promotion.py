"""All or nothing: promote a finished refresh to the current recommendation, keep its history.

A refresh writes its tables into a schema of its own (``run_<run id>``, see
:mod:`pipelines.store`). When every asset of the run has been materialised and every blocking
check has passed, its last asset calls :func:`promote`, which, in one DuckDB transaction:

1. copies into the run's schema the current tables the run did not recompute (a run of part
   of the graph, started from the UI), so every promoted schema is complete on its own;
2. points every view of ``weitblick`` (the current recommendation) at the run's schema;
3. appends the run's provenance to ``history.runs`` and the sha256 of every input file it
   read to ``history.input_files``.

A refresh that fails, is stopped, is killed or never reaches its last asset therefore leaves
``weitblick`` exactly as it was; its schema is dropped by the next refresh
(:func:`drop_unfinished_runs`). Readers see the old run or the new one, never a mix: DuckDB
commits the transaction atomically, also across a crash.

Every promoted run stays in the store. Beyond the newest ``keep_runs`` runs, a run keeps only what
a comparison of two runs reads (:data:`DIFF_TABLES`: backlog, teams, settings, plan, KPI baselines,
business cases, stress-test summary); its other tables are dropped (:func:`prune`). Every table is an
entry of the store's catalog, which DuckDB reads each time the store is opened, and a refresh opens it
for every table it reads or writes: with all but the per-replication tables kept, opening took 18 ms
after one run and 140 ms after a year of weekly runs (``benchmarks/store.py``).
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from models.errors import StoreError
from pipelines.paths import HISTORY_SCHEMA, STORE_SCHEMA
from pipelines.store import connect, read_history, read_tables, run_schema, tables_in

KEEP_RUNS = 8
# What a comparison of two runs reads (models.diff): all an older run keeps.
DIFF_TABLES = (
    "backlog",
    "teams",
    "settings",
    "kpi_baselines",
    "portfolio_plan",
    "plan_run_info",
    "business_cases",
    "stress_test_summary",
)

RUNS_DDL = f"""
create table if not exists {HISTORY_SCHEMA}.runs (
    run_id varchar primary key,
    schema_name varchar,
    started_at timestamp,
    finished_at timestamp,
    trigger varchar,
    data_dir varchar,
    company varchar,
    inputs_sha256 varchar,
    settings_sha256 varchar,
    scenarios_sha256 varchar,
    code_version varchar,
    git_commit varchar,
    versions varchar,
    solver varchar,
    solver_version varchar,
    solver_status varchar,
    gap double,
    solve_time_s double,
    value_eur double,
    cost_eur double,
    n_funded bigint,
    seeds varchar,
    config varchar,
    carried_over varchar[],
    pruned boolean
)"""
INPUT_FILES_DDL = f"""
create table if not exists {HISTORY_SCHEMA}.input_files (
    run_id varchar, role varchar, file varchar, sha256 varchar, bytes bigint
)"""
RUN_COLUMNS = (
    "run_id",
    "schema_name",
    "started_at",
    "finished_at",
    "trigger",
    "data_dir",
    "company",
    "inputs_sha256",
    "settings_sha256",
    "scenarios_sha256",
    "code_version",
    "git_commit",
    "versions",
    "solver",
    "solver_version",
    "solver_status",
    "gap",
    "solve_time_s",
    "value_eur",
    "cost_eur",
    "n_funded",
    "seeds",
    "config",
    "carried_over",
    "pruned",
)
JSON_COLUMNS = ("versions", "seeds", "config")


def _promoted_schemas(con) -> set[str]:
    if "runs" not in tables_in(con, HISTORY_SCHEMA):
        return set()
    return {r[0] for r in con.execute(f"select schema_name from {HISTORY_SCHEMA}.runs").fetchall()}


def _run_schemas(con) -> set[str]:
    rows = con.execute(
        "select schema_name from information_schema.schemata where schema_name like 'run\\_%' escape '\\'"
    )
    return {r[0] for r in rows.fetchall()}


def drop_unfinished_runs(store: Path, keep: str | None = None) -> list[str]:
    """Drop the schemas of runs that were never promoted (failed, stopped or killed refreshes),
    except the one of run ``keep`` (the run that calls this). Call it only while holding the
    home's refresh lock. Returns the dropped schemas."""
    if not Path(store).exists():
        return []
    with connect(store) as con:
        stale = sorted(_run_schemas(con) - _promoted_schemas(con) - ({run_schema(keep)} if keep else set()))
        for schema in stale:
            con.execute(f"drop schema {schema} cascade")
    return stale


def promote(store: Path, record: dict, input_files: pd.DataFrame) -> list[str]:
    """Make run ``record["run_id"]`` the current recommendation and record it in the history,
    in one transaction (see the module doc). Returns the tables carried over from the previous
    current recommendation (those the run did not write)."""
    run_id = record["run_id"]
    schema = run_schema(run_id)
    with connect(store) as con:
        con.execute("begin transaction")
        try:
            have = tables_in(con, schema)
            if not have:
                raise StoreError(f"run {run_id} wrote no tables into {store}: nothing to promote")
            current = tables_in(con, STORE_SCHEMA)
            carried = sorted(current - have)
            for table in carried:
                con.execute(f"create table {schema}.{table} as select * from {STORE_SCHEMA}.{table}")
            con.execute(f"create schema if not exists {STORE_SCHEMA}")
            legacy = con.execute(
                "select table_name from information_schema.tables where table_schema = ? and table_type = 'BASE TABLE'",
                [STORE_SCHEMA],
            ).fetchall()
            for (table,) in legacy:  # a store written before runs were staged held plain tables
                con.execute(f"drop table {STORE_SCHEMA}.{table}")
            for table in sorted(have | set(carried)):
                con.execute(f"create or replace view {STORE_SCHEMA}.{table} as select * from {schema}.{table}")
            con.execute(f"create schema if not exists {HISTORY_SCHEMA}")
            con.execute(RUNS_DDL)
            con.execute(INPUT_FILES_DDL)
            row = {**record, "schema_name": schema, "carried_over": carried, "pruned": False}
            for col in JSON_COLUMNS:
                row[col] = json.dumps(row.get(col) or {}, sort_keys=True, default=str)
            values = [row.get(c) for c in RUN_COLUMNS]
            con.execute(
                f"insert into {HISTORY_SCHEMA}.runs ({', '.join(RUN_COLUMNS)}) "
                f"values ({', '.join('?' for _ in RUN_COLUMNS)})",
                values,
            )
            files = input_files.assign(run_id=run_id)[["run_id", "role", "file", "sha256", "bytes"]]
            con.register("__weitblick_files", files)
            con.execute(f"insert into {HISTORY_SCHEMA}.input_files select * from __weitblick_files")
            con.unregister("__weitblick_files")
            con.execute("commit")
        except BaseException:
            con.execute("rollback")
            raise
    return carried


def prune(store: Path, keep_runs: int = KEEP_RUNS) -> list[str]:
    """Drop every table but the :data:`DIFF_TABLES` of the promoted runs older than the newest
    ``keep_runs`` (also of runs an earlier version pruned less); returns the run ids pruned now."""
    with connect(store) as con:
        if "runs" not in tables_in(con, HISTORY_SCHEMA):
            return []
        newest_first = f"select run_id, schema_name from {HISTORY_SCHEMA}.runs order by finished_at desc"
        rows = con.execute(newest_first).fetchall()
        old = rows[keep_runs:]
        extra: dict[str, list[str]] = {}  # one look at the catalog for every old run's tables
        if old:
            listed = con.execute(
                "select table_schema, table_name from information_schema.tables "
                f"where table_schema in ({', '.join('?' for _ in old)}) order by table_name",
                [schema for _, schema in old],
            ).fetchall()
            for schema, table in listed:
                if table not in DIFF_TABLES:
                    extra.setdefault(schema, []).append(table)
        done = []
        for run_id, schema in old:
            drop = extra.get(schema, [])
            if not drop:
                continue
            con.execute("begin transaction")
            for table in drop:
                con.execute(f"drop table {schema}.{table}")
            con.execute(f"update {HISTORY_SCHEMA}.runs set pruned = true where run_id = ?", [run_id])
            con.execute("commit")
            done.append(run_id)
    return done


def history(store: Path) -> pd.DataFrame:
    """Every promoted run, oldest first, its JSON columns decoded (empty if none yet)."""
    if not Path(store).exists():
        return pd.DataFrame(columns=list(RUN_COLUMNS))
    runs = read_history(store, "runs")
    if runs.empty:
        return pd.DataFrame(columns=list(RUN_COLUMNS))
    for col in JSON_COLUMNS:
        runs[col] = runs[col].map(lambda v: json.loads(v) if isinstance(v, str) and v else {})
    return runs.reset_index(drop=True)


def current_run(store: Path) -> pd.Series | None:
    """The history row of the current recommendation (the last promoted run), or None."""
    runs = history(store)
    return None if runs.empty else runs.iloc[-1]


def find_run(store: Path, ref: str) -> pd.Series:
    """The promoted run whose id is or starts with ``ref``; StoreError naming the fix if none or several."""
    runs = history(store)
    hits = runs.loc[runs["run_id"].str.startswith(ref.strip())] if ref.strip() else runs.iloc[0:0]
    if len(hits) == 1:
        return hits.iloc[0]
    known = ", ".join(r[:8] for r in runs["run_id"]) or "none yet"
    what = "matches several runs" if len(hits) > 1 else "is not a promoted run"
    raise StoreError(
        f"run {ref!r} {what} of {store} (promoted: {known}). Fix: give more of the id ('weitblick history')."
    )


def input_files_of(store: Path, run_id: str) -> pd.DataFrame:
    """The input files (role, file, sha256, bytes) run ``run_id`` read."""
    files = read_history(store, "input_files")
    if files.empty:
        return pd.DataFrame(columns=["role", "file", "sha256", "bytes"])
    return files.loc[files["run_id"] == run_id].drop(columns="run_id").reset_index(drop=True)


def run_tables(store: Path, run: pd.Series, *names: str) -> dict[str, pd.DataFrame]:
    """Tables of a promoted run (a row of :func:`history`); names it no longer has are left out."""
    with connect(store, read_only=True) as con:
        have = tables_in(con, run["schema_name"])
    return read_tables(store, *[n for n in names if n in have], schema=run["schema_name"])
