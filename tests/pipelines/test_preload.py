"""Loading a later step's libraries during a step, and the store's tables handed to a run more than once."""
# No "from __future__ import annotations": Dagster reads the assets' annotations as types.

import subprocess
import sys
import threading

import dagster as dg
import pandas as pd
import pytest

from models import portfolio
from models.valuation import business_cases, value_by_start
from pipelines.paths import demo_data_dir
from pipelines.preload import run_selects
from pipelines.resources import StoreIOManager

DEMO = demo_data_dir()


def test_the_robust_plan_loads_what_it_is_given_meanwhile_and_waits_for_it(tmp_path):
    from models.portfolio.robust import robust_plan
    from pipelines.sources import load_inputs

    d = load_inputs(DEMO)
    s = d.settings.model_copy(update={"robust": d.settings.robust.model_copy(update={"futures": 5, "held_out": 20})})
    cases = business_cases(d.backlog, d.teams, d.kpi_history, s)
    values = value_by_start(d.backlog, cases, s)
    recommended = portfolio.optimise(d.backlog, d.teams, values, s)
    seen = []

    def load():
        seen.append(threading.current_thread().name)
        raise ImportError("a library that is missing is the importing step's to report")

    threads = threading.active_count()
    out = robust_plan(d.backlog, d.teams, d.kpi_history, cases, values, s, recommended, meanwhile=load)
    assert len(seen) == 1 and seen[0] != threading.current_thread().name  # on the other thread, done by now
    assert out.comparison["futures"].tolist() == [20, 20]
    assert threading.active_count() == threads  # no thread left behind


def test_run_selects_tells_a_step_whether_the_run_materialises_an_asset():
    answers = []

    @dg.asset
    def first(context: dg.AssetExecutionContext) -> int:
        answers.append(run_selects(context, "second"))
        return 1

    @dg.asset
    def second(first: int) -> int:
        return first + 1

    # as the command line runs the refresh job: whole, or a selection of it
    job = dg.Definitions(assets=[first, second], jobs=[dg.define_asset_job("both")]).resolve_job_def("both")
    assert job.execute_in_process().success
    assert job.execute_in_process(asset_selection=[dg.AssetKey("first")]).success
    assert job.execute_in_process(asset_selection=[dg.AssetKey("first"), dg.AssetKey("second")]).success
    assert answers == [True, False, True]


def test_each_step_gets_its_own_copy_of_a_table_the_run_read_before(tmp_path):
    store = tmp_path / "store.duckdb"
    seen = []

    @dg.asset
    def table() -> pd.DataFrame:
        return pd.DataFrame({"item_id": ["A", "B"], "value": [1.0, 2.0]})

    @dg.asset
    def changes_its_input(table: pd.DataFrame) -> pd.DataFrame:
        table["value"] = 0.0  # a step that changes what it was handed
        table.loc[len(table)] = ["C", 9.0]
        return table

    @dg.asset(deps=[changes_its_input])
    def reads_it_again(table: pd.DataFrame) -> pd.DataFrame:
        seen.append(table)
        return table

    result = dg.materialize(
        [table, changes_its_input, reads_it_again], resources={"io_manager": StoreIOManager(database=str(store))}
    )
    assert result.success
    pd.testing.assert_frame_equal(seen[0], pd.DataFrame({"item_id": ["A", "B"], "value": [1.0, 2.0]}))


@pytest.mark.slow
def test_ema_workbench_loads_without_a_word_from_any_thread():
    # its notes on optional back-ends (ipyparallel, altair) are not the user's concern: an error here if one shows
    code = (
        "import threading\n"
        "from models.robustness import EMA_ANALYSES, ema_analysis\n"
        "t = threading.Thread(target=lambda: [ema_analysis(n) for n in EMA_ANALYSES]); t.start(); t.join()\n"
        "assert ema_analysis('prim').Prim\n"
    )
    done = subprocess.run(
        [sys.executable, "-W", "error::UserWarning", "-c", code], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "Warning" not in done.stderr
