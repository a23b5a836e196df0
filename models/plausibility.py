"""Is the KPI path a plan implies believable? The stress test's median MRR path against the history.

A plan's value rests on estimated uplifts. Even realised as the evidence says
(:mod:`models.realisation`) and combined with ceilings (:mod:`models.simulation.effects`), a backlog
whose estimates are far off can make a plan promise growth the company has never seen. This module
compares, per plan, the yearly MRR growth of the plan's median (P50) path in one scenario (the
baseline) with the best year on record, for the company and for each product:

* **implied growth** of plan year k (k = 1, 2, ...): the mean of the P50 MRR over the last
  ``SMOOTH_MONTHS`` (3) months of plan year k against the same mean a year earlier, minus 1; for
  year 1 that is the history's last 3 months (the baseline the plan starts from). The P50 is taken
  per month across replications, of the product's MRR (or of the company's total). Quarter means,
  not single months: one noisy or seasonal month neither makes nor hides a record.
* **best year on record**: the highest growth of the cleaned history
  (:func:`models.valuation.clean_kpi_history`) measured the same way: ``max_t m3[t] / m3[t - 12] - 1``
  with m3 the trailing 3-month mean. With fewer than 15 months (no such pair), the compound growth
  between the first and the last month, annualised; with fewer than 2, nothing to compare with (the
  row says so and is not flagged).
* **limit**: ``max(best x max_growth_factor, best + min_headroom)`` (settings ``plausibility``;
  defaults 1.25 and 10 percentage points, judgement: a plan may promise a year a quarter better
  than the best the company has had, or 10 points above it, but a path beyond both needs more
  than a backlog's estimates to be believed).
* **flagged** where implied growth exceeds the limit; ``top_items`` names the plan's funded items
  on that product (all products for the company) with the largest expected monthly effect, the
  items whose estimates carry the excess, with their uplift and share of the plan's effect there.

Everything is a table (:data:`PLAUSIBILITY_COLUMNS`); :func:`implausible` gives the flagged rows
as sentences for a check, the command line and the report. Units: growth as a fraction per year,
MRR in EUR per month.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from models.settings import PlausibilitySettings
from models.valuation import clean_kpi_history

COMPANY = "all products"
PLAUSIBILITY_COLUMNS = [
    "plan",
    "scenario",
    "product",
    "plan_year",
    "start_mrr",
    "end_mrr",
    "implied_growth",
    "best_growth_on_record",
    "best_year_ending",
    "limit",
    "flagged",
    "excess",
    "top_items",
]
TOP_ITEMS = 3
MRR_KPIS = ("conversion_rate", "arpu", "mau", "churn_rate")  # the KPIs through which items move MRR
SMOOTH_MONTHS = 3  # growth compares quarter means: the trailing 3-month mean, a year apart


def best_year_on_record(kpi_history: pd.DataFrame) -> pd.DataFrame:
    """Per product and for the company (``product`` = :data:`COMPANY`): best_growth (the highest
    12-month MRR growth of the cleaned history, as a fraction), best_year_ending (the last month of
    that year), last_mrr (mean MRR of the history's last 3 months) and months (of history). See the module
    docstring for histories shorter than 13 months; best_growth is NaN with fewer than 2 months."""
    clean, _ = clean_kpi_history(kpi_history)
    clean = clean.assign(month=pd.to_datetime(clean["month"]))
    last = clean["month"].max()
    series = {p: g.set_index("month")["mrr"].astype(float) for p, g in clean.groupby("product", sort=True)}
    company = clean.groupby("month")["mrr"].sum(min_count=1).astype(float)
    # the company's total only over months every product reports (a product added later is no growth)
    full = clean.groupby("month")["product"].nunique() == clean["product"].nunique()
    series[COMPANY] = company.loc[full[full].index]
    rows = []
    for product, s in series.items():
        s = s.dropna().sort_index()
        s = s.loc[s > 0]
        growth, ending = np.nan, pd.NaT
        smooth = s.rolling(SMOOTH_MONTHS).mean()
        yearly = (smooth / smooth.shift(12) - 1.0).dropna()
        if len(yearly):
            ending = yearly.idxmax()
            growth = float(yearly.loc[ending])
        elif len(s) >= 2:
            months = (s.index[-1].year - s.index[0].year) * 12 + s.index[-1].month - s.index[0].month
            growth = float((s.iloc[-1] / s.iloc[0]) ** (12.0 / max(months, 1)) - 1.0)
            ending = s.index[-1]
        rows.append(
            {
                "product": product,
                "best_growth": growth,
                "best_year_ending": ending,
                "last_mrr": float(s.tail(SMOOTH_MONTHS).mean()) if len(s) and s.index[-1] == last else float("nan"),
                "months": len(s),
            }
        )
    return pd.DataFrame(rows, columns=["product", "best_growth", "best_year_ending", "last_mrr", "months"])


def growth_limit(best: float, s: PlausibilitySettings) -> float:
    """The highest yearly growth a plan may imply: max(best x max_growth_factor, best + min_headroom)."""
    if not np.isfinite(best):
        return float("nan")
    return float(max(best * s.max_growth_factor, best + s.min_headroom))


def _median_paths(series: pd.DataFrame) -> pd.DataFrame:
    """Per plan, month and product (and the company): the P50 of MRR across replications."""
    per_product = series.groupby(["plan", "month", "product", "replication"], sort=False)["mrr"].sum().reset_index()
    total = per_product.groupby(["plan", "month", "replication"], sort=False)["mrr"].sum().reset_index()
    total["product"] = COMPANY
    both = pd.concat([per_product, total], ignore_index=True)
    return both.groupby(["plan", "product", "month"], sort=True)["mrr"].median().reset_index()


def _quarter_mean(mrr: pd.Series, month: int) -> float:
    """Mean of ``mrr`` (by month) over the SMOOTH_MONTHS months ending in ``month`` (NaN when any is missing)."""
    window = [float(mrr.get(m, np.nan)) for m in range(month - SMOOTH_MONTHS + 1, month + 1)]
    return float(np.mean(window)) if all(np.isfinite(window)) else float("nan")


def _top_items(decisions: pd.DataFrame | None, cases: pd.DataFrame, product: str, n: int = TOP_ITEMS) -> str:
    """The funded items of a plan (on ``product``, or all for the company) moving MRR (``MRR_KPIS``)
    with the largest expected monthly effect, as "ID (+3.0% conversion_rate, 41% of the effect)"."""
    if decisions is None or decisions.empty:
        return ""
    funded = decisions.loc[decisions["funded"].astype(bool), "item_id"].astype(str)
    c = cases.loc[cases["item_id"].astype(str).isin(set(funded)) & cases["kpi"].isin(MRR_KPIS)]
    if product != COMPANY:
        c = c.loc[c["product"].astype(str) == product]
    effect = c["monthly_effect_eur"].astype(float).clip(lower=0.0)
    if effect.sum() <= 0:
        return ""
    top = (
        c.assign(effect_share=effect / effect.sum()).sort_values("effect_share", ascending=False, kind="stable").head(n)
    )
    parts = []
    for r in top.itertuples():
        uplift = f"{r.uplift:+,.0f} EUR/month" if r.kpi == "cost" else f"{r.uplift:+.1%}"
        parts.append(f"{r.item_id} ({uplift} {r.kpi}, {r.effect_share:.0%} of the effect)")
    return "; ".join(parts)


def plausibility(
    series: pd.DataFrame,
    kpi_history: pd.DataFrame,
    business_cases: pd.DataFrame,
    decisions: Mapping[str, pd.DataFrame],
    settings: PlausibilitySettings,
    period_months: int = 12,
) -> pd.DataFrame:
    """One row per plan, product (and the company) and plan year: the yearly MRR growth the plan's
    P50 path implies in ``settings.scenario`` against the best year on record (``PLAUSIBILITY_COLUMNS``;
    see the module docstring).

    series: the stress test's monthly series (plan, scenario, replication, month, product, mrr);
    decisions: plan name -> its decisions table (for ``top_items``; a plan without one names none).
    A scenario the stress test did not run gives no rows. ``period_months`` is the length of a plan
    year in months (12)."""
    s = series.loc[series["scenario"] == settings.scenario]
    if s.empty:
        return pd.DataFrame(columns=PLAUSIBILITY_COLUMNS)
    record = best_year_on_record(kpi_history).set_index("product")
    paths = _median_paths(s)
    horizon = int(paths["month"].max())
    rows = []
    for (plan, product), g in paths.groupby(["plan", "product"], sort=False):
        if product not in record.index:
            continue
        mrr = g.set_index("month")["mrr"]
        rec = record.loc[product]
        best = float(rec["best_growth"])
        limit = growth_limit(best, settings)

        for year in range(1, horizon // period_months + 1):
            end_month = year * period_months
            start = float(rec["last_mrr"]) if year == 1 else _quarter_mean(mrr, (year - 1) * period_months)
            end = _quarter_mean(mrr, end_month)
            implied = end / start - 1.0 if start > 0 and np.isfinite(end) else float("nan")
            flagged = bool(np.isfinite(implied) and np.isfinite(limit) and implied > limit)
            rows.append(
                {
                    "plan": plan,
                    "scenario": settings.scenario,
                    "product": product,
                    "plan_year": year,
                    "start_mrr": start,
                    "end_mrr": end,
                    "implied_growth": implied,
                    "best_growth_on_record": best,
                    "best_year_ending": rec["best_year_ending"],
                    "limit": limit,
                    "flagged": flagged,
                    "excess": implied - limit if flagged else 0.0,
                    "top_items": _top_items(decisions.get(plan), business_cases, product) if flagged else "",
                }
            )
    out = pd.DataFrame(rows, columns=PLAUSIBILITY_COLUMNS)
    out["flagged"] = out["flagged"].astype(bool)
    out["plan_year"] = out["plan_year"].astype("int64")
    return out


def implausible(table: pd.DataFrame, plan: str | None = None) -> list[str]:
    """The flagged rows (of ``plan``, or every plan) as sentences, e.g. "recommended: IoT Platform's MRR
    grows 85% in plan year 1 (P50, baseline), beyond the plausible 62% (its best year on record: 41% in
    the year to 2026-05); most of it from IOT-1 (+5.0% conversion_rate, 40% of the effect); ..."."""
    t = table.loc[table["flagged"].astype(bool)]
    if plan is not None:
        t = t.loc[t["plan"] == plan]
    out = []
    for r in t.itertuples():
        ending = "" if pd.isna(r.best_year_ending) else f" in the year to {pd.Timestamp(r.best_year_ending):%Y-%m}"
        whose = "the company's MRR (all products)" if r.product == COMPANY else f"{r.product}'s MRR"
        text = (
            f"{r.plan}: {whose} grows {r.implied_growth:.0%} in plan year {r.plan_year} (P50, {r.scenario}), "
            f"beyond the plausible {r.limit:.0%} (its best year on record: {r.best_growth_on_record:.0%}{ending})"
        )
        if r.top_items:
            text += f"; most of it from {r.top_items}. Fix: check these estimates (uplift, confidence)"
        out.append(text)
    return out
