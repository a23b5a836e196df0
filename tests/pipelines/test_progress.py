"""The command line's progress: one line per stage of a run, from the run's own events."""

from __future__ import annotations

import dagster as dg
import pandas as pd

from pipelines.progress import STAGES, progress_logger


def test_each_stage_prints_one_line_and_the_plan_its_result():
    lines: list[str] = []

    @dg.asset
    def input_files() -> int:
        return 1

    @dg.asset(deps=[input_files])
    def portfolio_plan() -> dg.Output[pd.DataFrame]:
        meta = {"status": "TimeLimit", "gap": 0.0123, "funded": 3, "candidates": 5, "value_eur": 1e6, "solve_s": 2.0}
        return dg.Output(pd.DataFrame({"x": [1]}), metadata=meta)

    @dg.asset(deps=[portfolio_plan])
    def unlisted() -> int:  # a step without a stage prints nothing
        return 2

    defs = dg.Definitions(
        assets=[input_files, portfolio_plan, unlisted],
        loggers={"console": dg.colored_console_logger, "progress": progress_logger(lines.append)},
        resources={"io_manager": dg.mem_io_manager},
    )
    quiet = {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}, "progress": {}}}
    assert defs.resolve_implicit_global_asset_job_def().execute_in_process(run_config=quiet).success
    text = [line.split("] ", 1)[1] for line in lines]
    assert text == [
        f"{STAGES['input_files']} ...",
        "plan: TimeLimit, proven gap 1.23%, 3 of 5 items, expected value 1,000,000 EUR, solved in 2.0 s",
    ]
    assert all(line.startswith("[") and " s] " in line for line in lines)
