"""The names the DuckDB store needs from Dagster that Dagster does not export publicly.

A custom type handler for a ``DuckDBIOManager`` (``pipelines.resources.StoreTypeHandler``)
subclasses ``DbTypeHandler`` and receives ``TableSlice`` objects, and reads a table back
with ``DuckDbClient.get_select_statement``. dagster 1.13 exports none of them: not from
``dagster``, ``dagster_duckdb`` or ``dagster_duckdb_pandas``. Dagster's own type handlers
(dagster_duckdb_pandas, dagster_duckdb_polars) import them from the same modules as here.

This is the only module that imports them; tests/pipelines/test_private_api.py fails,
naming the Dagster version and the missing name, when an upgrade moves or renames one.
When that happens, change the import here (and ``PRIVATE_NAMES``), nowhere else.
"""

from __future__ import annotations

from importlib.metadata import version

# name -> the module it is imported from
PRIVATE_NAMES = {
    "DbTypeHandler": "dagster._core.storage.db_io_manager",
    "TableSlice": "dagster._core.storage.db_io_manager",
    "DuckDbClient": "dagster_duckdb.io_manager",
}

try:
    from dagster._core.storage.db_io_manager import DbTypeHandler, TableSlice
    from dagster_duckdb.io_manager import DuckDbClient
except ImportError as exc:  # an upgrade moved a name: say which, instead of a bare ImportError
    raise ImportError(
        f"dagster {version('dagster')} (dagster-duckdb {version('dagster-duckdb')}) no longer provides a name "
        f"the store needs ({exc}); find its new module and update pipelines/_dagster_private.py"
    ) from exc

__all__ = ["PRIVATE_NAMES", "DbTypeHandler", "DuckDbClient", "TableSlice"]
