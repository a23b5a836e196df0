"""Read materialised tables back from the DuckDB store (read-only), for the CLI and notebooks."""

from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from pipelines.paths import STORE_SCHEMA


def lists_from_arrays(df: pd.DataFrame) -> pd.DataFrame:
    """DuckDB returns LIST columns as numpy arrays; the canonical tables use Python lists."""
    for col in df.columns:
        if df[col].dtype == object and df[col].map(lambda v: isinstance(v, np.ndarray)).any():
            df[col] = df[col].map(
                lambda v: [x for x in v if x is not None] if isinstance(v, np.ndarray) else ([] if v is None else v)
            )
    return df


def read_tables(store: Path, *names: str) -> dict[str, pd.DataFrame]:
    """The named asset tables; a missing table is an error that names it and the store."""
    if not Path(store).exists():
        raise FileNotFoundError(f"no store at {store}: run 'weitblick demo' (or 'make demo') first")
    con = duckdb.connect(str(store), read_only=True)
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
                raise KeyError(f"table {STORE_SCHEMA}.{name} is not in {store}; materialise it first")
            out[name] = lists_from_arrays(con.execute(f"select * from {STORE_SCHEMA}.{name}").fetchdf())
        return out
    finally:
        con.close()
