"""The Mesa model: Bass step, delivery (attrition, switching, shocks) and competition known answers,
OKR attainment, determinism. Bass against published pairs and real data: test_credibility.py."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from models.simulation import SERIES_COLUMNS, PortfolioMarketModel, Scenario, bass_step_hazard, run, simulate


def scenario(**constants) -> Scenario:
    return Scenario.model_validate({"name": "test", "constants": constants})


# effort exactly as planned, nobody leaves, no switching loss: delivery by hand
EXACT_EFFORT = {
    "effort_multiplier": 1.0,
    "item_effort_sigma": 0.0,
    "attrition_per_month": 0.0,
    "context_switch_loss": 0.0,
}


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


# --------------------------------------------------------------------------- delivery


def _delivered(plan, sc) -> dict[str, int]:
    d = simulate(plan, sc, seed=0).delivery
    return dict(zip(d["item_id"], d["delivered_month"].astype("float").fillna(-1).astype(int), strict=True))


def test_overrun_item_slips_by_hand(one_product_plan, make_items):
    # 6 pw planned over months 1-3 (2 pw/month), actual 6 x 1.5 = 9 pw, pace 2 x 1.25 = 2.5/month
    # cumulative 2.5, 5.0, 7.5, 9.0 -> delivered in month 4, one month late
    items = make_items([{"item_id": "X", "planned_start_month": 1, "planned_finish_month": 3, "effort_backend": 6.0}])
    plan = one_product_plan(items=items, capacity_pw_per_month={"backend": 10.0}, months=12)
    out = simulate(plan, scenario(**{**EXACT_EFFORT, "effort_multiplier": 1.5}), seed=0).delivery.iloc[0]
    assert out["delivered_month"] == 4 and out["slip_months"] == 1 and out["actual_start_month"] == 1
    assert out["effort_multiplier"] == pytest.approx(1.5)


def test_capacity_goes_in_plan_order_by_hand(one_product_plan, make_items):
    # A and B: 6 pw each over months 1-3, pace 2.5; capacity 3/month.
    # m1: A 2.5, B 0.5 | m2: A 2.5, B 0.5 | m3: A 1.0 (done), B 2.0 | m4: B 2.5 | m5: B 0.5 (done)
    items = make_items(
        [
            {"item_id": "A", "planned_start_month": 1, "planned_finish_month": 3, "effort_backend": 6.0},
            {"item_id": "B", "planned_start_month": 1, "planned_finish_month": 3, "effort_backend": 6.0},
        ]
    )
    plan = one_product_plan(items=items, capacity_pw_per_month={"backend": 3.0}, months=12)
    assert _delivered(plan, scenario(**EXACT_EFFORT)) == {"A": 3, "B": 5}
    # the same through a 50 % budget cut in month 1 of a 6 pw/month team
    cut = Scenario.model_validate(
        {
            "name": "cut",
            "constants": EXACT_EFFORT,
            "shocks": [{"type": "budget_cut", "month": 1, "size": 0.5, "skill": "backend"}],
        }
    )
    doubled = one_product_plan(items=items, capacity_pw_per_month={"backend": 6.0}, months=12)
    assert _delivered(doubled, cut) == {"A": 3, "B": 5}
    assert _delivered(doubled, scenario(**EXACT_EFFORT)) == {"A": 3, "B": 3}


def test_item_waits_for_its_predecessor_by_hand(one_product_plan, make_items):
    # A delivered in month 4 (as above); B (4.5 pw actual, pace 1.25) starts in month 5:
    # 1.25, 2.5, 3.75, 4.5 -> delivered in month 8
    items = make_items(
        [
            {"item_id": "A", "planned_start_month": 1, "planned_finish_month": 3, "effort_backend": 6.0},
            {
                "item_id": "B",
                "planned_start_month": 1,
                "planned_finish_month": 3,
                "effort_backend": 3.0,
                "depends_on": ["A"],
            },
        ]
    )
    plan = one_product_plan(items=items, capacity_pw_per_month={"backend": 10.0}, months=12)
    out = simulate(plan, scenario(**{**EXACT_EFFORT, "effort_multiplier": 1.5}), seed=0).delivery
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
    s = run(
        plan, scenario(competitor_entry_month=2, copy_lag_months=3, copy_half_life_months=0, churn_pressure=0.5), seed=0
    )
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
    items = make_items(
        [
            {
                "item_id": "X",
                "planned_start_month": 1,
                "planned_finish_month": 3,
                "effort_backend": 3.0,
                "kpi": "conversion_rate",
                "uplift": 0.2,
                "differentiation": "differentiator",
            }
        ]
    )
    plan = one_product_plan(
        users=2000,
        market_potential=5000,
        conversion_rate=0.1,
        items=items,
        capacity_pw_per_month={"backend": 10.0},
        months=8,
    )
    s = run(
        plan,
        scenario(
            **EXACT_EFFORT,
            max_speedup=1.0,
            competitor_entry_month=1,
            copy_lag_months=2,
            copy_half_life_months=0,
            differentiator_retention=0.25,
        ),
        seed=0,
    )
    assert s["competitor_parity"].tolist() == pytest.approx([0, 0, 1, 0.5, 0.5, 1, 1, 1])
    assert s["conversion_rate"].tolist() == pytest.approx([0.1] * 3 + [0.12] * 2 + [0.105] * 3)
    assert s["delivered_items"].tolist() == [0, 0, 1, 1, 1, 1, 1, 1]


def test_conversion_uplift_earns_more_mrr_with_common_random_numbers(one_product_plan, make_items):
    items = make_items(
        [
            {
                "item_id": "X",
                "planned_start_month": 1,
                "planned_finish_month": 3,
                "effort_backend": 3.0,
                "kpi": "conversion_rate",
                "uplift": 0.2,
            }
        ]
    )
    kw = dict(
        users=5000,
        market_potential=20_000,
        bass_p=0.0025,
        bass_q=0.03,
        churn_rate=0.02,
        conversion_rate=0.2,
        arpu=50.0,
        months=24,
    )
    with_item = one_product_plan(items=items, capacity_pw_per_month={"backend": 10.0}, **kw)
    empty = one_product_plan(**kw)
    sc = scenario(**EXACT_EFFORT, max_speedup=1.0)  # delivered in month 3, acts from month 4
    ratios = []
    for seed in range(20):
        a, b = run(with_item, sc, seed), run(empty, sc, seed)
        # common random numbers: identical until the item acts, the same users afterwards
        pd.testing.assert_frame_equal(
            a.iloc[:3].drop(columns="delivered_items"), b.iloc[:3].drop(columns="delivered_items")
        )
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
    assert list(model.series().columns) == SERIES_COLUMNS
    used = totals["capacity_used_pw"].to_numpy()
    assert used.sum() > 0 and (used <= sum(demo_plan.capacity_pw_per_month.values()) + 1e-9).all()


def test_same_item_same_overrun_in_every_plan(
    sim_decisions, sim_backlog, sim_teams, sim_kpi_history, sim_settings, demo_plan
):
    """Common random numbers: an item's effort draw depends on the backlog, not on the other items."""
    from models.simulation import build_plan

    fewer = build_plan(
        "fewer",
        sim_decisions.assign(funded=sim_decisions["item_id"].isin(["B", "D"])),
        sim_backlog,
        sim_teams,
        sim_kpi_history,
        sim_settings,
    )
    a = simulate(demo_plan, None, seed=5).delivery.set_index("item_id")["effort_multiplier"]
    b = simulate(fewer, None, seed=5).delivery.set_index("item_id")["effort_multiplier"]
    assert list(b.index) == ["B", "D"] and b.to_dict() == a.loc[["B", "D"]].to_dict()


# --------------------------------------------------------------------------- people and shocks


def _capacity(plan, sc, months: int) -> list[float]:
    model = PortfolioMarketModel(plan, sc, seed=0)
    out = []
    for _ in range(months):
        model.step()
        out.append(model.team_list[0].available_pw)
    return out


def test_attrition_hiring_lag_and_ramp_up_by_hand(one_product_plan):
    # 2 persons, 8 pw/month; hazard 1: both leave in month 1, replacements arrive 2 months later
    # (month 3) and leave again in month 4 (they are in post then) -> 0, 0, 8, 0, 0, 8
    plan = one_product_plan(capacity_pw_per_month={"backend": 8.0}, headcount={"backend": 2}, months=6)
    quit_all = {"attrition_per_month": 1.0, "hiring_lag_months": 2, "ramp_up_months": 0, "context_switch_loss": 0.0}
    assert _capacity(plan, scenario(**quit_all), 6) == pytest.approx([0, 0, 8, 0, 0, 8])
    # ramp-up of 1 month: a replacement works at 1 / (1 + 1) in its first month
    assert _capacity(plan, scenario(**{**quit_all, "ramp_up_months": 1}), 6) == pytest.approx([0, 0, 4, 0, 0, 4])
    # nobody leaves: full capacity
    assert _capacity(plan, scenario(**{**quit_all, "attrition_per_month": 0.0}), 3) == pytest.approx([8, 8, 8])


def test_attrition_rate_matches_its_hazard(one_product_plan):
    plan = one_product_plan(capacity_pw_per_month={"backend": 100.0}, headcount={"backend": 100}, months=12)
    leavers = []
    for seed in range(50):
        model = PortfolioMarketModel(plan, scenario(attrition_per_month=0.05, hiring_lag_months=0), seed=seed)
        for _ in range(12):
            model.step()
            leavers.append(model.team_list[0].leavers)
    assert np.mean(leavers) == pytest.approx(100 * 0.05, rel=0.05)  # 5 of 100 a month


def test_context_switching_loss_by_hand(one_product_plan, make_items):
    # 1 person, 3 items all planned for month 1 (50 pw each, 4 pw a month: all slip). Month 1:
    # the plan itself asks for 3 in parallel, no loss. Month 2: none is planned any more, 3 are
    # still open, 2 above the threshold of 1 per person -> loss 2 x 0.2 = 40 %
    items = make_items(
        [{"item_id": i, "planned_start_month": 1, "planned_finish_month": 1, "effort_backend": 50.0} for i in "ABC"]
    )
    plan = one_product_plan(items=items, capacity_pw_per_month={"backend": 4.0}, headcount={"backend": 1}, months=2)
    base = {**EXACT_EFFORT, "context_switch_loss": 0.2, "context_switch_threshold": 1.0}
    assert _capacity(plan, scenario(**base), 2) == pytest.approx([4.0, 4.0 * 0.6])
    # capped at the largest loss
    assert _capacity(
        plan, scenario(**{**base, "context_switch_loss": 0.5, "context_switch_max_loss": 0.75}), 2
    ) == pytest.approx([4.0, 1.0])


def test_budget_cut_and_cost_inflation_by_hand(one_product_plan):
    plan = one_product_plan(capacity_pw_per_month={"backend": 10.0}, months=4)
    sc = Scenario.model_validate(
        {
            "name": "money",
            "constants": EXACT_EFFORT,
            "shocks": [
                {"type": "budget_cut", "month": 2, "size": 0.2},
                {"type": "cost_inflation", "month": 3, "size": 0.25, "skill": "backend"},
            ],
        }
    )
    # 10; 10 x 0.8; 8 / 1.25 = 6.4
    assert _capacity(plan, sc, 4) == pytest.approx([10, 8, 6.4, 6.4])
    # yearly inflation under a fixed budget: month 13 buys 1 / 1.06 of month 1
    yearly = one_product_plan(capacity_pw_per_month={"backend": 10.0}, months=13)
    cap = _capacity(yearly, scenario(**EXACT_EFFORT, cost_inflation_per_year=0.06), 13)
    assert cap[0] == pytest.approx(10.0) and cap[12] == pytest.approx(10.0 / 1.06)


def test_regulatory_must_have_preempts_capacity_by_hand(one_product_plan, make_items):
    # A: 6 pw over months 1-3 (pace 2 at max_speedup 1). The regulation arrives in month 1 with 5 pw
    # over one month (pace 5) and is worked first; capacity 4/month:
    # m1: R 4 | m2: R 1, A 2 | m3: A 2 | m4: A 2 -> R in month 2, A in month 4 (one month late)
    items = make_items([{"item_id": "A", "planned_start_month": 1, "planned_finish_month": 3, "effort_backend": 6.0}])
    plan = one_product_plan(items=items, capacity_pw_per_month={"backend": 4.0}, months=6)
    sc = Scenario.model_validate(
        {
            "name": "reg",
            "constants": {**EXACT_EFFORT, "max_speedup": 1.0},
            "shocks": [
                {
                    "type": "regulatory_must_have",
                    "month": 1,
                    "effort": {"backend": 5.0},
                    "duration_months": 1,
                    "note": "NIS2",
                }
            ],
        }
    )
    model = PortfolioMarketModel(plan, sc, seed=0)
    model.run_model()
    assert model.delivery()["delivered_month"].tolist() == [4]
    reg = model.unplanned_delivery()
    assert reg["delivered_month"].tolist() == [2] and reg["shock"].tolist() == ["NIS2"]
    assert reg["effort_pw"].tolist() == [5.0]
    # without the regulation A is on time
    assert _delivered(plan, scenario(**EXACT_EFFORT, max_speedup=1.0)) == {"A": 3}


def test_market_shift_moves_potential_and_users(demo_plan):
    quiet = {**EXACT_EFFORT}
    base = run(demo_plan, scenario(**quiet), seed=4)
    sc = Scenario.model_validate(
        {
            "name": "shift",
            "constants": quiet,
            "shocks": [
                {
                    "type": "market_shift",
                    "month": 3,
                    "from_product": "IoT Platform",
                    "to_product": "Customer Portal",
                    "size": 0.5,
                }
            ],
        }
    )
    shifted = run(demo_plan, sc, seed=4)
    m = base.pivot(index="month", columns="product", values="market_potential")
    s = shifted.pivot(index="month", columns="product", values="market_potential")
    # no item acts on mau: the potentials are the base ones, halved / increased by that half from month 3
    assert s.loc[2].to_dict() == pytest.approx(m.loc[2].to_dict())
    assert s.loc[3, "IoT Platform"] == pytest.approx(0.5 * m.loc[3, "IoT Platform"])
    assert s.loc[3, "Customer Portal"] == pytest.approx(m.loc[3, "Customer Portal"] + 0.5 * m.loc[3, "IoT Platform"])
    users = shifted.pivot(index="month", columns="product", values="mau")
    before = base.pivot(index="month", columns="product", values="mau")
    assert users.loc[3, "IoT Platform"] < 0.6 * before.loc[3, "IoT Platform"]


# --------------------------------------------------------------------------- OKRs


def test_okr_attainment_by_hand(one_product_plan):
    # no adoption (p = q = 0), no churn: 1000 users, all paying at 10 EUR -> MRR 10,000 every month
    okrs = pd.DataFrame(
        {
            "objective": ["O1"] * 5,
            "key_result": ["KR-1", "KR-2", "KR-3", "KR-4", "KR-5"],
            "metric": ["mrr", "mau", "churn_rate", "compliance_findings", "mrr"],
            "product": ["Product", None, "Product", None, "Product"],
            "target": [10_000.0, 1001.0, 0.01, 0.0, 9_000.0],
            "weight": [0.4, 0.3, 0.2, 0.1, 0.0],
            "baseline": [8000.0, 900.0, 0.02, 9.0, None],
            "deadline_month": [None, None, None, None, 2],
        }
    )
    plan = one_product_plan(
        users=1000,
        market_potential=5000,
        bass_p=0.0,
        bass_q=0.0,
        churn_rate=0.0,
        conversion_rate=1.0,
        arpu=10.0,
        months=6,
        okrs=okrs,
    )
    model = PortfolioMarketModel(plan, None, seed=0)
    model.run_model()
    got = model.okr_attainment().set_index("key_result")
    assert list(got.columns) == ["objective", "metric", "product", "target", "value", "met", "weight"]
    assert list(got.index) == ["KR-1", "KR-2", "KR-3", "KR-5"]  # compliance findings are not simulated
    assert got["value"].tolist() == pytest.approx([10_000.0, 1000.0, 0.0, 10_000.0])
    assert got["met"].tolist() == [True, False, True, True]  # churn: lower is better (target < baseline)
    assert got.loc["KR-2", "product"] is None and got["met"].dtype == bool
    assert model.unjudged_okrs() == ["KR-4 (compliance_findings)"]


def test_demo_okrs_are_judged_at_the_horizon():
    """The demo company's OKRs through build_plan(okrs=...): every KR but the compliance one is judged."""
    from models.simulation import build_plan
    from pipelines.paths import demo_data_dir
    from pipelines.sources import load_inputs

    inputs = load_inputs(demo_data_dir())
    funded = (
        inputs.backlog[["item_id"]].head(20).assign(funded=True, start_period=1, finish_period=2, value=0.0, cost=0.0)
    )
    funded = funded.astype({"start_period": "Int64", "finish_period": "Int64"})
    plan = build_plan(
        "first20", funded, inputs.backlog, inputs.teams, inputs.kpi_history, inputs.settings, okrs=inputs.okrs
    )
    model = PortfolioMarketModel(plan, None, seed=1)
    model.run_model()
    got = model.okr_attainment()
    judged = set(inputs.okrs["key_result"]) - {kr.split(" ")[0] for kr in model.unjudged_okrs()}
    assert set(got["key_result"]) == judged and len(judged) >= len(inputs.okrs) - 1
    assert got["value"].notna().all()
