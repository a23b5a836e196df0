"""Uplifts as hypotheses: how much of an estimated KPI uplift an item realises.

A backlog item's ``uplift`` (e.g. +3 % conversion) is what its planners expect if the idea
works. Whether it works is uncertain, so the realised effect is ``uplift x R`` with R a
*realisation factor* drawn per item from a three-part mixture:

* with probability ``p_pos`` the idea works: ``R ~ LogNormal(median m_pos, log-sd s_pos)``,
  R > 0. Its mean ``m_pos exp(s_pos^2 / 2)`` is below 1 because estimates are optimistic:
  an effect that looked good enough to fund is on average an overestimate (the winner's
  curse). Gelman & Carlin ("Beyond Power Calculations", 2014) call the factor by which a
  significant estimate overstates the true effect the *exaggeration ratio* (type M error);
  from their definition it is about 1.4 at 50 % power, 1.1 at 80 %. The defaults take 1.4
  (mean 0.72): that a planner's estimate is as good as a test at 50 % power is judgement;
* with probability ``p_null`` it has no effect: R = 0 (or, with ``null_sd`` > 0, a narrow
  normal N(0, null_sd) around 0);
* with probability ``p_neg`` it harms: ``R = -LogNormal(median m_neg, log-sd s_neg)``, R < 0.

The shares come from online controlled experiments: at Microsoft "only about one-third
[of experiments designed to improve a key metric] were successful at improving the key
metric" (Kohavi, Crook, Longbotham et al., "Online Experimentation at Microsoft", 2009);
Kohavi & Thomke ("The Surprising Power of Online Experiments", HBR Sept-Oct 2017) report
about a third effective, a third neutral and a third negative at Microsoft overall, and only
10-20 % of experiments with positive results at Bing and Google.

**Confidence.** The item's RICE ``confidence`` (a fraction 0..1 as in models/schemas.py;
Intercom's RICE scale: 1.0 high, 0.8 medium, 0.5 low) moves mass from "no effect" and
"harm" to "works":

    p_pos(c)  = p_pos_low + (p_pos_high - p_pos_low) x clip((c - conf_low) / (conf_high - conf_low), 0, 1)
    p_null(c) = (1 - p_pos(c)) x null_share_of_rest
    p_neg(c)  = (1 - p_pos(c)) x (1 - null_share_of_rest)

so p_pos rises and p_null, p_neg fall with c, and the three always sum to 1. With the
defaults a low-confidence item (0.5) works as often as a Bing or Google experiment (15 %), a
medium one (0.8) as often as a Microsoft experiment (33 %); a missing confidence uses
``p_pos_missing`` (one third). Failures split evenly into null and harm (Microsoft's thirds).

**Closed forms** (what the tests check by hand):

    E[R] = p_pos m_pos exp(s_pos^2 / 2) - p_neg m_neg exp(s_neg^2 / 2)          (the null part has mean 0)
    F(x) = p_neg [x < 0] Phi((ln m_neg - ln(-x)) / s_neg) + p_neg [x >= 0]
         + p_null Phi(x / null_sd)   (a step at 0 when null_sd = 0)
         + p_pos [x > 0] Phi((ln x - ln m_pos) / s_pos)

Quantiles invert F: exactly, piece by piece, when null_sd = 0 (the three parts then have
disjoint supports R < 0, R = 0, R > 0); by bisection on F otherwise. Draws are the quantile
function applied to uniforms, so draws and the P10/P50/P90 of a business case come from one
function.

**Common random numbers.** :func:`draws_for` takes each item's uniform from a hash of
(seed, replication, item_id) (BLAKE2b): the same item gets the same factor in every plan
of a replication, whatever else the plan holds and in whatever order, and a new one in the
next replication. :func:`draw_factors` is the plain version for callers that index a
generator's draws by item themselves.

``enabled = False`` turns the model off: every factor is exactly 1 (shares 1, 0, 0).

**Use.** A business case's expected effect is ``uplift x expected_factor`` (exact where the value
is linear in the uplift), its P10/P90 the value at ``uplift x factor_quantiles`` (the value of
one item is monotone in R); :func:`factor_table` gives both per backlog item. A simulation
multiplies each delivered item's uplift by ``draws_for(...)`` of its replication.

Units: R is dimensionless (realised / estimated uplift); confidence a fraction 0..1.
This module is pure (numpy, scipy.special, pandas, pydantic); :class:`RealisationSettings`
holds every number with its source ("judgement" where there is none).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, model_validator
from scipy.special import ndtr, ndtri

from models.errors import ModelError

DEFAULT_QUANTILES = (0.1, 0.5, 0.9)
_U_EPS = 2.0**-54  # uniforms are kept inside (0, 1): no infinite factor from u = 0 or 1
_BISECTION_STEPS = 80  # halvings of the bracket in the numerical inversion (null_sd > 0)


class RealisationSettings(BaseModel):
    """Parameters of the realisation factor R (realised / estimated uplift), each with its source."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = Field(
        True, description="apply realisation; False: every uplift is realised exactly as estimated (R = 1)"
    )
    # chance that an idea works, by RICE confidence
    p_pos_low: float = Field(
        0.15,
        ge=0,
        le=1,
        description="chance that an item of low confidence (conf_low) works (-): 10-20 % of experiments "
        "at Bing and Google generate positive results (Kohavi & Thomke, HBR Sept-Oct 2017); the midpoint",
    )
    p_pos_high: float = Field(
        0.45,
        ge=0,
        le=1,
        description="chance that an item of high confidence (conf_high) works (-); judgement: evidence makes "
        "an idea likelier to work, not certain; with the defaults a medium item (0.8) works a third of the time",
    )
    p_pos_missing: float = Field(
        1 / 3,
        ge=0,
        le=1,
        description="chance that an item without a confidence works (-): about one third of the ideas tested "
        "at Microsoft improved the metric they aimed at (Kohavi, Crook, Longbotham et al., 'Online "
        "Experimentation at Microsoft', 2009)",
    )
    conf_low: float = Field(
        0.5,
        ge=0,
        le=1,
        description="confidence at which p_pos = p_pos_low (-): 50 %, 'low' on Intercom's RICE scale; "
        "lower confidences get p_pos_low",
    )
    conf_high: float = Field(
        1.0,
        ge=0,
        le=1,
        description="confidence at which p_pos = p_pos_high (-): 100 %, 'high' on Intercom's RICE scale",
    )
    null_share_of_rest: float = Field(
        0.5,
        ge=0,
        le=1,
        description="share of the ideas that do not work which have no effect; the rest harm (-): at Microsoft "
        "a third were neutral and a third negative (Kohavi & Thomke, HBR 2017)",
    )
    # the ideas that work: winner's curse
    m_pos: float = Field(
        0.6,
        gt=0,
        description="median of R for an idea that works (x estimated uplift); with s_pos its mean is 0.72, "
        "about 1/1.4: Gelman & Carlin (2014) define the exaggeration ratio (type M error) of a significant "
        "estimate; it is about 1.4 at 50 % power (computed from their definition). The power is judgement",
    )
    s_pos: float = Field(
        0.6,
        ge=0,
        description="log-standard deviation of R for an idea that works (-); judgement: P(R > 1 | works) = 20 %, "
        "a few ideas beat their estimate by far (Bing's ad-headline test: +12 % revenue, Kohavi & Thomke 2017)",
    )
    # no effect
    null_sd: float = Field(
        0.0,
        ge=0,
        description="standard deviation of R for an idea without effect (-); 0: exactly no effect; judgement",
    )
    # harm
    m_neg: float = Field(
        0.2,
        gt=0,
        description="median of |R| for an idea that harms (x estimated uplift); with s_neg its mean is 0.23; "
        "judgement: a harm is smaller than the hoped-for gain and visible harm tends to be rolled back",
    )
    s_neg: float = Field(0.5, ge=0, description="log-standard deviation of |R| for an idea that harms (-); judgement")

    @model_validator(mode="after")
    def _ordered(self) -> RealisationSettings:
        if self.conf_low >= self.conf_high:
            raise ValueError(f"conf_low {self.conf_low} must be below conf_high {self.conf_high}")
        if self.p_pos_low > self.p_pos_high:
            raise ValueError(
                f"p_pos_low {self.p_pos_low} exceeds p_pos_high {self.p_pos_high}: higher confidence must not "
                "make an idea less likely to work"
            )
        return self

    @property
    def mean_pos(self) -> float:
        """E[R | works] = m_pos exp(s_pos^2 / 2)."""
        return self.m_pos * float(np.exp(self.s_pos**2 / 2))

    @property
    def mean_neg(self) -> float:
        """E[R | harms] = -m_neg exp(s_neg^2 / 2) (negative)."""
        return -self.m_neg * float(np.exp(self.s_neg**2 / 2))


# ---------------------------------------------------------------------------------------
# Shares, expectation, quantiles
# ---------------------------------------------------------------------------------------


def _confidence(confidence: np.ndarray | float | Sequence[float] | pd.Series) -> np.ndarray:
    """Confidence as a float array (NaN = missing), checked to be a fraction 0..1."""
    conf = np.atleast_1d(np.asarray(pd.to_numeric(pd.Series(np.ravel(confidence)), errors="coerce"), dtype=float))
    bad = np.isfinite(conf) & ((conf < 0) | (conf > 1))
    if bad.any():
        raise ModelError(
            f"confidence {conf[bad][0]:g} is outside 0..1 ({int(bad.sum())} value(s)). Fix: give confidence as "
            "a fraction (RICE: 1.0 high, 0.8 medium, 0.5 low); divide percentages by 100"
        )
    return conf


def shares(confidence: np.ndarray | float, s: RealisationSettings) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Chances (p_pos, p_null, p_neg) that each item works, has no effect, harms; each sums to 1.

    ``confidence``: RICE confidence per item, a fraction 0..1; NaN uses ``p_pos_missing``.
    With ``enabled = False``: (1, 0, 0) for every item (R = 1 always).
    """
    conf = _confidence(confidence)
    if not s.enabled:
        return np.ones_like(conf), np.zeros_like(conf), np.zeros_like(conf)
    t = np.clip((conf - s.conf_low) / (s.conf_high - s.conf_low), 0.0, 1.0)
    p_pos = np.where(np.isnan(conf), s.p_pos_missing, s.p_pos_low + (s.p_pos_high - s.p_pos_low) * t)
    rest = 1.0 - p_pos
    p_null = rest * s.null_share_of_rest
    return p_pos, p_null, rest - p_null


def expected_factor(confidence: np.ndarray | float, s: RealisationSettings) -> np.ndarray:
    """E[R] per item: p_pos m_pos exp(s_pos^2/2) - p_neg m_neg exp(s_neg^2/2) (x estimated uplift)."""
    p_pos, _, p_neg = shares(confidence, s)
    if not s.enabled:
        return np.ones_like(p_pos)
    return p_pos * s.mean_pos + p_neg * s.mean_neg


def _lognormal_cdf(y: np.ndarray, median: float, sigma: float) -> np.ndarray:
    """P(L <= y) for L ~ LogNormal(median, sigma), y > 0 (a step at the median when sigma = 0)."""
    with np.errstate(divide="ignore"):
        if sigma == 0:
            return (y >= median).astype(float)
        return ndtr((np.log(y) - np.log(median)) / sigma)


def _mixture_cdf(x: np.ndarray, p_pos: np.ndarray, p_null: np.ndarray, p_neg: np.ndarray, s: RealisationSettings):
    """F(x) = P(R <= x) of the mixture, elementwise (x and the shares broadcast)."""
    neg = np.where(x < 0, 1.0 - _lognormal_cdf(np.where(x < 0, -x, 1.0), s.m_neg, s.s_neg), 1.0)
    pos = np.where(x > 0, _lognormal_cdf(np.where(x > 0, x, 1.0), s.m_pos, s.s_pos), 0.0)
    null = ndtr(x / s.null_sd) if s.null_sd > 0 else (x >= 0).astype(float)
    return p_neg * neg + p_null * null + p_pos * pos


def _exact_quantile(u: np.ndarray, p_pos: np.ndarray, p_null: np.ndarray, p_neg: np.ndarray, s: RealisationSettings):
    """Quantile function for null_sd = 0 (smallest x with F(x) >= u): harm for u < p_neg, 0 for
    p_neg <= u <= p_neg + p_null, then the part that works."""
    with np.errstate(divide="ignore", invalid="ignore"):
        v_neg = np.clip(u / np.where(p_neg > 0, p_neg, 1.0), _U_EPS, 1 - _U_EPS)
        v_pos = np.clip((u - p_neg - p_null) / np.where(p_pos > 0, p_pos, 1.0), _U_EPS, 1 - _U_EPS)
    harm = -s.m_neg * np.exp(s.s_neg * ndtri(1.0 - v_neg))  # u -> 0: the worst harm
    works = s.m_pos * np.exp(s.s_pos * ndtri(v_pos))
    return np.where(u < p_neg, harm, np.where(u <= p_neg + p_null, 0.0, works))


def _bisect_quantile(u: np.ndarray, p_pos: np.ndarray, p_null: np.ndarray, p_neg: np.ndarray, s: RealisationSettings):
    """Quantile function for null_sd > 0: smallest x with F(x) >= u, by bisection on the closed-form F."""
    span = 9.0  # sds beyond the median: past the most extreme uniform kept (2**-54, i.e. 8.3 sds)
    lo = np.full(np.broadcast(u, p_pos).shape, -(s.m_neg * np.exp(span * s.s_neg) + span * s.null_sd))
    hi = np.full(lo.shape, s.m_pos * np.exp(span * s.s_pos) + span * s.null_sd)
    for _ in range(_BISECTION_STEPS):  # the bracket (at most ~1e3 wide) shrinks to ~1e-21
        mid = 0.5 * (lo + hi)
        below = _mixture_cdf(mid, p_pos, p_null, p_neg, s) < u
        lo = np.where(below, mid, lo)
        hi = np.where(below, hi, mid)
    return hi


def quantile_function(u: np.ndarray, confidence: np.ndarray | float, s: RealisationSettings) -> np.ndarray:
    """R at probability levels ``u`` (shape (..., n_items), broadcast against the items): the inverse of
    the mixture CDF, exact when null_sd = 0, by bisection otherwise. Every draw and quantile goes through it."""
    p_pos, p_null, p_neg = shares(confidence, s)
    u = np.clip(np.asarray(u, dtype=float), _U_EPS, 1 - _U_EPS)
    if not s.enabled:
        return np.ones(np.broadcast(u, p_pos).shape)
    if s.null_sd == 0:
        return _exact_quantile(u, p_pos, p_null, p_neg, s)
    return _bisect_quantile(u, p_pos, p_null, p_neg, s)


def factor_quantiles(
    confidence: np.ndarray | float, s: RealisationSettings, q: Sequence[float] = DEFAULT_QUANTILES
) -> np.ndarray:
    """Quantiles of R per item: array (n_items x len(q)), e.g. P10, P50, P90 for a business case."""
    conf = _confidence(confidence)
    levels = np.asarray(q, dtype=float)
    if ((levels <= 0) | (levels >= 1)).any():
        raise ModelError(f"quantile levels {list(levels)} must lie strictly between 0 and 1")
    return quantile_function(levels[:, None], conf, s).T


# ---------------------------------------------------------------------------------------
# Draws
# ---------------------------------------------------------------------------------------


def draw_factors(confidence: np.ndarray | float, s: RealisationSettings, rng: np.random.Generator, size: int):
    """R for ``size`` replications x n_items from ``rng`` (one uniform per item and replication, mapped
    through :func:`quantile_function`). For common random numbers across plans draw for the whole
    backlog in a fixed item order and index by item, or use :func:`draws_for`."""
    conf = _confidence(confidence)
    return quantile_function(rng.random((int(size), conf.size)), conf, s)


def item_uniforms(item_ids: Sequence[str], seed: int, replication: int) -> np.ndarray:
    """One uniform in (0, 1) per item from BLAKE2b of "seed:replication:item_id": a function of the
    item alone (not of the other items or their order), stable across platforms and numpy versions."""
    out = np.empty(len(item_ids))
    prefix = f"{int(seed)}:{int(replication)}:"
    for k, item in enumerate(item_ids):
        digest = hashlib.blake2b((prefix + str(item)).encode(), digest_size=8).digest()
        out[k] = ((int.from_bytes(digest, "little") >> 11) + 0.5) * 2.0**-53
    return out


def draws_for(
    item_ids: Sequence[str],
    confidence: np.ndarray | float,
    s: RealisationSettings,
    seed: int,
    replication: int | Sequence[int],
) -> np.ndarray:
    """R per item for one replication (shape (n_items,)) or several (shape (n_replications, n_items)),
    the same for an item in every plan: its uniform comes from (seed, replication, item_id) only
    (:func:`item_uniforms`) and goes through :func:`quantile_function`."""
    ids = [str(i) for i in item_ids]
    conf = _confidence(confidence)
    if conf.size == 1 and len(ids) != 1:
        conf = np.full(len(ids), conf[0])
    if conf.size != len(ids):
        raise ModelError(f"{len(ids)} item ids but {conf.size} confidences; give one confidence per item")
    if isinstance(replication, (int, np.integer)):
        return quantile_function(item_uniforms(ids, seed, int(replication)), conf, s)
    u = np.array([item_uniforms(ids, seed, int(r)) for r in replication]).reshape(-1, len(ids))
    return quantile_function(u, conf, s)


def stated_confidence(backlog: pd.DataFrame) -> pd.Series:
    """Each item's RICE confidence as its source stated it, NaN where the reader filled in a default.

    The readers record the value inputs a row gave in ``value_inputs`` (e.g. "kpi,reach,confidence");
    a confidence not named there is the reader's neutral default, no judgement of the planners, so the
    realisation uses ``p_pos_missing`` for it. A backlog without that column (built in code) is taken
    as stated."""
    conf = backlog["confidence"] if "confidence" in backlog.columns else pd.Series(np.nan, index=backlog.index)
    conf = pd.to_numeric(conf, errors="coerce").astype(float)
    if "value_inputs" not in backlog.columns:
        return conf
    given = backlog["value_inputs"].fillna("").astype(str).str.split(",").map(lambda names: "confidence" in names)
    return conf.where(given.astype(bool))


def factor_table(backlog: pd.DataFrame, s: RealisationSettings, q: Sequence[float] = DEFAULT_QUANTILES) -> pd.DataFrame:
    """Per backlog item: item_id, confidence (as stated, :func:`stated_confidence`), p_pos, p_null, p_neg,
    expected_factor and one column ``factor_p<100 q>`` per quantile level (e.g. factor_p10, factor_p50,
    factor_p90)."""
    c = _confidence(stated_confidence(backlog))
    p_pos, p_null, p_neg = shares(c, s)
    table = pd.DataFrame(
        {
            "item_id": backlog["item_id"].astype(str).to_numpy(),
            "confidence": c,
            "p_pos": p_pos,
            "p_null": p_null,
            "p_neg": p_neg,
            "expected_factor": expected_factor(c, s),
        }
    )
    quantiles = factor_quantiles(c, s, q)
    for j, level in enumerate(q):
        table[f"factor_p{round(100 * level):d}"] = quantiles[:, j]
    return table


def estimates_to_test(cases: pd.DataFrame, item_ids: Sequence[str], n: int = 3) -> pd.DataFrame:
    """The ``n`` estimates most worth testing before the money is spent: among the business cases of
    ``item_ids`` that move a KPI, those with the most estimated value at stake, i.e. the estimated
    benefit (``pv_benefit_estimated_eur``) times the chance the idea does not work (1 - ``p_works``).
    Returns their rows with ``at_stake_eur``, largest first."""
    c = cases.loc[cases["item_id"].astype(str).isin({str(i) for i in item_ids}) & (cases["kpi"] != "none")]
    c = c.assign(at_stake_eur=c["pv_benefit_estimated_eur"].astype(float) * (1.0 - c["p_works"].astype(float)))
    return c.sort_values(["at_stake_eur", "item_id"], ascending=[False, True]).head(n).reset_index(drop=True)
