"""Speed of the simulation: the adoption rule against a per-customer Mesa model, and the full
stress test on the demo company.

Prints one JSON object per line:

* ``adoption``: a plain Mesa model with one agent per customer (the reference) and our model
  (``single_product_plan`` run by ``PortfolioMarketModel``: one vectorised market segment, no
  churn, no competitor, no shocks) apply the same Bass rule - a non-adopter adopts within the
  month with the exact one-month Bass hazard at the adopted share F, ``bass_step_hazard(F, p, q)``.
  Agent-steps are customers x steps; a run is timed whole (creating the model and its agents,
  every step, reading the adoption path). Keys: customers, steps, replications (reference /
  ours), agent_steps_per_s (ours), reference_agent_steps_per_s, ratio_vs_reference,
  steps_only_ratio_vs_reference (model creation left out on both sides), max_mean_deviation
  (largest gap between the two mean adoption paths as a share of the customers), wall_s.
* ``stress_test``: plans (recommended + 4 greedy baselines) x every scenario in scenarios/ x
  replications on the demo company over ``--months`` months, with the default workers.
  Keys: runs, wall_s, runs_per_s, workers, backend, chunks, cpu_s (this process and its
  workers), plans, scenarios, replications, months, series_rows. The plans are built first
  (optimiser with ``--time-limit``), outside the timing.
* ``stress_test_profile`` (``--profile N``): the top functions by own time of N runs made
  serially in this process through the runner's chunk path.

    .venv/bin/python benchmarks/simulation.py [--only adoption|stress] [--customers 10000]
        [--steps 40] [--replications 10] [--our-replications 200] [--stress-replications 200]
        [--months 36] [--workers N] [--profile 200]
"""

from __future__ import annotations

import argparse
import cProfile
import dataclasses
import io
import json
import os
import pstats
import time

import mesa
import numpy as np

from models import portfolio, valuation
from models.simulation import (
    PortfolioMarketModel,
    bass_step_hazard,
    candidate_plans,
    load_scenarios,
    make_chunks,
    run_chunk,
    simulate,
    single_product_plan,
    stress_test,
)
from models.simulation.calibration import mean_adoption
from pipelines import paths
from pipelines.sources import load_inputs


def emit(**row) -> None:
    print(json.dumps(row), flush=True)


# ---------------------------------------------------------------------------------------
# (a) the adoption rule: one Mesa agent per customer, as the reference
# ---------------------------------------------------------------------------------------


class Customer(mesa.Agent):
    """One potential adopter: adopts with the month's Bass hazard (drawn from ``model.rng``)."""

    def __init__(self, model: BassReference):
        super().__init__(model)
        self.adopted = False

    def step(self) -> None:
        if not self.adopted and self.model.rng.random() < self.model.hazard:
            self.adopted = True
            self.model.new_adopters += 1


class BassReference(mesa.Model):
    """Bass (1969) diffusion with one agent per customer: each month every non-adopter adopts
    with the exact one-month hazard at the adopted share F at the start of the month."""

    def __init__(self, customers: int = 10_000, p: float = 0.03, q: float = 0.38, seed: int = 0):
        super().__init__(rng=seed)
        self.customers, self.p, self.q = customers, p, q
        self.adopters, self.new_adopters, self.hazard = 0, 0, 0.0
        Customer.create_agents(self, customers)

    def step(self) -> None:
        self.hazard = bass_step_hazard(self.adopters / self.customers, self.p, self.q)
        self.new_adopters = 0
        self.agents.do("step")
        self.adopters += self.new_adopters


def reference_paths(customers: int, steps: int, p: float, q: float, replications: int, seed: int):
    """Adopters after each step per replication; seconds of whole runs (creating the agents and
    every step) and of the steps alone."""
    paths_, whole, stepping = np.zeros((replications, steps)), 0.0, 0.0
    for r in range(replications):
        t0 = time.perf_counter()
        model = BassReference(customers, p, q, seed=seed + r)
        t1 = time.perf_counter()
        for s in range(steps):
            model.step()
            paths_[r, s] = model.adopters
        t2 = time.perf_counter()
        whole, stepping = whole + t2 - t0, stepping + t2 - t1
    return paths_, whole, stepping


def our_paths(customers: int, steps: int, p: float, q: float, replications: int, seed: int):
    """Mean adopters after each month from the stress-test model (one market segment, no churn,
    no competitor, no shocks: :func:`models.simulation.calibration.mean_adoption`); seconds of
    the whole runs (creating the model, every month, reading the adoption path) and of the
    months alone (the whole runs less the time to create as many models)."""
    t0 = time.perf_counter()
    mean, _ = mean_adoption(p, q, customers, steps, replications, seed)
    whole = time.perf_counter() - t0
    plan = single_product_plan(users=0, market_potential=customers, bass_p=p, bass_q=q, months=steps)
    t0 = time.perf_counter()
    for r in range(replications):
        PortfolioMarketModel(plan, None, seed=seed + r)
    creating = time.perf_counter() - t0
    # the same path through the public API (simulate -> series), checked once
    assert np.array_equal(
        simulate(plan, None, seed).series["mau"].to_numpy(), mean_adoption(p, q, customers, steps, 1, seed)[0]
    )
    return mean, whole, whole - creating


def adoption(args) -> None:
    t0 = time.perf_counter()
    ref, ref_s, ref_steps_s = reference_paths(args.customers, args.steps, args.p, args.q, args.replications, args.seed)
    ours, ours_s, ours_steps_s = our_paths(args.customers, args.steps, args.p, args.q, args.our_replications, args.seed)
    ref_work = args.customers * args.steps * args.replications
    our_work = args.customers * args.steps * args.our_replications
    deviation = np.abs(ref.mean(axis=0) - ours).max() / args.customers
    emit(
        benchmark="adoption",
        customers=args.customers,
        steps=args.steps,
        p=args.p,
        q=args.q,
        replications=args.replications,
        our_replications=args.our_replications,
        agent_steps_per_s=round(our_work / ours_s),
        reference_agent_steps_per_s=round(ref_work / ref_s),
        ratio_vs_reference=round(our_work / ours_s / (ref_work / ref_s), 1),
        steps_only_ratio_vs_reference=round(our_work / ours_steps_s / (ref_work / ref_steps_s), 1),
        max_mean_deviation=round(float(deviation), 5),
        ms_per_run=round(ours_s / args.our_replications * 1000, 3),
        reference_ms_per_run=round(ref_s / args.replications * 1000, 1),
        wall_s=round(time.perf_counter() - t0, 3),
    )


# ---------------------------------------------------------------------------------------
# (b) the full stress test on the demo company
# ---------------------------------------------------------------------------------------


def demo_plans(time_limit: float, months: int):
    """The recommended plan and the greedy baselines of the demo company, over ``months``."""
    inputs = load_inputs(paths.demo_data_dir())
    s = inputs.settings
    cases = valuation.business_cases(inputs.backlog, inputs.teams, inputs.kpi_history, s)
    values = valuation.value_by_start(inputs.backlog, cases, s)
    result = portfolio.optimise(
        inputs.backlog,
        inputs.teams,
        values,
        s.model_copy(update={"solver": s.solver.model_copy(update={"time_limit_s": time_limit})}),
    )
    _, greedy = portfolio.baselines(inputs.backlog, inputs.teams, values, s, result)
    plans = candidate_plans(
        {"recommended": result.decisions, **greedy}, inputs.backlog, inputs.teams, inputs.kpi_history, s, inputs.okrs
    )
    return [dataclasses.replace(p, months=months) for p in plans]


def stress(args) -> None:
    t0 = time.perf_counter()
    plans = demo_plans(args.time_limit, args.months)
    scenarios = load_scenarios(paths.scenarios_dir())
    prepare_s = time.perf_counter() - t0
    before = os.times()
    st = stress_test(
        plans,
        scenarios,
        replications=args.stress_replications,
        seed=args.seed,
        workers=args.workers,
        progress=False,
        keep_series=not args.no_series,
    )
    after = os.times()
    info = st.info
    cpu = (
        (after.user - before.user)
        + (after.children_user - before.children_user)
        + (after.system - before.system)
        + (after.children_system - before.children_system)
    )
    emit(
        benchmark="stress_test",
        runs=info["runs"],
        wall_s=info["wall_s"],
        runs_per_s=round(info["runs"] / info["wall_s"], 1),
        workers=info["workers"],
        backend=info["backend"],
        chunks=info["chunks"],
        cpu_s=round(cpu, 2),
        plans=len(plans),
        scenarios=len(scenarios),
        replications=args.stress_replications,
        months=args.months,
        series_rows=len(st.series),
        prepare_s=round(prepare_s, 2),
    )
    if args.profile:
        chunks = make_chunks(
            plans,
            scenarios,
            replications=max(args.profile // (len(plans) * len(scenarios)), 1),
            seed=args.seed,
            chunk_size=args.profile,
        )
        profiler = cProfile.Profile()
        t = time.perf_counter()
        profiler.enable()
        runs = sum(len(run_chunk(c).runs) for c in chunks)
        profiler.disable()
        wall = time.perf_counter() - t
        stats = pstats.Stats(profiler, stream=io.StringIO())
        top = sorted(stats.stats.items(), key=lambda kv: kv[1][2], reverse=True)[: args.top]
        emit(
            benchmark="stress_test_profile",
            runs=runs,
            profiled_s=round(wall, 3),
            ms_per_run_profiled=round(wall / runs * 1000, 2),
            top_own_time=[
                {
                    "function": f"{os.path.relpath(f[0], paths.project_root()) if f[0].startswith('/') else f[0]}"
                    f":{f[1]}({f[2]})",
                    "calls": v[1],
                    "own_s": round(v[2], 3),
                    "cumulative_s": round(v[3], 3),
                }
                for f, v in top
            ],
        )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", choices=["adoption", "stress"], default=None)
    ap.add_argument("--customers", type=int, default=10_000)
    ap.add_argument("--steps", type=int, default=40)
    ap.add_argument("--p", type=float, default=0.03, help="Bass innovation coefficient per step")
    ap.add_argument("--q", type=float, default=0.38, help="Bass imitation coefficient per step")
    ap.add_argument("--replications", type=int, default=10, help="replications of the per-customer reference")
    ap.add_argument("--our-replications", type=int, default=200, help="replications of our model")
    ap.add_argument("--stress-replications", type=int, default=200)
    ap.add_argument("--months", type=int, default=36)
    ap.add_argument("--workers", type=int, default=None, help="default: every core")
    ap.add_argument("--no-series", action="store_true", help="do not keep the monthly series")
    ap.add_argument("--time-limit", type=float, default=30.0, help="optimiser time limit for the demo plan")
    ap.add_argument("--profile", type=int, default=0, help="also profile this many runs serially")
    ap.add_argument("--top", type=int, default=15)
    ap.add_argument("--seed", type=int, default=20270101)
    args = ap.parse_args()
    if args.only in (None, "adoption"):
        adoption(args)
    if args.only in (None, "stress"):
        stress(args)


if __name__ == "__main__":
    main()
