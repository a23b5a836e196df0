"""Prioritisation scores on the canonical backlog: RICE, WSJF, weighted scoring, MoSCoW
and the value-vs-effort quadrant.

Every function takes the canonical backlog (:class:`models.schemas.Backlog`) and returns a
Series indexed by ``item_id`` (or, for :func:`priority_scores`, one row per item). Efforts
are person-weeks (pw), summed over the ``effort_<skill>`` columns. Scores are unitless
unless stated otherwise. Nothing here reads files or prints.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from models.errors import FormulaError, ModelError
from models.formula import parse_formula
from models.names import CRITERIA, RANKED_METHODS
from models.schemas import MOSCOW, effort_columns, total_effort_pw
from models.settings import Settings

# Criteria (models.names.CRITERIA) that count against an item in the weighted score.
COST_CRITERIA = frozenset({"effort"})

# Used by priority_scores when settings.scoring_weights is empty.
DEFAULT_WEIGHTS: dict[str, float] = {
    "business_value": 0.3,
    "time_criticality": 0.15,
    "risk_reduction": 0.1,
    "reach": 0.1,
    "confidence": 0.1,
    "effort": 0.25,
}

QUADRANTS = ("quick win", "big bet", "fill-in", "money pit")


def _by_item(backlog: pd.DataFrame, values, name: str) -> pd.Series:
    return pd.Series(np.asarray(values, dtype=float), index=pd.Index(backlog["item_id"], name="item_id"), name=name)


def total_effort(backlog: pd.DataFrame) -> pd.Series:
    """Total effort of each item in person-weeks (sum of the ``effort_<skill>`` columns)."""
    cols = effort_columns(backlog)
    if not cols:
        raise ModelError("the backlog has no effort_<skill> columns; add at least one (person-weeks per skill).")
    return _by_item(backlog, total_effort_pw(backlog), "effort_pw")


def rice(backlog: pd.DataFrame) -> pd.Series:
    """RICE score = reach x impact x confidence / total effort (person-weeks).

    Reach is in the backlog's own unit (users or events per period), impact on the usual
    0.25..3 scale, confidence a fraction 0..1. An item without effort gets NaN (the schema
    forbids it, so this only happens on unvalidated input).
    """
    effort = total_effort(backlog).to_numpy()
    num = (backlog["reach"] * backlog["impact"] * backlog["confidence"]).to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        score = np.where(effort > 0, num / np.where(effort > 0, effort, 1.0), np.nan)
    return _by_item(backlog, score, "rice")


def job_size(backlog: pd.DataFrame) -> pd.Series:
    """WSJF job size: story points where present (and > 0), else total effort in person-weeks.

    The two units are not the same; teams that estimate some items in story points and
    others in person-weeks get sizes on two scales. Readers convert story points to
    person-weeks through the team's velocity where they can, which removes the mix.
    """
    effort = total_effort(backlog)
    if "story_points" in backlog.columns:
        sp = pd.to_numeric(backlog["story_points"], errors="coerce").to_numpy(dtype=float)
        use_sp = np.isfinite(sp) & (sp > 0)
        size = np.where(use_sp, sp, effort.to_numpy())
    else:
        size = effort.to_numpy()
    return _by_item(backlog, size, "job_size")


def cost_of_delay(backlog: pd.DataFrame) -> pd.Series:
    """WSJF cost of delay = business_value + time_criticality + risk_reduction (relative points)."""
    cod = backlog["business_value"] + backlog["time_criticality"] + backlog["risk_reduction"]
    return _by_item(backlog, cod, "cost_of_delay")


def wsjf(backlog: pd.DataFrame) -> pd.Series:
    """WSJF = (business_value + time_criticality + risk_reduction) / job size (see :func:`job_size`)."""
    size = job_size(backlog).to_numpy()
    cod = cost_of_delay(backlog).to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        score = np.where(size > 0, cod / np.where(size > 0, size, 1.0), np.nan)
    return _by_item(backlog, score, "wsjf")


def moscow_rank(backlog: pd.DataFrame) -> pd.Series:
    """MoSCoW as a rank: Must=1, Should=2, Could=3, Won't=4 (lower is more important)."""
    order = {m: k + 1 for k, m in enumerate(MOSCOW)}
    unknown = sorted(set(backlog["moscow"]) - set(order))
    if unknown:
        raise ModelError(f"unknown MoSCoW value(s) {unknown}; use one of {list(MOSCOW)}.")
    return _by_item(backlog, backlog["moscow"].map(order), "moscow_rank").astype(int)


def _criterion(backlog: pd.DataFrame, name: str) -> pd.Series:
    if name == "effort":
        return total_effort(backlog)
    if name == "rice":
        return rice(backlog)
    if name == "wsjf":
        return wsjf(backlog)
    if name == "moscow":
        return 5 - moscow_rank(backlog)
    if name == "cost_of_delay":
        return cost_of_delay(backlog)
    if name == "value":
        name = "business_value"
    return _by_item(backlog, pd.to_numeric(backlog[name], errors="coerce"), name)


def min_max(values: pd.Series) -> pd.Series:
    """Scale to 0..1 over the series (min -> 0, max -> 1). A constant series maps to 0.5;
    missing values count as the worst (0)."""
    v = values.astype(float)
    lo, hi = v.min(), v.max()
    if not np.isfinite(lo) or not np.isfinite(hi) or hi == lo:
        out = pd.Series(0.5, index=v.index)
    else:
        out = (v - lo) / (hi - lo)
    return out.where(v.notna(), 0.0)


def weighted_score(backlog: pd.DataFrame, weights: Mapping[str, float]) -> pd.Series:
    """Weighted score in 0..1: sum_c |w_c| s_c / sum_c |w_c|.

    Each criterion c is min-max normalised over the backlog (:func:`min_max`) to n_c. A
    benefit criterion scores s_c = n_c; a cost criterion scores s_c = 1 - n_c. "effort"
    is always a cost criterion, and so is any criterion given a negative weight (a negative
    weight on "effort" still counts against once, not twice). Allowed criteria: CRITERIA.
    """
    if not weights:
        raise ModelError(
            "no scoring weights given; set scoring_weights in the settings, e.g. {business_value: 0.5, effort: 0.5}."
        )
    unknown = [c for c in weights if c not in CRITERIA]
    if unknown:
        raise ModelError(
            f"scoring_weights: unknown criterion {unknown[0]!r}. Allowed criteria: {', '.join(CRITERIA)}. "
            "Fix: rename or remove it in the settings."
        )
    total = sum(abs(float(w)) for w in weights.values())
    if total == 0:
        raise ModelError("scoring_weights are all zero; give at least one criterion a weight.")
    score = pd.Series(0.0, index=pd.Index(backlog["item_id"], name="item_id"))
    for name, w in weights.items():
        n = min_max(_criterion(backlog, name))
        s = 1.0 - n if (name in COST_CRITERIA or w < 0) else n
        score = score + abs(float(w)) * s.to_numpy()
    return (score / total).rename("weighted")


def value_effort_quadrant(value: pd.Series, effort: pd.Series) -> pd.Series:
    """Value-vs-effort quadrant of each item, split at the medians.

    High value means value >= median(value); high effort means effort >= median(effort)
    (an item exactly at a median counts as high on that axis). Quadrants: high value and
    low effort "quick win", high value and high effort "big bet", low value and low effort
    "fill-in", low value and high effort "money pit". Index follows ``value``.
    """
    effort = effort.reindex(value.index) if not effort.index.equals(value.index) else effort
    hv = value >= value.median()
    he = effort >= effort.median()
    out = np.select([hv & ~he, hv & he, ~hv & ~he], ["quick win", "big bet", "fill-in"], "money pit")
    return pd.Series(out, index=value.index, name="quadrant")


def rank_desc(score: pd.Series) -> pd.Series:
    """Rank 1 = highest score; ties (and NaN, which go last) ordered by the index (item_id)."""
    frame = pd.DataFrame({"s": score.to_numpy(), "id": score.index.astype(str)}, index=score.index)
    frame["s"] = frame["s"].fillna(-np.inf)
    order = frame.sort_values(["s", "id"], ascending=[False, True], kind="mergesort").index
    return pd.Series(np.arange(1, len(order) + 1), index=order).reindex(score.index)


def priority_scores(backlog: pd.DataFrame, settings: Settings) -> pd.DataFrame:
    """One row per item: rice, wsjf, weighted (0..1), moscow (rank), quadrant and the rank
    under each method (rank_rice, rank_wsjf, rank_weighted, rank_moscow; 1 = best, ties by
    item_id).

    The weighted score uses ``settings.scoring_weights`` (DEFAULT_WEIGHTS when empty). The
    quadrant plots business_value against total effort (person-weeks). Each of
    ``settings.scoring_formulas`` adds formula_<name> and rank_formula_<name>
    (:func:`formula_score`).
    """
    weights = dict(settings.scoring_weights) or DEFAULT_WEIGHTS
    r, w, ws, m = rice(backlog), wsjf(backlog), weighted_score(backlog, weights), moscow_rank(backlog)
    effort = total_effort(backlog)
    value = _by_item(backlog, backlog["business_value"], "business_value")
    out = pd.DataFrame(
        {
            "item_id": backlog["item_id"].astype(str).to_numpy(),
            "title": backlog["title"].to_numpy(),
            "product": backlog["product"].to_numpy(),
            "effort_pw": effort.to_numpy(),
            "rice": r.to_numpy(),
            "wsjf": w.to_numpy(),
            "weighted": ws.to_numpy(),
            "moscow": m.to_numpy(),
            "quadrant": value_effort_quadrant(value, effort).to_numpy(),
            "rank_rice": rank_desc(r).to_numpy(),
            "rank_wsjf": rank_desc(w).to_numpy(),
            "rank_weighted": rank_desc(ws).to_numpy(),
            "rank_moscow": rank_desc(-m.astype(float)).to_numpy(),
        }
    )
    for name, text in settings.scoring_formulas.items():
        score = formula_score(backlog, name, text)
        out[f"formula_{name}"] = score.to_numpy()
        out[f"rank_formula_{name}"] = rank_desc(score).to_numpy()
    return out


def formula_score(backlog: pd.DataFrame, name: str, text: str) -> pd.Series:
    """A planner's own score: ``text`` evaluated per item over the CRITERIA (e.g.
    "reach * impact * confidence / effort"), safely (:mod:`models.formula`, no eval).

    Raises FormulaError (a ModelError) naming settings scoring_formulas.<name> for anything
    but arithmetic, and for a score that is not a finite number where every criterion it
    reads is one (an overflow beyond float64's 1.8e308, a division by zero, the log of a
    negative number): such a score would rank nowhere. An item missing a criterion (e.g. no
    story points) gets NaN, which ranks last."""
    where = f"settings scoring_formulas.{name}"
    f = parse_formula(text, CRITERIA, where=where)
    inputs = {c: _criterion(backlog, c).to_numpy(dtype=float) for c in f.names}
    values = np.broadcast_to(f.evaluate(inputs), (len(backlog),))
    known = np.ones(len(backlog), dtype=bool)
    for v in inputs.values():
        known &= np.isfinite(v)
    bad = known & ~np.isfinite(values)
    if bad.any():
        ids = backlog["item_id"].astype(str).to_numpy()[bad]
        shown = ", ".join(f"{i} ({v:g})" for i, v in zip(ids[:5], values[bad][:5], strict=True))
        raise FormulaError(
            where,
            f"the formula {text!r} gives no finite score for {int(bad.sum())} item(s) whose criteria are numbers "
            f"({shown}{', ...' if len(ids) > 5 else ''}). Values beyond 1.8e308 overflow (inf), as does a division "
            "by zero; the log or square root of a negative number is nan.",
            "keep the score within that range (smaller constants and exponents, or log(...) of a product) and "
            "guard divisions, e.g. where(effort > 0, reach / effort, 0).",
        )
    return _by_item(backlog, values, f"formula_{name}")


# -- agreement between methods ---------------------------------------------------------------
def rank_correlation(scores: pd.DataFrame, top_k: int = 10) -> pd.DataFrame:
    """How much the prioritisation methods agree, for every pair of methods.

    ``scores`` is :func:`priority_scores` (columns rank_<method>, including the planner's
    own formulas as formula_<name>). Columns: method_a,
    method_b, spearman (Spearman's rank correlation: the Pearson correlation of the ranks,
    1 = same order, 0 = unrelated, -1 = reversed), top_k (k used) and top_k_overlap (share
    of the k best items of method_a that are also among the k best of method_b)."""
    methods = [m for m in RANKED_METHODS if f"rank_{m}" in scores.columns]
    methods += [c[len("rank_") :] for c in scores.columns if c.startswith("rank_formula_")]
    k = max(1, min(int(top_k), len(scores)))
    rows = []
    for a_i, a in enumerate(methods):
        for b in methods[a_i + 1 :]:
            ra, rb = scores[f"rank_{a}"].astype(float), scores[f"rank_{b}"].astype(float)
            rho = (
                float(np.corrcoef(ra, rb)[0, 1]) if len(scores) > 1 and ra.std() > 0 and rb.std() > 0 else float("nan")
            )
            top_a = set(scores.loc[ra <= k, "item_id"])
            top_b = set(scores.loc[rb <= k, "item_id"])
            rows.append(
                {"method_a": a, "method_b": b, "spearman": rho, "top_k": k, "top_k_overlap": len(top_a & top_b) / k}
            )
    return pd.DataFrame(rows, columns=["method_a", "method_b", "spearman", "top_k", "top_k_overlap"])


# Estimates a planner gives and how uncertain they are taken to be in rank_stability: each
# is multiplied by a lognormal factor exp(N(0, sigma)), sigma = BASE_SIGMA + (1 - confidence) x
# CONFIDENCE_SIGMA, so an item its owner is unsure about moves more.
PERTURBED = ("reach", "impact", "business_value", "time_criticality", "risk_reduction", "story_points")
BASE_SIGMA = 0.15
CONFIDENCE_SIGMA = 0.5
WEIGHT_SIGMA = 0.3  # lognormal spread of each scoring weight


def rank_stability(
    backlog: pd.DataFrame, settings: Settings, top_k: int = 10, draws: int = 300, seed: int = 0
) -> pd.DataFrame:
    """Monte Carlo rank stability: with estimates and weights drawn from their uncertainty,
    the chance that each item stays among the ``top_k`` of each method.

    Per draw, every estimate in PERTURBED and each item's effort are multiplied by
    exp(N(0, sigma_i)) with sigma_i = BASE_SIGMA + (1 - confidence_i) x CONFIDENCE_SIGMA,
    and each scoring weight by exp(N(0, WEIGHT_SIGMA)); then RICE, WSJF and the weighted
    score are recomputed and ranked. All draws come from numpy's default_rng(seed).

    Columns: item_id, method, base_rank, p_top_k (share of draws in the top k), rank_p10,
    rank_p50, rank_p90, draws, seed, top_k."""
    if draws < 1:
        raise ModelError("rank_stability needs at least one draw.")
    weights = dict(settings.scoring_weights) or DEFAULT_WEIGHTS
    methods = ("rice", "wsjf", "weighted")
    base_ranks = {
        "rice": rank_desc(rice(backlog)),
        "wsjf": rank_desc(wsjf(backlog)),
        "weighted": rank_desc(weighted_score(backlog, weights)),
    }  # also checks the weights
    rng = np.random.default_rng(seed)
    n = len(backlog)
    k = max(1, min(int(top_k), n))
    conf = pd.to_numeric(backlog["confidence"], errors="coerce").fillna(1.0).clip(0, 1).to_numpy()
    sigma = BASE_SIGMA + (1.0 - conf) * CONFIDENCE_SIGMA
    cols = [c for c in PERTURBED if c in backlog.columns] + effort_columns(backlog)
    # the draws in the order a loop over draws would take them: per draw one normal per item
    # and column, then one per weight
    z = rng.standard_normal((draws, len(cols) * n + len(weights)))
    values = {
        c: backlog[c].astype(float).to_numpy() * np.exp(sigma * z[:, i * n : (i + 1) * n]) for i, c in enumerate(cols)
    }
    factors = np.exp(WEIGHT_SIGMA * z[:, len(cols) * n :])
    drawn = {name: v * factors[:, i] for i, (name, v) in enumerate(weights.items())}
    criteria = _Criteria(backlog, values, draws)
    scores = {"rice": criteria.get("rice"), "wsjf": criteria.get("wsjf"), "weighted": _weighted_rows(criteria, drawn)}
    id_order = np.argsort(backlog["item_id"].astype(str).to_numpy(), kind="stable")
    out = {
        "item_id": np.tile(backlog["item_id"].astype(str).to_numpy(), len(methods)).astype(object),
        "method": np.repeat(np.array(methods, dtype=object), n),
    }
    parts = []
    for m in methods:
        r = _rank_rows(scores[m], id_order)
        p10, p50, p90 = np.percentile(r, [10, 50, 90], axis=0)
        parts.append((base_ranks[m].to_numpy(dtype=np.int64), (r <= k).mean(axis=0), p10, p50, p90))
    for i, name in enumerate(("base_rank", "p_top_k", "rank_p10", "rank_p50", "rank_p90")):
        out[name] = np.concatenate([p[i] for p in parts])
    return pd.DataFrame({**out, "draws": draws, "seed": seed, "top_k": k})


class _Criteria:
    """The scoring criteria of every draw at once: (draws, items) arrays computed as the
    per-backlog functions above do (same operations in the same order, so the same floats)."""

    def __init__(self, backlog: pd.DataFrame, values: dict[str, np.ndarray], draws: int):
        self.backlog = backlog
        self.values = values  # perturbed columns, (draws, items)
        self.shape = (draws, len(backlog))

    def column(self, name: str) -> np.ndarray:
        if name in self.values:
            return self.values[name]
        return np.broadcast_to(pd.to_numeric(self.backlog[name], errors="coerce").to_numpy(dtype=float), self.shape)

    def get(self, name: str) -> np.ndarray:
        if name == "effort":
            cols = effort_columns(self.backlog)
            parts = [np.where(np.isnan(e), 0.0, e) for e in map(self.column, cols)]
            total = parts[0]
            for part in parts[1:]:  # column by column, as DataFrame.sum(axis=1) adds them
                total = total + part
            return total
        if name == "rice":
            effort = self.get("effort")
            num = self.column("reach") * self.column("impact") * self.column("confidence")
            with np.errstate(divide="ignore", invalid="ignore"):
                return np.where(effort > 0, num / np.where(effort > 0, effort, 1.0), np.nan)
        if name == "wsjf":
            effort = self.get("effort")
            if "story_points" in self.backlog.columns:
                sp = self.column("story_points")
                size = np.where(np.isfinite(sp) & (sp > 0), sp, effort)
            else:
                size = effort
            cod = self.get("cost_of_delay")
            with np.errstate(divide="ignore", invalid="ignore"):
                return np.where(size > 0, cod / np.where(size > 0, size, 1.0), np.nan)
        if name == "cost_of_delay":
            return self.column("business_value") + self.column("time_criticality") + self.column("risk_reduction")
        if name == "moscow":
            return np.broadcast_to(5.0 - moscow_rank(self.backlog).to_numpy(dtype=float), self.shape)
        return self.column("business_value" if name == "value" else name)


def _min_max_rows(v: np.ndarray) -> np.ndarray:
    """:func:`min_max` on every row."""
    with np.errstate(all="ignore"):
        lo = np.min(np.where(np.isnan(v), np.inf, v), axis=1, keepdims=True)
        hi = np.max(np.where(np.isnan(v), -np.inf, v), axis=1, keepdims=True)
        flat = ~np.isfinite(lo) | ~np.isfinite(hi) | (hi == lo)
        out = np.where(flat, 0.5, (v - lo) / (hi - lo))
    return np.where(np.isnan(v), 0.0, out)


def _weighted_rows(criteria: _Criteria, drawn: dict[str, np.ndarray]) -> np.ndarray:
    """:func:`weighted_score` of every draw; ``drawn`` holds each weight per draw."""
    score = np.zeros(criteria.shape)
    total = np.zeros(criteria.shape[0])
    for w in drawn.values():
        total = total + np.abs(w)
    for name, w in drawn.items():
        n = _min_max_rows(criteria.get(name))
        cost = (w < 0)[:, None] | (name in COST_CRITERIA)
        score = score + np.abs(w)[:, None] * np.where(cost, 1.0 - n, n)
    return score / total[:, None]


def _rank_rows(scores: np.ndarray, id_order: np.ndarray) -> np.ndarray:
    """:func:`rank_desc` on every row: rank 1 = highest, NaN last, ties by item_id
    (``id_order`` sorts the items by id)."""
    s = np.where(np.isnan(scores), -np.inf, scores)[:, id_order]
    order = id_order[np.argsort(-s, axis=1, kind="stable")]
    ranks = np.empty(scores.shape, dtype=np.int32)
    np.put_along_axis(ranks, order, np.arange(1, scores.shape[1] + 1, dtype=np.int32)[None, :], axis=1)
    return ranks


def rank_problems(scores: pd.DataFrame) -> list[str]:
    """Rank columns (``rank_*``) that do not rank every item exactly once (1..n, no gaps or ties)."""
    n = len(scores)
    problems = []
    for col in [c for c in scores.columns if c.startswith("rank_")]:
        ranks = scores[col]
        if ranks.isna().any():
            missing = scores.loc[ranks.isna(), "item_id"].astype(str).tolist()
            problems.append(f"{col}: no rank for {', '.join(missing[:5])}")
        elif sorted(ranks.astype(int)) != list(range(1, n + 1)):
            problems.append(f"{col}: ranks are not 1..{n} once each")
    return problems
