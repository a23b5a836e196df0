"""Speed of the robustness metrics (models/robustness.py): plans x scenarios x replications of
stress-test outcomes (drawn from a seeded generator) -> per plan expected NPV, P10, worst case,
regret, satisficing and the ranks, and Kendall's tau between the rankings.

Prints one JSON line: {"benchmark": "robustness", "plans", "scenarios", "replications", "runs",
"metrics_s" (plan_robustness), "agreement_s" (ranking_agreement), "wall_s", "seed"}.

    .venv/bin/python benchmarks/robustness.py [--plans 10] [--scenarios 10] [--replications 200]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd
from _common import emit

from models.robustness import plan_robustness, ranking_agreement


def runs_table(plans: int, scenarios: int, replications: int, seed: int) -> pd.DataFrame:
    """Outcomes with a plan effect, a future effect shared by all plans (common random numbers) and noise."""
    rng = np.random.default_rng(seed)
    names = ["status_quo", *(f"plan_{k}" for k in range(1, plans))]
    p, s, r = np.meshgrid(np.arange(plans), np.arange(scenarios), np.arange(replications), indexing="ij")
    future = rng.normal(30e6, 3e6, size=(scenarios, replications))
    npv = future[s, r] + 0.2e6 * p + rng.normal(0, 0.5e6, size=p.shape)
    return pd.DataFrame(
        {
            "plan": np.array(names, dtype=object)[p.ravel()],
            "scenario": np.array([f"s{k}" for k in range(scenarios)], dtype=object)[s.ravel()],
            "replication": r.ravel(),
            "npv_eur": npv.ravel(),
            "okr_met_share": rng.uniform(0, 1, p.size),
            "on_time_share": rng.uniform(0, 1, p.size),
        }
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--plans", type=int, default=10)
    ap.add_argument("--scenarios", type=int, default=10)
    ap.add_argument("--replications", type=int, default=200)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    runs = runs_table(args.plans, args.scenarios, args.replications, args.seed)
    t0 = time.perf_counter()
    table = plan_robustness(runs)
    t1 = time.perf_counter()
    ranking_agreement(table)
    t2 = time.perf_counter()
    emit(
        "robustness",
        plans=args.plans,
        scenarios=args.scenarios,
        replications=args.replications,
        runs=len(runs),
        metrics_s=round(t1 - t0, 4),
        agreement_s=round(t2 - t1, 4),
        wall_s=round(t2 - t0, 4),
        seed=args.seed,
    )


if __name__ == "__main__":
    main()
