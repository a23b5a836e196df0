"""From KPIs to money: KPI baselines, a business case per item, and the value of each item
for each possible start period (the cost of delay the optimiser sees).

Units: money in EUR, effects in EUR per month, months are 1-based months from the start
of the plan (month m ends m months after ``settings.start``), periods are 1-based planning
periods of ``settings.period_months`` months. Cash flows fall at the end of their month
and are discounted monthly at ``(1 + discount_rate) ** (1/12) - 1``.

The value model, in one place:

* An item starting in period s with duration d finishes at the end of period
  f = s + d - 1, i.e. at the end of month F = f * period_months. It is paid for evenly
  over its d * period_months months (cost_eur spread month by month).
* Its benefit starts in month F + 1 and is counted up to month ``value_horizon_months``
  counted from the plan start (a fixed window, so a later delivery earns fewer months;
  nothing is counted after the horizon).
* Monthly effect once delivered (``monthly_effect_eur``), by the KPI the item moves:
  conversion_rate / arpu / mau: ``mrr x uplift`` (MRR is proportional to each of them;
  acquisition items move mau);
  cost: ``uplift`` itself (EUR saved per month);
  churn_rate: uplift is the relative change of the monthly churn rate like for every KPI,
  so a reduction is negative (-0.10: churn falls by 10 %, from c to c' = c (1 + uplift)).
  With r = -uplift the relative reduction, retained customers stack up month after month
  while themselves churning at c': k months after delivery the extra MRR is
  ``mrr x c x r x (1 - (1 - c')**k) / c'`` (about ``mrr x c x r x k`` early on, levelling
  off at ``mrr x r x c / c'``). ``monthly_effect_eur`` reports the first month's increment
  ``mrr x c x r``. (The churn rate is measured on users, churned_users / mau, and applied
  to MRR: paying customers are assumed to churn like users.)
  nps / none (or a product without KPI history): no KPI effect; the item gets a WSJF-based
  proxy (``value_basis`` = "fallback: wsjf"), see :func:`business_cases`.
* Realisation (:mod:`models.realisation`): an uplift is a hypothesis. The effect above is the
  estimate (``estimated_monthly_effect_eur``); the business case counts its expected realisation,
  ``monthly_effect_eur = estimate x E[R]`` with E[R] from the item's stated RICE confidence
  (``churn_rate_after`` = c (1 + uplift x E[R])), and gives ``npv_p10_eur``/``npv_p90_eur`` at the
  factor's P10 and P90. So the optimiser maximises expected value; with
  ``settings.realisation.enabled = false`` estimates count at face value.
* Differentiators lose ``commoditisation_per_year`` of their effect per year since the plan
  start, as competitors catch up: the effect in month m is multiplied by
  ``(1 - commoditisation_per_year) ** (m / 12)``. Parity items keep their effect.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from models.errors import ModelError
from models.realisation import factor_table
from models.schemas import EFFORT_PREFIX, effort_columns
from models.scoring import total_effort, wsjf
from models.settings import Economics, Settings

KPI_TO_MRR = ("conversion_rate", "arpu", "mau")
NEEDS_BASELINE = (*KPI_TO_MRR, "churn_rate")
BASELINE_MONTHS = 3
CALIBRATION_MONTHS = 12  # fallback proxy calibrated on the first 12 months of benefit


# ---------------------------------------------------------------------------------------
# Baselines and costs
# ---------------------------------------------------------------------------------------

LEVEL_COLUMNS = ("mau", "dau", "conversion_rate", "arpu", "mrr", "nps", "cac")
FLOW_COLUMNS = ("new_users", "churned_users")
KPI_VALUE_COLUMNS = (*LEVEL_COLUMNS, *FLOW_COLUMNS)
TREND_MONTHS = 12  # growth rates are fitted on the last 12 months
OUTLIER_WINDOW = 7  # months in the centred neighbourhood of the outlier test
OUTLIER_MADS = 4.0  # a value is an outlier beyond 4 scaled MADs ...
OUTLIER_MIN_REL = 0.25  # ... and more than 25 % away from the neighbourhood median
MAD_SCALE = 1.4826  # MAD of a normal distribution -> its standard deviation
IMPUTATION_COLUMNS = ["product", "month", "column", "observed", "used", "reason"]
BASELINE_COLUMNS = [
    "product",
    "months_used",
    "last_month",
    "months_in_history",
    "mau",
    "dau",
    "stickiness",
    "mau_growth_per_month",
    "paying_customers",
    "conversion_rate",
    "new_users",
    "churned_users",
    "churn_rate",
    "churn_months_used",
    "retention_m1",
    "retention_m3",
    "retention_m6",
    "retention_m12",
    "expected_lifetime_months",
    "arpu",
    "mrr",
    "mrr_growth_per_month",
    "mrr_growth_per_year",
    "nps",
    "cac",
    "gross_margin",
    "clv_eur",
    "cac_payback_months",
    "clv_to_cac",
    "imputed_values",
    "outliers_replaced",
    "imputation_note",
]


def _outliers(x: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Hampel test: (outlier, median) where outlier is True for a value more than
    OUTLIER_MADS scaled MADs and more than OUTLIER_MIN_REL (relative) away from the median
    of its centred 7-month neighbourhood (needs at least 3 observed months in the window)."""
    med = x.rolling(OUTLIER_WINDOW, center=True, min_periods=3).median()
    mad = (x - med).abs().rolling(OUTLIER_WINDOW, center=True, min_periods=3).median()
    limit = np.maximum(OUTLIER_MADS * MAD_SCALE * mad, OUTLIER_MIN_REL * med.abs())
    return ((x - med).abs() > limit) & med.notna() & x.notna(), med


def clean_kpi_history(kpi_history: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The KPI history on a complete monthly grid per product, with gaps filled and outliers
    replaced, and a table saying what was changed.

    Per product, months run from its first to its last month; a month missing in between
    becomes a row. Per KPI column:

    * outliers of levels (see :func:`_outliers`: a Hampel filter on the 7-month
      neighbourhood, so trends and seasonal dips of a few per cent stay) are replaced like
      gaps; flows are counts whose spikes can be real (a large customer leaving), so they
      are not tested;
    * gaps between observed months are interpolated linearly, month by month;
    * before the first and after the last observed value, levels (mau, dau,
      conversion_rate, arpu, mrr, nps, cac) carry the nearest observed value; flows
      (new_users, churned_users) stay unknown (NaN): a churn that was never observed is
      not invented, so the churn rate uses only months where it was.

    Returns (clean, imputations). imputations: product, month, column, observed (the
    value in the input, NaN if absent), used (the value in ``clean``, NaN if left
    unknown), reason ("missing month", "missing value", "outlier: ..." or "not observed:
    left unknown").
    """
    frames, notes = [], []
    for product, g in kpi_history.groupby("product", sort=True):
        g = g.assign(month=pd.to_datetime(g["month"]).dt.to_period("M").dt.to_timestamp())
        g = g.drop_duplicates("month", keep="last").set_index("month").sort_index()
        grid = pd.date_range(g.index.min(), g.index.max(), freq="MS")
        missing_month = ~grid.isin(g.index)
        g = g.reindex(grid)
        g.index.name = "month"
        out = pd.DataFrame(index=grid)
        out.index.name = "month"
        for col in KPI_VALUE_COLUMNS:
            observed = pd.to_numeric(g[col], errors="coerce") if col in g else pd.Series(np.nan, index=grid)
            x = observed.astype(float).copy()
            if col in LEVEL_COLUMNS:
                bad, med = _outliers(x)
            else:
                bad = pd.Series(False, index=grid)
            x[bad] = np.nan
            filled = x.interpolate(method="linear", limit_area="inside")
            if col in LEVEL_COLUMNS:
                filled = filled.ffill().bfill()
            out[col] = filled
            changed = observed.isna() | bad
            for month in grid[changed.to_numpy()]:
                if bad[month]:
                    reason = (
                        f"outlier: {_num(observed[month])} is far from the median {_num(med[month])} "
                        f"of its {OUTLIER_WINDOW}-month neighbourhood"
                    )
                elif np.isnan(filled[month]):
                    reason = "not observed: left unknown"
                elif missing_month[grid.get_loc(month)]:
                    reason = "missing month"
                else:
                    reason = "missing value"
                notes.append(
                    {
                        "product": product,
                        "month": month,
                        "column": col,
                        "observed": observed[month],
                        "used": filled[month],
                        "reason": reason,
                    }
                )
        out.insert(0, "product", product)
        frames.append(out.reset_index())
    cols = ["product", "month", *KPI_VALUE_COLUMNS]
    clean = pd.concat(frames, ignore_index=True)[cols] if frames else pd.DataFrame(columns=cols)
    imputations = pd.DataFrame(notes, columns=IMPUTATION_COLUMNS)
    imputations["observed"] = imputations["observed"].astype(float)
    imputations["used"] = imputations["used"].astype(float)
    return clean, imputations


def _num(v: float) -> str:
    return f"{v:,.0f}" if abs(v) >= 1000 else f"{v:.4g}"


def monthly_growth(values: pd.Series) -> float:
    """Compound monthly growth rate fitted by least squares to log(values) over consecutive
    months (exp(slope) - 1); NaN with fewer than 3 positive values."""
    v = values.to_numpy(dtype=float)
    ok = np.isfinite(v) & (v > 0)
    if ok.sum() < 3:
        return float("nan")
    t = np.arange(len(v), dtype=float)[ok]
    slope = np.polyfit(t, np.log(v[ok]), 1)[0]
    return float(np.expm1(slope))


def kpi_baselines(kpi_history: pd.DataFrame, settings: Settings | None = None) -> pd.DataFrame:
    """Per product, the KPI levels a business case starts from, and the unit economics:
    :func:`baselines_from_clean` of the cleaned history (:func:`clean_kpi_history`)."""
    return baselines_from_clean(*clean_kpi_history(kpi_history), settings)


def baselines_from_clean(
    clean: pd.DataFrame, imputations: pd.DataFrame, settings: Settings | None = None
) -> pd.DataFrame:
    """Per product, from a history cleaned by :func:`clean_kpi_history` and its imputation
    table. Levels are means over the last 3 months (``months_used``):
    mau, dau, conversion_rate, arpu (EUR per paying customer and month), mrr (EUR/month),
    nps, cac (EUR per new paying customer), new_users and churned_users (per month).

    * stickiness = dau / mau;
    * mau_growth_per_month, mrr_growth_per_month: compound monthly growth fitted to the
      last 12 months (:func:`monthly_growth`); mrr_growth_per_year = (1 + g) ** 12 - 1;
    * churn_rate: monthly, churned_users / the previous month's mau, the mean over those of
      the last 3 months where churn was observed (``churn_months_used``; if none of them
      was, the last 3 months where it was);
    * retention_mK = (1 - churn_rate) ** K: the share of customers still there after K
      months at a constant churn rate; expected_lifetime_months = 1 / churn_rate;
    * gross_margin: from ``settings.economics`` (0.8 without settings);
    * clv_eur = arpu x gross_margin / churn_rate (per paying customer);
      cac_payback_months = cac / (arpu x gross_margin); clv_to_cac = clv_eur / cac;
    * imputed_values / outliers_replaced: how many values of the 3 baseline months were
      imputed / replaced; imputation_note says which (the full list is the imputation table).
    """
    rows = []
    for product, g in clean.groupby("product", sort=True):
        g = g.sort_values("month").reset_index(drop=True)
        last = g.tail(BASELINE_MONTHS)
        window = set(last["month"])
        prev_mau = g["mau"].shift(1)
        churn_all = g["churned_users"] / prev_mau.where(prev_mau > 0)
        churn = churn_all.tail(BASELINE_MONTHS).dropna()
        if churn.empty:
            churn = churn_all.dropna().tail(BASELINE_MONTHS)
        c = float(churn.mean()) if len(churn) else np.nan
        trend = g.tail(TREND_MONTHS)
        mean = {col: float(last[col].mean()) for col in KPI_VALUE_COLUMNS}
        margin = (settings.economics if settings is not None else Economics()).margin(product)
        unit_margin = mean["arpu"] * margin
        g_mrr = monthly_growth(trend["mrr"])
        mine = imputations.loc[(imputations["product"] == product) & imputations["month"].isin(window)]
        replaced = mine["reason"].str.startswith("outlier")
        with np.errstate(divide="ignore", invalid="ignore"):
            rows.append(
                {
                    "product": product,
                    "months_used": len(last),
                    "last_month": last["month"].iloc[-1],
                    "months_in_history": len(g),
                    "mau": mean["mau"],
                    "dau": mean["dau"],
                    "stickiness": mean["dau"] / mean["mau"] if mean["mau"] > 0 else np.nan,
                    "mau_growth_per_month": monthly_growth(trend["mau"]),
                    "paying_customers": float((last["mau"] * last["conversion_rate"]).mean()),
                    "conversion_rate": mean["conversion_rate"],
                    "new_users": mean["new_users"],
                    "churned_users": mean["churned_users"],
                    "churn_rate": c,
                    "churn_months_used": len(churn),
                    **{f"retention_m{k}": (1.0 - c) ** k for k in (1, 3, 6, 12)},
                    "expected_lifetime_months": 1.0 / c if c > 0 else np.nan,
                    "arpu": mean["arpu"],
                    "mrr": mean["mrr"],
                    "mrr_growth_per_month": g_mrr,
                    "mrr_growth_per_year": (1.0 + g_mrr) ** 12 - 1.0,
                    "nps": mean["nps"],
                    "cac": mean["cac"],
                    "gross_margin": margin,
                    "clv_eur": unit_margin / c if c > 0 else np.nan,
                    "cac_payback_months": mean["cac"] / unit_margin if unit_margin > 0 else np.nan,
                    "clv_to_cac": (unit_margin / c) / mean["cac"] if c > 0 and mean["cac"] > 0 else np.nan,
                    "imputed_values": int((~replaced).sum()),
                    "outliers_replaced": int(replaced.sum()),
                    "imputation_note": _imputation_note(mine),
                }
            )
    return pd.DataFrame(rows, columns=BASELINE_COLUMNS)


def _imputation_note(imp: pd.DataFrame) -> str:
    """One line per reason kind: which columns and months of the baseline window were filled."""
    if imp.empty:
        return ""
    parts = []
    for reason, g in imp.groupby(imp["reason"].str.split(":").str[0], sort=True):
        cells = ", ".join(f"{c} {m:%Y-%m}" for c, m in zip(g["column"], g["month"], strict=True))
        parts.append(f"{reason}: {cells}")
    return "; ".join(parts)


def skill_cost_rates(teams: pd.DataFrame) -> dict[str, float]:
    """EUR per person-week of each skill: the plain mean of ``cost_per_pw`` over the
    skill's teams (not weighted by capacity)."""
    return {str(k): float(v) for k, v in teams.groupby("skill")["cost_per_pw"].mean().items()}


def item_costs(backlog: pd.DataFrame, cost_rates: dict[str, float]) -> pd.Series:
    """Cost of each item in EUR: sum over skills of effort (pw) x the skill's rate (EUR/pw).

    Raises ModelError when an item needs a skill no team has.
    """
    check_skills(backlog, cost_rates.keys())
    cost = np.zeros(len(backlog))
    for col in effort_columns(backlog):
        skill = col[len(EFFORT_PREFIX) :]
        effort = backlog[col].fillna(0.0).to_numpy(dtype=float)
        if skill in cost_rates:
            cost += effort * cost_rates[skill]
    return pd.Series(cost, index=pd.Index(backlog["item_id"], name="item_id"), name="cost_eur")


def check_skills(backlog: pd.DataFrame, known_skills) -> None:
    """Raise ModelError if an item has effort in a skill that no team provides."""
    known = set(known_skills)
    problems = []
    for col in effort_columns(backlog):
        skill = col[len(EFFORT_PREFIX) :]
        if skill in known:
            continue
        needing = backlog.loc[backlog[col].fillna(0.0) > 0, "item_id"].astype(str).tolist()
        if needing:
            shown = ", ".join(needing[:5]) + (" ..." if len(needing) > 5 else "")
            problems.append(f"skill '{skill}' (column {col}) is needed by {shown} but no team has it")
    if problems:
        raise ModelError(
            "; ".join(problems)
            + ". Fix: add a team with that skill to the teams table, or move the effort to a skill a team has."
        )


# ---------------------------------------------------------------------------------------
# Benefit streams
# ---------------------------------------------------------------------------------------


def monthly_discount_factors(settings: Settings, months: int) -> np.ndarray:
    """Discount factor of months 1..months (end of month): (1 + annual rate) ** (-m / 12)."""
    m = np.arange(1, months + 1, dtype=float)
    return (1.0 + settings.discount_rate) ** (-m / 12.0)


def commoditisation_factors(differentiator: np.ndarray, settings: Settings, months: int) -> np.ndarray:
    """Effect multiplier per item (rows) and month 1..months (columns):
    (1 - commoditisation_per_year) ** (m / 12) for differentiators, 1 for parity items."""
    m = np.arange(1, months + 1, dtype=float)
    decay = (1.0 - settings.commoditisation_per_year) ** (m / 12.0)
    diff = np.asarray(differentiator, dtype=bool)[:, None]
    return np.where(diff, decay[None, :], 1.0)


def benefit_matrix(
    cases: pd.DataFrame, finish_month: np.ndarray, settings: Settings, months: int | None = None
) -> np.ndarray:
    """Undiscounted benefit (EUR) of each case (rows) in plan months 1..months (columns),
    given the month each item finishes (benefit starts the month after).

    ``cases`` needs monthly_effect_eur, effect_profile ("step" or "churn_stack"),
    churn_rate_after and differentiation. Months default to value_horizon_months.
    """
    months = settings.value_horizon_months if months is None else months
    m = np.arange(1, months + 1, dtype=float)[None, :]
    k = m - np.asarray(finish_month, dtype=float)[:, None]  # months since delivery
    effect = cases["monthly_effect_eur"].to_numpy(dtype=float)[:, None]
    stack = (cases["effect_profile"] == "churn_stack").to_numpy()[:, None]
    c_after = cases["churn_rate_after"].fillna(0.0).to_numpy(dtype=float)[:, None]
    kk = np.maximum(k, 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        growth = np.where(
            np.abs(c_after) > 1e-12, (1.0 - (1.0 - c_after) ** kk) / np.where(np.abs(c_after) > 1e-12, c_after, 1.0), kk
        )
    per_month = np.where(stack, effect * growth, effect)
    per_month = np.where(k >= 1, per_month, 0.0)
    differentiator = (cases["differentiation"] == "differentiator").to_numpy()
    return per_month * commoditisation_factors(differentiator, settings, months)


def _cost_matrix(
    cost: np.ndarray, duration_periods: np.ndarray, settings: Settings, months: int, start_month: int = 1
) -> np.ndarray:
    """Cost (EUR) per item and plan month, spread evenly over the item's months of work."""
    m = np.arange(1, months + 1)[None, :]
    work_months = np.asarray(duration_periods, dtype=int)[:, None] * settings.period_months
    active = (m >= start_month) & (m < start_month + work_months)
    return np.where(active, np.asarray(cost, dtype=float)[:, None] / work_months, 0.0)


# ---------------------------------------------------------------------------------------
# Business cases
# ---------------------------------------------------------------------------------------


# Value proxy "priority": Jira's priority as WSJF inputs of an item that has no value input.
# A Jira priority mixes how important and how urgent an issue is in one word; WSJF splits the
# same judgement into business value and time criticality, so both get the level's points
# (risk reduction stays at its neutral 1). The points roughly double per level, like the
# Fibonacci-style relative points WSJF is scored in: Blocker/Highest 10, Critical/High 7,
# Major/Medium 4, Minor/Low 2, Trivial/Lowest 1 (Jira's older and newer default schemes, and
# the German names). Points are relative: the WSJF fallback turns them into EUR at the rate of
# the items valued on a KPI (eur_per_wsjf_point), so at least one item needs a KPI uplift.
PRIORITY_PROXY = {
    "blocker": 10.0,
    "highest": 10.0,
    "höchste": 10.0,
    "critical": 7.0,
    "high": 7.0,
    "hoch": 7.0,
    "major": 4.0,
    "medium": 4.0,
    "mittel": 4.0,
    "minor": 2.0,
    "low": 2.0,
    "niedrig": 2.0,
    "trivial": 1.0,
    "lowest": 1.0,
    "niedrigste": 1.0,
}
VALUE_PROXY_COLUMN = "value_proxy"  # backlog column: the proxy that valued an item ("" for none)
VALUE_INPUTS_COLUMN = "value_inputs"  # backlog column the readers fill: the value inputs an item's source gave
NO_VALUE_BASIS = "none: no value input"
NO_VALUE_NOTE = "no value input (KPI with uplift, RICE or WSJF) in the backlog or values sheet: valued at 0 EUR"


def items_without_value_inputs(backlog: pd.DataFrame) -> list[str]:
    """Candidate items (status not Done) whose source gave no value input: an empty
    ``value_inputs`` cell (see :func:`pipelines.sources.backlog.given_value_inputs`: a KPI with a
    non-zero uplift, or any of reach, impact, confidence, business_value, time_criticality,
    risk_reduction; defaults filled in by the reader do not count). A backlog without the column
    (built in code rather than read) records nothing: the empty list."""
    if VALUE_INPUTS_COLUMN not in backlog:
        return []
    candidates = backlog.loc[backlog["status_category"] != "Done"]
    given = candidates[VALUE_INPUTS_COLUMN].fillna("").astype(str).str.strip()
    return candidates.loc[(given == "") & (_proxies(candidates) == ""), "item_id"].astype(str).tolist()


def _proxies(backlog: pd.DataFrame) -> pd.Series:
    """The value proxy of each row ("" for none)."""
    if VALUE_PROXY_COLUMN not in backlog:
        return pd.Series("", index=backlog.index)
    return backlog[VALUE_PROXY_COLUMN].fillna("").astype(str).str.strip()


def check_value_inputs(backlog: pd.DataFrame) -> None:
    """ModelError when no candidate item carries a value input: every item would be worth the
    same default, and the plan would maximise nothing (value 0) while looking like an answer."""
    lacking = items_without_value_inputs(backlog)
    n = int((backlog["status_category"] != "Done").sum())
    if n and len(lacking) == n:
        raise ModelError(
            f"none of the {n} candidate items has a value input: no KPI with an uplift, no RICE input (reach, "
            "impact, confidence), no WSJF input (business value, time criticality, risk reduction). A plan "
            "would value every item at 0 EUR. Fix: run `weitblick values-template --data <your workspace>`, fill "
            "in values.csv or values.xlsx (keep one of them) for the items you know, and plan again; or value the "
            "rest by their Jira priority (plan --value-proxy priority) relative to a few items given a KPI uplift."
        )


def _realised(cases: pd.DataFrame, estimated: pd.DataFrame, r: np.ndarray) -> pd.DataFrame:
    """``cases`` with each item's effect realised ``r`` times its estimate (``estimated``): the
    monthly effect scales with r; a churn item's churn after delivery is c (1 + uplift r)."""
    out = cases.copy()
    r = np.asarray(r, dtype=float)
    out["monthly_effect_eur"] = estimated["monthly_effect_eur"].to_numpy(dtype=float) * r
    stack = (estimated["effect_profile"] == "churn_stack").to_numpy()
    churn = estimated["baseline_churn_rate"].to_numpy(dtype=float)
    uplift = estimated["uplift"].to_numpy(dtype=float)
    out["churn_rate_after"] = np.where(stack, churn * (1.0 + uplift * r), np.nan)
    return out


def business_cases(
    backlog: pd.DataFrame, teams: pd.DataFrame, kpi_history: pd.DataFrame, settings: Settings
) -> pd.DataFrame:
    """One business case per backlog item (as if started in period 1).

    Columns: item_id, product, kpi, uplift, differentiation, duration_periods, effort_pw,
    cost_eur (effort per skill x mean cost_per_pw of the skill's teams), baseline_mrr_eur,
    baseline_churn_rate, churn_rate_after, wsjf, value_basis ("kpi", "fallback: wsjf" or
    "none: no value input"),
    note (why a fallback was used), eur_per_wsjf_point, effect_profile, monthly_effect_eur,
    pv_benefit_eur, pv_cost_eur, npv_eur, roi, break_even_month.

    * npv_eur = pv_benefit_eur - pv_cost_eur for a start in period 1 (see the module
      docstring for the benefit stream; the cost is spread over the months of work).
    * roi = npv_eur / pv_cost_eur (NaN without cost).
    * break_even_month: the first plan month in which the cumulative discounted cash flow
      (benefit - cost) is >= 0, counted up to the value horizon; missing if it never is
      (so an item breaks even exactly when its NPV over the horizon is >= 0).
    * cost_of_delay_eur_per_period: discounted benefit lost by starting in period 2 instead of
      period 1 (``value_by_start`` has every start period).
    * Traceability: cost_rate_eur_per_pw (cost_eur / effort_pw), discount_rate,
      value_horizon_months and commoditisation_per_year (0 for parity items) as used.
    * Fallback proxy (kpi nps/none, or no baseline for the product/KPI): a constant
      monthly effect of ``eur_per_wsjf_point x wsjf / 12``, where eur_per_wsjf_point is the
      median, over KPI-based items with a positive effect, of their undiscounted benefit in
      the first 12 months after delivery divided by their WSJF. So a fallback item with the
      WSJF of the median KPI-based item is worth as much per WSJF point. No positive
      KPI-based item means no proxy: the fallback effect is 0.
    * Value inputs: with no value input on any candidate item (:func:`check_value_inputs`)
      there is nothing to value: ModelError. Items without one (when others have one) are
      valued at 0 (``value_basis`` "none: no value input"): the defaults the reader filled in
      for them are no estimate of value, so they neither calibrate nor use the WSJF proxy.
      Items the reader valued by a proxy (column ``value_proxy``, e.g. "priority": WSJF inputs
      from the Jira priority, :data:`PRIORITY_PROXY`) use the WSJF fallback and have
      ``value_basis`` "proxy: priority"; without a KPI-based item to calibrate it: ModelError.
    """
    check_value_inputs(backlog)
    rates = skill_cost_rates(teams)
    cost = item_costs(backlog, rates).to_numpy()
    base = kpi_baselines(kpi_history, settings).set_index("product")
    n = len(backlog)
    kpi = backlog["kpi"].astype(str).to_numpy()
    uplift = backlog["uplift"].astype(float).to_numpy()
    product = backlog["product"].astype(str).to_numpy()
    mrr = np.array([base["mrr"].get(p, np.nan) for p in product], dtype=float)
    churn = np.array([base["churn_rate"].get(p, np.nan) for p in product], dtype=float)

    effect = np.zeros(n)
    profile = np.array(["step"] * n, dtype=object)
    c_after = np.full(n, np.nan)
    basis = np.array(["kpi"] * n, dtype=object)
    note = np.array([""] * n, dtype=object)
    for i in range(n):
        k = kpi[i]
        if k in KPI_TO_MRR:
            if np.isnan(mrr[i]):
                basis[i], note[i] = "fallback: wsjf", f"no KPI history for product '{product[i]}'"
            else:
                effect[i] = mrr[i] * uplift[i]
        elif k == "churn_rate":
            if np.isnan(mrr[i]) or np.isnan(churn[i]):
                basis[i] = "fallback: wsjf"
                note[i] = f"no churn history for product '{product[i]}'"
            else:
                effect[i] = mrr[i] * churn[i] * -uplift[i]
                profile[i] = "churn_stack"
                c_after[i] = churn[i] * (1.0 + uplift[i])
        elif k == "cost":
            effect[i] = uplift[i]
        else:
            basis[i], note[i] = "fallback: wsjf", f"kpi '{k}' has no EUR effect"

    w = wsjf(backlog).to_numpy()
    cases = pd.DataFrame(
        {
            "item_id": backlog["item_id"].astype(str).to_numpy(),
            "product": product,
            "kpi": kpi,
            "uplift": uplift,
            "differentiation": backlog["differentiation"].astype(str).to_numpy(),
            "duration_periods": backlog["duration_periods"].astype(int).to_numpy(),
            "effort_pw": total_effort(backlog).to_numpy(),
            "cost_eur": cost,
            "baseline_mrr_eur": np.where(np.isin(kpi, NEEDS_BASELINE), mrr, np.nan),
            "baseline_churn_rate": np.where(kpi == "churn_rate", churn, np.nan),
            "churn_rate_after": c_after,
            "wsjf": w,
            "value_basis": basis,
            "note": note,
            "eur_per_wsjf_point": np.nan,
            "effect_profile": profile,
            "monthly_effect_eur": effect,
        }
    )

    # Calibrate the fallback proxy on the first 12 months after delivery (no discounting,
    # no commoditisation: a property of the effect itself), on the estimates as the planners
    # wrote them: a WSJF point is worth an estimate, realised like every estimate below.
    kpi_rows = cases["value_basis"] == "kpi"
    first_year = benefit_matrix(
        cases.assign(differentiation="parity"), np.zeros(n), settings, months=CALIBRATION_MONTHS
    ).sum(axis=1)
    ok = kpi_rows.to_numpy() & (first_year > 0) & (w > 0) & np.isfinite(w)
    rate = float(np.median(first_year[ok] / w[ok])) if ok.any() else 0.0
    fb = ~kpi_rows.to_numpy()
    cases.loc[fb, "eur_per_wsjf_point"] = rate
    cases.loc[fb, "monthly_effect_eur"] = np.nan_to_num(rate * w[fb] / CALIBRATION_MONTHS)
    cases.loc[fb, "effect_profile"] = "step"
    # no value input: the reader's defaults are no claim of value, so no benefit is counted
    lacking = cases["item_id"].isin(items_without_value_inputs(backlog)).to_numpy()
    cases.loc[lacking, "value_basis"] = NO_VALUE_BASIS
    cases.loc[lacking, "note"] = NO_VALUE_NOTE
    cases.loc[lacking, "eur_per_wsjf_point"] = np.nan
    cases.loc[lacking, "monthly_effect_eur"] = 0.0
    proxies = _proxies(backlog).to_numpy()
    proxied = proxies != ""
    if proxied.any():
        cases.loc[proxied, "value_basis"] = [f"proxy: {p}" for p in proxies[proxied]]
        cases.loc[proxied, "note"] = [
            f"no value input: WSJF inputs from the Jira {p} (PRIORITY_PROXY)" for p in proxies[proxied]
        ]
        if rate <= 0:
            raise ModelError(
                f"{int(proxied.sum())} items are valued by the proxy '{proxies[proxied][0]}', which ranks them by WSJF "
                "points, but no item is valued on a KPI to say what a point is worth in EUR. Fix: give a few items "
                "a kpi and kpi_uplift in values.csv (weitblick values-template writes it)."
            )

    # NPV for a start in period 1.
    horizon = settings.value_horizon_months
    dur = cases["duration_periods"].to_numpy()
    months = max(horizon, int(dur.max(initial=1)) * settings.period_months)
    disc = monthly_discount_factors(settings, months)
    finish_month = dur * settings.period_months
    costs = _cost_matrix(cost, dur, settings, months)
    pv_cost = costs @ disc

    def pv_benefit_at(r: np.ndarray) -> np.ndarray:
        """PV of each case's benefit when its uplift is realised r times (r per item)."""
        b = benefit_matrix(_realised(cases, estimated, r), finish_month, settings, months=months)
        b[:, horizon:] = 0.0
        return b @ disc

    estimated = cases.copy()
    factors = factor_table(backlog, settings.realisation)
    expected = factors["expected_factor"].to_numpy(dtype=float)
    cases["confidence_stated"] = factors["confidence"].to_numpy(dtype=float)
    cases["p_works"] = factors["p_pos"].to_numpy(dtype=float)
    cases["expected_factor"] = expected
    cases["factor_p10"] = factors["factor_p10"].to_numpy(dtype=float)
    cases["factor_p90"] = factors["factor_p90"].to_numpy(dtype=float)
    cases["estimated_monthly_effect_eur"] = estimated["monthly_effect_eur"].to_numpy(dtype=float)
    cases["pv_benefit_estimated_eur"] = pv_benefit_at(np.ones(n))
    realised = _realised(cases, estimated, expected)
    cases["monthly_effect_eur"] = realised["monthly_effect_eur"].to_numpy(dtype=float)
    cases["churn_rate_after"] = realised["churn_rate_after"].to_numpy(dtype=float)
    benefit = benefit_matrix(cases, finish_month, settings, months=months)
    benefit[:, horizon:] = 0.0  # nothing counted after the value horizon
    pv_benefit = benefit @ disc
    npv = pv_benefit - pv_cost
    cum = np.cumsum((benefit - costs) * disc[None, :], axis=1)[:, :horizon]
    hit = cum >= -1e-9
    first = np.where(hit.any(axis=1), hit.argmax(axis=1) + 1, -1)
    cases["pv_benefit_eur"] = pv_benefit
    cases["pv_cost_eur"] = pv_cost
    cases["npv_eur"] = npv
    low = pv_benefit_at(cases["factor_p10"].to_numpy(dtype=float)) - pv_cost
    high = pv_benefit_at(cases["factor_p90"].to_numpy(dtype=float)) - pv_cost
    cases["npv_p10_eur"] = np.minimum(low, high)
    cases["npv_p90_eur"] = np.maximum(low, high)
    with np.errstate(divide="ignore", invalid="ignore"):
        cases["roi"] = np.where(pv_cost > 0, npv / np.where(pv_cost > 0, pv_cost, 1.0), np.nan)
    cases["break_even_month"] = pd.array([int(f) if f > 0 else pd.NA for f in first], dtype="Int64")
    # cost of delay: benefit lost by starting one period later (period 2 instead of 1)
    later = benefit_matrix(cases, finish_month + settings.period_months, settings, months=months)
    later[:, horizon:] = 0.0
    cases["cost_of_delay_eur_per_period"] = pv_benefit - later @ disc
    # the inputs every figure used
    effort = cases["effort_pw"].to_numpy(dtype=float)
    cases["cost_rate_eur_per_pw"] = np.where(effort > 0, cost / np.where(effort > 0, effort, 1.0), np.nan)
    cases["discount_rate"] = settings.discount_rate
    cases["value_horizon_months"] = settings.value_horizon_months
    cases["commoditisation_per_year"] = np.where(
        cases["differentiation"] == "differentiator", settings.commoditisation_per_year, 0.0
    )
    return cases


# ---------------------------------------------------------------------------------------
# Value by start period
# ---------------------------------------------------------------------------------------


def value_by_start(backlog: pd.DataFrame, business_cases: pd.DataFrame, settings: Settings) -> pd.DataFrame:
    """Discounted benefit (EUR) of each item for each start period it can finish in.

    Long table: item_id, start_period, finish_period, value_eur. For start s the item
    finishes in period f = s + duration_periods - 1; starts with f > settings.periods get
    no row. value_eur is the benefit from month f * period_months + 1 up to
    value_horizon_months (counted from the plan start), discounted monthly and, for
    differentiators, commoditised (see the module docstring). Costs are not subtracted:
    the optimiser limits them through capacity and budget.
    """
    cases = business_cases.set_index("item_id")
    missing = [i for i in backlog["item_id"].astype(str) if i not in cases.index]
    if missing:
        raise ModelError(
            f"no business case for item(s) {', '.join(missing[:5])}. Fix: compute business_cases on the same backlog."
        )
    ids = backlog["item_id"].astype(str).to_numpy()
    cases = cases.loc[ids].reset_index()
    dur = backlog["duration_periods"].astype(int).to_numpy()
    # the backlog's differentiation is authoritative (cases may be older)
    cases["differentiation"] = backlog["differentiation"].astype(str).to_numpy()
    horizon = settings.value_horizon_months
    disc = monthly_discount_factors(settings, horizon)
    frames = []
    for s in range(1, settings.periods + 1):
        finish = s + dur - 1
        ok = finish <= settings.periods
        if not ok.any():
            continue
        sub = cases.loc[ok].reset_index(drop=True)
        benefit = benefit_matrix(sub, finish[ok] * settings.period_months, settings)
        frames.append(
            pd.DataFrame(
                {
                    "item_id": ids[ok],
                    "start_period": s,
                    "finish_period": finish[ok],
                    "value_eur": benefit @ disc,
                }
            )
        )
    if not frames:
        return pd.DataFrame(
            {
                "item_id": pd.Series(dtype=str),
                "start_period": pd.Series(dtype=int),
                "finish_period": pd.Series(dtype=int),
                "value_eur": pd.Series(dtype=float),
            }
        )
    out = pd.concat(frames, ignore_index=True)
    out["start_period"] = out["start_period"].astype(int)
    out["finish_period"] = out["finish_period"].astype(int)
    order = {item: k for k, item in enumerate(ids)}
    out = out.sort_values(["item_id", "start_period"], key=lambda c: c.map(order) if c.name == "item_id" else c)
    return out.reset_index(drop=True)


# ---------------------------------------------------------------------------------------
# Checks (used by the pipeline's asset checks)
# ---------------------------------------------------------------------------------------


def case_problems(cases: pd.DataFrame) -> list[str]:
    """Business cases that cannot be right: a negative cost or an NPV that is not a finite number."""
    bad_cost = cases.loc[cases["cost_eur"] < 0, "item_id"].tolist()
    bad_npv = cases.loc[~np.isfinite(cases["npv_eur"].astype(float)), "item_id"].tolist()
    return [f"{i}: negative cost" for i in bad_cost] + [f"{i}: NPV not finite" for i in bad_npv]


def baseline_problems(baselines: pd.DataFrame) -> list[str]:
    """KPI baselines that cannot be right: a rate outside [0, 1], negative money or users, or a
    churn rate missing although churn was observed."""
    problems = []
    for _, b in baselines.iterrows():
        for col in ("churn_rate", "conversion_rate", "stickiness", "retention_m12"):
            v = b[col]
            if pd.notna(v) and not 0.0 <= v <= 1.0:
                problems.append(f"{b['product']}: {col} {v:.4g} is not a share")
        for col in ("mau", "arpu", "mrr", "cac", "clv_eur"):
            if pd.notna(b[col]) and b[col] < 0:
                problems.append(f"{b['product']}: {col} {b[col]:,.2f} is negative")
        if pd.isna(b["churn_rate"]) and b["churn_months_used"] > 0:
            problems.append(f"{b['product']}: churn observed in {b['churn_months_used']} months but no churn rate")
    return problems
