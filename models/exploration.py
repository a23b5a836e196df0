"""Open exploration: what breaks a plan, across every driver of the scenario library at once.

The scenario library tells a few stories (a budget cut, an estimate overrun, ...), each varying a
few drivers. The open exploration samples all of them together (Bankes, "Exploratory modeling for
policy analysis", Operations Research 41, 1993; the scenario discovery of Bryant & Lempert,
Technological Forecasting & Social Change 77, 2010; Kwakkel, EMA Workbench, Environmental
Modelling & Software 96, 2017):

* :func:`library_drivers`: one row per uncertain driver - every float model parameter a scenario
  samples or sets, over the union of the library's ranges and the default, and every type of
  shock, sized from nothing to its largest size in the library;
* :func:`sample_futures`: a Latin hypercube over the drivers (McKay, Beckman & Conover,
  Technometrics 21, 1979), seeded;
* :func:`future_scenarios`: each sampled future as a one-run :class:`Scenario`;
* :func:`explore`: every plan in every future with common random numbers
  (:func:`models.simulation.runner.run_futures`);
* :func:`explore_failures`: which floors (:class:`models.robustness.Floors`) each run misses;
* :func:`what_breaks`: the drivers and ranges where a plan fails (PRIM boxes,
  :func:`models.robustness.discover`), their peeling trade-off, feature scores (extra trees) and
  the boxes in words for a board.

Units: as in :class:`~models.simulation.scenario.Parameters` (factors x, shares 0..1, months,
hazards 1/month); shock sizes are shares (0.2 = 20 %), a regulation's driver a factor on its effort.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from models.errors import ModelError
from models.names import STATUS_QUO_PLAN
from models.robustness import FLOOR_MISSES, Floors, discover_with_trajectory, ema_analysis, floor_misses
from models.simulation.plan import SimulationPlan
from models.simulation.runner import SUMMARY_FIELDS, run_futures
from models.simulation.scenario import (
    UNCERTAIN_PARAMETERS,
    CompetitorEntry,
    MarketShift,
    Parameters,
    RegulatoryMustHave,
    Role,
    Scenario,
    parameter_bounds,
)

DRIVER_COLUMNS = ["driver", "kind", "low", "high", "default", "label", "unit", "sources"]
EXPLORATION_COLUMNS = ["plan", "future", "seed", *SUMMARY_FIELDS]
FAILURE_COLUMNS = ["plan", "future", *FLOOR_MISSES, "failed"]
SHOCK_PREFIX = "shock_"

# parameter -> (words for a board, unit); units: x factor, share 0..1, months, month (a calendar
# month of the plan), 1/month, 1/year, points, - (a number without unit)
PARAMETER_WORDS: dict[str, tuple[str, str]] = {
    "effort_multiplier": ("the median ratio of actual to planned effort", "x"),
    "item_effort_sigma": ("the spread of effort from item to item (log-sd)", "-"),
    "early_finish_returned": ("the share of an under-run that comes back as capacity", "share"),
    "max_speedup": ("the fastest pace of an item against its plan", "x"),
    "capacity_factor": ("the team capacity against plan", "x"),
    "attrition_per_month": ("monthly attrition", "1/month"),
    "hiring_lag_months": ("the time to hire a replacement", "months"),
    "ramp_up_months": ("the time a replacement needs to be fully productive", "months"),
    "context_switch_loss": ("the capacity lost per extra item a person juggles", "share"),
    "context_switch_threshold": ("the items a person carries without switching loss", "-"),
    "context_switch_max_loss": ("the largest capacity lost to switching", "share"),
    "cost_inflation_per_year": ("annual cost inflation", "1/year"),
    "demand_factor": ("market demand against plan", "x"),
    "bass_p_factor": ("the pull of advertising on adoption (Bass p) against plan", "x"),
    "bass_q_factor": ("word of mouth (Bass q) against plan", "x"),
    "churn_factor": ("churn against its history", "x"),
    "price_factor": ("the price (ARPU) against its history", "x"),
    "competitor_entry_month": ("a competitor's entry", "month"),
    "copy_lag_months": ("the time a competitor needs to copy a differentiator", "months"),
    "copy_half_life_months": ("the half-life of a copied differentiator's edge", "months"),
    "differentiator_retention": ("the uplift a copied differentiator keeps", "share"),
    "churn_pressure": ("the rise of churn at full competitor parity", "share"),
    "nps_parity_penalty": ("the NPS points lost at full competitor parity", "points"),
    "base_edge_weight": ("the weight of a product's existing edge against a competitor", "-"),
}

SHOCK_WORDS = {
    "demand_drop": "the demand drop",
    "budget_cut": "the budget cut",
    "price_pressure": "the price cut",
    "market_shift": "the market share moving",
    "cost_inflation": "the one-off cost rise",
    "regulatory_must_have": "the regulation",
    "competitor_entry": "a competitor's entry",
}

FLOOR_WORDS = {"misses_npv": "NPV", "misses_okr": "OKRs", "misses_on_time": "on-time"}


# ---------------------------------------------------------------------------------------
# Drivers
# ---------------------------------------------------------------------------------------


def _support(dist) -> tuple[float, float]:
    """The range a distribution mostly draws from: Normal mean +- 2 sd, Lognormal median x
    exp(+-2 sigma), else its own support (uniform, triangular: low..high; choice: min..max)."""
    if dist.dist == "normal":
        return dist.mean - 2 * dist.sd, dist.mean + 2 * dist.sd
    if dist.dist == "lognormal":
        return dist.median * math.exp(-2 * dist.sigma), dist.median * math.exp(2 * dist.sigma)
    return dist.support()


def _file(scenario: Scenario) -> str:
    return Path(scenario.source).name if scenario._source else scenario.name


def _shock_size(shock) -> float:
    """How large a shock is: its size, a regulation's total person-weeks, a competitor's entry 1."""
    if isinstance(shock, RegulatoryMustHave):
        return float(sum(shock.effort.values()) if isinstance(shock.effort, dict) else sum(e.pw for e in shock.effort))
    return float(getattr(shock, "size", 1.0))


def shock_templates(scenarios: Mapping[str, Scenario]) -> dict[str, tuple[object, list[str]]]:
    """Per shock type of the library (in the order of the shock types): the template - the largest
    shock of that type (a regulation: the most person-weeks; a competitor's entry: the earliest;
    ties: the first by scenario name) - and the files with shocks of that type."""
    found: dict[str, tuple[object, list[str]]] = {}
    for name in sorted(scenarios):
        sc = scenarios[name]
        for shock in sc.shocks:
            best, files = found.get(shock.type, (None, []))
            if _file(sc) not in files:
                files = [*files, _file(sc)]
            if isinstance(shock, CompetitorEntry):
                better = best is None or shock.month < best.month
            else:
                better = best is None or _shock_size(shock) > _shock_size(best)
            found[shock.type] = (shock if better else best, files)
    from models.simulation.scenario import SHOCK_TYPES

    return {t: found[t] for t in SHOCK_TYPES if t in found}


def _target(shock) -> str:
    """What a shock hits, in words: a name, a role described, or every product or skill."""

    def words(ref, kind: str) -> str:
        if ref is None or ref == "all":
            return f"all {kind}s"
        return ref.describe() if isinstance(ref, Role) else str(ref)

    if isinstance(shock, MarketShift):
        return f"from {words(shock.from_product, 'product')} to {words(shock.to_product, 'product')}"
    if isinstance(shock, RegulatoryMustHave):
        return f"{_shock_size(shock):g} pw over {shock.duration_months} months"
    if "skill" in type(shock).model_fields:
        return words(shock.skill, "skill")
    return words(getattr(shock, "product", None), "product")


def library_drivers(scenarios: Mapping[str, Scenario], horizon_months: int) -> pd.DataFrame:
    """One row per uncertain driver of the library (``DRIVER_COLUMNS``): driver, kind
    (``parameter`` or ``shock``), low, high, default, label (words for a board), unit, sources
    (the scenario files it comes from, comma-separated).

    Parameters: every float parameter a scenario samples or sets, over the union of each
    distribution's range (:func:`_support`), the constants and the parameter's default, clipped to
    its valid range; ``competitor_entry_month`` ends at ``horizon_months`` + 1 (no entrant within
    the plan). A parameter whose range is one point is left out (nothing varies).
    Shocks (``shock_<type>``): the largest of each type (:func:`shock_templates`) sized from 0 to its
    size (a regulation: a factor 0..1 on its effort; a competitor's entry: its month, from the
    earliest in the library to ``horizon_months`` + 1 = none); default 0 (no shock)."""
    if horizon_months < 1:
        raise ModelError(f"horizon_months must be at least 1, got {horizon_months}. Fix: pass the plan's months.")
    rows = []
    for name in UNCERTAIN_PARAMETERS:
        lows, highs, files = [], [], []
        for key in sorted(scenarios):
            sc = scenarios[key]
            dist, fixed = sc.distributions().get(name), sc.fixed().get(name)
            if dist is None and fixed is None:
                continue
            lo, hi = _support(dist) if dist is not None else (float(fixed), float(fixed))
            lows.append(lo)
            highs.append(hi)
            files.append(_file(sc))
        if not files:
            continue
        default = float(Parameters.model_fields[name].default)
        floor, ceiling = parameter_bounds(name)
        if name == "competitor_entry_month":
            ceiling = min(ceiling, horizon_months + 1.0)
        low = float(np.clip(min(*lows, default), floor, ceiling))
        high = float(np.clip(max(*highs, default), floor, ceiling))
        if high <= low:
            continue
        label, unit = PARAMETER_WORDS.get(name, (name.replace("_", " "), "-"))
        rows.append(
            {
                "driver": name,
                "kind": "parameter",
                "low": low,
                "high": high,
                "default": float(np.clip(default, low, high)),
                "label": label,
                "unit": unit,
                "sources": ", ".join(files),
            }
        )
    for kind, (shock, files) in shock_templates(scenarios).items():
        words = f"{SHOCK_WORDS.get(kind, kind.replace('_', ' '))} in month {shock.month} ({_target(shock)})"
        if isinstance(shock, CompetitorEntry):
            low, high, default, unit = float(shock.month), horizon_months + 1.0, horizon_months + 1.0, "month"
            words = f"{SHOCK_WORDS[kind]} ({_target(shock)})"
        elif isinstance(shock, RegulatoryMustHave):
            low, high, default, unit = 0.0, 1.0, 0.0, "x"
        else:
            low, high, default, unit = 0.0, float(shock.size), 0.0, "share"
        rows.append(
            {
                "driver": f"{SHOCK_PREFIX}{kind}",
                "kind": "shock",
                "low": low,
                "high": high,
                "default": default,
                "label": words,
                "unit": unit,
                "sources": ", ".join(files),
            }
        )
    return pd.DataFrame(rows, columns=DRIVER_COLUMNS)


# ---------------------------------------------------------------------------------------
# Futures
# ---------------------------------------------------------------------------------------


def sample_futures(drivers: pd.DataFrame, n: int, seed: int) -> pd.DataFrame:
    """``n`` futures by Latin hypercube over the drivers (``scipy.stats.qmc.LatinHypercube``
    seeded with ``numpy.random.default_rng(seed)``; each driver's range cut into ``n`` equal bins,
    one future in each): columns ``future`` (0..n-1) and one per driver, scaled to [low, high].
    The same drivers, ``n`` and ``seed`` give the same table."""
    from scipy.stats import qmc

    if n < 1:
        raise ModelError(f"n must be at least 1, got {n}. Fix: sample at least one future.")
    if drivers.empty:
        raise ModelError("no drivers to sample. Fix: give a scenario library with uncertainties or shocks.")
    unit = qmc.LatinHypercube(d=len(drivers), seed=np.random.default_rng(seed)).random(n)
    low = drivers["low"].to_numpy(dtype=float)
    high = drivers["high"].to_numpy(dtype=float)
    values = low + unit * (high - low)
    out = pd.DataFrame(values, columns=list(drivers["driver"]))
    out.insert(0, "future", np.arange(n, dtype=np.int64))
    return out


def future_scenarios(futures: pd.DataFrame, drivers: pd.DataFrame, scenarios: Mapping[str, Scenario]) -> list[Scenario]:
    """One :class:`Scenario` per sampled future (``future_<k>``, one replication, seed k): the
    parameter drivers as constants, each shock template (:func:`shock_templates`) with the sampled
    size (left out below 1e-9; a regulation's effort scaled by its factor; a competitor's entry in
    the sampled month, rounded, left out after the horizon). Roles are kept as written."""
    templates = shock_templates(scenarios)
    params = list(drivers.loc[drivers["kind"] == "parameter", "driver"])
    shocks = list(drivers.loc[drivers["kind"] == "shock", "driver"])
    horizon = dict(zip(drivers["driver"], drivers["high"], strict=True))
    missing = [d for d in shocks if d.removeprefix(SHOCK_PREFIX) not in templates]
    if missing:
        raise ModelError(
            f"drivers {', '.join(missing)} have no shock in the scenario library. "
            "Fix: build the drivers from the same library (library_drivers)."
        )
    dumped = {d: templates[d.removeprefix(SHOCK_PREFIX)][0].model_dump() for d in shocks}
    out = []
    for row in futures.to_dict("records"):
        k = int(row["future"])
        events = []
        for d in shocks:
            value, shock = float(row[d]), dict(dumped[d])
            if shock["type"] == "competitor_entry":
                if value >= horizon[d]:
                    continue
                shock["month"] = max(1, round(value))
            elif value < 1e-9:
                continue
            elif shock["type"] == "regulatory_must_have":
                effort = shock["effort"]
                shock["effort"] = (
                    {s: pw * value for s, pw in effort.items()}
                    if isinstance(effort, dict)
                    else [{**e, "pw": e["pw"] * value} for e in effort]
                )
            else:
                shock["size"] = value
            events.append(shock)
        out.append(
            Scenario.model_validate(
                {
                    "name": f"future_{k}",
                    "description": "a future of the open exploration",
                    "replications": 1,
                    "seed": k,
                    "constants": {p: float(row[p]) for p in params},
                    "shocks": events,
                }
            )
        )
    return out


def explore(
    plans: Sequence[SimulationPlan],
    futures: pd.DataFrame,
    drivers: pd.DataFrame,
    scenarios: Mapping[str, Scenario],
    seed: int,
    *,
    workers: int | None = None,
    progress: bool | None = None,
) -> pd.DataFrame:
    """Every plan once in every future (:func:`future_scenarios`, run by
    :func:`~models.simulation.runner.run_futures` with the root ``seed``: the same seed for every
    plan in the same future). One row per plan and future (``EXPLORATION_COLUMNS``): plan, future,
    seed and the run's summary (npv_eur in EUR, final_mrr in EUR/month, shares 0..1, months)."""
    sims = future_scenarios(futures, drivers, scenarios)
    result = run_futures(plans, sims, seed, workers=workers, progress=progress, keep_series=False)
    index = {sc.name: int(k) for sc, k in zip(sims, futures["future"], strict=True)}
    runs = result.runs
    out = runs.assign(future=runs["scenario"].map(index).astype("int64"))
    return out[EXPLORATION_COLUMNS].reset_index(drop=True)


# ---------------------------------------------------------------------------------------
# Failures and what explains them
# ---------------------------------------------------------------------------------------


FAILURE_FLOORS = {"npv": "misses_npv", "okr_met_share": "misses_okr", "on_time_share": "misses_on_time"}


def explore_failures(
    runs: pd.DataFrame,
    floors: Floors,
    reference: str = STATUS_QUO_PLAN,
    count: Sequence[str] = tuple(FAILURE_FLOORS),
) -> pd.DataFrame:
    """Per plan and future of :func:`explore`'s runs (``FAILURE_COLUMNS``): which floors it misses
    (:func:`models.robustness.floor_misses`; the NPV floor is the ``reference`` plan's NPV in the
    same future unless ``floors.npv`` is set) and ``failed``: it misses at least one of the floors
    named in ``count`` (keys of ``FAILURE_FLOORS``: npv, okr_met_share, on_time_share)."""
    unknown = [c for c in count if c not in FAILURE_FLOORS]
    if unknown or not count:
        raise ModelError(f"unknown floors {unknown or count}. Fix: count some of {', '.join(FAILURE_FLOORS)}.")
    misses = floor_misses(runs, floors, reference, future=["future"])
    out = pd.concat([runs[["plan", "future"]], misses], axis=1)
    out["failed"] = misses[[FAILURE_FLOORS[c] for c in count]].any(axis=1)
    return out[FAILURE_COLUMNS].reset_index(drop=True)


@dataclass(frozen=True)
class Discovery:
    """What breaks one plan: ``boxes`` (:func:`models.robustness.discover`), ``trajectory`` (the
    peeling trade-off of the first box), ``scores`` (driver, label, score: extra-trees feature
    importance, summing to 1, highest first), ``failed_share`` (share of the futures where the plan
    misses a floor), ``futures`` (how many) and ``sentences`` (each box in words)."""

    plan: str
    boxes: pd.DataFrame
    trajectory: pd.DataFrame
    scores: pd.DataFrame
    failed_share: float
    futures: int
    sentences: tuple[str, ...]


def feature_scores(x: pd.DataFrame, failed: np.ndarray, random_state: int = 0) -> pd.DataFrame:
    """Per driver (column of ``x``): how much it tells futures where the plan fails from the others -
    EMA Workbench's extra-trees feature scoring in classification mode (Geurts, Ernst & Wehenkel,
    Machine Learning 63, 2006), ``random_state`` fixed. Columns driver, score (sum 1), highest first;
    all NaN if every future failed or none did."""
    if failed.all() or not failed.any():
        return pd.DataFrame({"driver": list(x.columns), "score": np.nan})
    import warnings

    scoring = ema_analysis("feature_scoring")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        scores, _ = scoring.get_ex_feature_scores(
            x.astype(float),
            failed.astype(int),
            mode=scoring.RuleInductionType.CLASSIFICATION,
            random_state=random_state,
        )
    s = scores.iloc[:, 0]
    return (
        pd.DataFrame({"driver": [str(i) for i in s.index], "score": s.to_numpy(dtype=float)})
        .sort_values(["score", "driver"], ascending=[False, True], kind="stable")
        .reset_index(drop=True)
    )


def what_breaks(
    futures: pd.DataFrame,
    failures: pd.DataFrame,
    drivers: pd.DataFrame,
    plan: str,
    *,
    min_coverage: float = 0.8,
    max_boxes: int = 3,
    random_state: int = 0,
) -> Discovery:
    """The drivers and ranges where ``plan`` misses a floor: PRIM boxes on the driver columns of
    ``futures`` (:func:`models.robustness.discover_with_trajectory` with ``min_coverage`` and
    ``max_boxes``), feature scores (:func:`feature_scores`, ``random_state``) and the boxes said
    in words (which floors the misses inside are mostly of; shares in percent, factors with x,
    months whole). ``failures``: :func:`explore_failures` (the plan's rows are used)."""
    mine = failures.loc[failures["plan"] == plan]
    if mine.empty:
        have = ", ".join(dict.fromkeys(failures["plan"]))
        raise ModelError(f"no runs of plan '{plan}' among the failures (plans: {have}). Fix: explore that plan.")
    names = list(drivers["driver"])
    table = futures.merge(mine, on="future", how="inner", validate="one_to_one")
    x = table[names].astype(float)
    failed = table["failed"].to_numpy(dtype=bool)
    boxes, trajectory = discover_with_trajectory(x, pd.Series(failed), min_coverage=min_coverage, max_boxes=max_boxes)
    labels = dict(zip(drivers["driver"], drivers["label"], strict=True))
    scores = feature_scores(x, failed, random_state)
    scores.insert(1, "label", scores["driver"].map(labels))
    return Discovery(
        plan=plan,
        boxes=boxes,
        trajectory=trajectory,
        scores=scores,
        failed_share=float(failed.mean()) if len(failed) else float("nan"),
        futures=len(table),
        sentences=tuple(_sentences(plan, table, boxes, drivers, scores)),
    )


def _sentences(
    plan: str, table: pd.DataFrame, boxes: pd.DataFrame, drivers: pd.DataFrame, scores: pd.DataFrame
) -> list[str]:
    n, failed = len(table), table["failed"].to_numpy(dtype=bool)
    who = _plan_words(plan)
    # a failure defined by one floor alone (settings.discovery.failure) is named as that floor
    same = [c for c in FLOOR_MISSES if (table[c].astype(bool) == table["failed"].astype(bool)).all()]
    only = same[0] if len(same) == 1 and failed.any() else None
    miss = f"misses its {FLOOR_WORDS[only]} floor" if only else "misses a floor"
    total = int(failed.sum())
    if total == 0:
        return [f"{who} met its floors in all {n:,} futures."]
    if total == n:
        return [f"{who} {miss} in all {n:,} futures, whatever the drivers."]
    if boxes.empty:
        top = [
            f"{r.label} ({r.score:.2f})"
            for r in scores.head(3).itertuples(index=False)
            if isinstance(r.label, str) and np.isfinite(r.score)
        ]
        tail = f"; the drivers that matter most are {_and(top)}" if top else ""
        return [
            f"{who} {miss} in {total:,} of {n:,} futures ({_pct(total / n)}), but no small set of "
            f"drivers explains them{tail}."
        ]
    info = drivers.set_index("driver")
    remaining = np.ones(n, dtype=bool)
    out = []
    for box in boxes.itertuples(index=False):
        limits = {}
        inside = remaining.copy()
        for d in str(box.restricted).split(", "):
            lo = getattr(box, f"{d}_lower", np.nan) if f"{d}_lower" in boxes else np.nan
            hi = getattr(box, f"{d}_upper", np.nan) if f"{d}_upper" in boxes else np.nan
            limits[d] = (lo, hi)
            v = table[d].to_numpy(dtype=float)
            inside &= (v >= lo if np.isfinite(lo) else True) & (v <= hi if np.isfinite(hi) else True)
        remaining &= ~inside
        cases, misses = int(inside.sum()), int((failed & inside).sum())
        where = _and([_condition(info.loc[d], lo, hi) for d, (lo, hi) in limits.items()])
        start = who if box.box == 1 else f"Beyond these, {who[0].lower()}{who[1:]}"
        floors = "" if only else _floors(table.loc[failed & inside])
        out.append(
            f"{start} {miss} in {misses:,} of {cases:,} futures ({_pct(misses / cases if cases else 0)}) "
            f"where {where}; these futures hold {_pct(misses / total)} of its misses{floors}."
        )
    return out


def _plan_words(plan: str) -> str:
    words = plan.replace("_", " ")
    return f"The {words}" if words.endswith("plan") else f"The {words} plan"


def _floors(missed: pd.DataFrame) -> str:
    """Which floors the failed futures in a box miss, e.g. ``, mostly of the OKR floor (35 of 41;
    NPV 12, on-time 3)``."""
    if missed.empty:
        return ""
    counts = {FLOOR_WORDS[c]: int(missed[c].sum()) for c in FLOOR_MISSES}
    top = max(counts, key=counts.get)
    others = [f"{k} {v:,}" for k, v in counts.items() if k != top and v]
    rest = f"; {', '.join(others)}" if others else ""
    return f", mostly of the {top} floor ({counts[top]:,} of {len(missed):,}{rest})"


def _condition(driver: pd.Series, lo: float, hi: float) -> str:
    """One restriction of a box in words, e.g. ``monthly attrition is above 2.1 %``."""
    fmt: Callable[[float], str] = lambda v: _value(v, str(driver["unit"]))  # noqa: E731
    label, shock = str(driver["label"]), driver["kind"] == "shock" and driver["unit"] != "month"
    if driver.name == "realised_value":  # the plan's own bets: said the way round a board reads it
        if np.isfinite(lo) and np.isfinite(hi):
            return f"the plan's ideas deliver between {fmt(lo)} and {fmt(hi)} of their expected value"
        if np.isfinite(lo):
            return f"the plan's ideas deliver more than {fmt(lo)} of their expected value"
        return f"the plan's ideas deliver less than {fmt(hi)} of their expected value"
    if driver["unit"] == "month":  # a calendar month: before / after
        if np.isfinite(lo) and np.isfinite(hi):
            return f"{label} falls between month {round(lo)} and month {round(hi)}"
        return f"{label} comes after month {round(lo)}" if np.isfinite(lo) else f"{label} comes by month {round(hi)}"
    if np.isfinite(lo) and np.isfinite(hi):
        return f"{label} is between {fmt(lo)} and {fmt(hi)}"
    if np.isfinite(lo):
        return f"{label} {'exceeds' if shock else 'is above'} {fmt(lo)}"
    return f"{label} is below {fmt(hi)}"


def _value(v: float, unit: str) -> str:
    if unit == "share":
        return _pct(v)
    if unit == "1/month":
        return f"{v:.1%} a month".replace("%", " %")
    if unit == "1/year":
        return f"{v:.1%} a year".replace("%", " %")
    if unit == "x":
        return f"{v:.2f} x"
    if unit == "months":
        return f"{round(v)} months"
    if unit == "points":
        return f"{v:.0f} points"
    return f"{v:.2f}"


def _pct(share: float) -> str:
    return f"{share * 100:.0f} %" if share * 100 >= 10 or share == 0 else f"{share * 100:.1f} %"


def _and(parts: list[str]) -> str:
    if len(parts) <= 1:
        return "".join(parts)
    return ", ".join(parts[:-1]) + " and " + parts[-1]


# ---------------------------------------------------------------------------------------
# The whole exploration, as the pipeline and the command line run it
# ---------------------------------------------------------------------------------------

TRAJECTORY_COLUMNS = ["plan", "step", "coverage", "density", "mass", "restricted", "chosen"]
BOX_COLUMNS = ["plan", "box", "coverage", "density", "mass", "cases", "restricted", "sentence"]
LIMIT_COLUMNS = ["plan", "box", "driver", "label", "lower", "upper"]


@dataclass(frozen=True)
class Exploration:
    """An open exploration of some plans: ``boxes`` (``BOX_COLUMNS``, one row per plan and sentence; box 0
    is a sentence without a box), ``limits`` (``LIMIT_COLUMNS``, the restricted drivers of each box),
    ``futures`` (the sampled drivers with each plan's outcome and failure: ``<plan>__npv_eur``,
    ``<plan>__failed``), ``drivers`` (``DRIVER_COLUMNS`` and each explored plan's feature score
    ``score_<plan>``), ``trajectory`` (per plan the peeling trade-off of its first box: step,
    coverage, density, mass, restricted drivers, chosen) and ``run_info`` (futures, seed, failure
    floors, plans, failed share per plan, runs, wall_s)."""

    boxes: pd.DataFrame
    limits: pd.DataFrame
    futures: pd.DataFrame
    drivers: pd.DataFrame
    run_info: pd.DataFrame
    trajectory: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=TRAJECTORY_COLUMNS))


def explore_plans(
    plans: Sequence[SimulationPlan],
    scenarios: Mapping[str, Scenario],
    horizon_months: int,
    floors: Floors,
    *,
    futures: int,
    seed: int,
    count: Sequence[str] = ("npv",),
    min_coverage: float = 0.8,
    max_boxes: int = 3,
    workers: int | None = None,
    progress: bool | None = None,
    item_values: Mapping[str, float] | None = None,
    npv_floor: str = "status_quo_mean",
) -> Exploration:
    """Sample ``futures`` futures over every driver of ``scenarios`` (Latin hypercube under ``seed``), run
    ``plans`` through them (the plan named status_quo, when among them, is the NPV floor and is not
    explored itself) and say what breaks each other plan (:func:`what_breaks`).

    ``item_values`` (item -> its estimated benefit, e.g. the business cases' ``pv_benefit_estimated_eur``)
    adds one driver per plan that the library does not hold but every future draws: how much of its
    expected value the plan's ideas deliver in that future (:func:`realised_value`), so a plan that fails
    because its bets did not work says so.

    ``npv_floor``: without ``floors.npv`` in EUR, "status_quo_mean" sets it to the status quo's mean NPV over
    these futures; "status_quo_same_future" compares with the status quo in each future."""
    import time

    started = time.perf_counter()
    drivers = library_drivers(scenarios, horizon_months)
    sampled = sample_futures(drivers, futures, seed)
    runs = explore(plans, sampled, drivers, scenarios, seed, workers=workers, progress=progress)
    sq_runs = runs.loc[runs["plan"] == STATUS_QUO_PLAN, "npv_eur"]
    floor_text = "settings.satisficing.npv" if floors.npv is not None else "the status quo's NPV in the same future"
    if floors.npv is None and npv_floor == "status_quo_mean" and len(sq_runs):
        floors = floors.model_copy(update={"npv": float(sq_runs.mean())})
        floor_text = "the status quo's mean NPV over these futures"
    failures = explore_failures(runs, floors, count=count)
    explored = [p.name for p in plans if p.name != STATUS_QUO_PLAN]
    boxes, limits, shares, trajectories = [], [], {}, []
    table = sampled.copy()
    drivers_out = drivers.copy()
    by_name = {p.name: p for p in plans}
    for name in explored:
        x, d = sampled, drivers
        if item_values is not None:
            mine = runs.loc[runs["plan"] == name].set_index("future")["seed"]
            share = realised_value(by_name[name], item_values, sampled["future"].map(mine).to_numpy(dtype=np.int64))
            x = sampled.assign(realised_value=share)
            d = pd.concat([drivers, pd.DataFrame([_realised_driver(share)])], ignore_index=True)
            table[f"{name}__realised_value"] = share
            if "realised_value" not in set(drivers_out["driver"]):
                drivers_out = pd.concat([drivers_out, pd.DataFrame([_realised_driver(share)])], ignore_index=True)
        found = what_breaks(x, failures, d, name, min_coverage=min_coverage, max_boxes=max_boxes)
        shares[name] = found.failed_share
        if len(found.trajectory):
            trajectories.append(found.trajectory.assign(plan=name))
        mine = runs.loc[runs["plan"] == name].set_index("future")
        table[f"{name}__npv_eur"] = table["future"].map(mine["npv_eur"])
        table[f"{name}__failed"] = table["future"].map(
            failures.loc[failures["plan"] == name].set_index("future")["failed"]
        )
        drivers_out[f"score_{name}"] = drivers_out["driver"].map(found.scores.set_index("driver")["score"])
        label = dict(zip(d["driver"], d["label"], strict=True))
        for k, sentence in enumerate(found.sentences):
            row = {"plan": name, "box": 0, "coverage": np.nan, "density": np.nan, "mass": np.nan, "cases": 0}
            row.update({"restricted": "", "sentence": sentence})
            if k < len(found.boxes):
                b = found.boxes.iloc[k]
                row.update({c: b[c] for c in ("box", "coverage", "density", "mass", "cases", "restricted")})
                for d in str(b["restricted"]).split(", "):
                    limits.append(
                        {
                            "plan": name,
                            "box": int(b["box"]),
                            "driver": d,
                            "label": label.get(d, d),
                            "lower": float(b.get(f"{d}_lower", np.nan)),
                            "upper": float(b.get(f"{d}_upper", np.nan)),
                        }
                    )
            boxes.append(row)
    if STATUS_QUO_PLAN in {p.name for p in plans}:
        sq = runs.loc[runs["plan"] == STATUS_QUO_PLAN].set_index("future")
        table[f"{STATUS_QUO_PLAN}__npv_eur"] = table["future"].map(sq["npv_eur"])
    info = {
        "futures": int(futures),
        "seed": int(seed),
        "drivers": len(drivers),
        "failure": ", ".join(
            {"npv": "NPV", "okr_met_share": "OKR", "on_time_share": "on-time"}.get(c, c) for c in count
        ),
        "npv_floor_eur": floors.npv if floors.npv is not None else float("nan"),
        "npv_floor": floor_text,
        "plans": ", ".join(explored),
        "failed_share": "; ".join(f"{k}: {v:.3f}" for k, v in shares.items()),
        "runs": len(runs),
        "wall_s": round(time.perf_counter() - started, 3),
    }
    return Exploration(
        boxes=pd.DataFrame(boxes, columns=BOX_COLUMNS),
        limits=pd.DataFrame(limits, columns=LIMIT_COLUMNS),
        futures=table,
        drivers=drivers_out,
        run_info=pd.DataFrame([info]),
        trajectory=(
            pd.concat(trajectories, ignore_index=True)[TRAJECTORY_COLUMNS]
            if trajectories
            else pd.DataFrame(columns=TRAJECTORY_COLUMNS)
        ),
    )


REALISED_LABEL = "how much of its expected value the plan's ideas deliver"


def realised_value(plan: SimulationPlan, item_values: Mapping[str, float], seeds: np.ndarray) -> np.ndarray:
    """Per future (its run seed): sum_i v_i R_i / sum_i v_i E[R_i] over the plan's items, with v_i the item's
    estimated benefit, R_i the realisation factor the run draws for it (common random numbers: the
    simulation's own draw, :func:`models.simulation.model.realisation_factors`) and E[R_i] its expectation
    (:func:`models.realisation.expected_factor`): 1 when the ideas deliver as expected on the whole, 0.5
    when half. NaN without items or value."""
    from models.realisation import expected_factor
    from models.simulation.model import realisation_factors

    arrays = plan.arrays
    v = np.array([float(item_values.get(i, 0.0)) for i in arrays.item_ids], dtype=float)
    v = np.where(np.isfinite(v), v, 0.0)
    if not plan.realisation.enabled:
        return np.ones(len(seeds))
    expected = float(v @ expected_factor(np.asarray(arrays.confidence, dtype=float), plan.realisation))
    if not len(v) or abs(expected) < 1e-9:
        return np.full(len(seeds), np.nan)
    return np.array([float(v @ realisation_factors(arrays, plan.realisation, int(s))) for s in seeds]) / expected


def _realised_driver(share: np.ndarray) -> dict:
    finite = share[np.isfinite(share)]
    return {
        "driver": "realised_value",
        "kind": "plan",
        "low": float(finite.min()) if len(finite) else np.nan,
        "high": float(finite.max()) if len(finite) else np.nan,
        "default": 1.0,
        "label": REALISED_LABEL,
        "unit": "x",
        "sources": "the realisation of the plan's items in each future (models/realisation.py)",
    }
