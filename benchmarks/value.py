"""What the demo's recommended plan is worth, as estimated and as the evidence says, against the
status quo, and whether its path is believable - on the demo and on a copy whose uplifts are
multiplied by ``--scales`` (default 1 and 10).

Per scale: value the backlog (models.valuation, expected realisation), solve the plan
(``--time-limit``), stress-test the recommended plan and the status quo in the baseline scenario
(``--replications``, seed 20270101) and check the plausibility of both paths. Prints JSON lines:

  {"benchmark": "value", "scale": s, "funded", "spend_eur", "estimated_pv_eur" (the funded items'
   benefit at face value, start in period 1), "expected_pv_eur" (realised as expected),
   "expected_per_eur_spent", "plan_value_eur" (the optimiser's expected value at the chosen starts),
   "solver_status", "gap", "gain_p10/p50/p90_eur" (NPV of MRR over the plan's months, recommended
   minus status quo in the same replications), "gain_mean_eur", "final_mrr_p50" of both plans,
   "wall_s"}
  {"benchmark": "plausibility", "scale": s, "plan", "product", "plan_year", "implied_growth",
   "best_growth_on_record", "limit", "flagged", "top_items"}

    .venv/bin/python benchmarks/value.py [--scales 1,10] [--replications 100] [--time-limit 30]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from _common import emit

from models import portfolio
from models.plausibility import plausibility
from models.portfolio.greedy import status_quo_plan
from models.settings import load_settings
from models.simulation import build_plan, load_library, stress_test, summarise_runs
from models.valuation import business_cases, value_by_start
from pipelines.sources import load_inputs

ROOT = Path(__file__).resolve().parents[1]


def run(scale: float, replications: int, time_limit: float) -> None:
    t0 = time.perf_counter()
    d = load_inputs(ROOT / "data" / "demo")
    s = load_settings(ROOT / "data" / "demo" / "settings.yaml")
    backlog = d.backlog.assign(uplift=d.backlog["uplift"] * scale)
    cases = business_cases(backlog, d.teams, d.kpi_history, s)
    values = value_by_start(backlog, cases, s)
    result = portfolio.optimise(backlog, d.teams, values, s, time_limit_s=time_limit)
    plan = result.decisions
    _, sq = status_quo_plan(portfolio.prepare_input(backlog, d.teams, values, s))
    plans = [
        build_plan(name, dec, backlog, d.teams, d.kpi_history, s, okrs=d.okrs)
        for name, dec in (("recommended", plan), ("status_quo", sq))
    ]
    baseline = load_library(ROOT / "scenarios")["baseline"]
    st = stress_test(plans, {"baseline": baseline}, replications=replications, seed=20270101)
    summary = summarise_runs(st.runs).set_index("plan")
    funded = plan.loc[plan["funded"], "item_id"]
    c = cases.set_index("item_id").loc[funded]
    spend = float(plan.loc[plan["funded"], "cost"].sum())
    info = result.run_info.iloc[0]
    rec = summary.loc["recommended"]
    emit(
        "value",
        scale=scale,
        funded=len(funded),
        spend_eur=round(spend),
        estimated_pv_eur=round(float(c["pv_benefit_estimated_eur"].sum())),
        expected_pv_eur=round(float(c["pv_benefit_eur"].sum())),
        expected_per_eur_spent=round(float(c["pv_benefit_eur"].sum()) / spend, 3) if spend else None,
        plan_value_eur=round(float(plan["value"].sum())),
        solver_status=str(info["status"]),
        gap=round(float(info["gap"]), 5),
        gain_mean_eur=round(float(rec["npv_increment_mean"])),
        gain_p10_eur=round(float(rec["npv_increment_p10"])),
        gain_p50_eur=round(float(rec["npv_increment_p50"])),
        gain_p90_eur=round(float(rec["npv_increment_p90"])),
        final_mrr_p50={p: round(float(summary.loc[p, "final_mrr_p50"])) for p in summary.index},
        replications=replications,
        wall_s=round(time.perf_counter() - t0, 1),
    )
    table = plausibility(st.series, d.kpi_history, cases, {"recommended": plan, "status_quo": sq}, s.plausibility)
    for r in table.itertuples():
        emit(
            "plausibility",
            scale=scale,
            plan=r.plan,
            product=r.product,
            plan_year=int(r.plan_year),
            implied_growth=round(float(r.implied_growth), 4),
            best_growth_on_record=round(float(r.best_growth_on_record), 4),
            limit=round(float(r.limit), 4),
            flagged=bool(r.flagged),
            top_items=r.top_items,
        )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scales", default="1,10", help="factors on every uplift, comma-separated")
    ap.add_argument("--replications", type=int, default=100)
    ap.add_argument("--time-limit", type=float, default=30.0)
    args = ap.parse_args()
    for scale in (float(x) for x in args.scales.split(",") if x.strip()):
        run(scale, args.replications, args.time_limit)


if __name__ == "__main__":
    main()
