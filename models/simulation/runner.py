"""Running plans through scenarios: one run, its summary, replications and their summary.

Seeds: replication r of scenario s under the root seed S runs with the seed derived from
``SeedSequence(S, spawn_key=(s.seed, crc32(s.name), r))``; every plan gets the same seed
for the same scenario and replication (common random numbers across plans).

The replications are a list of independent tasks (plan, scenario, replication, seed)
mapped by :func:`run_task`, so a process pool or Dask can take over the map unchanged.
Money in EUR; months 1-based from the plan start; NPV discounts monthly at
``(1 + annual rate) ** (1/12) - 1`` with cash at the end of each month.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from typing import Iterable

import numpy as np
import pandas as pd

from models.simulation.model import PortfolioMarketModel
from models.simulation.plan import SimulationPlan
from models.simulation.scenario import PARAMETER_NAMES, Scenario

SUMMARY_FIELDS = ("npv_eur", "final_mrr", "on_time_share", "mean_slip_months", "delivered_share")


@dataclass(frozen=True)
class RunOutcome:
    """Everything one run produced.

    series: monthly series per product (see :data:`models.simulation.model.SERIES_COLUMNS`);
    delivery: one row per funded item with planned and actual months;
    sampled: the uncertainty values drawn for this run; parameters: every parameter's value.
    """

    series: pd.DataFrame
    delivery: pd.DataFrame
    sampled: dict[str, float]
    parameters: dict[str, float | int | None]
    seed: int


def simulate(plan: SimulationPlan, scenario: Scenario | None, seed: int) -> RunOutcome:
    """Run ``plan`` once under ``scenario`` with ``seed``: series, delivery and sampled values."""
    model = PortfolioMarketModel(plan, scenario, seed=seed)
    model.run_model()
    return RunOutcome(series=model.series(), delivery=model.delivery(), sampled=dict(model.sampled),
                      parameters=model.parameters.model_dump(), seed=seed)


def run(plan: SimulationPlan, scenario: Scenario | None, seed: int) -> pd.DataFrame:
    """Monthly series of one run, one row per (month, product): month, product, mau,
    paying_customers, mrr (EUR/month), churn_rate (monthly), nps_proxy, delivered_items
    (this product's, so far), competitor_parity (0..1), conversion_rate, arpu (EUR/month),
    market_potential (people), cost_savings (EUR/month). Same arguments, same table."""
    return simulate(plan, scenario, seed).series


def summarise_run(series: pd.DataFrame, plan: SimulationPlan, outcome: RunOutcome | pd.DataFrame) -> dict:
    """The outcome of one run in numbers.

    npv_eur: present value of MRR plus cost savings over the simulated months (EUR; team
        costs are the same for every plan on the same teams and are left out);
    final_mrr: total MRR in the last month (EUR/month);
    on_time_share: share of the items planned to finish within the horizon that were
        delivered by their planned finish month (NaN without such items);
    mean_slip_months: their mean lateness max(0, delivered - planned finish), counting an
        item still open at the horizon H as delivered in H + 1 (a lower bound);
    delivered_share: share of all funded items delivered within the horizon (NaN if none).
    ``outcome`` is the run's :class:`RunOutcome` or its delivery table.
    """
    delivery = outcome.delivery if isinstance(outcome, RunOutcome) else outcome
    horizon = int(series["month"].max()) if len(series) else 0
    monthly = series.groupby("month", sort=True)[["mrr", "cost_savings"]].sum()
    rate = (1.0 + plan.discount_rate) ** (1.0 / 12.0) - 1.0
    discount = (1.0 + rate) ** -monthly.index.to_numpy(dtype=float)
    npv = float(((monthly["mrr"] + monthly["cost_savings"]).to_numpy() * discount).sum())
    final_mrr = float(monthly["mrr"].iloc[-1]) if len(monthly) else 0.0
    due = delivery.loc[delivery["planned_finish_month"] <= horizon]
    delivered = delivery["delivered_month"]
    if len(due):
        actual = due["delivered_month"].fillna(horizon + 1).astype(float)
        on_time = float((actual <= due["planned_finish_month"]).mean())
        slip = float(np.maximum(actual - due["planned_finish_month"], 0.0).mean())
    else:
        on_time = slip = float("nan")
    return {
        "npv_eur": npv,
        "final_mrr": final_mrr,
        "on_time_share": on_time,
        "mean_slip_months": slip,
        "delivered_share": float(delivered.notna().mean()) if len(delivery) else float("nan"),
    }


def replication_seed(root_seed: int, scenario: Scenario, replication: int) -> int:
    """Seed of one replication of a scenario (the same for every plan), 0 <= seed < 2**63."""
    ss = np.random.SeedSequence(root_seed, spawn_key=(scenario.seed, zlib.crc32(scenario.name.encode()),
                                                      replication))
    return int(ss.generate_state(1, dtype=np.uint64)[0] >> np.uint64(1))


@dataclass(frozen=True)
class ReplicationTask:
    """One independent unit of work: a plan, a scenario, a replication and its seed."""

    plan_index: int
    plan: SimulationPlan
    scenario_name: str
    scenario: Scenario
    replication: int
    seed: int


def replication_tasks(plans: list[SimulationPlan], scenarios: dict[str, Scenario],
                      replications: int | None = None, seed: int = 0) -> list[ReplicationTask]:
    """Every (plan, scenario, replication) with its seed, plans outermost."""
    return [ReplicationTask(i, plan, name, sc, r, replication_seed(seed, sc, r))
            for i, plan in enumerate(plans)
            for name, sc in scenarios.items()
            for r in range(replications if replications is not None else sc.replications)]


def run_task(task: ReplicationTask) -> tuple[dict, pd.DataFrame]:
    """Run one task: its row of the runs table and its series (with plan, scenario, replication)."""
    outcome = simulate(task.plan, task.scenario, task.seed)
    row = {"plan": task.plan.name, "scenario": task.scenario_name, "replication": task.replication,
           "seed": task.seed, **summarise_run(outcome.series, task.plan, outcome)}
    row.update({name: _as_float(outcome.parameters.get(name)) for name in PARAMETER_NAMES})
    series = outcome.series.copy()
    series.insert(0, "replication", task.replication)
    series.insert(0, "scenario", task.scenario_name)
    series.insert(0, "plan", task.plan.name)
    return row, series


def run_replications(plans: list[SimulationPlan], scenarios: dict[str, Scenario],
                     replications: int | None = None, seed: int = 0,
                     mapper=map) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Run every plan through every scenario, ``replications`` times (default: each
    scenario's own ``replications``).

    Returns (runs, series). runs: one row per plan, scenario and replication with its seed,
    the :func:`summarise_run` fields and the value of every model parameter in that run
    (constants and sampled uncertainties, for scenario discovery). series: the monthly
    series of every run with plan, scenario and replication. ``mapper`` maps
    :func:`run_task` over the tasks (built-in ``map`` by default; e.g. an executor's map).
    """
    names = [p.name for p in plans]
    if len(set(names)) != len(names):
        from models.errors import ModelError

        raise ModelError(f"plan names must differ, got {names}. Fix: name each plan.")
    results: Iterable[tuple[dict, pd.DataFrame]] = mapper(run_task, replication_tasks(plans, scenarios,
                                                                                      replications, seed))
    rows, frames = [], []
    for row, series in results:
        rows.append(row)
        frames.append(series)
    runs = pd.DataFrame(rows, columns=["plan", "scenario", "replication", "seed", *SUMMARY_FIELDS,
                                       *PARAMETER_NAMES])
    runs["seed"] = runs["seed"].astype("int64")
    series = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    return runs, series


def summarise_runs(runs: pd.DataFrame) -> pd.DataFrame:
    """Per plan and scenario: runs; npv mean/p10/p50/p90 (``npv_mean``, ``npv_p10``, ...);
    final_mrr mean/p10/p50/p90; on_time_share_mean, mean_slip_months_mean and
    delivered_share_mean (NaN shares, e.g. of an empty plan, are left out of the means)."""
    def q(p: float):
        return lambda s: float(s.quantile(p))

    g = runs.groupby(["plan", "scenario"], sort=False)
    out = g.agg(
        runs=("seed", "size"),
        npv_mean=("npv_eur", "mean"), npv_p10=("npv_eur", q(0.1)), npv_p50=("npv_eur", q(0.5)),
        npv_p90=("npv_eur", q(0.9)),
        final_mrr_mean=("final_mrr", "mean"), final_mrr_p10=("final_mrr", q(0.1)),
        final_mrr_p50=("final_mrr", q(0.5)), final_mrr_p90=("final_mrr", q(0.9)),
        on_time_share_mean=("on_time_share", "mean"),
        mean_slip_months_mean=("mean_slip_months", "mean"),
        delivered_share_mean=("delivered_share", "mean"),
    ).reset_index()
    return out


def series_bands(series: pd.DataFrame, metrics: tuple[str, ...] = ("mrr", "mau", "paying_customers"),
                 quantiles: tuple[float, ...] = (0.1, 0.5, 0.9)) -> pd.DataFrame:
    """Per plan, scenario and month: quantiles across replications of each metric summed over
    products (columns like ``mrr_p10``, ``mrr_p50``, ``mrr_p90``) - the fan charts of a stress test."""
    keys = ["plan", "scenario", "month"]
    if series.empty:
        return pd.DataFrame(columns=keys + [f"{m}_p{round(q * 100)}" for m in metrics for q in quantiles])
    total = series.groupby([*keys, "replication"], as_index=False)[list(metrics)].sum()
    g = total.groupby(keys, sort=True)
    out = pd.DataFrame({f"{m}_p{round(q * 100)}": g[m].quantile(q) for m in metrics for q in quantiles})
    return out.reset_index()


def _as_float(value) -> float:
    return float("nan") if value is None else float(value)
