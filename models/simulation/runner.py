"""Running plans through scenarios: one run and its summary, and the stress test of many
plans x scenarios x replications with its summaries.

Seeds: replication r of scenario s under the root seed S runs with the seed derived from
``SeedSequence(S, spawn_key=(s.seed, crc32(s.name), r))``; every plan gets the same seed
for the same scenario and replication (common random numbers across plans).

Work is cut into :class:`Chunk` s - one plan, one scenario and up to ``chunk_size``
replications - so a plan is sent to a worker once per chunk, not once per run.
:func:`run_futures` runs plans through many one-run scenarios (the futures of an open
exploration, :mod:`models.exploration`): its chunks carry one scenario per replication.
:func:`stress_test` runs the chunks serially (``workers=1``), on local processes (default)
or on a Dask cluster (``dask_address`` or ``client``); the tables are the same in every
case, whatever the number of workers or the chunk size.

Money in EUR; months 1-based from the plan start; NPV discounts monthly at
``(1 + annual rate) ** (1/12) - 1`` with cash at the end of each month.
"""

from __future__ import annotations

import contextlib
import json
import multiprocessing
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from models.errors import ModelError
from models.names import PLAN_NAMES, STATUS_QUO_PLAN
from models.settings import Settings
from models.simulation.model import OKR_ATTAINMENT_COLUMNS, SERIES_COLUMNS, PortfolioMarketModel, series_frame
from models.simulation.plan import SimulationPlan, build_plan
from models.simulation.roles import RESOLUTION_COLUMNS, resolution_text, resolve_for_plan
from models.simulation.scenario import PARAMETER_NAMES, RegulatoryMustHave, Scenario, name_key
from models.valuation import kpi_baselines

if TYPE_CHECKING:
    from distributed import Client

SUMMARY_FIELDS = ("npv_eur", "final_mrr", "on_time_share", "mean_slip_months", "delivered_share", "okr_met_share")
RUN_KEYS = ["plan", "scenario", "replication"]
RUNS_COLUMNS = [*RUN_KEYS, "seed", *SUMMARY_FIELDS, *PARAMETER_NAMES]
SERIES_RUN_COLUMNS = [*RUN_KEYS, *SERIES_COLUMNS]
OKR_RUN_COLUMNS = [*RUN_KEYS, *OKR_ATTAINMENT_COLUMNS]
_OKR_TYPES = {"target": "float64", "value": "float64", "met": bool, "weight": "float64"}
OKR_DTYPES = {c: _OKR_TYPES.get(c, object) for c in OKR_ATTAINMENT_COLUMNS}
DEFAULT_CHUNK_SIZE = 100


@dataclass(frozen=True)
class RunOutcome:
    """Everything one run produced.

    series: monthly series per product (see :data:`models.simulation.model.SERIES_COLUMNS`);
    delivery: one row per funded item with planned and actual months;
    okrs: one row per key result of the plan the model can judge
        (:meth:`~models.simulation.model.PortfolioMarketModel.okr_attainment`): its target, the
        value the run reached by its deadline month and whether it met the target;
    sampled: the uncertainty values drawn for this run; parameters: every parameter's value.
    """

    series: pd.DataFrame
    delivery: pd.DataFrame
    okrs: pd.DataFrame
    sampled: dict[str, float]
    parameters: dict[str, float | int | None]
    seed: int


def simulate(plan: SimulationPlan, scenario: Scenario | None, seed: int) -> RunOutcome:
    """Run ``plan`` once under ``scenario`` with ``seed``: series, delivery, OKR attainment
    and the sampled values."""
    model = PortfolioMarketModel(plan, scenario, seed=seed)
    model.run_model()
    return RunOutcome(
        series=model.series(),
        delivery=model.delivery(),
        okrs=model.okr_attainment(),
        sampled=dict(model.sampled),
        parameters=model.parameters.model_dump(),
        seed=seed,
    )


def run(plan: SimulationPlan, scenario: Scenario | None, seed: int) -> pd.DataFrame:
    """Monthly series of one run, one row per (month, product): month, product, mau,
    paying_customers, mrr (EUR/month), churn_rate (monthly), nps_proxy, delivered_items
    (this product's, so far), competitor_parity (0..1), conversion_rate, arpu (EUR/month),
    market_potential (people), cost_savings (EUR/month). Same arguments, same table."""
    return simulate(plan, scenario, seed).series


def okr_met_share(okrs: pd.DataFrame) -> float:
    """Share of the key results met, weighted by their weight (unweighted if the weights sum
    to 0); NaN without key results."""
    if okrs is None or not len(okrs):
        return float("nan")
    return _met_share(okrs["met"].to_numpy(dtype=bool), okrs["weight"].to_numpy(dtype=float))


def _met_share(met: np.ndarray, weight: np.ndarray) -> float:
    """:func:`okr_met_share` of the key results' met flags and weights (NaN if there are none)."""
    if not len(met):
        return float("nan")
    total = float(np.nansum(weight))
    if total > 0:
        return float(np.nansum(weight * met) / total)
    return float(met.mean())


def summarise_run(series: pd.DataFrame, plan: SimulationPlan, outcome: RunOutcome | pd.DataFrame) -> dict:
    """The outcome of one run in numbers.

    npv_eur: present value of MRR plus cost savings over the simulated months (EUR; team
        costs are the same for every plan on the same teams and are left out);
    final_mrr: total MRR in the last month (EUR/month);
    on_time_share: share of the items planned to finish within the horizon that were
        delivered by their planned finish month (NaN without such items);
    mean_slip_months: their mean lateness max(0, delivered - planned finish), counting an
        item still open at the horizon H as delivered in H + 1 (a lower bound);
    delivered_share: share of all funded items delivered within the horizon (NaN if none);
    okr_met_share: share of the plan's judged key results met by their deadline month (else
        the horizon), weighted by their weight (see :func:`okr_met_share`; NaN without key
        results or when ``outcome`` is only a delivery table).
    ``outcome`` is the run's :class:`RunOutcome` or its delivery table.
    """
    if isinstance(outcome, RunOutcome):
        delivery, okr = outcome.delivery, okr_met_share(outcome.okrs)
    else:
        delivery, okr = outcome, float("nan")
    month = series["month"].to_numpy(dtype=np.int64)
    months = np.unique(month)  # months with rows (all of 1..H in a model run)
    mrr = series["mrr"].to_numpy(dtype=float)
    cash = mrr + series["cost_savings"].to_numpy(dtype=float)
    width = int(month.max()) + 1 if len(month) else 1
    return _summary(
        months,
        np.bincount(month, weights=mrr, minlength=width)[months],
        np.bincount(month, weights=cash, minlength=width)[months],
        plan.discount_rate,
        delivery["planned_finish_month"].to_numpy(dtype=float),
        delivery["delivered_month"].to_numpy(dtype=float, na_value=np.nan),
        okr,
    )


def _summary(
    months: np.ndarray,
    mrr: np.ndarray,
    cash: np.ndarray,
    discount_rate: float,
    planned: np.ndarray,
    delivered: np.ndarray,
    okr: float,
) -> dict:
    """:func:`summarise_run` from arrays: per month (ascending) total MRR and cash (MRR plus cost
    savings); per item planned finish and delivered month (NaN: not delivered)."""
    if len(months):
        horizon = int(months[-1])
        rate = (1.0 + discount_rate) ** (1.0 / 12.0) - 1.0
        npv = float((cash * (1.0 + rate) ** -months.astype(float)).sum())
        final_mrr = float(mrr[-1])
    else:
        horizon, npv, final_mrr = 0, 0.0, 0.0
    due = planned <= horizon
    if due.any():
        actual = np.where(np.isnan(delivered[due]), horizon + 1.0, delivered[due])
        on_time = float((actual <= planned[due]).mean())
        slip = float(np.maximum(actual - planned[due], 0.0).mean())
    else:
        on_time = slip = float("nan")
    return {
        "npv_eur": npv,
        "final_mrr": final_mrr,
        "on_time_share": on_time,
        "mean_slip_months": slip,
        "delivered_share": float((~np.isnan(delivered)).mean()) if len(delivered) else float("nan"),
        "okr_met_share": okr,
    }


def replication_seed(root_seed: int, scenario: Scenario, replication: int) -> int:
    """Seed of one replication of a scenario (the same for every plan), 0 <= seed < 2**63."""
    ss = np.random.SeedSequence(root_seed, spawn_key=(scenario.seed, name_key(scenario.name), replication))
    return int(ss.generate_state(1, dtype=np.uint64)[0] >> np.uint64(1))


# ---------------------------------------------------------------------------------------
# Chunks: the unit of work sent to a worker
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Chunk:
    """One plan, one scenario and some of its replications with their seeds: what one
    worker runs at once (the plan is pickled once per chunk).

    futures: one scenario per replication, run in place of ``scenario`` (whose name
    ``scenario_name`` is then replaced in the tables by each future's own name)."""

    index: int
    plan: SimulationPlan
    scenario_name: str
    scenario: Scenario
    replications: tuple[int, ...]
    seeds: tuple[int, ...]
    keep_series: bool = True
    futures: tuple[Scenario, ...] | None = None

    def runs(self) -> Iterator[tuple[str, Scenario, int, int]]:
        """(scenario name, scenario, replication, seed) of each run of the chunk, in order."""
        scenarios = self.futures if self.futures is not None else [self.scenario] * len(self.replications)
        for sc, replication, seed in zip(scenarios, self.replications, self.seeds, strict=True):
            yield (sc.name if self.futures is not None else self.scenario_name), sc, replication, seed


@dataclass(frozen=True)
class ChunkResult:
    """The tables of one chunk: runs (``RUNS_COLUMNS``), series (``SERIES_RUN_COLUMNS``) and
    per-run key results (``OKR_RUN_COLUMNS``), in replication order."""

    index: int
    runs: pd.DataFrame
    series: pd.DataFrame
    okrs: pd.DataFrame


def make_chunks(
    plans: Sequence[SimulationPlan],
    scenarios: Mapping[str, Scenario],
    replications: int | None = None,
    seed: int = 0,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    keep_series: bool = True,
    resolved: Mapping[str, Mapping[str, Scenario]] | None = None,
) -> list[Chunk]:
    """Every (plan, scenario) cut into chunks of at most ``chunk_size`` replications, plans
    outermost, then scenarios, then replications (the row order of the tables).
    ``replications`` overrides each scenario's own number. ``resolved``: per plan name and
    scenario name, the scenario with its roles resolved (:func:`resolve_scenarios`) that the
    chunks run (seeds come from the scenario as written: the same either way)."""
    if chunk_size < 1:
        raise ModelError(f"chunk_size must be at least 1, got {chunk_size}. Fix: pass a positive chunk size.")
    chunks: list[Chunk] = []
    for plan in plans:
        for name, sc in scenarios.items():
            n = replications if replications is not None else sc.replications
            seeds = [replication_seed(seed, sc, r) for r in range(n)]
            for lo in range(0, n, chunk_size):
                hi = min(lo + chunk_size, n)
                runs = resolved[plan.name][name] if resolved is not None else sc
                chunks.append(
                    Chunk(len(chunks), plan, name, runs, tuple(range(lo, hi)), tuple(seeds[lo:hi]), keep_series)
                )
    return chunks


def run_chunk(chunk: Chunk) -> ChunkResult:
    """Run every replication of a chunk and return its tables (runs, series, key results).

    The same numbers as :func:`simulate` + :func:`summarise_run` per run, with the series read
    from each model's collector as arrays and made into one table per chunk (a table per run
    costs more than the run's summary)."""
    plan = chunk.plan
    planned = plan.arrays.planned_finish
    rows, okrs, blocks, products, names = [], [], [], None, []
    for name, scenario, replication, seed in chunk.runs():
        names.append(name)
        model = PortfolioMarketModel(plan, scenario, seed=seed)
        model.run_model()
        collector = model.datacollector
        mrr, savings = collector.column("mrr"), collector.column("cost_savings")  # months x products
        month = np.arange(1, mrr.shape[0] + 1)
        okr = model.okr_columns()
        delivered = model.book.delivered_month[model.book.offset :]  # the plan's items, NaN: not delivered
        row = {
            "plan": plan.name,
            "scenario": name,
            "replication": replication,
            "seed": seed,
            **_summary(
                month,
                mrr.sum(axis=1),
                mrr.sum(axis=1) + savings.sum(axis=1),
                plan.discount_rate,
                planned,
                delivered,
                _met_share(np.array(okr["met"], dtype=bool), np.array(okr["weight"], dtype=float)),
            ),
        }
        params = model.parameters.model_dump()
        row.update({p: _as_float(params.get(p)) for p in PARAMETER_NAMES})
        rows.append(row)
        okrs.append(okr)
        if chunk.keep_series:
            products = collector.products
            blocks.append(collector.agent[: collector.months_collected])  # months x products x VALUE_SERIES
    series = (
        _series_frame(blocks, products, plan.name, names, chunk.replications)
        if chunk.keep_series
        else pd.DataFrame(columns=SERIES_RUN_COLUMNS)
    )
    return ChunkResult(chunk.index, _runs_frame(rows), series, _with_keys(okrs, plan.name, names, chunk.replications))


def _series_frame(
    blocks: list[np.ndarray],
    products: list[str] | None,
    plan: str,
    scenarios: Sequence[str],
    replications: Sequence[int],
) -> pd.DataFrame:
    """One table from the runs' (months x products x series) arrays, rows as in
    :meth:`PortfolioMarketModel.series` (month, then product) with the run's keys in front
    (``scenarios``: each run's scenario name)."""
    if not blocks:
        return pd.DataFrame(columns=SERIES_RUN_COLUMNS)
    n = len(blocks)
    return series_frame(
        blocks,
        products,
        {
            "plan": np.full(n, plan, dtype=object),
            "scenario": _objects(scenarios),
            "replication": np.asarray(replications, dtype=np.int64),
        },
    )


def _objects(values: Sequence[str]) -> np.ndarray:
    out = np.empty(len(values), dtype=object)
    out[:] = list(values)
    return out


def _runs_frame(rows: list[dict]) -> pd.DataFrame:
    runs = pd.DataFrame(rows, columns=RUNS_COLUMNS)
    return runs.astype(
        {
            "plan": object,
            "scenario": object,
            "replication": "int64",
            "seed": "int64",
            **dict.fromkeys((*SUMMARY_FIELDS, *PARAMETER_NAMES), "float64"),
        }
    )


def _with_keys(
    runs: list[dict[str, list]], plan: str, scenarios: Sequence[str], replications: Sequence[int]
) -> pd.DataFrame:
    """Stack the key results of one chunk's runs (:meth:`PortfolioMarketModel.okr_columns`, by
    column) with plan, scenario (``scenarios``: each run's) and replication in front, in the
    dtypes of ``OKR_DTYPES``."""
    lengths = np.array([len(r["key_result"]) for r in runs], dtype=np.int64)
    cols: dict[str, Any] = {
        "plan": np.full(int(lengths.sum()), plan, dtype=object),
        "scenario": np.repeat(_objects(scenarios), lengths),
        "replication": np.repeat(np.asarray(replications, dtype=np.int64), lengths),
    }
    for c in OKR_ATTAINMENT_COLUMNS:
        values = [v for r in runs for v in r[c]]
        if OKR_DTYPES[c] is object:
            cols[c] = np.empty(len(values), dtype=object)
            cols[c][:] = values
        else:
            cols[c] = np.array(values, dtype=OKR_DTYPES[c])
    return pd.DataFrame(cols, copy=False)


# ---------------------------------------------------------------------------------------
# The stress test
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StressTest:
    """Plans x scenarios x replications: the tables and how they were computed.

    runs: one row per plan, scenario and replication (``RUNS_COLUMNS``): its seed, the
        :func:`summarise_run` fields and every model parameter's value in that run;
    series: the monthly series of every run (``SERIES_RUN_COLUMNS``; empty if not kept);
    okrs: one row per run and key result (``OKR_RUN_COLUMNS``);
    run_info: one row: backend (serial, processes, dask), workers, chunks, runs, plans,
        scenarios, replications (per scenario, or the override), root_seed, min_seed,
        max_seed, wall_s, resolved (what each role of the scenarios meant on this company, as
        :func:`~models.simulation.roles.resolution_text`: ``market_shift: shock 1 from_product
        {largest: mrr} -> IoT Platform; ...``);
    resolutions: one row per scenario, shock and key named by role (``RESOLUTION_COLUMNS`` and
        ``plans``: the plans it was resolved for).
    """

    runs: pd.DataFrame
    series: pd.DataFrame
    okrs: pd.DataFrame
    run_info: pd.DataFrame = field(repr=False)
    resolutions: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=[*RESOLUTION_COLUMNS, "plans"]))

    @property
    def info(self) -> dict[str, Any]:
        """The run-info row as a dict."""
        return self.run_info.iloc[0].to_dict()


def stress_test(
    plans: Sequence[SimulationPlan],
    scenarios: Mapping[str, Scenario],
    replications: int | None = None,
    seed: int = 0,
    *,
    workers: int | None = None,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    dask_address: str = "",
    client: Client | None = None,
    progress: bool | None = None,
    keep_series: bool = True,
) -> StressTest:
    """Run every plan through every scenario, ``replications`` times (default: each
    scenario's own ``replications``), with seeds derived from the root ``seed``.

    workers: local processes (default: every core, at most one per chunk); 1 runs serially
        in this process. chunk_size: replications per chunk.
    dask_address (``tcp://host:port``) or client (a ``distributed.Client``): send the same
        chunks to that Dask cluster instead (its workers need this package installed).
    progress: show a progress bar on stderr (default: only when stderr is a terminal).
    keep_series: keep the monthly series of every run (the largest table).
    The tables do not depend on workers, chunk_size or the backend.
    """
    _check_arguments(plans, workers)
    started = time.perf_counter()
    # roles resolved and scenario problems named here, before any work is sent out
    resolved, resolutions = resolve_scenarios(plans, scenarios)
    chunks = make_chunks(plans, scenarios, replications, seed, chunk_size, keep_series, resolved)
    return _stress_test_of(
        chunks,
        plans,
        len(scenarios),
        replications
        if replications is not None
        else ", ".join(f"{k}: {sc.replications}" for k, sc in scenarios.items()),
        seed,
        started,
        resolutions,
        workers=workers,
        dask_address=dask_address,
        client=client,
        progress=progress,
    )


def _check_arguments(plans: Sequence[SimulationPlan], workers: int | None) -> None:
    names = [p.name for p in plans]
    if len(set(names)) != len(names):
        raise ModelError(f"plan names must differ, got {names}. Fix: name each plan.")
    if workers is not None and workers < 1:
        raise ModelError(f"workers must be at least 1, got {workers}. Fix: pass workers >= 1 or leave it out.")


def _stress_test_of(
    chunks: list[Chunk],
    plans: Sequence[SimulationPlan],
    scenarios: int,
    replications: int | str,
    seed: int,
    started: float,
    resolutions: pd.DataFrame,
    *,
    workers: int | None,
    dask_address: str,
    client: Client | None,
    progress: bool | None,
) -> StressTest:
    """Run ``chunks`` (serially, on local processes or on Dask) and gather their tables with the
    run-info row (``scenarios``: how many; ``replications``: per scenario, as recorded)."""
    total = sum(len(c.replications) for c in chunks)
    results: list[ChunkResult | None] = [None] * len(chunks)
    with contextlib.ExitStack() as stack:
        dask = stack.enter_context(_dask_client(dask_address, client))
        if dask is not None:
            backend, n_workers = "dask", len(dask.scheduler_info().get("workers", {}))
            completed = _on_dask(dask, chunks)
        else:
            n_workers = min(workers or _cores(), max(len(chunks), 1))
            backend = "serial" if n_workers == 1 else "processes"
            if n_workers == 1:
                completed = map(run_chunk, chunks)
            else:  # the workers start here, before the progress bar's thread (see _pool_context)
                pool = stack.enter_context(_process_pool(n_workers))
                completed = _as_completed([pool.submit(run_chunk, c) for c in chunks])
        advance = stack.enter_context(_progress_bar(progress, total))
        for result in completed:
            results[result.index] = result
            advance(len(result.runs))
    runs = _concat([r.runs for r in results], RUNS_COLUMNS)
    series = _concat([r.series for r in results], SERIES_RUN_COLUMNS)
    okrs = _concat([r.okrs for r in results], OKR_RUN_COLUMNS).astype(OKR_DTYPES)
    seeds = runs["seed"]
    run_info = pd.DataFrame(
        [
            {
                "backend": backend,
                "workers": int(n_workers),
                "chunks": len(chunks),
                "runs": len(runs),
                "plans": len(plans),
                "scenarios": scenarios,
                "replications": replications,
                "root_seed": int(seed),
                "min_seed": int(seeds.min()) if len(seeds) else None,
                "max_seed": int(seeds.max()) if len(seeds) else None,
                "wall_s": round(time.perf_counter() - started, 3),
                "resolved": resolution_text(resolutions),
            }
        ]
    )
    return StressTest(runs=runs, series=series, okrs=okrs, run_info=run_info, resolutions=resolutions)


def run_futures(
    plans: Sequence[SimulationPlan],
    futures: Sequence[Scenario],
    seed: int = 0,
    *,
    workers: int | None = None,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    dask_address: str = "",
    client: Client | None = None,
    progress: bool | None = None,
    keep_series: bool = False,
) -> StressTest:
    """Run every plan once in every future: each future is a scenario of one run (its first
    replication, seed :func:`replication_seed` of ``seed``, the future and 0 - the same for
    every plan: common random numbers), ``chunk_size`` futures per chunk and plan, on the
    back-ends of :func:`stress_test` (same options) and in its tables (``scenario``: the
    future's name, ``replication`` 0; run-info ``scenarios``: the number of futures).

    Roles are resolved once per plan and distinct shock apart from its size (a role does not
    depend on how large a shock is), so many futures drawn from a few shock templates cost a
    few resolutions; ``resolutions`` records each resolved shock once (scenario ``futures``).
    """
    _check_arguments(plans, workers)
    if chunk_size < 1:
        raise ModelError(f"chunk_size must be at least 1, got {chunk_size}. Fix: pass a positive chunk size.")
    names = [f.name for f in futures]
    if len(set(names)) != len(names):
        raise ModelError("future names must differ. Fix: name each future (e.g. future_0, future_1, ...).")
    started = time.perf_counter()
    seeds = [replication_seed(seed, f, 0) for f in futures]
    chunks: list[Chunk] = []
    tables: list[pd.DataFrame] = []
    for plan in plans:
        cache: dict[str, tuple[Any, pd.DataFrame]] = {}
        resolved = [_resolve_future(f, plan, cache) for f in futures]
        tables += [t.assign(plan=plan.name) for _, t in cache.values() if len(t)]
        for lo in range(0, len(futures), chunk_size):
            part = tuple(resolved[lo : lo + chunk_size])
            chunks.append(
                Chunk(
                    len(chunks),
                    plan,
                    part[0].name,
                    part[0],
                    (0,) * len(part),
                    tuple(seeds[lo : lo + chunk_size]),
                    keep_series,
                    futures=part,
                )
            )
    return _stress_test_of(
        chunks,
        plans,
        len(futures),
        1,
        seed,
        started,
        _resolution_record(tables),
        workers=workers,
        dask_address=dask_address,
        client=client,
        progress=progress,
    )


def _resolve_future(future: Scenario, plan: SimulationPlan, cache: dict[str, tuple[Any, pd.DataFrame]]) -> Scenario:
    """``future`` with the roles of its shocks resolved for ``plan``: each shock resolved once per
    shape (:func:`_shock_shape`) into ``cache`` (shape -> resolved shape, None if skipped, and its
    record), then given back its own size."""
    if not future.shocks:
        return future
    shocks = []
    for i, shock in enumerate(future.shocks):
        key, shape, size = _shock_shape(shock)
        if key not in cache:
            r = resolve_for_plan(future.model_copy(update={"name": "futures", "shocks": [shape]}), plan)
            cache[key] = (r.scenario.shocks[0] if r.scenario.shocks else None, r.table.assign(shock=i + 1))
        resolved = cache[key][0]
        if resolved is not None:
            shocks.append(resolved.model_copy(update=_with_size(resolved, size)))
    return future.model_copy(update={"shocks": shocks})


def _shock_shape(shock) -> tuple[str, Any, float | None]:
    """(key, shape, size) of a shock: its shape is the shock with size 1 - for a regulation its
    effort divided by the total person-weeks, the size - and the key is the shape as JSON. Roles
    do not depend on the size, so shocks of one shape resolve alike."""
    if isinstance(shock, RegulatoryMustHave):
        size = sum(shock.effort.values()) if isinstance(shock.effort, dict) else sum(e.pw for e in shock.effort)
        shape = shock.model_copy(update=_with_size(shock, 1.0 / size))
    elif "size" in type(shock).model_fields:
        size, shape = shock.size, shock.model_copy(update={"size": 1.0})
    else:
        size, shape = None, shock
    return json.dumps(_rounded(shape.model_dump(mode="json")), sort_keys=True), shape, size


def _with_size(shock, size: float | None) -> dict:
    """The update that gives a shape ``size`` (a regulation: its effort times ``size``)."""
    if size is None:
        return {}
    if isinstance(shock, RegulatoryMustHave):
        if isinstance(shock.effort, dict):
            return {"effort": {k: pw * size for k, pw in shock.effort.items()}}
        return {"effort": [e.model_copy(update={"pw": e.pw * size}) for e in shock.effort]}
    return {"size": size}


def _rounded(value):
    """Floats in nested JSON data rounded to 12 significant digits (for keys)."""
    if isinstance(value, float):
        return float(f"{value:.12g}")
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_rounded(v) for v in value]
    return value


def resolve_scenarios(
    plans: Sequence[SimulationPlan], scenarios: Mapping[str, Scenario]
) -> tuple[dict[str, dict[str, Scenario]], pd.DataFrame]:
    """Every scenario with its roles resolved for every plan (:func:`~models.simulation.roles.resolve_for_plan`):
    (plan name -> scenario name -> scenario, the record of the roles). The record has one row per
    scenario, shock and key (``RESOLUTION_COLUMNS``) and ``plans``, the plans it holds for: plans
    built from the same company resolve alike. Raises ScenarioError naming every problem."""
    resolved: dict[str, dict[str, Scenario]] = {}
    tables = []
    for plan in plans:
        resolved[plan.name] = {}
        for name, sc in scenarios.items():
            r = resolve_for_plan(sc, plan)
            resolved[plan.name][name] = r.scenario
            tables.append(r.table.assign(scenario=name, plan=plan.name))
    return resolved, _resolution_record(tables)


def _resolution_record(tables: list[pd.DataFrame]) -> pd.DataFrame:
    """Resolution tables with a ``plan`` column as one record: each row once, with ``plans``,
    the plans it holds for."""
    tables = [t for t in tables if len(t)]
    if not tables:
        return pd.DataFrame(columns=[*RESOLUTION_COLUMNS, "plans"])
    table = pd.concat(tables, ignore_index=True)
    return (
        table.groupby(RESOLUTION_COLUMNS, sort=False)["plan"]
        .agg(lambda p: ", ".join(dict.fromkeys(p)))
        .rename("plans")
        .reset_index()
    )


def run_replications(
    plans: Sequence[SimulationPlan],
    scenarios: Mapping[str, Scenario],
    replications: int | None = None,
    seed: int = 0,
    **options,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(runs, series) of :func:`stress_test` with the same arguments (``options``: workers,
    chunk_size, dask_address, client, progress)."""
    result = stress_test(plans, scenarios, replications, seed, **options)
    return result.runs, result.series


def _concat(frames: list[pd.DataFrame], columns: list[str]) -> pd.DataFrame:
    frames = [f for f in frames if len(f)]
    if not frames:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})
    return pd.concat(frames, ignore_index=True)[columns]


def _cores() -> int:
    """Cores this process may run on (its CPU affinity where the platform says)."""
    if hasattr(os, "sched_getaffinity"):
        return max(len(os.sched_getaffinity(0)), 1)
    return os.cpu_count() or 1


def _os_threads() -> int:
    """Threads of this process as the operating system counts them (Python's own, and those of native
    libraries such as OpenBLAS's pool); Python's count where the platform does not say."""
    try:
        return len(os.listdir("/proc/self/task"))
    except OSError:
        return threading.active_count()


def _pool_context() -> multiprocessing.context.BaseContext:
    """fork while this process has a single thread (fast, nothing to re-import); forkserver
    otherwise, since forking a process with other threads can deadlock the child. Native threads count
    too: numpy's OpenBLAS starts a pool of its own unless OPENBLAS_NUM_THREADS=1, which the command line
    and the test suite set before numpy loads (the simulation's arrays are too small to gain from it)."""
    if _os_threads() == 1 and "fork" in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("fork")
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload([__name__])
    return ctx


@contextlib.contextmanager
def _process_pool(workers: int) -> Iterator[ProcessPoolExecutor]:
    """A process pool that cancels the chunks not yet started when the stress test fails."""
    pool = ProcessPoolExecutor(workers, mp_context=_pool_context())
    try:
        yield pool
    except BaseException:
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown()


def _as_completed(futures: list) -> Iterator[ChunkResult]:
    pending = set(futures)
    while pending:
        finished, pending = wait(pending, return_when=FIRST_COMPLETED)
        for future in finished:
            yield future.result()


def _on_dask(client: Client, chunks: list[Chunk]) -> Iterator[ChunkResult]:
    from distributed import as_completed

    futures = client.map(run_chunk, chunks, pure=False)
    try:
        for future in as_completed(futures):
            yield future.result()
    except BaseException:
        client.cancel(futures)
        raise


@contextlib.contextmanager
def _dask_client(address: str, client: Client | None) -> Iterator[Client | None]:
    if client is not None or not address:
        yield client
        return
    from distributed import Client

    with Client(address) as own:
        yield own


@contextlib.contextmanager
def _progress_bar(show: bool | None, total: int) -> Iterator[Callable[[int], None]]:
    """``advance(n)`` for a rich progress bar on stderr, or a no-op when not shown."""
    if show is None:
        show = sys.stderr.isatty()
    if not show or total == 0:
        yield lambda n: None
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    with Progress(
        TextColumn("stress test"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("runs"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        transient=True,
    ) as bar:
        task = bar.add_task("runs", total=total)
        yield lambda n: bar.advance(task, n)


# ---------------------------------------------------------------------------------------
# Plans and summaries
# ---------------------------------------------------------------------------------------


def candidate_plans(
    decisions: Mapping[str, pd.DataFrame],
    backlog: pd.DataFrame,
    teams: pd.DataFrame,
    kpi_history: pd.DataFrame,
    settings: Settings,
    okrs: pd.DataFrame | None = None,
    names: Sequence[str] | None = None,
) -> list[SimulationPlan]:
    """Simulation plans from decisions tables by name (e.g. ``recommended`` and the greedy
    baselines, :data:`PLAN_NAMES`), in the order of ``decisions``; ``names`` keeps only those
    (names without decisions are an error listing the plans there are)."""
    if names:
        unknown = [n for n in names if n not in decisions]
        if unknown:
            fix = (
                "compute their decisions first (greedy baselines: models.portfolio.baselines; the current plan: "
                "a roadmap.csv in the workspace)"
                if all(n in PLAN_NAMES for n in unknown)
                else "name plans from that list"
            )
            raise ModelError(f"unknown plans {', '.join(unknown)}: the plans are {', '.join(decisions)}. Fix: {fix}.")
    keep = [n for n in decisions if not names or n in names]
    baselines = kpi_baselines(kpi_history) if keep else None  # the company's, the same for every plan
    return [
        build_plan(n, decisions[n], backlog, teams, kpi_history, settings, okrs=okrs, baselines=baselines) for n in keep
    ]


def select_scenarios(scenarios: Mapping[str, Scenario], names: Sequence[str] | None = None) -> dict[str, Scenario]:
    """The scenarios named in ``names`` (all if none), in the library's order; an unknown
    name is an error listing the known ones."""
    if names:
        unknown = [n for n in names if n not in scenarios]
        if unknown:
            raise ModelError(
                f"unknown scenarios {', '.join(unknown)}: the library has {', '.join(scenarios)}. "
                "Fix: name scenarios from that list (file names in scenarios/ without .yaml)."
            )
    return {k: v for k, v in scenarios.items() if not names or k in names}


def _quantiles(g, column: str, prefix: str) -> pd.DataFrame:
    q = g[column].quantile([0.1, 0.5, 0.9]).unstack()
    q.columns = [f"{prefix}_p{round(c * 100)}" for c in q.columns]
    return q


def summarise_runs(runs: pd.DataFrame) -> pd.DataFrame:
    """Per plan and scenario: runs; npv mean/p10/p50/p90 (``npv_mean``, ``npv_p10``, ...); the NPV
    increment over the status quo in the same replication, mean/p10/p50/p90 (``npv_increment_mean``,
    ..., NaN when the status quo was not run, :func:`with_increments`); final_mrr mean/p10/p50/p90;
    on_time_share_mean, mean_slip_months_mean, delivered_share_mean and okr_met_share_mean (NaN
    shares, e.g. of an empty plan, are left out of the means). Rows in the order the pairs first appear in ``runs``."""
    keys = ["plan", "scenario"]
    runs = with_increments(runs)
    g = runs.groupby(keys, sort=False)
    out = pd.concat(
        [
            g.size().rename("runs"),
            g["npv_eur"].mean().rename("npv_mean"),
            _quantiles(g, "npv_eur", "npv"),
            g["npv_increment_eur"].mean().rename("npv_increment_mean"),
            _quantiles(g, "npv_increment_eur", "npv_increment"),
            g["final_mrr"].mean().rename("final_mrr_mean"),
            _quantiles(g, "final_mrr", "final_mrr"),
            g[["on_time_share", "mean_slip_months", "delivered_share", "okr_met_share"]].mean().add_suffix("_mean"),
        ],
        axis=1,
    )
    return out.reset_index()


def with_increments(runs: pd.DataFrame, reference: str = STATUS_QUO_PLAN) -> pd.DataFrame:
    """``runs`` with ``npv_increment_eur``: each run's NPV minus the NPV of the ``reference`` plan
    (the status quo) in the same scenario and replication - the same market draws, the same seed
    (common random numbers), so the difference is what the plan's items add. NaN where the
    reference plan was not run."""
    out = runs.copy()
    if "replication" not in out or reference not in set(out["plan"]):
        out["npv_increment_eur"] = np.nan
        return out
    ref = out.loc[out["plan"] == reference, ["scenario", "replication", "npv_eur"]].drop_duplicates(
        ["scenario", "replication"]
    )
    ref = ref.set_index(["scenario", "replication"])["npv_eur"]
    idx = pd.MultiIndex.from_frame(out[["scenario", "replication"]])
    out["npv_increment_eur"] = out["npv_eur"].to_numpy(dtype=float) - ref.reindex(idx).to_numpy(dtype=float)
    return out


def compare_plans(summary: pd.DataFrame) -> pd.DataFrame:
    """Each plan across the whole scenario library, from :func:`summarise_runs`: scenarios,
    npv_p50_median (median over scenarios of the NPV P50), npv_increment_p50_median (the same of the
    increment over the status quo; NaN without it), worst_npv_p10 and worst_scenario
    (the scenario with the lowest NPV P10), on_time_share and okr_met_share (means over
    scenarios). Plans in the order they first appear."""
    if "npv_increment_p50" not in summary:
        summary = summary.assign(npv_increment_p50=np.nan)
    g = summary.groupby("plan", sort=False)
    worst = summary.loc[g["npv_p10"].idxmin(), ["plan", "npv_p10", "scenario"]].set_index("plan")
    out = pd.concat(
        [
            g.size().rename("scenarios"),
            g["npv_p50"].median().rename("npv_p50_median"),
            g["npv_increment_p50"].median().rename("npv_increment_p50_median"),
            worst["npv_p10"].rename("worst_npv_p10"),
            worst["scenario"].rename("worst_scenario"),
            g["on_time_share_mean"].mean().rename("on_time_share"),
            g["okr_met_share_mean"].mean().rename("okr_met_share"),
        ],
        axis=1,
    )
    return out.reset_index()


def okr_chances(okrs: pd.DataFrame) -> pd.DataFrame:
    """Per plan, scenario and key result: objective, metric, product, target, weight, runs,
    chance_met (share of runs that met the target) and the value reached (value_p10,
    value_p50, value_p90 across runs)."""
    keys = ["plan", "scenario", "key_result"]
    columns = [
        *keys,
        "objective",
        "metric",
        "product",
        "target",
        "weight",
        "runs",
        "chance_met",
        "value_p10",
        "value_p50",
        "value_p90",
    ]
    if okrs.empty:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})
    g = okrs.groupby(keys, sort=False)
    out = pd.concat(
        [
            g[["objective", "metric", "product", "target", "weight"]].first(),
            g.size().rename("runs"),
            g["met"].mean().rename("chance_met"),
            _quantiles(g, "value", "value"),
        ],
        axis=1,
    )
    return out.reset_index()[columns]


def series_bands(
    series: pd.DataFrame,
    metrics: tuple[str, ...] = ("mrr", "mau", "paying_customers"),
    quantiles: tuple[float, ...] = (0.1, 0.5, 0.9),
) -> pd.DataFrame:
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
