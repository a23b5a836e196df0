"""Calibration of the simulation against real data: estimate overruns and Bass diffusion.

Overruns (:func:`fit_effort_lognormal`). Source: the issues with due dates of eight open-source
Jira repositories in Choetkiertikul, Dam, Tran & Ghose (2017) "Predicting the delay of issues
with due dates in software projects", Empirical Software Engineering 22(3):1223-1263 (files
``*_due.csv``: ``delaydays`` = days the issue was resolved after its due date, 0 = on time;
``RemainingDay`` = days from the moment the due date was set to the due date).

Mapping from "delay past the due date" to an effort multiplier M (actual / planned effort):

* planned duration D = ``RemainingDay``; actual duration = D + ``delaydays``;
* M = actual / planned duration: a schedule overrun is read as an effort overrun of the
  same size (fixed staffing). An on-time issue tells only that M <= 1 (censored);
* only issues planned at least ``min_planned_days`` = 28 days ahead are used: the model plans
  in months, and for issues due within days the ratio is dominated by day rounding (a
  one-day plan resolved ten days late has M = 11);
* the lognormal ln M ~ N(mu, sigma) is fitted by matching two statistics of the data exactly
  (closed form): the delayed share s = P(M > 1) = Phi(mu / sigma) and the median overrun of
  the delayed issues r = median(M | M > 1), which is the (1 - s/2) quantile of M:
  sigma = ln r / (Phi^-1(s) + Phi^-1(1 - s/2)), mu = sigma Phi^-1(s).

The model draws an item's multiplier as ``effort_multiplier x exp(item_effort_sigma x z)``,
so ``effort_multiplier`` = e^mu (the median) and ``item_effort_sigma`` = sigma.
:func:`delay_statistics` and :func:`simulated_delays` give the delayed share and the
median delay of the data and of draws from a fit, for the credibility test.

Bass (:func:`bass_cumulative`, :func:`fit_bass`): the closed form of Bass (1969) and a
least-squares fit of (p, q, m) to per-period adoptions (scipy); :func:`mean_adoption` is the
model's mean adoption path to hold against them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from statistics import NormalDist

import numpy as np
import pandas as pd

from models.errors import ModelError
from models.simulation.model import PortfolioMarketModel
from models.simulation.plan import single_product_plan

MIN_PLANNED_DAYS = 28  # issues due at least four weeks out (the model steps in months)
_N = NormalDist()


# ---------------------------------------------------------------------------------------
# Estimate overruns
# ---------------------------------------------------------------------------------------


def read_delays(source: str | Path | list[str | Path]) -> pd.DataFrame:
    """Issues with due dates: project, issuekey, delay_days, planned_days.

    ``source``: a folder of ``*_due.csv`` files (project = file name before ``_due``), one
    such file, or a CSV already in this layout (columns project, issuekey, delaydays,
    RemainingDay), e.g. the excerpt in tests/data/delays/. Duplicate issue keys keep the
    first row.
    """
    paths = [Path(p) for p in (source if isinstance(source, list) else [source])]
    files: list[Path] = []
    for p in paths:
        files.extend(sorted(p.glob("*.csv")) if p.is_dir() else [p])
    if not files:
        raise ModelError(
            f"no delay files (*.csv) in {', '.join(map(str, paths))}. Fix: point to the folder "
            "validation/jira/delays/ or to tests/data/delays/delays_excerpt.csv."
        )
    frames = []
    for f in files:
        df = pd.read_csv(f)
        missing = [c for c in ("issuekey", "delaydays", "RemainingDay") if c not in df.columns]
        if missing:
            raise ModelError(
                f"{f}: columns {', '.join(missing)} missing. Fix: use the *_due.csv files of "
                "Choetkiertikul et al. (2017) or an excerpt with the same columns."
            )
        if "project" not in df.columns:
            df["project"] = f.stem.removesuffix("_due")
        frames.append(df[["project", "issuekey", "delaydays", "RemainingDay"]])
    out = pd.concat(frames, ignore_index=True).drop_duplicates("issuekey", keep="first")
    return out.rename(columns={"delaydays": "delay_days", "RemainingDay": "planned_days"}).reset_index(drop=True)


def usable(delays: pd.DataFrame, min_planned_days: float = MIN_PLANNED_DAYS) -> pd.DataFrame:
    """The issues planned at least ``min_planned_days`` ahead, with their duration ratio ``ratio``."""
    df = delays.loc[delays["planned_days"] >= min_planned_days].copy()
    df["ratio"] = (df["planned_days"] + df["delay_days"]) / df["planned_days"]
    return df


def delay_statistics(delay_days: np.ndarray, planned_days: np.ndarray) -> dict[str, float]:
    """n, delayed_share (delay > 0), median_delay_days and median_overrun (median of actual /
    planned duration) among the delayed issues."""
    delay = np.asarray(delay_days, dtype=float)
    planned = np.asarray(planned_days, dtype=float)
    late = delay > 0
    return {
        "n": len(delay),
        "delayed_share": float(late.mean()) if len(delay) else math.nan,
        "median_delay_days": float(np.median(delay[late])) if late.any() else math.nan,
        "median_overrun": float(np.median((planned[late] + delay[late]) / planned[late])) if late.any() else math.nan,
    }


@dataclass(frozen=True)
class OverrunFit:
    """A lognormal effort multiplier fitted to delay data.

    median = e^mu (the model's ``effort_multiplier``); sigma = log-sd (``item_effort_sigma``);
    delayed_share and median_overrun: the two statistics of the data it reproduces;
    n: issues used; min_planned_days: the filter applied.
    """

    median: float
    sigma: float
    delayed_share: float
    median_overrun: float
    n: int
    min_planned_days: float

    def draw(self, rng: np.random.Generator, size: int) -> np.ndarray:
        """``size`` effort multipliers."""
        return self.median * np.exp(self.sigma * rng.standard_normal(size))


def lognormal_from_delays(delayed_share: float, median_overrun: float) -> tuple[float, float]:
    """(median, sigma) of the lognormal M with P(M > 1) = delayed_share and
    median(M | M > 1) = median_overrun (closed form, see the module docstring)."""
    if not 0 < delayed_share < 1 or median_overrun <= 1:
        raise ModelError(
            f"cannot fit a lognormal to delayed share {delayed_share} and median overrun "
            f"{median_overrun}: need 0 < share < 1 and overrun > 1. Fix: use more issues."
        )
    z1 = _N.inv_cdf(delayed_share)
    z2 = _N.inv_cdf(1 - delayed_share / 2)
    sigma = math.log(median_overrun) / (z1 + z2)
    return math.exp(sigma * z1), sigma


def fit_effort_lognormal(delays: pd.DataFrame, min_planned_days: float = MIN_PLANNED_DAYS) -> OverrunFit:
    """Fit the lognormal effort multiplier to issues with due dates (see the module docstring)."""
    df = usable(delays, min_planned_days)
    stats = delay_statistics(df["delay_days"].to_numpy(), df["planned_days"].to_numpy())
    median, sigma = lognormal_from_delays(stats["delayed_share"], stats["median_overrun"])
    return OverrunFit(
        median=median,
        sigma=sigma,
        delayed_share=stats["delayed_share"],
        median_overrun=stats["median_overrun"],
        n=stats["n"],
        min_planned_days=min_planned_days,
    )


def fit_by_project(delays: pd.DataFrame, min_planned_days: float = MIN_PLANNED_DAYS) -> pd.DataFrame:
    """One row per project: n, delayed_share, median_overrun, median_delay_days, median, sigma."""
    rows = []
    for project, g in delays.groupby("project", sort=True):
        f = fit_effort_lognormal(g, min_planned_days)
        d = usable(g, min_planned_days)
        rows.append(
            {
                "project": project,
                "n": f.n,
                "delayed_share": f.delayed_share,
                "median_overrun": f.median_overrun,
                "median_delay_days": float(d.loc[d["delay_days"] > 0, "delay_days"].median()),
                "median": f.median,
                "sigma": f.sigma,
            }
        )
    return pd.DataFrame(rows)


def simulated_delays(
    fit: OverrunFit, planned_days: np.ndarray, rng: np.random.Generator, draws: int = 200_000
) -> dict[str, float]:
    """:func:`delay_statistics` of ``draws`` issues: planned days resampled from ``planned_days``,
    multiplier M drawn from ``fit``, delay = max(0, M - 1) x planned days (days, not rounded).

    The delay in days reproduces the data only as far as the overrun does not depend on the
    planned duration: the model scales effort, so its target is the relative delay
    (``median_overrun``); ``median_delay_days`` is reported for information."""
    planned = rng.choice(np.asarray(planned_days, dtype=float), size=draws, replace=True)
    m = fit.draw(rng, draws)
    delay = np.maximum(m - 1.0, 0.0) * planned
    return delay_statistics(delay, planned)


# ---------------------------------------------------------------------------------------
# Bass diffusion
# ---------------------------------------------------------------------------------------


def bass_cumulative(t: np.ndarray | float, p: float, q: float) -> np.ndarray:
    """Bass (1969) adopted share F(t) = (1 - e^{-(p+q)t}) / (1 + (q/p) e^{-(p+q)t}); t in the
    time unit of p and q (one model step when they are used per step)."""
    t = np.asarray(t, dtype=float)
    e = np.exp(-(p + q) * t)
    return (1.0 - e) / (1.0 + (q / p) * e)


@dataclass(frozen=True)
class BassFit:
    """(p, q, m) fitted to per-period adoptions, with the R^2 of the fitted curve."""

    p: float
    q: float
    m: float
    r2: float
    periods: int


def r_squared(observed: np.ndarray, predicted: np.ndarray) -> float:
    """1 - SS_res / SS_tot."""
    y = np.asarray(observed, dtype=float)
    resid = y - np.asarray(predicted, dtype=float)
    return float(1.0 - (resid @ resid) / ((y - y.mean()) @ (y - y.mean())))


def fit_bass(adoptions: np.ndarray) -> BassFit:
    """Least-squares fit of the Bass closed form to adoptions per period (period 1 first):
    adoptions_t = m (F(t) - F(t-1)). scipy ``least_squares`` (trust region, bounded), started
    from several (p, q) pairs; the best fit wins."""
    from scipy.optimize import least_squares

    y = np.asarray(adoptions, dtype=float)
    t = np.arange(len(y) + 1, dtype=float)

    def resid(theta: np.ndarray) -> np.ndarray:
        p, q, m = theta
        return m * np.diff(bass_cumulative(t, p, q)) - y

    best = None
    for p0, q0 in ((0.01, 0.3), (0.03, 0.38), (0.005, 0.8), (0.02, 0.6)):
        res = least_squares(
            resid, x0=[p0, q0, y.sum() * 1.05], bounds=([1e-6, 0.0, y.sum() * 0.5], [1.0, 3.0, y.sum() * 10])
        )
        if best is None or res.cost < best.cost:
            best = res
    p, q, m = (float(v) for v in best.x)
    return BassFit(p=p, q=q, m=m, r2=r_squared(y, y + best.fun), periods=len(y))


def mean_adoption(
    p: float, q: float, m: int, steps: int, replications: int = 200, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Mean adopters after each step and mean new adopters per step of the simulation model over
    ``replications`` runs (seeds ``seed``, ``seed + 1``, ...): one product with market potential ``m``,
    p and q per step, no users at the start, no churn, no competitor, no shocks."""
    plan = single_product_plan(users=0, market_potential=m, bass_p=p, bass_q=q, churn_rate=0.0, months=steps)
    mau, new = np.zeros(steps), np.zeros(steps)
    for r in range(replications):
        model = PortfolioMarketModel(plan, None, seed=seed + r)
        model.run_model()
        mau += model.datacollector.column("mau")[:, 0]
        new += model.datacollector.column("new_users")[:, 0]
    return mau / replications, new / replications


def published_bass_parameters(path: str | Path) -> pd.DataFrame:
    """The published (p, q) table (validation/bass/published_bass_parameters.csv) with its row
    number (1-based, header excluded) for citation."""
    df = pd.read_csv(path)
    df.insert(0, "row", np.arange(1, len(df) + 1))
    return df
