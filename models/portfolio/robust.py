"""The plan optimised to hold up: the portfolio MILP over sampled futures of the items' values.

The deterministic model maximises each item's *expected* value. Here every future s (a sample
average approximation, SAA; Kleywegt, Shapiro & Homem-de-Mello, SIAM J. Optim. 12, 2002) gives
each item its own value: its estimate realised R_{i,s} times (the factor of
:mod:`models.realisation`, drawn with :func:`~models.realisation.draws_for` from the item id, so
an item has the same factor in every plan of a future) and its product's market factor M_{p,s}
(lognormal with mean 1 and log-sd ``sigma_p``: by default the spread of the product's 12-month
log MRR growth in the KPI history, :func:`market_sigmas`). A plan's value in a future is the
plan value of :class:`~models.portfolio.inputs.PortfolioInput` with those values (replacements
included) and the same risk and cost terms as the deterministic objective.

Objectives (``settings.robust.objective``), each with every rule of the deterministic model
(the model is :func:`~models.portfolio.build.build_model`'s; only the objective changes):

* ``expected``: the mean of V_s over the futures;
* ``cvar``: the conditional value at risk at level alpha, the mean of the worst alpha share of the
  futures, linearised as Rockafellar & Uryasev (J. Risk 2, 2000): maximise
  eta - 1/(alpha S) sum_s u_s with u_s >= eta - V_s, u_s >= 0 (eta free); with ``cvar_weight`` w < 1
  the mean-risk blend w CVaR + (1 - w) mean (a CVaR alone over a few dozen futures fits their noise:
  on the demo's held-out futures it lost mean and P10 alike, benchmarks/robust.py);
* ``maxmin``: the worst future, maximise w with w <= V_s for every s.

Plans are then compared on *held-out* futures (another seed), not the ones they were optimised on
(:func:`compare_on_futures`): mean, P10, CVaR and worst value; the price of robustness is the mean
value the robust plan gives up against the recommended one, its gain the P10 it adds. Items in
the optimal plan of every objective in ``settings.robust.good_plans`` are *core*, in none
*exterior*, in some *borderline* (:func:`classify_items`), in the spirit of Robust Portfolio
Modeling (Liesiö, Mild & Salo, EJOR 181, 2007).

Money in EUR (the model works in thousands, :data:`~models.portfolio.build.MONEY_SCALE`).
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pulp

from models.errors import ModelError
from models.names import ROBUST_PLAN
from models.portfolio.build import MONEY_SCALE, PortfolioModel, _expr, build_model
from models.portfolio.explain import plan_starts
from models.portfolio.inputs import PortfolioInput, prepare_input
from models.portfolio.results import PortfolioResult, results
from models.portfolio.roadmap import eur_text
from models.portfolio.solve import SolveStats, solve
from models.realisation import draws_for, stated_confidence
from models.settings import Settings
from models.valuation import KPI_TO_MRR, _realised, benefit_matrix, clean_kpi_history, monthly_discount_factors

OBJECTIVES = ("expected", "cvar", "maxmin")
MARKET_KPIS = (*KPI_TO_MRR, "churn_rate")  # KPIs whose EUR effect scales with the product's market
COMPARE_COLUMNS = [
    "plan",
    "futures",
    "value_mean",
    "value_p10",
    "value_p50",
    "value_cvar",
    "value_worst",
    "items",
    "cost_eur",
]
CLASS_COLUMNS = ["item_id", "title", "product", "class", "in_plans", "expected_value_eur", "cost_eur"]


# ---------------------------------------------------------------------------------------
# Futures of the items' values
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FutureValues:
    """Per future and allowed start: the item's value (EUR) and what the optimiser counts of it.

    keys: (item_id, start_period) in the order of ``inp.values``; value: futures x keys, the
    discounted benefit in that future; objective: futures x keys, ``objective_eur`` with the
    expected value replaced by the future's; realisation: futures x items (R); market: futures x
    products (M); items and products name the columns; sigma: log-sd of each product's factor;
    seed: the seed the futures were drawn with.
    """

    inp: PortfolioInput
    keys: tuple[tuple[str, int], ...]
    value: np.ndarray
    objective: np.ndarray
    realisation: np.ndarray
    market: np.ndarray
    items: tuple[str, ...]
    products: tuple[str, ...]
    sigma: dict[str, float]
    seed: int

    @property
    def n(self) -> int:
        return int(self.value.shape[0])

    def input_of(self, s: int) -> PortfolioInput:
        """The planning input of future ``s``: ``inp`` with that future's values."""
        values = self.inp.values.assign(value_eur=self.value[s], objective_eur=self.objective[s])
        return dataclasses.replace(self.inp, values=values)

    def plan_values(self, starts: dict[str, int]) -> np.ndarray:
        """A plan's objective value (EUR) in every future, replacements included (no tie-break)."""
        index = {k: j for j, k in enumerate(self.keys)}
        cols = [index[(i, int(t))] for i, t in starts.items()]
        out = self.objective[:, cols].sum(axis=1)
        if any(old in starts and new in starts for old, new in self.inp.replacements):
            out = out - np.array(
                [sum(self.input_of(s).replacement_losses(starts).values()) for s in range(self.n)], dtype=float
            )
        return out


def market_sigmas(kpi_history: pd.DataFrame, products: list[str]) -> dict[str, float]:
    """Per product: the sample standard deviation of log(MRR_t / MRR_{t-12}) over the history's months
    (after :func:`~models.valuation.clean_kpi_history`); 0 for a product with fewer than 13 months or
    fewer than two such ratios (no spread on record)."""
    clean, _ = clean_kpi_history(kpi_history)
    out: dict[str, float] = {}
    for p in products:
        mrr = clean.loc[clean["product"].astype(str) == p].sort_values("month")["mrr"].to_numpy(dtype=float)
        if len(mrr) < 13:
            out[p] = 0.0
            continue
        with np.errstate(divide="ignore", invalid="ignore"):
            g = np.log(mrr[12:] / mrr[:-12])
        g = g[np.isfinite(g)]
        out[p] = float(np.std(g, ddof=1)) if len(g) >= 2 else 0.0
    return out


def future_values(
    inp: PortfolioInput,
    backlog: pd.DataFrame,
    cases: pd.DataFrame,
    kpi_history: pd.DataFrame,
    n: int,
    seed: int,
    market_sigma: float | None = None,
) -> FutureValues:
    """``n`` futures of the candidates' values under ``seed`` (see the module docstring).

    ``cases``: the business cases the values came from (:func:`~models.valuation.business_cases`,
    with ``estimated_monthly_effect_eur``); ``market_sigma``: one log-sd for every product (None:
    :func:`market_sigmas` of the history). Exact in the valuation's own terms: each future's values are
    those :func:`~models.valuation.value_by_start` gives the cases realised in that future (computed for
    blocks of futures at once, :func:`_future_value_matrix`)."""
    if n < 1:
        raise ModelError(f"need at least one future, got {n}. Fix: set robust.futures >= 1.")
    settings = inp.settings
    items = [str(i) for i in inp.items.index]
    case = cases.set_index(cases["item_id"].astype(str)).loc[items].reset_index(drop=True)
    rows = backlog.set_index(backlog["item_id"].astype(str)).loc[items].reset_index(drop=True)
    products = sorted(case["product"].astype(str).unique())
    sigma = (
        dict.fromkeys(products, float(market_sigma))
        if market_sigma is not None
        else market_sigmas(kpi_history, products)
    )
    if settings.realisation.enabled:  # futures x items
        r = draws_for(items, stated_confidence(rows).to_numpy(dtype=float), settings.realisation, seed, list(range(n)))
    else:
        r = np.ones((n, len(items)))
    rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence([int(seed), 0x6D61726B])))  # "mark"
    z = rng.standard_normal((n, len(products)))
    s_vec = np.array([sigma[p] for p in products], dtype=float)
    market = np.exp(z * s_vec - s_vec**2 / 2.0)
    keys = list(zip(inp.values["item_id"].astype(str), inp.values["start_period"].astype(int), strict=True))
    value = _future_value_matrix(case, rows, keys, items, products, r, market, settings)
    expected = inp.values["value_eur"].to_numpy(dtype=float)
    objective = inp.values["objective_eur"].to_numpy(dtype=float)[None, :] - expected[None, :] + value
    return FutureValues(
        inp=inp,
        keys=tuple(keys),
        value=value,
        objective=objective,
        realisation=r,
        market=market,
        items=tuple(items),
        products=tuple(products),
        sigma=sigma,
        seed=int(seed),
    )


def _future_value_matrix(
    case: pd.DataFrame,
    rows: pd.DataFrame,
    keys: list[tuple[str, int]],
    items: list[str],
    products: list[str],
    r: np.ndarray,
    market: np.ndarray,
    settings: Settings,
    block: int = 64,
) -> np.ndarray:
    """futures x keys: each start's value as :func:`~models.valuation.value_by_start` computes it, with the
    item's effect realised r times its estimate and scaled by its product's market factor (KPIs that move
    MRR; a cost saving is not), for blocks of ``block`` futures at once."""
    position = {i: k for k, i in enumerate(items)}
    item_of = np.array([position[i] for i, _ in keys], dtype=int)
    start_of = np.array([t for _, t in keys], dtype=int)
    base = case.iloc[item_of].reset_index(drop=True)
    base["differentiation"] = rows["differentiation"].astype(str).to_numpy()[item_of]
    finish = (start_of + base["duration_periods"].to_numpy(dtype=int) - 1) * settings.period_months
    column = {p: k for k, p in enumerate(products)}
    product_of = np.array([column[str(p)] for p in base["product"]], dtype=int)
    moves_market = base["kpi"].astype(str).isin(MARKET_KPIS).to_numpy()
    disc = monthly_discount_factors(settings, settings.value_horizon_months)
    out = np.empty((r.shape[0], len(keys)))
    for lo in range(0, r.shape[0], block):
        hi = min(lo + block, r.shape[0])
        c = hi - lo
        stacked = pd.concat([base] * c, ignore_index=True)
        estimated = stacked.assign(monthly_effect_eur=stacked["estimated_monthly_effect_eur"].to_numpy(dtype=float))
        realised = _realised(stacked, estimated, r[lo:hi][:, item_of].ravel())
        m = np.where(moves_market[None, :], market[lo:hi][:, product_of], 1.0).ravel()
        realised["monthly_effect_eur"] = realised["monthly_effect_eur"].to_numpy(dtype=float) * m
        out[lo:hi] = (benefit_matrix(realised, np.tile(finish, c), settings) @ disc).reshape(c, len(keys))
    return out


def cvar(values: np.ndarray, alpha: float) -> float:
    """The mean of the worst ``alpha`` share of equally likely ``values`` (a fractional share of the
    boundary value counts in part): max_eta eta - E[(eta - V)^+] / alpha, the value the linearised
    model reaches at its optimum."""
    v = np.sort(np.asarray(values, dtype=float))
    k = alpha * len(v)
    whole = math.floor(k + 1e-12)
    total = v[:whole].sum() + (k - whole) * (v[whole] if whole < len(v) else 0.0)
    return float(total / k)


# ---------------------------------------------------------------------------------------
# The robust MILP
# ---------------------------------------------------------------------------------------


@dataclass
class RobustModel:
    """The deterministic model with the robust objective: ``future_value[s]`` is V_s as an expression
    (EUR x MONEY_SCALE); eta and u (CVaR) or w (max-min) are the objective's own variables."""

    model: PortfolioModel
    futures: FutureValues
    objective: str
    alpha: float
    weight: float = 1.0
    future_value: list = dataclasses.field(default_factory=list)
    eta: pulp.LpVariable | None = None
    u: list = dataclasses.field(default_factory=list)
    w: pulp.LpVariable | None = None


def build_robust(
    inp: PortfolioInput, futures: FutureValues, objective: str = "cvar", alpha: float = 0.1, weight: float = 1.0
) -> RobustModel:
    """Every rule of :func:`~models.portfolio.build.build_model` with the robust ``objective`` over
    ``futures`` (see the module docstring); the tie-break of the deterministic model stays."""
    if objective not in OBJECTIVES:
        raise ModelError(f"unknown robust objective '{objective}'. Fix: use one of {', '.join(OBJECTIVES)}.")
    if not 0 < alpha <= 1:
        raise ModelError(f"alpha must lie in (0, 1], got {alpha}. Fix: e.g. 0.1 for the worst tenth of the futures.")
    m = build_model(inp)
    rm = RobustModel(m, futures, objective, float(alpha), float(weight))
    col = {k: j for j, k in enumerate(futures.keys)}
    xs = [(v, col[k]) for k, v in m.x.items()]
    per_future = [futures.input_of(s) for s in range(futures.n)] if m.replacement_keys else []
    losses = []  # per replacement variable: its loss in every future
    for (old, new, s_old, t_new), (z, _) in zip(m.replacement_keys, m.penalties, strict=True):
        losses.append((z, np.array([f.replacement_loss(old, s_old, new, t_new) for f in per_future])))
    for s in range(futures.n):
        terms = [(v, MONEY_SCALE * futures.objective[s, j]) for v, j in xs]
        terms += [(z, -MONEY_SCALE * loss[s]) for z, loss in losses]
        rm.future_value.append(_expr(terms))
    tie = _expr([(v, -MONEY_SCALE * m.tie_break_eur * t) for (_, t), v in m.x.items()])
    n = futures.n
    if objective == "expected":
        mean = _expr([(v, MONEY_SCALE * float(futures.objective[:, j].mean())) for v, j in xs])
        mean += _expr([(z, -MONEY_SCALE * float(loss.mean())) for z, loss in losses])
        m.prob.setObjective(mean + tie)
    elif objective == "cvar":
        rm.eta = m.prob.add_variable("cvar_eta", lowBound=None, upBound=None)
        for s in range(n):
            u = m.prob.add_variable(f"cvar_u_{s}", lowBound=0)
            rm.u.append(u)
            m.add("cvar", u >= rm.eta - rm.future_value[s], f"cvar_{s}", s)
        tail = rm.eta - _expr([(u, 1.0 / (alpha * n)) for u in rm.u])
        if weight < 1.0:
            mean = _expr([(v, MONEY_SCALE * float(futures.objective[:, j].mean())) for v, j in xs])
            mean += _expr([(z, -MONEY_SCALE * float(loss.mean())) for z, loss in losses])
            tail = weight * tail + (1.0 - weight) * mean
        m.prob.setObjective(tail + tie)
    else:
        rm.w = m.prob.add_variable("maxmin_w", lowBound=None, upBound=None)
        for s in range(n):
            m.add("maxmin", rm.w <= rm.future_value[s], f"maxmin_{s}", s)
        m.prob.setObjective(rm.w + tie)
    return rm


def model_measure(rm: RobustModel) -> float:
    """The robust objective's value in the solved model (EUR, without the tie-break): the CVaR
    eta - sum u / (alpha S), the max-min w, or the mean of V_s."""
    mean = float(np.mean([pulp.value(e) for e in rm.future_value])) / MONEY_SCALE
    if rm.objective == "cvar":
        tail = (rm.eta.value() - sum(u.value() for u in rm.u) / (rm.alpha * len(rm.u))) / MONEY_SCALE
        return rm.weight * tail + (1.0 - rm.weight) * mean
    if rm.objective == "maxmin":
        return rm.w.value() / MONEY_SCALE
    return mean


def measure(values: np.ndarray, objective: str, alpha: float, weight: float = 1.0) -> float:
    """The robust objective computed afterwards from a plan's values in the futures (EUR)."""
    if objective == "cvar":
        return weight * cvar(values, alpha) + (1.0 - weight) * float(np.mean(values))
    if objective == "maxmin":
        return float(np.min(values))
    return float(np.mean(values))


@dataclass(frozen=True)
class RobustSolve:
    """One robust solve: the plan as a :class:`PortfolioResult` (decisions valued at expected values,
    run info with solver, status, proven gap of the robust objective), the objective, alpha, its value
    in the model and recomputed from the plan's values (EUR)."""

    result: PortfolioResult
    stats: SolveStats
    objective: str
    alpha: float
    model_value: float
    plan_value: float


def solve_robust(
    inp: PortfolioInput,
    futures: FutureValues,
    objective: str = "cvar",
    alpha: float = 0.1,
    time_limit_s: float | None = None,
    gap_rel: float | None = None,
    warm_start: dict[str, int] | None = None,
    weight: float = 1.0,
) -> RobustSolve:
    """Build and solve the robust model; SolverError as in :func:`~models.portfolio.solve.solve`."""
    rm = build_robust(inp, futures, objective, alpha, weight)
    stats = solve(rm.model, time_limit_s=time_limit_s, gap_rel=gap_rel, warm_start=warm_start)
    result = results(rm.model, stats)
    result.run_info["objective_kind"] = objective
    result.run_info["alpha"] = alpha if objective == "cvar" else float("nan")
    result.run_info["futures"] = futures.n
    result.run_info["futures_seed"] = futures.seed
    starts = plan_starts(result)
    return RobustSolve(
        result=result,
        stats=stats,
        objective=objective,
        alpha=alpha,
        model_value=model_measure(rm),
        plan_value=measure(futures.plan_values(starts), objective, alpha, weight),
    )


# ---------------------------------------------------------------------------------------
# Comparing plans on held-out futures, and core / borderline / exterior items
# ---------------------------------------------------------------------------------------


def compare_on_futures(futures: FutureValues, plans: dict[str, dict[str, int]], alpha: float) -> pd.DataFrame:
    """Per plan (``COMPARE_COLUMNS``): its value over ``futures`` (mean, P10, P50, CVaR at ``alpha``,
    worst), funded items and their cost (EUR). Use futures the plans were not optimised on."""
    cost = futures.inp.items["cost_eur"].astype(float)
    rows = []
    for name, starts in plans.items():
        v = futures.plan_values(starts)
        rows.append(
            {
                "plan": name,
                "futures": futures.n,
                "value_mean": float(v.mean()),
                "value_p10": float(np.quantile(v, 0.1)),
                "value_p50": float(np.quantile(v, 0.5)),
                "value_cvar": cvar(v, alpha),
                "value_worst": float(v.min()),
                "items": len(starts),
                "cost_eur": float(cost.reindex(list(starts)).fillna(0.0).sum()),
            }
        )
    return pd.DataFrame(rows, columns=COMPARE_COLUMNS)


def classify_items(inp: PortfolioInput, plans: dict[str, dict[str, int]]) -> pd.DataFrame:
    """Per candidate (``CLASS_COLUMNS``): core (funded by every plan in ``plans``), exterior (by none)
    or borderline (by some), the plans that fund it, its expected value at its earliest allowed start
    and its cost (EUR). Rows: core, then borderline, then exterior, each by expected value."""
    rows = []
    values = inp.values.sort_values("start_period").drop_duplicates("item_id").set_index("item_id")["value_eur"]
    for i in inp.items.index:
        funded = [name for name, starts in plans.items() if i in starts]
        kind = "core" if len(funded) == len(plans) else "exterior" if not funded else "borderline"
        rows.append(
            {
                "item_id": str(i),
                "title": str(inp.items.at[i, "title"]) if "title" in inp.items.columns else "",
                "product": str(inp.items.at[i, "product"]) if "product" in inp.items.columns else "",
                "class": kind,
                "in_plans": ", ".join(funded),
                "expected_value_eur": float(values.get(i, float("nan"))),
                "cost_eur": float(inp.items.at[i, "cost_eur"]),
            }
        )
    out = pd.DataFrame(rows, columns=CLASS_COLUMNS)
    order = out["class"].map({"core": 0, "borderline": 1, "exterior": 2})
    return (
        out.assign(_o=order)
        .sort_values(["_o", "expected_value_eur"], ascending=[True, False], kind="stable")
        .drop(columns="_o")
        .reset_index(drop=True)
    )


@dataclass(frozen=True)
class RobustOutcome:
    """Everything the robust step produced.

    result: the robust plan (``settings.robust.objective``); comparison: recommended, robust (and the
    other good plans) on the held-out futures (:func:`compare_on_futures`) with the price of robustness
    and the gain in P10 in ``run_info``; items: core, borderline and exterior (:func:`classify_items`);
    plans: the start periods of every good plan by objective; run_info: one row (objective, alpha,
    futures, held-out futures, seeds, market sigmas, solver status and gap of each solve, the CVaR in
    the model and recomputed, price_of_robustness_eur, p10_gain_eur, wall_s).
    """

    result: PortfolioResult
    comparison: pd.DataFrame
    items: pd.DataFrame
    plans: dict[str, dict[str, int]]
    run_info: pd.DataFrame


def _then(fn: Callable, meanwhile: Callable[[], object] | None) -> Callable:
    """``fn``, followed by ``meanwhile`` (its errors dropped) before the result is handed back."""

    def run(*args):
        out = fn(*args)
        if meanwhile is not None:
            with contextlib.suppress(Exception):
                meanwhile()
        return out

    return run


def _copy_input(inp: PortfolioInput) -> PortfolioInput:
    """``inp`` with its own copies of the tables, for a thread that works beside the one that solves."""
    return dataclasses.replace(inp, items=inp.items.copy(), values=inp.values.copy())


def robust_plan(
    backlog: pd.DataFrame,
    teams: pd.DataFrame,
    kpi_history: pd.DataFrame,
    cases: pd.DataFrame,
    values: pd.DataFrame,
    settings: Settings,
    recommended: PortfolioResult,
    meanwhile: Callable[[], object] | None = None,
) -> RobustOutcome:
    """The robust plan of ``settings.robust``, compared with the ``recommended`` plan on held-out
    futures, and the core, borderline and exterior items over the good plans. With ``settings.robust``
    switched off: no plan, empty tables and a run-info row that says so.

    ``meanwhile``: more work for the core the solver leaves idle (e.g. loading a later step's libraries),
    run after the held-out futures are drawn and before the solves end; whatever it raises is dropped."""
    started = time.perf_counter()
    cfg = settings.robust
    if not cfg.enabled:
        return RobustOutcome(
            result=PortfolioResult(
                decisions=recommended.decisions.iloc[:0],
                capacity=recommended.capacity.iloc[:0],
                budget=recommended.budget.iloc[:0],
                run_info=recommended.run_info.iloc[:0],
            ),
            comparison=pd.DataFrame(columns=COMPARE_COLUMNS),
            items=pd.DataFrame(columns=CLASS_COLUMNS),
            plans={},
            run_info=pd.DataFrame([{"objective": "none", "note": "settings.robust.enabled is false"}]),
        )
    inp = prepare_input(backlog, teams, values, settings)
    train = future_values(inp, backlog, cases, kpi_history, cfg.futures, cfg.seed, cfg.market_sigma)
    rec = plan_starts(recommended)
    solves: dict[str, RobustSolve] = {}
    # The held-out futures do not depend on the solves: they are drawn while HiGHS solves (it releases
    # Python's lock), from copies of the inputs, so the second core does it (about 2 s of the demo's).
    with ThreadPoolExecutor(max_workers=1) as pool:
        held_out = pool.submit(
            _then(future_values, meanwhile),
            _copy_input(inp),
            backlog.copy(),
            cases.copy(),
            kpi_history.copy(),
            cfg.held_out,
            cfg.seed + 1,
            cfg.market_sigma,
        )
        for kind in dict.fromkeys([cfg.objective, *cfg.good_plans]):
            if kind == "expected" and kind != cfg.objective:
                continue  # the recommended plan maximises the expected value itself
            solves[kind] = solve_robust(
                inp,
                train,
                kind,
                cfg.alpha,
                time_limit_s=cfg.time_limit_s,
                gap_rel=cfg.gap_rel,
                warm_start=rec,
                weight=cfg.cvar_weight if kind == "cvar" else 1.0,
            )
        held = held_out.result()
    main = solves[cfg.objective]
    plans = {"recommended": rec, ROBUST_PLAN: plan_starts(main.result)}
    good = {
        kind: (rec if kind == "expected" and kind not in solves else plan_starts(solves[kind].result))
        for kind in cfg.good_plans
    }

    def plan_name(kind: str) -> str:  # each good plan under the name the comparison gives it
        if kind == cfg.objective:
            return ROBUST_PLAN
        return "recommended" if kind == "expected" else f"{ROBUST_PLAN}_{kind}"

    for kind, starts in good.items():
        plans.setdefault(plan_name(kind), starts)
    comparison = compare_on_futures(held, plans, cfg.alpha)
    by = comparison.set_index("plan")
    info = {
        "objective": cfg.objective,
        "alpha": cfg.alpha,
        "cvar_weight": cfg.cvar_weight,
        "futures": cfg.futures,
        "held_out": cfg.held_out,
        "seed": cfg.seed,
        "held_out_seed": cfg.seed + 1,
        "market_sigma": ", ".join(f"{p}: {s:.3f}" for p, s in train.sigma.items()),
        "price_of_robustness_eur": float(by.at["recommended", "value_mean"] - by.at[ROBUST_PLAN, "value_mean"]),
        "p10_gain_eur": float(by.at[ROBUST_PLAN, "value_p10"] - by.at["recommended", "value_p10"]),
        "cvar_gain_eur": float(by.at[ROBUST_PLAN, "value_cvar"] - by.at["recommended", "value_cvar"]),
        "model_value_eur": main.model_value,
        "plan_value_eur": main.plan_value,
        "good_plans": ", ".join(plan_name(kind) for kind in good),
        "wall_s": 0.0,
    }
    for kind, sv in solves.items():
        info[f"{kind}_status"] = sv.stats.status
        info[f"{kind}_gap"] = sv.stats.gap
        info[f"{kind}_time_s"] = sv.stats.time_s
    info["wall_s"] = round(time.perf_counter() - started, 3)
    return RobustOutcome(
        result=main.result,
        comparison=comparison,
        items=classify_items(inp, {plan_name(kind): starts for kind, starts in good.items()}),
        plans=plans,
        run_info=pd.DataFrame([info]),
    )


def robust_summary(comparison: pd.DataFrame, info: pd.Series | dict) -> str:
    """The robust plan against the recommended one on the held-out futures, in one sentence for a board
    (``comparison`` and a ``run_info`` row of :func:`robust_plan`)."""
    by = comparison.set_index("plan")
    rec, rob = by.loc["recommended"], by.loc[ROBUST_PLAN]
    kind = str(info["objective"])
    gap = info.get(f"{kind}_gap")
    proof = str(info.get(f"{kind}_status", ""))
    if gap is not None and gap == gap:
        proof += f", proven within {float(gap):.1%}"
    what = (
        f"the mean of the worst {float(info['alpha']):.0%} of {int(info['futures'])} futures, weighted "
        f"{float(info['cvar_weight']):.0%} against their mean"
        if kind == "cvar"
        else f"the {'worst' if kind == 'maxmin' else 'mean'} of {int(info['futures'])} futures"
    )
    gain, price = float(info["p10_gain_eur"]), float(info["price_of_robustness_eur"])
    cost = (
        f"costs {eur_text(price)} of expected value"
        if price > 0
        else f"costs no expected value ({eur_text(-price)} more)"
    )
    return (
        f"The robust plan ({what}; {proof}) has a P10 value of {eur_text(rob['value_p10'])} on "
        f"{int(rob['futures'])} held-out futures, against {eur_text(rec['value_p10'])} for the recommended plan "
        f"({'+' if gain >= 0 else '-'}{eur_text(abs(gain))}); its mean is {eur_text(rob['value_mean'])} against "
        f"{eur_text(rec['value_mean'])}: holding up better {cost}."
    )
