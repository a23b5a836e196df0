"""Speed of the open exploration (models/exploration.py) on the demo company: every driver of the
scenario library sampled jointly by Latin hypercube, the recommended plan and the status quo (its
NPV floor) run once in every future with common random numbers, then PRIM and feature scores on
the futures where the recommended plan misses a floor (default floors, models.robustness.Floors).

Prints one JSON line: {"benchmark": "discovery", "futures", "runs", "drivers", "workers",
"sample_s" (drivers, Latin hypercube, future scenarios), "run_s" (every run), "discover_s"
(failures, PRIM, feature scores), "wall_s" (the three), "prepare_s" (plans, outside wall_s),
"failed_share", "boxes", "box1_coverage", "box1_density", "box1_restricted", "top_driver",
"sentence" (the first), "seed"}.

    .venv/bin/python benchmarks/discovery.py [--futures 2000] [--seed 0] [--workers N] [--months 24]
        [--time-limit 30]
"""

from __future__ import annotations

import argparse
import time

from _common import emit
from simulation import demo_plans

from models.exploration import explore, explore_failures, future_scenarios, library_drivers, sample_futures, what_breaks
from models.names import STATUS_QUO_PLAN
from models.robustness import Floors
from models.simulation import load_scenarios
from pipelines import paths


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--futures", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--workers", type=int, default=None)
    ap.add_argument("--months", type=int, default=24, help="months simulated (the demo plan's 8 quarters)")
    ap.add_argument("--time-limit", type=float, default=30.0, help="optimiser time limit for the demo plan")
    args = ap.parse_args()

    t0 = time.perf_counter()
    every = demo_plans(args.time_limit, args.months)
    plans = [p for p in every if p.name in ("recommended", STATUS_QUO_PLAN)]
    scenarios = load_scenarios(paths.scenarios_dir())
    prepare_s = time.perf_counter() - t0

    t1 = time.perf_counter()
    horizon = plans[0].months
    drivers = library_drivers(scenarios, horizon)
    futures = sample_futures(drivers, args.futures, args.seed)
    future_scenarios(futures, drivers, scenarios)  # built again inside explore: timed here on its own
    t2 = time.perf_counter()
    runs = explore(plans, futures, drivers, scenarios, args.seed, workers=args.workers, progress=False)
    t3 = time.perf_counter()
    failures = explore_failures(runs, Floors())
    found = what_breaks(futures, failures, drivers, "recommended")
    t4 = time.perf_counter()
    box = found.boxes.iloc[0] if len(found.boxes) else None
    emit(
        "discovery",
        futures=args.futures,
        runs=len(runs),
        drivers=len(drivers),
        workers=args.workers,
        sample_s=round(t2 - t1, 3),
        run_s=round(t3 - t2, 3),
        discover_s=round(t4 - t3, 3),
        wall_s=round(t4 - t1, 3),
        prepare_s=round(prepare_s, 3),
        failed_share=round(found.failed_share, 4),
        boxes=len(found.boxes),
        box1_coverage=None if box is None else round(float(box["coverage"]), 4),
        box1_density=None if box is None else round(float(box["density"]), 4),
        box1_restricted=None if box is None else str(box["restricted"]),
        top_driver=str(found.scores["driver"].iloc[0]),
        sentence=found.sentences[0],
        seed=args.seed,
    )


if __name__ == "__main__":
    main()
