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

from models.exploration import explore_plans
from models.names import STATUS_QUO_PLAN
from models.settings import load_settings
from models.simulation import load_scenarios
from models.valuation import business_cases
from pipelines import paths
from pipelines.sources import load_inputs


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
    demo = paths.demo_data_dir()
    d, s = load_inputs(demo), load_settings(demo / "settings.yaml")
    cases = business_cases(d.backlog, d.teams, d.kpi_history, s)
    prepare_s = time.perf_counter() - t0
    cfg = s.discovery
    t1 = time.perf_counter()
    out = explore_plans(
        plans,
        scenarios,
        plans[0].months,
        s.satisficing,
        futures=args.futures,
        seed=args.seed,
        count=cfg.failure,
        min_coverage=cfg.min_coverage,
        max_boxes=cfg.max_boxes,
        workers=args.workers,
        progress=False,
        npv_floor=cfg.npv_floor,
        item_values=dict(zip(cases["item_id"], cases["pv_benefit_estimated_eur"], strict=True)),
    )
    wall = time.perf_counter() - t1
    info = out.run_info.iloc[0]
    boxes = out.boxes.loc[out.boxes["box"] >= 1]
    box = boxes.iloc[0] if len(boxes) else None
    scores = out.drivers.sort_values("score_recommended", ascending=False)
    emit(
        "discovery",
        futures=args.futures,
        runs=int(info["runs"]),
        drivers=int(info["drivers"]) + 1,  # the library's and the plan's realised value
        workers=args.workers,
        wall_s=round(wall, 3),
        prepare_s=round(prepare_s, 3),
        npv_floor_eur=round(float(info["npv_floor_eur"])),
        failed_share=float(str(info["failed_share"]).split(": ")[1]),
        boxes=len(boxes),
        box1_coverage=None if box is None else round(float(box["coverage"]), 4),
        box1_density=None if box is None else round(float(box["density"]), 4),
        box1_restricted=None if box is None else str(box["restricted"]),
        top_driver=str(scores["driver"].iloc[0]),
        sentences=list(out.boxes["sentence"]),
        seed=args.seed,
    )


if __name__ == "__main__":
    main()
