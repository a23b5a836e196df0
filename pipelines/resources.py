"""Resources of the code location: where the inputs are, and the DuckDB store.

Paths are resolved when the resource is built (run time), never at import time.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import dagster as dg
import pandas as pd
from dagster_duckdb_pandas import DuckDBPandasIOManager

from pipelines import paths
from pipelines._dagster_private import DbTypeHandler, DuckDbClient, TableSlice
from pipelines.store import lists_from_arrays


class WeitblickConfig(dg.ConfigurableResource):
    """Where a refresh reads its inputs and writes its reports, and how hard it works.

    Empty strings mean the project defaults (demo data, scenarios/, reports/).
    Scenarios: the library (``scenarios_dir``, default the project's scenarios/) plus a workspace's
    own (``workspace_scenarios_dir``, default ``<data_dir>/scenarios`` when it exists), which add
    scenarios or override the library's of the same name.
    """

    data_dir: str = ""
    scenarios_dir: str = ""  # the scenario library (replaces the project's scenarios/)
    workspace_scenarios_dir: str = ""  # scenarios that add to or override the library (default <data_dir>/scenarios)
    reports_dir: str = ""
    store: str = ""  # the DuckDB file the IO manager writes (read by the review notebook)
    time_limit_s: float | None = None  # overrides settings.solver.time_limit_s
    explain_time_limit_s: float | None = None  # overrides settings.explain.time_limit_s (each re-solve)
    near_misses: int | None = None  # overrides settings.explain.near_misses
    frontier_points: int | None = None  # overrides settings.explain.frontier_points
    replications: int | None = None  # overrides each scenario's replications
    workers: int | None = None  # local processes of the stress test (default: every core; 1: serial)
    dask_address: str = ""  # tcp://host:port of a Dask scheduler: the stress test runs there instead
    stress_test_plans: list[str] | None = None  # plans to stress-test (default: recommended and every baseline)
    stress_test_scenarios: list[str] | None = None  # scenarios to run (default: the whole library)
    strict: bool = False  # a reader note that fills in, drops or renames data is an error (or settings strict)
    seed: int = 20270101  # root seed of the stress test and the rank stability draws; recorded in metadata
    stability_draws: int = 300  # Monte Carlo draws of the rank stability
    rank_top_k: int = 10  # the k of "stays in the top k" and of the top-k overlap between methods
    value_proxy: str = ""  # overrides settings.valuation.proxy: how items without value inputs are valued

    def data_path(self) -> Path:
        return Path(self.data_dir) if self.data_dir else paths.demo_data_dir()

    def scenarios_path(self) -> Path:
        """The scenario library's folder."""
        return Path(self.scenarios_dir) if self.scenarios_dir else paths.scenarios_dir()

    def workspace_scenarios_path(self) -> Path | None:
        """The folder of the workspace's own scenarios: ``workspace_scenarios_dir`` (which must
        exist), else ``<data_dir>/scenarios`` if there is one, else None."""
        if self.workspace_scenarios_dir:
            return Path(self.workspace_scenarios_dir)
        folder = self.data_path() / "scenarios"
        return folder if folder.is_dir() else None

    def scenario_folders(self) -> tuple[Path, Path | None]:
        """(library, workspace) for :func:`models.simulation.load_library`."""
        return self.scenarios_path(), self.workspace_scenarios_path()

    def store_path(self) -> Path:
        return Path(self.store) if self.store else paths.store_path()

    def reports_path(self) -> Path:
        return Path(self.reports_dir) if self.reports_dir else paths.reports_dir()


class StoreTypeHandler(DbTypeHandler[pd.DataFrame]):
    """Writes each asset as a whole table (replaced on every materialisation, empty tables
    included, so a changed schema never clashes with the previous run) and reads it back
    with list columns as lists."""

    def handle_output(self, context: dg.OutputContext, table_slice: TableSlice, obj: pd.DataFrame, connection) -> None:
        if table_slice.partition_dimensions:
            raise dg.DagsterInvariantViolationError("partitioned assets are not stored by this handler")
        connection.register("__weitblick_obj", obj)
        try:
            connection.execute(
                f"create or replace table {table_slice.schema}.{table_slice.table} as select * from __weitblick_obj"
            )
        finally:
            connection.unregister("__weitblick_obj")
        context.add_output_metadata(
            {
                "dagster/row_count": len(obj),
                "dagster/column_schema": dg.TableSchema(
                    columns=[dg.TableColumn(name=str(n), type=str(t)) for n, t in obj.dtypes.items()]
                ),
            }
        )

    def load_input(self, context: dg.InputContext, table_slice: TableSlice, connection) -> pd.DataFrame:
        df = connection.execute(DuckDbClient.get_select_statement(table_slice)).fetchdf()
        return lists_from_arrays(df)

    @property
    def supported_types(self):
        return [pd.DataFrame]


class StoreIOManager(DuckDBPandasIOManager):
    """The DuckDB store: one table per asset in schema ``weitblick``."""

    @staticmethod
    def type_handlers() -> Sequence[DbTypeHandler]:
        return [StoreTypeHandler()]


def build_resources(home: Path | None = None, **config) -> dict[str, object]:
    """The resources of a refresh: config and the store under ``home`` (WEITBLICK_HOME)."""
    store = paths.store_path(home)
    store.parent.mkdir(parents=True, exist_ok=True)
    return {
        "config": WeitblickConfig(store=str(store), **config),
        "io_manager": StoreIOManager(database=str(store), schema=paths.STORE_SCHEMA),
    }
