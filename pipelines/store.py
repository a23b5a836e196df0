"""The DuckDB store under WEITBLICK_HOME: prepare a home before a refresh writes into it, and
read materialised tables back (read-only), for the CLI and notebooks.

Layout of the store (one DuckDB file):

* ``run_<run id>`` (:func:`run_schema`): the tables one refresh wrote, as it wrote them.
  A refresh never writes anywhere else, so a failed or killed one leaves nothing but its
  own schema (dropped by the next refresh, :mod:`pipelines.promotion`).
* ``weitblick`` (:data:`~pipelines.paths.STORE_SCHEMA`): the current recommendation, one
  view per table onto the schema of the last promoted run. Promotion swaps every view in
  one transaction, so a reader sees the old run or the new one, never a mix.
* ``history``: one row per promoted run with its provenance, and the sha256 of every input
  file it read (:mod:`pipelines.promotion`).

The CLI, the notebooks and the report read ``weitblick`` (the default of
:func:`read_tables`); the refresh's own steps read their run's schema.

Whatever stands in the way (a home that is a file, a missing store or table, a store another
program holds locked) is a :class:`~models.errors.StoreError` naming the path and the fix.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from models.errors import StoreError
from pipelines import paths
from pipelines.paths import HISTORY_SCHEMA, STORE_SCHEMA


def lists_from_arrays(df: pd.DataFrame) -> pd.DataFrame:
    """DuckDB returns LIST columns as numpy arrays; the canonical tables use Python lists."""
    for col in df.columns:
        if df[col].dtype == object and df[col].map(lambda v: isinstance(v, np.ndarray)).any():
            df[col] = df[col].map(
                lambda v: [x for x in v if x is not None] if isinstance(v, np.ndarray) else ([] if v is None else v)
            )
    return df


def prepare_home(home: Path) -> Path:
    """Create ``home`` (WEITBLICK_HOME) and its Dagster instance folder if missing and return
    the latter; a home, instance folder or store that is not what it should be is a StoreError."""
    home = Path(home)
    fix = "point WEITBLICK_HOME at another folder (it is created if missing), or unset it to use var/ in the project."
    if home.exists() and not home.is_dir():
        raise StoreError(f"WEITBLICK_HOME {home} is a file, not a folder. Fix: {fix}")
    store = paths.store_path(home)
    if store.exists() and not store.is_file():
        raise StoreError(f"the store {store} is a folder, not a DuckDB file. Fix: move that folder away, or {fix}")
    instance = paths.dagster_home(home)
    try:
        instance.mkdir(parents=True, exist_ok=True)
        write_dagster_yaml(instance)
    except OSError as exc:
        raise StoreError(f"cannot create the Dagster instance folder {instance}: {exc.strerror}. Fix: {fix}") from None
    return instance


# The instance settings the project writes: no telemetry (and no prompt for it in the UI), and no
# "Join the Dagster community" dialog greeting a first visit to the UI; a dagster.yaml present also
# keeps Dagster from warning that it found none.
DAGSTER_YAML = (
    "# Written by Weitblick (pipelines/store.py); edit freely, it is not overwritten.\n"
    "telemetry:\n  enabled: false\n"
    "nux:\n  enabled: false\n"
)


def write_dagster_yaml(instance: Path) -> Path:
    """``instance``/dagster.yaml with :data:`DAGSTER_YAML`, unless the folder has one already."""
    path = Path(instance) / "dagster.yaml"
    if not path.exists():
        path.write_text(DAGSTER_YAML, encoding="utf-8")
    return path


def run_schema(run_id: str) -> str:
    """The schema a run writes into: ``run_`` and the run id with its dashes as underscores."""
    if not re.fullmatch(r"[0-9A-Za-z_-]+", run_id or ""):
        raise StoreError(f"run id {run_id!r} cannot name a schema of the store")
    return "run_" + run_id.replace("-", "_").lower()


def run_id_of(schema: str) -> str:
    """The run id :func:`run_schema` made ``schema`` from (Dagster run ids are UUIDs)."""
    body = schema.removeprefix("run_")
    return body.replace("_", "-") if re.fullmatch(r"[0-9a-f]{8}(_[0-9a-f]{4}){3}_[0-9a-f]{12}", body) else body


_LOCKED = ("lock", "conflicting", "being used", "different configuration")


@contextmanager
def connect(store: Path, read_only: bool = False, wait_s: float = 30.0) -> Iterator[duckdb.DuckDBPyConnection]:
    """A connection to ``store``, closed on exit. While another process holds the file (DuckDB
    lets one writer or several readers in), it retries for ``wait_s`` seconds, then raises a
    StoreError naming the store and the fix."""
    store = Path(store)
    if read_only and not store.exists():
        raise StoreError(f"no store at {store}. Fix: run 'weitblick demo' or 'weitblick refresh --data DIR' first.")
    deadline = time.monotonic() + wait_s
    delay = 0.05
    while True:
        try:
            con = duckdb.connect(str(store), read_only=read_only)
            break
        except duckdb.Error as exc:
            if time.monotonic() < deadline and any(w in str(exc).lower() for w in _LOCKED):
                time.sleep(delay)
                delay = min(delay * 2, 1.0)
                continue
            raise StoreError(
                f"cannot open the store {store}: {exc}. Fix: close the program that holds it (the Dagster UI, "
                "a notebook, a running refresh) and try again; if it is not a DuckDB file, move it away and refresh."
            ) from None
    try:
        yield con
    finally:
        con.close()


def tables_in(con: duckdb.DuckDBPyConnection, schema: str) -> set[str]:
    """Names of the tables and views in ``schema`` (empty if there is no such schema)."""
    rows = con.execute("select table_name from information_schema.tables where table_schema = ?", [schema])
    return {r[0] for r in rows.fetchall()}


def read_tables(store: Path, *names: str, schema: str = STORE_SCHEMA) -> dict[str, pd.DataFrame]:
    """The named asset tables of the current recommendation (or of ``schema``, e.g. one run's);
    a missing store or table, or one that cannot be opened, is a StoreError that names it and
    the store."""
    with connect(store, read_only=True) as con:
        have = tables_in(con, schema)
        out = {}
        for name in names:
            if name not in have:
                raise StoreError(
                    f"table {schema}.{name} is not in {store}. "
                    + (
                        "Fix: refresh first ('weitblick demo', 'weitblick refresh --data DIR', or the refresh job "
                        "in the Dagster UI)."
                        if schema == STORE_SCHEMA
                        else "Fix: run the refresh again; this run did not write it."
                    )
                )
            out[name] = lists_from_arrays(con.execute(f"select * from {schema}.{name}").fetchdf())
        return out


def read_history(store: Path, table: str = "runs") -> pd.DataFrame:
    """``history.<table>`` (runs: one row per promoted run, newest last), empty if nothing was
    promoted yet."""
    with connect(store, read_only=True) as con:
        if table not in tables_in(con, HISTORY_SCHEMA):
            return pd.DataFrame()
        order = " order by finished_at" if table == "runs" else ""
        return lists_from_arrays(con.execute(f"select * from {HISTORY_SCHEMA}.{table}{order}").fetchdf())


if __name__ == "__main__":  # `python -m pipelines.store`: prepare WEITBLICK_HOME (make ui, make validate)
    print(prepare_home(paths.weitblick_home()))
