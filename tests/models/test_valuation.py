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
            dict(item_id="K1", effort_backend=1.0, kpi="cost", uplift=1000.0,
                 business_value=3.0, time_criticality=0.0, risk_reduction=0.0),   # 12,000 / 3 = 4,000
            dict(item_id="K2", effort_backend=1.0, kpi="cost", uplift=500.0,
                 business_value=1.0, time_criticality=1.0, risk_reduction=1.0),   # 6,000 / 3 = 2,000
            dict(item_id="K3", effort_backend=1.0, kpi="cost", uplift=3000.0,
                 business_value=6.0, time_criticality=0.0, risk_reduction=0.0),   # 36,000 / 6 = 6,000
            # NPS item, WSJF 3 / 2 pw = 1.5
            dict(item_id="F1", effort_backend=2.0, kpi="nps", uplift=4.0,
                 business_value=3.0, time_criticality=0.0, risk_reduction=0.0),
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
    bl = make_backlog([dict(item_id="K", effort_backend=1.0, kpi="cost", uplift=1000.0, business_value=3.0,
                            time_criticality=0.0, risk_reduction=0.0),
                       dict(item_id="N", product="Nowhere", effort_backend=1.0, kpi="mau", uplift=0.1,
                            business_value=3.0, time_criticality=0.0, risk_reduction=0.0)])
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
        backlog, teams, kpi_history, make_settings):
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
