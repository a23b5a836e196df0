"""Time each stage of the chain on a data folder (default: the demo company).

Prints one JSON object per line:
  {"benchmark": "chain", "stage": "read"|"valuation"|"build"|"solve"|"simulate", ...}

    .venv/bin/python benchmarks/chain.py [--data data/demo] [--time-limit 30] [--replications 20]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from _common import emit

from models import portfolio, valuation
from models.simulation import build_plan, load_scenarios, run_replications
from pipelines import paths
from pipelines.sources import load_inputs


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=paths.demo_data_dir())
    ap.add_argument("--time-limit", type=float, default=30.0)
    ap.add_argument("--replications", type=int, default=20)
    ap.add_argument("--seed", type=int, default=20270101)
    args = ap.parse_args()

    t = time.perf_counter()
    inputs = load_inputs(args.data)
    emit("chain", stage="read", items=len(inputs.backlog), seconds=round(time.perf_counter() - t, 3))

    t = time.perf_counter()
    cases = valuation.business_cases(inputs.backlog, inputs.teams, inputs.kpi_history, inputs.settings)
    values = valuation.value_by_start(inputs.backlog, cases, inputs.settings)
    emit("chain", stage="valuation", rows=len(values), seconds=round(time.perf_counter() - t, 3))

    t = time.perf_counter()
    inp = portfolio.prepare_input(inputs.backlog, inputs.teams, values, inputs.settings)
    model = portfolio.build_model(inp)
    emit("chain", stage="build", items=len(inp.items), seconds=round(time.perf_counter() - t, 3))

    stats = portfolio.solve(model, time_limit_s=args.time_limit)
    result = portfolio.results(model, stats)
    info = result.run_info.iloc[0]
    emit(
        "chain",
        stage="solve",
        status=str(info["status"]),
        gap=float(info["gap"]),
        value=float(info["objective"]),
        solve_s=round(float(info["time_s"]), 3),
        time_limit_s=args.time_limit,
        variables=int(info["n_variables"]),
        constraints=int(info["n_constraints"]),
    )

    scenarios = load_scenarios(paths.scenarios_dir())
    plan = build_plan(
        "recommended", result.decisions, inputs.backlog, inputs.teams, inputs.kpi_history, inputs.settings
    )
    t = time.perf_counter()
    runs, _ = run_replications([plan], scenarios, replications=args.replications, seed=args.seed)
    wall = time.perf_counter() - t
    emit(
        "chain",
        stage="simulate",
        runs=len(runs),
        scenarios=len(scenarios),
        wall_s=round(wall, 3),
        runs_per_s=round(len(runs) / wall, 1),
        seed=args.seed,
    )


if __name__ == "__main__":
    main()
