"""Robustness of plans over many futures: expected value, tail, regret, satisficing, and whether
the metrics agree on the ranking.

The stress test runs every plan through the same futures (scenario x replication, common random
numbers: :func:`models.simulation.replication_seed`), so plans can be compared future by future,
as Robust Decision Making does (Lempert, Popper & Bankes, *Shaping the Next One Hundred Years*,
RAND 2003; the MORDM re-evaluation of Kasprzyk et al., Environmental Modelling & Software 42,
2013). Per plan, over all its futures (``runs``: plan, scenario, replication, npv_eur,
okr_met_share, on_time_share):

* ``npv_mean``, ``npv_p10``, ``npv_worst``: expected NPV of MRR, its 10 % quantile, its minimum;
* ``regret_mean``, ``regret_max``: regret of a future is the best NPV any plan reaches in that
  future minus this plan's (Savage's minimax regret, 1951), >= 0;
* ``satisficing``: the share of futures that meet every floor (:class:`Floors`): NPV at least the
  status quo's in the same future plus ``npv_gain`` (or at least ``npv`` EUR when given), the share
  of OKRs met at least ``okr_met_share``, the on-time share at least ``on_time_share`` (a NaN share,
  e.g. a plan without key results, meets its floor: nothing was promised);
* ``rank_<metric>``: the plan's rank by each metric (1 = best).

:func:`ranking_agreement` gives Kendall's tau between every pair of metric rankings: 1 when two
metrics order the plans alike, -1 when they reverse them - a tau well below 1 says the choice of
plan depends on what the team fears. Units: EUR, shares 0..1.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import combinations
from types import ModuleType
from typing import Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from models.names import STATUS_QUO_PLAN

FUTURE = ["scenario", "replication"]
METRICS = {  # metric -> higher is better
    "npv_mean": True,
    "npv_p10": True,
    "npv_worst": True,
    "regret_mean": False,
    "regret_max": False,
    "satisficing": True,
}
ROBUSTNESS_COLUMNS = ["plan", "futures", *METRICS, *(f"rank_{m}" for m in METRICS)]


class Floors(BaseModel):
    """What a future must bring for the plan to count as good enough in it (satisficing)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    npv: float | None = Field(
        None, description="NPV of MRR (EUR) a future must reach; None: the status quo's NPV in it plus npv_gain"
    )
    npv_gain: float = Field(0.0, description="EUR above the status quo's NPV in the same future (when npv is None)")
    okr_met_share: float = Field(
        0.25, ge=0, le=1, description="weighted share of key results met (judgement: at least a quarter)"
    )
    on_time_share: float = Field(
        0.25,
        ge=0,
        le=1,
        description="share of items delivered by their planned finish (judgement: at least a quarter; real "
        "projects slip, the estimate-overrun scenario calibrates by how much)",
    )


class DiscoverySettings(BaseModel):
    """The open exploration of what breaks a plan (``weitblick discover``, asset ``scenario_discovery``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    futures: int = Field(
        200,
        ge=10,
        le=100_000,
        description="futures sampled jointly by Latin hypercube over every driver of the library",
    )
    seed: int = Field(0, ge=0, description="seed of the Latin hypercube and of the runs (recorded with the results)")
    plans: list[str] = Field(
        default_factory=lambda: ["recommended"],
        description="plans explored (the status quo runs too, as the NPV floor)",
    )
    min_coverage: float = Field(
        0.8, gt=0, le=1, description="PRIM: the densest box that still covers this share of the misses it looks at"
    )
    max_boxes: int = Field(3, ge=1, le=10, description="PRIM: most boxes found one after another (covering)")
    npv_floor: Literal["status_quo_mean", "status_quo_same_future"] = Field(
        "status_quo_mean",
        description="the NPV floor of the exploration (unless satisficing.npv sets one in EUR): the status quo's "
        "mean NPV over the futures (the plan falls short of what doing nothing new earns on average: the "
        "market's drivers show), or the status quo's NPV in the same future (the plan does worse than "
        "doing nothing there: on the demo mostly the item-by-item chance of the simulation, which no "
        "small set of drivers explains)",
    )
    failure: list[Literal["npv", "okr_met_share", "on_time_share"]] = Field(
        default_factory=lambda: ["npv"],
        min_length=1,
        description="the floors of satisficing whose miss counts as a failure: by default the NPV floor (at "
        "least the status quo's in the same future); over the whole library's ranges the on-time floor is "
        "missed in most futures (92 % on the demo), which leaves nothing to tell apart",
    )


class RobustSettings(BaseModel):
    """The plan optimised to hold up (``robust``): a sample average approximation of per-future item
    values in the MILP, with every rule of the deterministic model."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = Field(True, description="optimise the robust plan in every run")
    objective: Literal["expected", "cvar", "maxmin"] = Field(
        "cvar",
        description="expected: the mean over the futures; cvar: the mean of the worst alpha share of them "
        "(Rockafellar & Uryasev 2000); maxmin: the worst of them",
    )
    alpha: float = Field(0.2, gt=0, le=1, description="CVaR: the share of worst futures whose mean value counts")
    cvar_weight: float = Field(
        0.5,
        ge=0,
        le=1,
        description="cvar: weight of the CVaR against the mean (1: the CVaR alone). Half and half kept the demo's "
        "held-out mean within 1 % and raised its P10; the CVaR alone over 50-100 futures fits their noise "
        "(benchmarks/robust.py)",
    )
    futures: int = Field(100, ge=1, le=2_000, description="futures the MILP is optimised over")
    held_out: int = Field(
        500, ge=10, le=100_000, description="other futures (other seeds) on which plans are compared afterwards"
    )
    seed: int = Field(0, ge=0, description="seed of the futures (the held-out ones use seed + 1)")
    market_sigma: float | None = Field(
        None,
        ge=0,
        description="log-sd of each product's market factor on its items' value; None: the sd of the "
        "product's 12-month log MRR growth in the KPI history",
    )
    good_plans: list[Literal["expected", "cvar", "maxmin"]] = Field(
        default_factory=lambda: ["expected", "cvar"],
        description="the objectives whose optimal plans decide which items are core (in every one), "
        "borderline (in some) and exterior (in none): by default the recommended plan (expected) and the "
        "robust one; maxmin adds the plan for the worst future (one more solve)",
    )
    time_limit_s: float | None = Field(None, gt=0, description="per robust solve; None: solver.time_limit_s")
    gap_rel: float | None = Field(None, ge=0, lt=1, description="per robust solve; None: solver.gap_rel")


def regrets(runs: pd.DataFrame) -> pd.Series:
    """Per run: the best NPV of any plan in the same future (scenario, replication) minus this run's."""
    best = runs.groupby(FUTURE)["npv_eur"].transform("max")
    return (best - runs["npv_eur"]).rename("regret_eur")


def meets_floors(
    runs: pd.DataFrame, floors: Floors, reference: str = STATUS_QUO_PLAN, future: Sequence[str] = tuple(FUTURE)
) -> pd.Series:
    """Per run: whether it meets every floor. Without ``floors.npv`` the NPV floor is the
    ``reference`` plan's NPV in the same future (the same values of the ``future`` columns) plus
    ``npv_gain``; a future without a reference run then fails (there is nothing to compare with),
    so run the status quo too."""
    return (~floor_misses(runs, floors, reference, future).any(axis=1)).rename("meets_floors")


FLOOR_MISSES = ["misses_npv", "misses_okr", "misses_on_time"]


def floor_misses(
    runs: pd.DataFrame, floors: Floors, reference: str = STATUS_QUO_PLAN, future: Sequence[str] = tuple(FUTURE)
) -> pd.DataFrame:
    """Per run (``runs``' index), which floors it misses (:data:`FLOOR_MISSES`, bool): the NPV
    floor as in :func:`meets_floors` (futures told apart by the ``future`` columns), the share of
    key results met, the on-time share (a NaN share misses nothing)."""
    keys = list(future)
    if floors.npv is not None:
        npv_ok = runs["npv_eur"].to_numpy(dtype=float) >= floors.npv
    else:
        ref = runs.loc[runs["plan"] == reference].set_index(keys)["npv_eur"]
        ref = ref[~ref.index.duplicated()]
        at = pd.MultiIndex.from_frame(runs[keys]) if len(keys) > 1 else pd.Index(runs[keys[0]])
        floor = ref.reindex(at).to_numpy(dtype=float) + floors.npv_gain
        npv_ok = runs["npv_eur"].to_numpy(dtype=float) >= floor  # NaN floor: False
    okr = runs["okr_met_share"].to_numpy(dtype=float)
    on_time = runs["on_time_share"].to_numpy(dtype=float)
    okr_ok = np.isnan(okr) | (okr >= floors.okr_met_share - 1e-12)
    time_ok = np.isnan(on_time) | (on_time >= floors.on_time_share - 1e-12)
    return pd.DataFrame({"misses_npv": ~npv_ok, "misses_okr": ~okr_ok, "misses_on_time": ~time_ok}, index=runs.index)


def plan_robustness(runs: pd.DataFrame, floors: Floors | None = None, reference: str = STATUS_QUO_PLAN) -> pd.DataFrame:
    """One row per plan (``ROBUSTNESS_COLUMNS``, plans in the order they first appear): the metrics of
    the module docstring over all futures of ``runs`` and the plan's rank by each."""
    floors = floors or Floors()
    r = runs.assign(regret_eur=regrets(runs), ok=meets_floors(runs, floors, reference))
    g = r.groupby("plan", sort=False)
    out = pd.DataFrame(
        {
            "futures": g.size(),
            "npv_mean": g["npv_eur"].mean(),
            "npv_p10": g["npv_eur"].quantile(0.1),
            "npv_worst": g["npv_eur"].min(),
            "regret_mean": g["regret_eur"].mean(),
            "regret_max": g["regret_eur"].max(),
            "satisficing": g["ok"].mean(),
        }
    )
    for metric, higher in METRICS.items():
        out[f"rank_{metric}"] = out[metric].rank(ascending=not higher, method="min").astype("int64")
    return out.reset_index()[ROBUSTNESS_COLUMNS]


def ranking_agreement(robustness: pd.DataFrame) -> pd.DataFrame:
    """Kendall's tau (tau-b, ties allowed) between the plans' rankings by every pair of metrics:
    metric_a, metric_b, tau (NaN with fewer than two plans or a metric that ties every plan)."""
    from scipy.stats import kendalltau  # scipy.stats takes 0.4 s to import; the review's kernel needs none of it

    rows = []
    for a, b in combinations(METRICS, 2):
        if len(robustness) < 2:
            tau = float("nan")
        else:
            tau = float(kendalltau(robustness[f"rank_{a}"], robustness[f"rank_{b}"]).statistic)
        rows.append({"metric_a": a, "metric_b": b, "tau": tau if np.isfinite(tau) else float("nan")})
    return pd.DataFrame(rows, columns=["metric_a", "metric_b", "tau"])


# ---------------------------------------------------------------------------------------
# Scenario discovery: which drivers, in which ranges, explain the futures where a plan fails
# ---------------------------------------------------------------------------------------

MIN_BOX_FUTURES = 5  # the fewest futures a box of scenario discovery may hold
DISCOVERY_COLUMNS = ["box", "coverage", "density", "mass", "cases", "restricted"]


def discover(
    experiments: pd.DataFrame,
    failed: pd.Series,
    *,
    min_coverage: float = 0.8,
    max_boxes: int = 3,
    mass_min: float = 0.05,
    peel_alpha: float = 0.05,
    max_restricted: int | None = 3,
    prune: float = 0.05,
) -> pd.DataFrame:
    """The few drivers and ranges that explain where ``failed`` is True: PRIM (Friedman & Fisher,
    "Bump hunting in high-dimensional data", Statistics and Computing 9, 1999) as EMA Workbench
    implements it (``ema_workbench.analysis.prim``; Kwakkel, Environmental Modelling & Software 96,
    2017), on any table.

    ``experiments``: one row per future, one numeric column per driver; ``failed``: one bool per row.
    Boxes are found one after another (PRIM's covering: the next box looks only at the futures the
    earlier ones left out), at most ``max_boxes``, while a box is denser in failures than the
    futures it is drawn from and than all futures together, and holds at least ``MIN_BOX_FUTURES``
    futures. On each box's peeling trajectory the densest box that still covers at least
    ``min_coverage`` of the failures it looked at is chosen
    (the densest if none does), among the boxes that restrict at most ``max_restricted`` drivers
    (None: any number): a board can act on a sentence with three conditions, not on one with twelve
    fitted to the sample's noise. Then restrictions that barely matter are dropped one at a time
    (EMA Workbench's ``drop_restriction``) while the box keeps at least ``1 - prune`` of its density:
    a sliver peeled off a driver's range says nothing a board can act on.

    Returns one row per box: box (1, 2, ...), coverage (share of all failures inside it and outside
    the earlier boxes), density (share of failures among those futures), mass (their share of all
    futures), cases (their number), restricted (the drivers it limits, comma-separated) and per restricted driver
    ``<driver>_lower`` / ``<driver>_upper`` (NaN where a box does not limit that driver). No failure,
    or no box: no rows.
    """
    return discover_with_trajectory(
        experiments,
        failed,
        min_coverage=min_coverage,
        max_boxes=max_boxes,
        mass_min=mass_min,
        peel_alpha=peel_alpha,
        max_restricted=max_restricted,
        prune=prune,
    )[0]


TRAJECTORY_COLUMNS = ["step", "coverage", "density", "mass", "restricted", "chosen"]


def discover_with_trajectory(
    experiments: pd.DataFrame,
    failed: pd.Series,
    *,
    min_coverage: float = 0.8,
    max_boxes: int = 3,
    mass_min: float = 0.05,
    peel_alpha: float = 0.05,
    max_restricted: int | None = 3,
    prune: float = 0.05,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(boxes, trajectory): the boxes of :func:`discover` (same arguments) and the peeling
    trajectory of the first box - the trade-off the analyst chooses on (``TRAJECTORY_COLUMNS``):
    per peeling step (0: every future) its coverage and density of failures, mass, the number of
    drivers it restricts and whether it is the box ``min_coverage`` chose. No failure: both empty."""
    return _prim(experiments, failed, min_coverage, max_boxes, mass_min, peel_alpha, max_restricted, prune)


# What EMA Workbench says when it is imported: optional back-ends it does without.
EMA_IMPORT_WARNINGS = ("ipyparallel not installed", "altair based interactive inspection")
EMA_ANALYSES = ("prim", "feature_scoring")  # the modules of ema_workbench.analysis used here


def ema_analysis(name: str) -> ModuleType:
    """EMA Workbench's ``ema_workbench.analysis.<name>`` (e.g. "prim", "feature_scoring"), imported on first
    use without its notes on optional back-ends (:data:`EMA_IMPORT_WARNINGS`); safe from any thread.

    A first import runs in a thread of its own: the workbench logs its methods through a decorator that calls
    ``inspect.getouterframes`` (reading the source of every calling frame) once per decorated method, so its
    import takes longer the deeper the calling stack. Deep inside a pipeline run that was 2.6 s against 1.5 s
    from a fresh thread's short stack; the caller waits for it either way."""
    import importlib
    import sys
    import warnings
    from concurrent.futures import ThreadPoolExecutor

    for text in EMA_IMPORT_WARNINGS:  # filterwarnings replaces an equal filter, so this adds each once
        warnings.filterwarnings("ignore", message=text, module="ema_workbench")
    module = f"ema_workbench.analysis.{name}"
    if module in sys.modules:  # waits, should another thread still be importing it
        return importlib.import_module(module)
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(importlib.import_module, module).result()


def _in_box(x: pd.DataFrame, lims: pd.DataFrame) -> np.ndarray:
    inside = np.ones(len(x), dtype=bool)
    for col in x.columns:
        v = x[col].to_numpy(dtype=float)
        inside &= (v >= float(lims[col].iloc[0])) & (v <= float(lims[col].iloc[1]))
    return inside


def _pruned(box, i: int, x: pd.DataFrame, y: np.ndarray, remaining: np.ndarray, prune: float) -> pd.DataFrame:
    """The limits of box ``i`` after dropping, one at a time, the restriction whose loss costs the least
    density, while the density stays at least (1 - ``prune``) times the chosen box's."""
    start, j = box.box_lims[0], i
    target = float(y[_in_box(x, box.box_lims[i]) & remaining].mean()) * (1.0 - prune)
    while True:
        lims = box.box_lims[j]
        restricted = [c for c in x.columns if lims[c].iloc[0] > start[c].iloc[0] or lims[c].iloc[1] < start[c].iloc[1]]
        if len(restricted) <= 1:
            return lims
        trials = []
        for col in restricted:
            wider = lims.copy()
            wider[col] = start[col]
            inside = _in_box(x, wider) & remaining
            trials.append((float(y[inside].mean()) if inside.any() else 0.0, col))
        density, col = max(trials)
        if density < target:
            return lims
        box.drop_restriction(col, j)  # adds the wider box to the trajectory and selects it
        j = len(box.box_lims) - 1


def _prim(
    experiments: pd.DataFrame,
    failed: pd.Series,
    min_coverage: float,
    max_boxes: int,
    mass_min: float,
    peel_alpha: float,
    max_restricted: int | None = None,
    prune: float = 0.0,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """:func:`discover_with_trajectory`."""
    import warnings

    prim = ema_analysis("prim")
    x = experiments.reset_index(drop=True)
    y = np.asarray(failed, dtype=bool)
    if len(y) != len(x):
        raise ValueError(f"{len(x)} experiments but {len(y)} outcomes: give one outcome per experiment")
    bad = [c for c in x.columns if not pd.api.types.is_numeric_dtype(x[c])]
    if bad:
        raise ValueError(f"drivers {', '.join(map(str, bad))} are not numeric: encode them as numbers first")
    total_failed, rows, limits = int(y.sum()), [], {}
    remaining = np.ones(len(x), dtype=bool)  # the futures no earlier box took (PRIM's covering)
    path = pd.DataFrame(columns=TRAJECTORY_COLUMNS)
    if total_failed == 0:
        return pd.DataFrame(columns=DISCOVERY_COLUMNS), path
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        p = prim.Prim(x.astype(float), y, mass_min=mass_min, peel_alpha=peel_alpha)
        for k in range(1, max_boxes + 1):
            try:
                box = p.find_box()
            except Exception:  # PRIM stops when no futures or no failures are left to box
                break
            if box is None:
                break
            trajectory = box.peeling_trajectory
            pool = trajectory.loc[trajectory["res_dim"] <= max_restricted] if max_restricted else trajectory
            pool = pool if len(pool) else trajectory
            covered = pool.loc[pool["coverage"] >= min_coverage]
            i = int(covered["density"].idxmax()) if len(covered) else int(pool["density"].idxmax())
            if k == 1:
                path = pd.DataFrame(
                    {
                        "step": np.arange(len(trajectory), dtype=np.int64),
                        "coverage": trajectory["coverage"].to_numpy(dtype=float),
                        "density": trajectory["density"].to_numpy(dtype=float),
                        "mass": trajectory["mass"].to_numpy(dtype=float),
                        "restricted": trajectory["res_dim"].to_numpy(dtype=np.int64),
                        "chosen": trajectory.index == i,
                    }
                )
            box.select(i)  # PRIM's covering then leaves out the futures of the box chosen, as counted below
            lims = _pruned(box, i, x, y, remaining, prune) if prune else box.box_lims[i]
            start = box.box_lims[0]
            inside = np.ones(len(x), dtype=bool)
            restricted = []
            for col in x.columns:
                lo, hi = float(lims[col].iloc[0]), float(lims[col].iloc[1])
                inside &= (x[col].to_numpy(dtype=float) >= lo) & (x[col].to_numpy(dtype=float) <= hi)
                if lo > float(start[col].iloc[0]) or hi < float(start[col].iloc[1]):
                    restricted.append(col)
                    limits[(k, f"{col}_lower")] = lo if lo > float(start[col].iloc[0]) else float("nan")
                    limits[(k, f"{col}_upper")] = hi if hi < float(start[col].iloc[1]) else float("nan")
            inside &= remaining
            n_in = int(inside.sum())
            density = float(y[inside].mean()) if n_in else 0.0
            # a box must be denser in failures than the futures left to it and than all futures together,
            # and hold at least MIN_BOX_FUTURES futures (fewer are an anecdote, not a range to act on)
            if not restricted or density <= y[remaining].mean() or density <= y.mean() or n_in < MIN_BOX_FUTURES:
                break
            remaining &= ~inside
            rows.append(
                {
                    "box": k,
                    "coverage": float(y[inside].sum()) / total_failed,
                    "density": density,
                    "mass": n_in / len(x),
                    "cases": n_in,
                    "restricted": ", ".join(map(str, restricted)),
                }
            )
    out = pd.DataFrame(rows, columns=DISCOVERY_COLUMNS)
    for (k, col), v in sorted(limits.items(), key=lambda kv: kv[0][1]):
        if col not in out:
            out[col] = np.nan
        out.loc[out["box"] == k, col] = v
    return out, path
