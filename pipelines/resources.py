"""Resources of the code location: where the inputs are, and the DuckDB store.

Paths are resolved when the resource is built (run time), never at import time.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
import pandas as pd
from pydantic import PrivateAttr

from models.errors import StoreError
from pipelines import paths
from pipelines.lock import refresh_lock
from pipelines.promotion import drop_unfinished_runs
from pipelines.store import connect, lists_from_arrays, run_schema, tables_in

TRIGGER_TAG = "weitblick/trigger"  # set by the CLI ("command"); schedules and sensors carry Dagster's own tags


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
    robust_futures: int | None = None  # overrides settings.robust.futures; 0: no robust plan
    discovery_futures: int | None = None  # overrides settings.discovery.futures
    discovery_plans: list[str] | None = None  # overrides settings.discovery.plans
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
    keep_runs: int = 8  # promoted runs that keep their per-replication tables (older runs keep the rest)
    # where the team's current roadmap comes from: auto (roadmap.csv|xlsx, else the export's fix versions when
    # releases.csv dates them), file, fix_version or sprint (pipelines/sources/roadmap.py)
    roadmap_source: str = "auto"

    def run_options(self) -> dict:
        """The options that shape a run's numbers, as recorded in its history row."""
        return self.model_dump(
            include={
                "time_limit_s",
                "explain_time_limit_s",
                "near_misses",
                "frontier_points",
                "robust_futures",
                "discovery_futures",
                "discovery_plans",
                "replications",
                "workers",
                "dask_address",
                "stress_test_plans",
                "stress_test_scenarios",
                "strict",
                "seed",
                "stability_draws",
                "rank_top_k",
                "value_proxy",
                "roadmap_source",
            }
        )

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


class StoreIOManager(dg.ConfigurableIOManager):
    """The DuckDB store (:mod:`pipelines.store`): each asset is one table in its run's schema.

    ``handle_output`` writes into ``run_<run id>`` only (replacing the table of an asset
    materialised twice in a run); ``load_input`` reads the run's own table when the run wrote
    one, else the current recommendation's (an asset the run did not select). Nothing a run
    writes is seen by the CLI, the notebooks or the report until the run's last asset,
    ``current_recommendation``, promotes it (:mod:`pipelines.promotion`).

    While a run executes, this manager holds the home's refresh lock (:mod:`pipelines.lock`),
    and when it takes it, it drops what refreshes that never finished left in the store.
    """

    database: str  # the DuckDB file
    lock_file: str = ""  # default: refresh.lock next to the store
    # Tables this run has read, by (run id, table): most are inputs of many steps (settings of about 25), and
    # each read opens the store. A copy is handed out; writing the table drops it. Emptied when the run ends.
    _loaded: dict[tuple[str, str], pd.DataFrame] = PrivateAttr(default_factory=dict)

    def _lock_path(self) -> Path:
        return Path(self.lock_file) if self.lock_file else Path(self.database).parent / paths.LOCK_FILE

    @contextmanager
    def yield_for_execution(self, context: dg.InitResourceContext) -> Iterator[StoreIOManager]:
        run = context.run
        run_id = run.run_id if run else ""
        with refresh_lock(self._lock_path(), run_id, trigger_of(run.tags if run else {})):
            Path(self.database).parent.mkdir(parents=True, exist_ok=True)
            drop_unfinished_runs(Path(self.database), keep=run_id or None)
            self._loaded.clear()
            try:
                yield self
            finally:
                self._loaded.clear()

    def handle_output(self, context: dg.OutputContext, obj: pd.DataFrame) -> None:
        if not isinstance(obj, pd.DataFrame):
            raise dg.DagsterInvariantViolationError(
                f"asset {context.asset_key.to_user_string()} returned {type(obj).__name__}; the store keeps DataFrames"
            )
        schema, table = run_schema(context.run_id), context.asset_key.path[-1]
        self._loaded.pop((context.run_id, table), None)
        with connect(Path(self.database)) as con:
            con.execute(f"create schema if not exists {schema}")
            con.register("__weitblick_obj", obj)
            try:
                con.execute(f"create or replace table {schema}.{table} as select * from __weitblick_obj")
            finally:
                con.unregister("__weitblick_obj")
        context.add_output_metadata(
            {
                "dagster/row_count": len(obj),
                "dagster/column_schema": dg.TableSchema(
                    columns=[dg.TableColumn(name=str(n), type=str(t)) for n, t in obj.dtypes.items()]
                ),
                "schema": schema,
            }
        )

    def load_input(self, context: dg.InputContext) -> pd.DataFrame:
        table = context.asset_key.path[-1]
        try:
            run_id = context.step_context.run_id
        except dg.DagsterInvariantViolationError:  # loaded outside a run (build_input_context)
            run_id = None
        if run_id and (run_id, table) in self._loaded:
            return self._loaded[(run_id, table)].copy()
        own = run_schema(run_id) if run_id else None
        with connect(Path(self.database), read_only=True) as con:
            schema = own if own and table in tables_in(con, own) else paths.STORE_SCHEMA
            if table not in tables_in(con, schema):
                raise StoreError(
                    f"{table} is neither in this run nor in the current recommendation of {self.database}. "
                    "Fix: materialise it with the assets it depends on (the refresh job)."
                )
            df = lists_from_arrays(con.execute(f"select * from {schema}.{table}").fetchdf())
        if run_id:
            self._loaded[(run_id, table)] = df
            return df.copy()
        return df


def trigger_of(tags: Mapping[str, str]) -> str:
    """What started a run: schedule, sensor, command (the weitblick CLI) or manual (the UI)."""
    if "dagster/schedule_name" in tags:
        return "schedule"
    if "dagster/sensor_name" in tags:
        return "sensor"
    return tags.get(TRIGGER_TAG, "manual")


def build_resources(home: Path | None = None, **config) -> dict[str, object]:
    """The resources of a refresh: config and the store under ``home`` (WEITBLICK_HOME)."""
    store = paths.store_path(home)
    store.parent.mkdir(parents=True, exist_ok=True)
    return {
        "config": WeitblickConfig(store=str(store), **config),
        "io_manager": StoreIOManager(database=str(store)),
    }
