"""Known-answer tests for models.valuation (the hand arithmetic is in the comments; the
fixture company is described in conftest.py)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from models import valuation
from models.errors import ModelError


def test_kpi_baselines(kpi_history):
    b = valuation.kpi_baselines(kpi_history).set_index("product")
    # Shop: 300 churned / previous month's 10,000 MAU = 3 % a month; paying 10,000 x 5 % = 500
    assert b.loc["Shop", "churn_rate"] == pytest.approx(0.03)
    assert b.loc["Shop", "paying_customers"] == pytest.approx(500.0)
    assert b.loc["Shop", "mrr"] == pytest.approx(10_000.0)
    assert b.loc["App", "churn_rate"] == pytest.approx(0.02)  # 1,000 / 50,000
    assert b.loc["App", "months_used"] == 3
    assert b.loc["App", "last_month"] == pd.Timestamp("2026-12-01")


def _history(product: str, values: dict[str, list[float]], start: str = "2026-01-01") -> pd.DataFrame:
    n = len(next(iter(values.values())))
    base = dict(
        mau=1_000.0,
        dau=200.0,
        new_users=50.0,
        churned_users=20.0,
        conversion_rate=0.1,
        arpu=50.0,
        mrr=5_000.0,
        nps=20.0,
        cac=300.0,
    )
    df = pd.DataFrame(
        {
            "product": product,
            "month": pd.date_range(start, periods=n, freq="MS"),
            **{k: values.get(k, [v] * n) for k, v in base.items()},
        }
    )
    return df


def test_missing_month_and_blank_cell_are_interpolated_and_reported():
    h = _history(
        "P",
        {"mrr": [1_000.0, 2_000.0, 3_000.0, 4_000.0, 5_000.0, 6_000.0], "nps": [10.0, 20.0, np.nan, 40.0, 50.0, 60.0]},
    )
    h = h.drop(index=3)  # April missing: 4,000 EUR MRR lies between 3,000 and 5,000
    clean, imp = valuation.clean_kpi_history(h)
    april = clean.set_index("month").loc[pd.Timestamp("2026-04-01")]
    assert april["mrr"] == pytest.approx(4_000.0)  # linear, month by month
    assert clean.set_index("month").loc[pd.Timestamp("2026-03-01"), "nps"] == pytest.approx(30.0)
    reasons = imp.set_index(["month", "column"])["reason"]
    assert reasons[(pd.Timestamp("2026-04-01"), "mrr")] == "missing month"
    assert reasons[(pd.Timestamp("2026-03-01"), "nps")] == "missing value"
    base = valuation.kpi_baselines(h).iloc[0]
    assert base["imputed_values"] == 9  # every column of April, the last three months' only gap
    assert "missing month: " in base["imputation_note"] and "mrr 2026-04" in base["imputation_note"]


def test_an_outlier_is_replaced_by_its_neighbours_and_named():
    mrr = [10_000.0 * 1.02**t for t in range(12)]
    typo = mrr.copy()
    typo[6] *= 100  # entered in cents
    h = _history("P", {"mrr": typo})
    clean, imp = valuation.clean_kpi_history(h)
    assert clean["mrr"].iloc[6] == pytest.approx((mrr[5] + mrr[7]) / 2, rel=1e-3)  # interpolated
    row = imp.loc[imp["column"] == "mrr"].iloc[0]
    assert row["month"] == pd.Timestamp("2026-07-01") and row["reason"].startswith("outlier: 1,126,162")
    assert len(imp) == 1  # the smooth trend of the other months is not touched
    base = valuation.kpi_baselines(h).iloc[0]
    assert base["mrr_growth_per_month"] == pytest.approx(0.02, abs=2e-4)  # the trend is fitted on clean data


def test_churn_that_was_never_observed_is_not_invented():
    # churn reported only from May: the months before are unknown, not zero
    h = _history("P", {"mau": [1_000.0] * 6, "churned_users": [np.nan, np.nan, np.nan, np.nan, 30.0, 40.0]})
    clean, imp = valuation.clean_kpi_history(h)
    assert clean["churned_users"].isna().sum() == 4
    assert set(imp.loc[imp["column"] == "churned_users", "reason"]) == {"not observed: left unknown"}
    base = valuation.kpi_baselines(h).iloc[0]
    assert base["churn_rate"] == pytest.approx(0.035)  # (30 + 40) / 2 / 1,000
    assert base["churn_months_used"] == 2


def test_unit_economics_by_hand(make_settings):
    s = make_settings(economics={"gross_margin": 0.7, "margins": {"P": 0.5}})
    h = _history(
        "P",
        {"mau": [1_000.0] * 4, "churned_users": [20.0] * 4, "arpu": [50.0] * 4, "cac": [300.0] * 4, "dau": [250.0] * 4},
    )
    base = valuation.kpi_baselines(h, s).iloc[0]
    assert base["churn_rate"] == pytest.approx(0.02)
    assert base["gross_margin"] == 0.5  # the product's own margin
    assert base["clv_eur"] == pytest.approx(50.0 * 0.5 / 0.02)  # 1,250 EUR per paying customer
    assert base["cac_payback_months"] == pytest.approx(300.0 / 25.0)  # 12 months
    assert base["clv_to_cac"] == pytest.approx(1_250.0 / 300.0)
    assert base["retention_m6"] == pytest.approx(0.98**6)
    assert base["expected_lifetime_months"] == pytest.approx(50.0)
    assert base["stickiness"] == pytest.approx(0.25)


def test_growth_rates_fit_a_compound_series():
    h = _history("P", {"mrr": [1_000.0 * 1.05**t for t in range(15)], "mau": [500.0 * 0.99**t for t in range(15)]})
    base = valuation.kpi_baselines(h).iloc[0]
    assert base["mrr_growth_per_month"] == pytest.approx(0.05)
    assert base["mrr_growth_per_year"] == pytest.approx(1.05**12 - 1)
    assert base["mau_growth_per_month"] == pytest.approx(-0.01)


def test_business_case_by_hand_without_discounting(backlog, teams, kpi_history, make_settings):
    s = make_settings(discount_rate=0.0, commoditisation_per_year=0.0)
    bc = valuation.business_cases(backlog, teams, kpi_history, s).set_index("item_id")
    s1 = bc.loc["S1"]
    # cost: 4 backend pw x mean(4,000, 6,000) + 2 frontend pw x 3,000 = 20,000 + 6,000 = 26,000 EUR
    assert s1["cost_eur"] == pytest.approx(26_000.0)
    # effect: Shop MRR 10,000 x 20 % = 2,000 EUR a month from month 4 (one quarter of work)
    assert s1["monthly_effect_eur"] == pytest.approx(2_000.0)
    assert s1["value_basis"] == "kpi"
    # benefit months 4..24 = 21 months x 2,000 = 42,000; NPV = 42,000 - 26,000 = 16,000
    assert s1["pv_benefit_eur"] == pytest.approx(42_000.0)
    assert s1["npv_eur"] == pytest.approx(16_000.0)
    assert s1["roi"] == pytest.approx(16_000 / 26_000)
    # cumulative cash: -26,000 after month 3, +2,000 a month after: 0 after month 3 + 13 = 16
    assert s1["break_even_month"] == 16


def test_business_case_npv_with_monthly_discounting(backlog, teams, kpi_history, make_settings):
    s = make_settings(discount_rate=0.10, commoditisation_per_year=0.0)
    s1 = valuation.business_cases(backlog, teams, kpi_history, s).set_index("item_id").loc["S1"]
    # monthly factor (1.1)^(-m/12): cost 26,000/3 in months 1..3, benefit 2,000 in months 4..24
    pv_cost = sum(26_000 / 3 * 1.1 ** (-m / 12) for m in range(1, 4))
    pv_benefit = sum(2_000 * 1.1 ** (-m / 12) for m in range(4, 25))
    assert s1["pv_cost_eur"] == pytest.approx(pv_cost)
    assert s1["npv_eur"] == pytest.approx(pv_benefit - pv_cost)
    cum = np.cumsum([(-26_000 / 3 if m <= 3 else 2_000) * 1.1 ** (-m / 12) for m in range(1, 25)])
    assert s1["break_even_month"] == int(np.argmax(cum >= 0)) + 1
    assert s1["break_even_month"] > 16  # discounting delays break-even


def test_item_that_never_breaks_even_has_no_break_even_month(make_backlog, teams, kpi_history, settings):
    bl = make_backlog([dict(item_id="X", effort_backend=10.0, kpi="cost", uplift=10.0)])
    x = valuation.business_cases(bl, teams, kpi_history, settings).iloc[0]
    # 50,000 EUR for 10 EUR a month: never within 24 months
    assert x["npv_eur"] < 0 and pd.isna(x["break_even_month"])


def test_churn_reduction_stacks_retained_customers(backlog, teams, kpi_history, make_settings):
    s = make_settings(discount_rate=0.0, commoditisation_per_year=0.0)
    bc = valuation.business_cases(backlog, teams, kpi_history, s).set_index("item_id")
    s2 = bc.loc["S2"]
    # uplift -0.10: churn falls by 10 %, from 3 % to 3 % x 0.9 = 2.7 % a month
    # first month: MRR 10,000 x churn 3 % x 10 % = 30 EUR
    assert s2["monthly_effect_eur"] == pytest.approx(30.0)
    assert s2["churn_rate_after"] == pytest.approx(0.027)
    # two quarters of work: finishes end of month 6; month 7 earns 30, month 8 30 x (1 + 0.973)
    m = valuation.benefit_matrix(bc.loc[["S2"]].reset_index(), np.array([6]), s)[0]
    assert m[5] == 0.0
    assert m[6] == pytest.approx(30.0)
    assert m[7] == pytest.approx(30.0 * (1 + 0.973))


def test_fallback_proxy_calibrated_per_wsjf_point(make_backlog, teams, kpi_history, make_settings):
    bl = make_backlog(
        [
            # cost savings, effort 1 pw each; WSJF = (bv + tc + rr) / 1
            dict(
                item_id="K1",
                effort_backend=1.0,
                kpi="cost",
                uplift=1000.0,
                business_value=3.0,
                time_criticality=0.0,
                risk_reduction=0.0,
            ),  # 12,000 / 3 = 4,000
            dict(
                item_id="K2",
                effort_backend=1.0,
                kpi="cost",
                uplift=500.0,
                business_value=1.0,
                time_criticality=1.0,
                risk_reduction=1.0,
            ),  # 6,000 / 3 = 2,000
            dict(
                item_id="K3",
                effort_backend=1.0,
                kpi="cost",
                uplift=3000.0,
                business_value=6.0,
                time_criticality=0.0,
                risk_reduction=0.0,
            ),  # 36,000 / 6 = 6,000
            # NPS item, WSJF 3 / 2 pw = 1.5
            dict(
                item_id="F1",
                effort_backend=2.0,
                kpi="nps",
                uplift=4.0,
                business_value=3.0,
                time_criticality=0.0,
                risk_reduction=0.0,
            ),
        ]
    )
    bc = valuation.business_cases(bl, teams, kpi_history, make_settings()).set_index("item_id")
    # median EUR per WSJF point over the first 12 months = median(4,000, 2,000, 6,000) = 4,000
    assert bc.loc["F1", "value_basis"] == "fallback: wsjf"
    assert bc.loc["F1", "eur_per_wsjf_point"] == pytest.approx(4_000.0)
    # proxy effect: 4,000 x 1.5 / 12 = 500 EUR a month
    assert bc.loc["F1", "monthly_effect_eur"] == pytest.approx(500.0)
    assert (bc.loc[["K1", "K2", "K3"], "value_basis"] == "kpi").all()


def test_item_of_a_product_without_kpi_history_falls_back_and_says_why(make_backlog, teams, kpi_history, settings):
    bl = make_backlog(
        [
            dict(
                item_id="K",
                effort_backend=1.0,
                kpi="cost",
                uplift=1000.0,
                business_value=3.0,
                time_criticality=0.0,
                risk_reduction=0.0,
            ),
            dict(
                item_id="N",
                product="Nowhere",
                effort_backend=1.0,
                kpi="mau",
                uplift=0.1,
                business_value=3.0,
                time_criticality=0.0,
                risk_reduction=0.0,
            ),
        ]
    )
    bc = valuation.business_cases(bl, teams, kpi_history, settings).set_index("item_id")
    assert bc.loc["N", "value_basis"] == "fallback: wsjf"
    assert bc.loc["N", "note"] == "no KPI history for product 'Nowhere'"
    # same WSJF as K (3), so the same monthly effect: 1,000 EUR
    assert bc.loc["N", "monthly_effect_eur"] == pytest.approx(1000.0)


def test_unknown_skill_is_reported_with_the_items(make_backlog, teams, kpi_history, settings):
    bl = make_backlog([dict(item_id="M1", effort_mobile=3.0)], skills=("backend", "mobile"))
    with pytest.raises(ModelError, match=r"skill 'mobile'.*M1.*Fix"):
        valuation.business_cases(bl, teams, kpi_history, settings)


def test_value_by_start_rows_and_consistency_with_business_case(backlog, teams, kpi_history, settings):
    bc = valuation.business_cases(backlog, teams, kpi_history, settings)
    v = valuation.value_by_start(backlog, bc, settings)
    # 4 periods: one-period items start 1..4, S2 (two periods) only 1..3
    assert v.groupby("item_id").size().to_dict() == {"S1": 4, "S2": 3, "S3": 4, "A1": 4, "A2": 4, "A3": 4, "D1": 4}
    assert (v["finish_period"] <= settings.periods).all()
    first = v.loc[v["start_period"] == 1].set_index("item_id")["value_eur"]
    assert first.to_dict() == pytest.approx(bc.set_index("item_id")["pv_benefit_eur"].to_dict())


def test_parity_item_loses_value_only_through_discounting_and_horizon(backlog, teams, kpi_history, make_settings):
    flat = make_settings(discount_rate=0.0, commoditisation_per_year=0.0)
    bc = valuation.business_cases(backlog, teams, kpi_history, flat)
    v = valuation.value_by_start(backlog, bc, flat)
    s3 = v.loc[v["item_id"] == "S3"].set_index("start_period")["value_eur"]
    # 2,000 EUR a month from month 3s + 1 to month 24: 2,000 x (24 - 3s)
    assert s3.to_dict() == pytest.approx({1: 42_000.0, 2: 36_000.0, 3: 30_000.0, 4: 24_000.0})
    # commoditisation does not touch parity items
    fast = make_settings(discount_rate=0.0, commoditisation_per_year=0.5)
    v2 = valuation.value_by_start(backlog, valuation.business_cases(backlog, teams, kpi_history, fast), fast)
    assert v2.loc[v2["item_id"] == "S3", "value_eur"].to_numpy() == pytest.approx(s3.to_numpy())
    # a horizon shorter than the plan: an item finishing at the end of month 12 earns nothing
    short = make_settings(discount_rate=0.0, value_horizon_months=12)
    v3 = valuation.value_by_start(backlog, valuation.business_cases(backlog, teams, kpi_history, short), short)
    assert v3.loc[(v3["item_id"] == "S3") & (v3["start_period"] == 4), "value_eur"].item() == 0.0


def test_differentiator_started_later_is_worth_less_than_discounting_alone_explains(
    backlog, teams, kpi_history, make_settings
):
    s = make_settings(discount_rate=0.0, commoditisation_per_year=0.25)
    v = valuation.value_by_start(backlog, valuation.business_cases(backlog, teams, kpi_history, s), s)
    s1 = v.loc[v["item_id"] == "S1"].set_index("start_period")["value_eur"]
    # S1 (differentiator, 2,000 EUR/month): value(s) = sum_{m=3s+1}^{24} 2,000 x 0.75^(m/12)
    expected = {t: sum(2_000 * 0.75 ** (m / 12) for m in range(3 * t + 1, 25)) for t in range(1, 5)}
    assert s1.to_dict() == pytest.approx(expected)
    assert list(s1.diff().dropna() < 0) == [True, True, True]
    # it is worth less than the same effect on a parity item, for every start
    parity = backlog.assign(differentiation="parity")
    vp = valuation.value_by_start(parity, valuation.business_cases(parity, teams, kpi_history, s), s)
    p1 = vp.loc[vp["item_id"] == "S1"].set_index("start_period")["value_eur"]
    assert (s1 < p1).all()
    # and loses a larger share per quarter of delay (1 - v(2)/v(1))
    assert 1 - s1[2] / s1[1] > 1 - p1[2] / p1[1]


def test_cost_of_delay_and_the_inputs_used_by_hand(backlog, teams, kpi_history, make_settings):
    s = make_settings(discount_rate=0.0, commoditisation_per_year=0.0)
    s1 = valuation.business_cases(backlog, teams, kpi_history, s).set_index("item_id").loc["S1"]
    # one quarter later: benefit months 7..24 instead of 4..24, so 3 months x 2,000 EUR are lost
    assert s1["cost_of_delay_eur_per_period"] == pytest.approx(6_000.0)
    assert s1["cost_rate_eur_per_pw"] == pytest.approx(26_000.0 / 6.0)  # 6 pw cost 26,000 EUR
    assert (s1["discount_rate"], s1["value_horizon_months"]) == (0.0, 24)


def test_baseline_problems_name_impossible_values():
    b = valuation.kpi_baselines(_history("P", {"churned_users": [20.0] * 4})).assign(product="P")
    assert valuation.baseline_problems(b) == []
    bad = b.assign(churn_rate=1.5, mrr=-1.0)
    assert valuation.baseline_problems(bad) == ["P: churn_rate 1.5 is not a share", "P: mrr -1.00 is negative"]


# ---------------------------------------------------------------------------------------
# Realisation: an uplift is a hypothesis (models.realisation)
# ---------------------------------------------------------------------------------------


def test_business_case_is_the_expected_realisation_of_the_estimate(backlog, teams, kpi_history, make_settings):
    """S1 (+20 % conversion, confidence 0.8) with the default realisation, by hand:
    p_works = 0.15 + (0.45 - 0.15) x (0.8 - 0.5) / (1.0 - 0.5) = 0.33, p_harm = 0.67 / 2 = 0.335,
    E[R] = 0.33 x 0.6 e^(0.6^2/2) - 0.335 x 0.2 e^(0.5^2/2) = 0.237049 - 0.075921 = 0.161128.
    Monthly effect 2,000 EUR as estimated, 2,000 x 0.161128 = 322.26 EUR expected; benefit months
    4..24: 21 x 322.26 = 6,767.4 EUR; NPV 6,767.4 - 26,000 = -19,232.6 EUR."""
    s = make_settings(discount_rate=0.0, commoditisation_per_year=0.0, realisation={})
    s1 = valuation.business_cases(backlog, teams, kpi_history, s).set_index("item_id").loc["S1"]
    e = 0.33 * 0.6 * np.exp(0.18) - 0.335 * 0.2 * np.exp(0.125)
    assert s1["p_works"] == pytest.approx(0.33)
    assert s1["expected_factor"] == pytest.approx(e) and e == pytest.approx(0.161128, abs=1e-6)
    assert s1["estimated_monthly_effect_eur"] == pytest.approx(2_000.0)
    assert s1["monthly_effect_eur"] == pytest.approx(2_000.0 * e)
    assert s1["pv_benefit_estimated_eur"] == pytest.approx(42_000.0)
    assert s1["pv_benefit_eur"] == pytest.approx(21 * 2_000.0 * e)
    assert s1["npv_eur"] == pytest.approx(21 * 2_000.0 * e - 26_000.0)
    # P10 and P90 are the NPV at the factor's P10 and P90 (the value is linear in R here)
    assert s1["npv_p10_eur"] == pytest.approx(42_000.0 * s1["factor_p10"] - 26_000.0)
    assert s1["npv_p90_eur"] == pytest.approx(42_000.0 * s1["factor_p90"] - 26_000.0)
    assert s1["npv_p10_eur"] < s1["npv_eur"] < s1["npv_p90_eur"]


def test_churn_item_realises_its_reduction_in_the_churn_after(backlog, teams, kpi_history, make_settings):
    """S2 (churn -10 %, confidence 0.5): churn after delivery is c (1 - 0.10 x E[R]), the first
    month's increment mrr x c x 0.10 x E[R]."""
    s = make_settings(discount_rate=0.0, commoditisation_per_year=0.0, realisation={})
    face = make_settings(discount_rate=0.0, commoditisation_per_year=0.0)
    real = valuation.business_cases(backlog, teams, kpi_history, s).set_index("item_id").loc["S2"]
    est = valuation.business_cases(backlog, teams, kpi_history, face).set_index("item_id").loc["S2"]
    e = 0.15 * 0.6 * np.exp(0.18) - 0.425 * 0.2 * np.exp(0.125)  # confidence 0.5: p_works 0.15
    assert real["expected_factor"] == pytest.approx(e)
    c = est["baseline_churn_rate"]
    assert real["churn_rate_after"] == pytest.approx(c * (1 - 0.10 * e))
    assert real["monthly_effect_eur"] == pytest.approx(est["monthly_effect_eur"] * e)


def test_a_confidence_the_reader_filled_in_counts_as_missing(backlog, teams, kpi_history, make_settings):
    """An item whose source gave no confidence (not in value_inputs) realises with p_pos_missing (1/3),
    whatever default the reader put in the confidence column."""
    s = make_settings(discount_rate=0.0, commoditisation_per_year=0.0, realisation={})
    b = backlog.assign(value_inputs="kpi,confidence")
    b.loc[b["item_id"] == "S1", "value_inputs"] = "kpi"
    bc = valuation.business_cases(b, teams, kpi_history, s).set_index("item_id")
    assert np.isnan(bc.loc["S1", "confidence_stated"])
    assert bc.loc["S1", "p_works"] == pytest.approx(1 / 3)
    assert bc.loc["S2", "confidence_stated"] == pytest.approx(0.5)
