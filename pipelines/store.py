"""The DuckDB store under WEITBLICK_HOME: prepare a home before a refresh writes into it, and
read materialised tables back (read-only), for the CLI and notebooks.

Whatever stands in the way (a home that is a file, a missing store or table, a store another
program holds locked) is a :class:`~models.errors.StoreError` naming the path and the fix.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from models.errors import StoreError
from pipelines import paths
from pipelines.paths import STORE_SCHEMA


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


# The instance settings the project writes: no telemetry (and no prompt for it in the UI); a
# dagster.yaml present also keeps Dagster from warning that it found none.
DAGSTER_YAML = (
    "# Written by Weitblick (pipelines/store.py); edit freely, it is not overwritten.\ntelemetry:\n  enabled: false\n"
)


def write_dagster_yaml(instance: Path) -> Path:
    """``instance``/dagster.yaml with :data:`DAGSTER_YAML`, unless the folder has one already."""
    path = Path(instance) / "dagster.yaml"
    if not path.exists():
        path.write_text(DAGSTER_YAML, encoding="utf-8")
    return path


if __name__ == "__main__":  # `python -m pipelines.store`: prepare WEITBLICK_HOME (make ui, make validate)
    print(prepare_home(paths.weitblick_home()))


def read_tables(store: Path, *names: str) -> dict[str, pd.DataFrame]:
    """The named asset tables; a missing store or table, or one that cannot be opened, is a
    StoreError that names it and the store."""
    if not Path(store).exists():
        raise StoreError(f"no store at {store}. Fix: run 'weitblick demo' (or 'make demo') first.")
    try:
        con = duckdb.connect(str(store), read_only=True)
    except duckdb.Error as exc:
        raise StoreError(
            f"cannot open the store {store}: {exc}. Fix: close the program that holds it (the Dagster UI, "
            "a notebook, a running refresh) and try again; if it is not a DuckDB file, move it away and refresh."
        ) from None
    try:
        have = {
            r[0]
            for r in con.execute(
                "select table_name from information_schema.tables where table_schema = ?", [STORE_SCHEMA]
            ).fetchall()
        }
        out = {}
        for name in names:
            if name not in have:
                raise StoreError(
                    f"table {STORE_SCHEMA}.{name} is not in {store}. "
                    "Fix: materialise it first ('weitblick demo', or the refresh job in the Dagster UI)."
                )
            out[name] = lists_from_arrays(con.execute(f"select * from {STORE_SCHEMA}.{name}").fetchdf())
        return out
    finally:
        con.close()
