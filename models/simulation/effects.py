"""How the delivered items of a product combine into its KPI levels (pure arithmetic).

An item's realised uplift is ``w = u x R x s``: u its estimated uplift, R its realisation factor
(:func:`models.realisation.draws_for`; 1 when realisation is off) and s the share of the uplift the
competitor left it (a copied differentiator keeps less; 1 for parity items and cost items).

**Relative KPIs combine multiplicatively** (conversion_rate, churn_rate, arpu, mau): per product and
KPI over the items live this month

    factor = prod_i max(1 + w_i, 0)        computed as exp(sum_i log max(1 + w_i, 0))

so two conversion items of +10 % and +20 % give 1.1 x 1.2 = 1.32, not 1.30, and a churn item of
-0.5 halves churn (churn uplifts are negative when churn falls). A term clipped at 0 (an uplift of
-100 % or worse) makes the factor 0. The level is then ``combine(base, factor, lower, upper)``:
base x factor kept within the KPI's bounds (:class:`models.settings.KpiLimits`):

* conversion = base conversion x factor, at most the product's conversion ceiling (share of MAU);
* arpu = base arpu x price shocks x factor, at least 0 (EUR per paying customer and month);
* churn = base churn x factor, at least the product's churn floor (monthly rate); the
  competitor's pressure multiplies it afterwards and may push it above the floor;
* market potential = potential x factor, at most ``potential_ceiling_factor`` x the potential
  (people).

A bound below (above) today's level keeps today's level: items never move a KPI past today's
level in the wrong direction because of a bound.

**Additive KPIs** stay sums: nps adds 100 x sum_i w_i points; cost items save sum_i u_i R_i EUR
per month.

**Replacements**: an item that ``replaces`` another of the same product and KPI ends that item's
effect from the month after its own delivery (the month it becomes live): the replaced item's
term leaves the product or sum (:func:`superseded`) and the replacing item's own uplift acts
instead. A +10 % conversion item live from month 4 and a +20 % item replacing it live from
month 7 give 1.1 in months 4-6 and 1.2 (not 1.32) from month 7.

Units: uplifts and factors are dimensionless; levels keep the unit of their base.
"""

from __future__ import annotations

import math

import numpy as np


def effect_table(
    bins: np.ndarray,
    weights: np.ndarray,
    n_rows: int,
    multiplicative: np.ndarray,
    n_columns: int,
    item_multiplicative: np.ndarray | None = None,
) -> np.ndarray:
    """Per (row, column) cell - a product and a KPI - the combined effect of the items, vectorised.

    bins: per item its cell ``row x n_columns + column``; weights: per item its realised uplift w
    (0 for an item not live: its term is 1, or 0 in a sum); multiplicative: per column whether it
    combines as ``prod max(1 + w, 0)`` or as ``sum w`` (or per cell, already tiled);
    item_multiplicative: per item whether its cell is multiplicative (``mask[bins]``; given by a
    caller that calls every month, to save the lookup).
    Returns an array (n_rows x n_columns): factors in the multiplicative cells, sums in the others.
    One ``np.bincount`` of ``log max(1 + w, 0)`` (multiplicative items) or ``w`` (the others),
    then exp of the multiplicative cells.
    """
    size = n_rows * n_columns
    mask = multiplicative if multiplicative.size == size else np.tile(multiplicative, n_rows)
    per_item = mask[bins] if item_multiplicative is None else item_multiplicative
    terms = 1.0 + weights * per_item  # 1 for the additive items (a cost item may save a negative amount)
    if terms.min(initial=1.0) > 0:
        logs = np.log(terms)
    else:  # a term clipped at 0: log 0 = -inf makes the factor 0
        logs = np.log(terms, out=np.full(terms.shape, -np.inf), where=terms > 0)
    cells = np.bincount(bins, weights=np.where(per_item, logs, weights), minlength=size)[:size].astype(
        float, copy=False
    )  # no items: ints
    np.exp(cells, out=cells, where=mask)  # the sums stay as they are
    return cells.reshape(n_rows, n_columns)


def combine(base: float, factor: float, lower: float | None = None, upper: float | None = None) -> float:
    """``base x factor`` kept within [lower, upper] (None: no bound); scalars, as a market step uses them.

    A bound on the side the level is already past is not applied: ``lower`` counts only up to
    ``base`` and ``upper`` only down to ``base`` (a ceiling below today's level keeps today's level).
    ``upper`` may be ``math.inf``.
    """
    value = base * factor
    if lower is not None and value < lower:
        value = max(min(lower, base), value)
    if upper is not None and value > upper:
        value = min(max(upper, base), value)
    return value


def product_of(terms: np.ndarray | list[float]) -> float:
    """prod max(1 + w, 0) over the given realised uplifts (a scalar reference for :func:`effect_table`)."""
    out = 1.0
    for w in terms:
        out *= max(1.0 + float(w), 0.0)
    return out


def potential_cap(potential: float, ceiling_factor: float) -> float:
    """The highest market potential items can reach: ``ceiling_factor x potential`` (inf: none)."""
    return math.inf if math.isinf(ceiling_factor) else potential * ceiling_factor


def superseded(live: np.ndarray, replace_new: np.ndarray, replace_old: np.ndarray) -> np.ndarray:
    """Per item whether its effect has ended because a live item replaces it.

    live: per item whether it acts this month (delivered before it); replace_new[k] replaces
    replace_old[k] (item indices; the plan keeps only pairs of the same product and KPI). An
    item is superseded as soon as one of its replacers is live, whether it was delivered before
    or after that replacer. One fancy-indexed assignment: cheap enough to run whenever the set
    of live items changes.
    """
    out = np.zeros(len(live), dtype=bool)
    out[replace_old[live[replace_new]]] = True
    return out
