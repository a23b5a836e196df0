"""Portfolio health: where capital is tied up, and whether it creates value.

Per product, per strategic theme and for the whole portfolio, over the plan horizon
(``settings.months`` months, figures per year so horizons compare):

* capital tied = run cost (``settings.economics.run_cost_eur_per_month`` x 12) plus the
  planned investment (cost of the funded items of the plan, spread over the plan years);
* value created = contribution (MRR x 12 x gross margin - run cost, from the KPI
  baselines) plus the planned value (discounted benefit of the funded items within the
  value horizon, spread over the plan years); ``value_per_eur_tied`` divides the two;
* flags, each with its reason: ``capital tied without value`` (a product whose
  contribution does not cover its run cost and whose funded items do not earn back
  their cost), ``run cost not covered`` (contribution below zero, but the funded items
  earn more than they cost), ``investment without return`` (funded items worth less
  than they cost),
  ``shrinking`` (MRR falling), ``off target`` (a theme's share of planned spend outside
  the strategic balance);
* a growth/share matrix in the style of the BCG matrix, on our own portfolio (no
  competitor shares are known): share = the product's share of portfolio MRR, high from an
  equal share (1 / number of products); growth = MRR growth per year, high from
  ``economics.high_growth_per_year``. Quadrants: star (high, high), cash cow (low growth,
  high share), question mark (high growth, low share), dog (low, low).

Money in EUR; shares are fractions. The plan table is the optimiser's ``portfolio_plan``
(item_id, funded, value, cost, product, theme).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from models.errors import ModelError
from models.settings import Settings

HEALTH_COLUMNS = [
    "level",
    "name",
    "products",
    "funded_items",
    "run_cost_eur_per_year",
    "investment_eur_per_year",
    "capital_tied_eur_per_year",
    "mrr_eur",
    "mrr_growth_per_year",
    "share_of_mrr",
    "contribution_eur_per_year",
    "planned_value_eur_per_year",
    "planned_npv_eur",
    "value_created_eur_per_year",
    "value_per_eur_tied",
    "share_of_investment",
    "target_share_min",
    "target_share_max",
    "matrix",
    "flags",
    "reasons",
]


def _quadrant(growth: float, share: float, growth_cut: float, share_cut: float) -> str:
    if not np.isfinite(growth) or not np.isfinite(share):
        return "unknown"
    high_g, high_s = growth >= growth_cut, share >= share_cut
    return {(True, True): "star", (False, True): "cash cow", (True, False): "question mark", (False, False): "dog"}[
        (high_g, high_s)
    ]


def _eur(v: float) -> str:
    return f"{v:,.0f} EUR"


def portfolio_health(plan: pd.DataFrame, baselines: pd.DataFrame, settings: Settings) -> pd.DataFrame:
    """One row per product, per theme and for the portfolio (``level``); see the module docstring.

    Raises ModelError when the settings name a product's run cost or margin that is in
    neither the plan nor the KPI baselines.
    """
    years = settings.months / 12.0
    econ = settings.economics
    funded = plan.loc[plan["funded"].astype(bool)]
    products = sorted(set(plan["product"].astype(str)) | set(baselines["product"].astype(str)))
    unknown = sorted((set(econ.run_cost_eur_per_month) | set(econ.margins)) - set(products))
    if unknown:
        raise ModelError(
            f"settings economics name product(s) {', '.join(unknown)} that are neither in the backlog "
            f"nor in the KPI history (known: {', '.join(products)}). Fix: correct the names."
        )
    base = baselines.set_index("product")
    total_mrr = float(base["mrr"].sum()) if len(base) else 0.0
    total_investment = float(funded["cost"].sum())
    rows = []
    bound = 0.0  # capital tied per year in products flagged as not creating value
    for product in products:
        mine = funded.loc[funded["product"].astype(str) == product]
        run = econ.run_cost_eur_per_month.get(product, 0.0) * 12.0
        invest = float(mine["cost"].sum()) / years
        mrr = float(base["mrr"].get(product, np.nan))
        growth = float(base["mrr_growth_per_year"].get(product, np.nan))
        contribution = (mrr * 12.0 * econ.margin(product) - run) if np.isfinite(mrr) else -run
        planned_value = float(mine["value"].sum()) / years
        npv = float((mine["value"] - mine["cost"]).sum())
        share = mrr / total_mrr if total_mrr > 0 and np.isfinite(mrr) else np.nan
        flags, reasons = [], []
        if contribution <= 0 and npv <= 0 and (run > 0 or invest > 0):
            flags.append("capital tied without value")
            reasons.append(
                f"contribution {_eur(contribution)} a year does not cover the run cost and the funded "
                f"items add {_eur(npv)} net"
            )
        else:
            if contribution < 0:
                flags.append("run cost not covered")
                reasons.append(f"MRR x margin falls {_eur(-contribution)} a year short of the run cost {_eur(run)}")
            if npv < 0:
                flags.append("investment without return")
                reasons.append(f"funded items are worth {_eur(npv)} net of their cost")
        if np.isfinite(growth) and growth < 0:
            flags.append("shrinking")
            reasons.append(f"MRR falls {-growth:.0%} a year")
        tied = run + invest
        if {"capital tied without value", "investment without return"} & set(flags):
            bound += tied
        created = contribution + planned_value
        rows.append(
            {
                "level": "product",
                "name": product,
                "products": 1,
                "funded_items": len(mine),
                "run_cost_eur_per_year": run,
                "investment_eur_per_year": invest,
                "capital_tied_eur_per_year": tied,
                "mrr_eur": mrr,
                "mrr_growth_per_year": growth,
                "share_of_mrr": share,
                "contribution_eur_per_year": contribution,
                "planned_value_eur_per_year": planned_value,
                "planned_npv_eur": npv,
                "value_created_eur_per_year": created,
                "value_per_eur_tied": created / tied if tied > 0 else np.nan,
                "share_of_investment": invest * years / total_investment if total_investment > 0 else np.nan,
                "matrix": _quadrant(growth, share, econ.high_growth_per_year, 1.0 / len(products)),
                "flags": "; ".join(flags),
                "reasons": "; ".join(reasons),
            }
        )
    themes = sorted(set(plan["theme"].astype(str)) | set(settings.strategic_balance))
    for theme in themes:
        mine = funded.loc[funded["theme"].astype(str) == theme]
        invest = float(mine["cost"].sum())
        share = invest / total_investment if total_investment > 0 else np.nan
        bounds = settings.strategic_balance.get(theme)
        lo, hi = (bounds.min, bounds.max) if bounds is not None else (np.nan, np.nan)
        flags, reasons = [], []
        if bounds is not None and np.isfinite(share) and not lo - 1e-9 <= share <= hi + 1e-9:
            flags.append("off target")
            reasons.append(f"{share:.0%} of planned spend, target {lo:.0%}-{hi:.0%}")
        npv = float((mine["value"] - mine["cost"]).sum())
        if npv < 0:
            flags.append("investment without return")
            reasons.append(f"funded items are worth {_eur(npv)} net of their cost")
        rows.append(
            {
                "level": "theme",
                "name": theme,
                "products": int(mine["product"].nunique()),
                "funded_items": len(mine),
                "investment_eur_per_year": invest / years,
                "capital_tied_eur_per_year": invest / years,
                "planned_value_eur_per_year": float(mine["value"].sum()) / years,
                "planned_npv_eur": npv,
                "value_created_eur_per_year": float(mine["value"].sum()) / years,
                "value_per_eur_tied": float(mine["value"].sum()) / invest if invest > 0 else np.nan,
                "share_of_investment": share,
                "target_share_min": lo,
                "target_share_max": hi,
                "flags": "; ".join(flags),
                "reasons": "; ".join(reasons),
            }
        )
    prod = pd.DataFrame([r for r in rows if r["level"] == "product"])
    if len(prod):
        tied, created = prod["capital_tied_eur_per_year"].sum(), prod["value_created_eur_per_year"].sum()
        rows.append(
            {
                "level": "portfolio",
                "name": "all products",
                "products": len(prod),
                "funded_items": len(funded),
                "run_cost_eur_per_year": prod["run_cost_eur_per_year"].sum(),
                "investment_eur_per_year": prod["investment_eur_per_year"].sum(),
                "capital_tied_eur_per_year": tied,
                "mrr_eur": total_mrr,
                "share_of_mrr": 1.0,
                "contribution_eur_per_year": prod["contribution_eur_per_year"].sum(),
                "planned_value_eur_per_year": prod["planned_value_eur_per_year"].sum(),
                "planned_npv_eur": prod["planned_npv_eur"].sum(),
                "value_created_eur_per_year": created,
                "value_per_eur_tied": created / tied if tied > 0 else np.nan,
                "share_of_investment": 1.0,
                "flags": "",
                "reasons": (
                    f"{_eur(bound)} a year ({bound / tied:.0%} of the capital tied) sits in products "
                    f"flagged as not creating value"
                    if tied > 0 and bound > 0
                    else ""
                ),
            }
        )
    out = pd.DataFrame(rows, columns=HEALTH_COLUMNS)
    for col in ("flags", "reasons", "matrix"):
        out[col] = out[col].fillna("")
    return out


def health_problems(health: pd.DataFrame) -> list[str]:
    """Health rows that cannot be right: negative capital tied or run cost."""
    problems = []
    for col in ("capital_tied_eur_per_year", "run_cost_eur_per_year", "investment_eur_per_year"):
        bad = health.loc[health[col] < 0, "name"].astype(str).tolist()
        problems += [f"{name}: {col} is negative" for name in bad]
    return problems
