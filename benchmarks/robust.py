"""Speed and effect of the robust MILP (models/portfolio/robust.py) on the demo company: the plan optimised
over sampled futures of the items' values, compared with the recommended plan on held-out futures.

Prints one JSON line per configuration: {"benchmark": "robust_milp", "futures", "objective", "alpha",
"cvar_weight", "status", "gap", "solve_s" (HiGHS), "build_s" (futures + model), "held_out", "mean_eur",
"p10_eur", "cvar_eur" (recommended, robust), "price_of_robustness_eur", "p10_gain_eur", "funded"}.

    .venv/bin/python benchmarks/robust.py [--futures 50,200] [--weights 1,0.5] [--alpha 0.2]
        [--time-limit 60] [--gap 0.01] [--held-out 500]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from _common import emit

from models import portfolio
from models.portfolio import robust
from models.portfolio.explain import plan_starts
from models.settings import load_settings
from models.valuation import business_cases, value_by_start
from pipelines.sources import load_inputs

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--futures", default="50,200")
    ap.add_argument("--weights", default="1,0.5", help="CVaR weights against the mean (1: the CVaR alone)")
    ap.add_argument("--alpha", type=float, default=0.2)
    ap.add_argument("--time-limit", type=float, default=60.0, help="per solve; 200 futures get twice as long")
    ap.add_argument("--gap", type=float, default=0.01)
    ap.add_argument("--held-out", type=int, default=500)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    d = load_inputs(ROOT / "data" / "demo")
    s = load_settings(ROOT / "data" / "demo" / "settings.yaml")
    cases = business_cases(d.backlog, d.teams, d.kpi_history, s)
    values = value_by_start(d.backlog, cases, s)
    rec = portfolio.optimise(d.backlog, d.teams, values, s)
    inp = portfolio.prepare_input(d.backlog, d.teams, values, s)
    held = robust.future_values(inp, d.backlog, cases, d.kpi_history, args.held_out, args.seed + 1)
    for n in (int(v) for v in args.futures.split(",")):
        for weight in (float(v) for v in args.weights.split(",")):
            t0 = time.perf_counter()
            train = robust.future_values(inp, d.backlog, cases, d.kpi_history, n, args.seed)
            limit = args.time_limit * (2 if n > 100 else 1)
            sv = robust.solve_robust(
                inp, train, "cvar", args.alpha, limit, args.gap, warm_start=plan_starts(rec), weight=weight
            )
            wall = time.perf_counter() - t0
            c = robust.compare_on_futures(
                held, {"recommended": plan_starts(rec), "robust": plan_starts(sv.result)}, args.alpha
            ).set_index("plan")
            emit(
                "robust_milp",
                futures=n,
                objective="cvar",
                alpha=args.alpha,
                cvar_weight=weight,
                status=sv.stats.status,
                gap=round(float(sv.stats.gap), 4),
                solve_s=round(float(sv.stats.time_s), 1),
                build_s=round(wall - float(sv.stats.time_s), 1),
                time_limit_s=limit,
                held_out=args.held_out,
                mean_eur=[round(float(v)) for v in c["value_mean"]],
                p10_eur=[round(float(v)) for v in c["value_p10"]],
                cvar_eur=[round(float(v)) for v in c["value_cvar"]],
                price_of_robustness_eur=round(float(c.at["recommended", "value_mean"] - c.at["robust", "value_mean"])),
                p10_gain_eur=round(float(c.at["robust", "value_p10"] - c.at["recommended", "value_p10"])),
                funded=int(c.at["robust", "items"]),
                seed=args.seed,
            )


if __name__ == "__main__":
    main()
