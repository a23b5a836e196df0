"""The market model against the Bass closed form: mean adoption of many runs, competitors and
shocks off, churn 0, one product with p and q per step.

Prints one JSON object:
  {"benchmark": "bass", "p": ..., "q": ..., "customers": M, "months": T, "replications": R,
   "max_mean_deviation": max_t |mean adoption(t) - M F(t)| / M, "final_mean_share": ...,
   "agent_steps_per_s": customers x months x replications / wall_s, "wall_s": ...}

    .venv/bin/python benchmarks/bass.py --p 0.03 --q 0.38 --customers 10000 --months 36 --replications 200
    .venv/bin/python benchmarks/bass.py --p 0.005 --q 0.84 --customers 10000 --months 36 --replications 200
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np

from models.simulation.calibration import bass_cumulative, mean_adoption


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--p", type=float, default=0.03, help="innovation coefficient per step")
    ap.add_argument("--q", type=float, default=0.38, help="imitation coefficient per step")
    ap.add_argument("--customers", type=int, default=10_000, help="market potential m (people)")
    ap.add_argument("--months", type=int, default=36, help="steps simulated")
    ap.add_argument("--replications", type=int, default=200)
    ap.add_argument("--seed", type=int, default=0, help="replication r runs with seed + r")
    args = ap.parse_args()

    started = time.perf_counter()
    mean, _ = mean_adoption(args.p, args.q, args.customers, args.months, args.replications, args.seed)
    wall = time.perf_counter() - started
    closed = args.customers * bass_cumulative(np.arange(1, args.months + 1), args.p, args.q)
    print(
        json.dumps(
            {
                "benchmark": "bass",
                "p": args.p,
                "q": args.q,
                "customers": args.customers,
                "months": args.months,
                "replications": args.replications,
                "max_mean_deviation": float(np.max(np.abs(mean - closed)) / args.customers),
                "final_mean_share": float(mean[-1] / args.customers),
                "agent_steps_per_s": round(args.customers * args.months * args.replications / wall),
                "wall_s": round(wall, 3),
            }
        ),
        flush=True,
    )


if __name__ == "__main__":
    main()
