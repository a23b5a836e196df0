"""The Mesa model: Bass validation, delivery and competition known answers, determinism."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from models.simulation import PortfolioMarketModel, Scenario, bass_step_hazard, run, simulate


def scenario(**constants) -> Scenario:
    return Scenario.model_validate({"name": "test", "constants": constants})


EXACT_EFFORT = {"effort_multiplier": 1.0, "item_effort_sigma": 0.0}


# --------------------------------------------------------------------------- Bass

def test_bass_step_hazard_known_answers():
    # x = 0, p = 0.03, q = 0.38: F(1) = (1 - e^-0.41) / (1 + (0.38/0.03) e^-0.41)
    #   e^-0.41 = 0.663650250; F(1) = 0.336349750 / 9.406236500 = 0.0357582
    assert bass_step_hazard(0.0, 0.03, 0.38) == pytest.approx(0.0357582, abs=1e-7)
    # q = 0: pure innovation, 1 - e^-p
    assert bass_step_hazard(0.4, 0.05, 0.0) == pytest.approx(1 - math.exp(-0.05))
    assert bass_step_hazard(1.0, 0.03, 0.38) == 0.0
    assert bass_step_hazard(0.5, 0.0, 0.0) == 0.0


def test_bass_step_iterated_reproduces_closed_form():
    p, q, x = 0.03, 0.38, 0.0
    for t in range(1, 37):
        x += bass_step_hazard(x, p, q) * (1 - x)
        e = math.exp(-(p + q) * t)
        assert x == pytest.approx((1 - e) / (1 + q / p * e), abs=1e-12)


def test_mean_adoption_follows_bass_closed_form(one_product_plan):
    """Competitors, shocks and churn off: mean MAU over 100 runs within 3 % of m of m F(t)."""
    p, q, m, months = 0.03, 0.38, 10_000, 36
    plan = one_product_plan(users=0, market_potential=m, bass_p=p, bass_q=q, churn_rate=0.0, months=months)
    quiet = Scenario(name="bass")  # defaults: no competitor, no shocks
    mau = np.mean([run(plan, quiet, seed)["mau"].to_numpy() for seed in range(100)], axis=0)
    t = np.arange(1, months + 1)
    e = np.exp(-(p + q) * t)
    closed = m * (1 - e) / (1 + q / p * e)
    assert len(mau) == months
    assert np.max(np.abs(mau - closed)) <= 0.03 * m
    assert mau[-1] > 0.99 * m  # it does saturate


# --------------------------------------------------------------------------- delivery

def _delivered(plan, sc) -> dict[str, int]:
    d = simulate(plan, sc, seed=0).delivery
    return dict(zip(d["item_id"], d["delivered_month"].astype("float").fillna(-1).astype(int)))


def test_overrun_item_slips_by_hand(one_product_plan, make_items):
    # 6 pw planned over months 1-3 (2 pw/month), actual 6 x 1.5 = 9 pw, pace 2 x 1.25 = 2.5/month
    # cumulative 2.5, 5.0, 7.5, 9.0 -> delivered in month 4, one month late
    items = make_items([{"item_id": "X", "planned_start_month": 1, "planned_finish_month": 3, "effort_backend": 6.0}])
    plan = one_product_plan(items=items, capacity_pw_per_month={"backend": 10.0}, months=12)
    out = simulate(plan, scenario(effort_multiplier=1.5, item_effort_sigma=0.0), seed=0).delivery.iloc[0]
    assert out["delivered_month"] == 4 and out["slip_months"] == 1 and out["actual_start_month"] == 1
    assert out["effort_multiplier"] == pytest.approx(1.5)


def test_capacity_goes_in_plan_order_by_hand(one_product_plan, make_items):
    # A and B: 6 pw each over months 1-3, pace 2.5; capacity 3/month.
    # m1: A 2.5, B 0.5 | m2: A 2.5, B 0.5 | m3: A 1.0 (done), B 2.0 | m4: B 2.5 | m5: B 0.5 (done)
    items = make_items([
        {"item_id": "A", "planned_start_month": 1, "planned_finish_month": 3, "effort_backend": 6.0},
        {"item_id": "B", "planned_start_month": 1, "planned_finish_month": 3, "effort_backend": 6.0},
    ])
    plan = one_product_plan(items=items, capacity_pw_per_month={"backend": 3.0}, months=12)
    assert _delivered(plan, scenario(**EXACT_EFFORT)) == {"A": 3, "B": 5}
    # the same through a 50 % budget cut in month 1 of a 6 pw/month team
    cut = Scenario.model_validate({"name": "cut", "constants": EXACT_EFFORT,
                                   "shocks": [{"type": "budget_cut", "month": 1, "size": 0.5, "skill": "backend"}]})
    doubled = one_product_plan(items=items, capacity_pw_per_month={"backend": 6.0}, months=12)
    assert _delivered(doubled, cut) == {"A": 3, "B": 5}
    assert _delivered(doubled, scenario(**EXACT_EFFORT)) == {"A": 3, "B": 3}


def test_item_waits_for_its_predecessor_by_hand(one_product_plan, make_items):
    # A delivered in month 4 (as above); B (4.5 pw actual, pace 1.25) starts in month 5:
    # 1.25, 2.5, 3.75, 4.5 -> delivered in month 8
    items = make_items([
        {"item_id": "A", "planned_start_month": 1, "planned_finish_month": 3, "effort_backend": 6.0},
        {"item_id": "B", "planned_start_month": 1, "planned_finish_month": 3, "effort_backend": 3.0,
         "depends_on": ["A"]},
    ])
    plan = one_product_plan(items=items, capacity_pw_per_month={"backend": 10.0}, months=12)
    out = simulate(plan, scenario(effort_multiplier=1.5, item_effort_sigma=0.0), seed=0).delivery
    assert out["delivered_month"].tolist() == [4, 8]
    assert out["actual_start_month"].tolist() == [1, 5]


def test_unfinished_items_have_no_delivery_month(one_product_plan, make_items):
    items = make_items([{"item_id": "X", "planned_start_month": 1, "planned_finish_month": 3, "effort_backend": 60.0}])
    plan = one_product_plan(items=items, capacity_pw_per_month={"backend": 1.0}, months=6)
    out = simulate(plan, scenario(**EXACT_EFFORT), seed=0).delivery
    assert out["delivered_month"].isna().all() and out["slip_months"].isna().all()


# --------------------------------------------------------------------------- competition

def test_competitor_parity_and_churn_by_hand(one_product_plan):
    # entry month 2, lag 3: the existing edge is copied from max(1, 2) + 3 = month 5
    plan = one_product_plan(users=1000, market_potential=5000, churn_rate=0.02, months=10)
    s = run(plan, scenario(competitor_entry_month=2, copy_lag_months=3, copy_half_life_months=0,
                           churn_pressure=0.5), seed=0)
    assert s["competitor_parity"].tolist() == [0, 0, 0, 0, 1, 1, 1, 1, 1, 1]
    assert s["churn_rate"].tolist() == pytest.approx([0.02] * 4 + [0.03] * 6)  # 0.02 x (1 + 0.5 x 1)
    # half-life 2: k = 1 - 2^-((t - 5)/2): month 7 -> 0.5, month 9 -> 0.75
    s = run(plan, scenario(competitor_entry_month=2, copy_lag_months=3, copy_half_life_months=2), seed=0)
    assert s.set_index("month").loc[[5, 7, 9], "competitor_parity"].tolist() == pytest.approx([0.0, 0.5, 0.75])


def test_copied_differentiator_loses_its_uplift_by_hand(one_product_plan, make_items):
    # X: 3 pw over months 1-3 at pace 1 -> delivered in month 3, acts from month 4.
    # Competitor present from month 1, lag 2: existing edge copied from month 3, X from 4 + 2 = 6.
    # parity: m1-2: 0; m3: 1 (only the existing edge); m4-5: (1 + 0)/2; m6+: 1.
    # conversion 0.1: m4-5: 0.1 x 1.2 = 0.12; m6+: 0.1 x (1 + 0.2 x 0.25) = 0.105
    items = make_items([{"item_id": "X", "planned_start_month": 1, "planned_finish_month": 3, "effort_backend": 3.0,
                         "kpi": "conversion_rate", "uplift": 0.2, "differentiation": "differentiator"}])
    plan = one_product_plan(users=2000, market_potential=5000, conversion_rate=0.1, items=items,
                            capacity_pw_per_month={"backend": 10.0}, months=8)
    s = run(plan, scenario(**EXACT_EFFORT, max_speedup=1.0, competitor_entry_month=1, copy_lag_months=2,
                           copy_half_life_months=0, differentiator_retention=0.25), seed=0)
    assert s["competitor_parity"].tolist() == pytest.approx([0, 0, 1, 0.5, 0.5, 1, 1, 1])
    assert s["conversion_rate"].tolist() == pytest.approx([0.1] * 3 + [0.12] * 2 + [0.105] * 3)
    assert s["delivered_items"].tolist() == [0, 0, 1, 1, 1, 1, 1, 1]


def test_conversion_uplift_earns_more_mrr_with_common_random_numbers(one_product_plan, make_items):
    items = make_items([{"item_id": "X", "planned_start_month": 1, "planned_finish_month": 3, "effort_backend": 3.0,
                         "kpi": "conversion_rate", "uplift": 0.2}])
    kw = dict(users=5000, market_potential=20_000, bass_p=0.0025, bass_q=0.03, churn_rate=0.02,
              conversion_rate=0.2, arpu=50.0, months=24)
    with_item = one_product_plan(items=items, capacity_pw_per_month={"backend": 10.0}, **kw)
    empty = one_product_plan(**kw)
    sc = scenario(**EXACT_EFFORT, max_speedup=1.0)  # delivered in month 3, acts from month 4
    ratios = []
    for seed in range(20):
        a, b = run(with_item, sc, seed), run(empty, sc, seed)
        # common random numbers: identical until the item acts, the same users afterwards
        pd.testing.assert_frame_equal(a.iloc[:3].drop(columns="delivered_items"), b.iloc[:3].drop(columns="delivered_items"))
        assert a["mau"].tolist() == b["mau"].tolist()
        ratios.append(a["mrr"].iloc[3:].sum() / b["mrr"].iloc[3:].sum())
    # same users, conversion 0.24 instead of 0.2: expected MRR ratio 1.2
    assert min(ratios) > 1.1
    assert np.mean(ratios) == pytest.approx(1.2, abs=0.01)


# --------------------------------------------------------------------------- determinism

def test_same_seed_same_series_other_seed_differs(demo_plan):
    from models.simulation import load_scenario
    from pipelines.paths import scenarios_dir

    sc = load_scenario(scenarios_dir() / "commoditisation.yaml")
    first, again = run(demo_plan, sc, 11), run(demo_plan, sc, 11)
    pd.testing.assert_frame_equal(first, again)
    other = run(demo_plan, sc, 12)
    assert not first.equals(other)
    assert len(first) == 24 * 2 and set(first["product"]) == {"IoT Platform", "Customer Portal"}


def test_model_is_a_mesa_model_with_named_data_collection(demo_plan):
    import mesa

    from models.simulation import CompetitorAgent, MarketSegmentAgent, TeamAgent

    model = PortfolioMarketModel(demo_plan, None, seed=3)
    assert isinstance(model, mesa.Model)
    assert len(model.agents_by_type[TeamAgent]) == 3
    assert len(model.agents_by_type[MarketSegmentAgent]) == len(model.agents_by_type[CompetitorAgent]) == 2
    model.run_model()
    assert model.steps == 24 and not model.running
    totals = model.datacollector.get_model_vars_dataframe()
    assert list(totals.columns) == ["mrr", "mau", "delivered_items", "capacity_used_pw"]
    assert totals["mrr"].to_numpy() == pytest.approx(model.series().groupby("month")["mrr"].sum().to_numpy())
