"""build_plan and the starting market state: known answers from the conftest tables."""

from __future__ import annotations

import pytest

from models.errors import ModelError
from models.simulation import build_plan
from models.simulation.plan import BASS_P_PER_MONTH, BASS_Q_PER_MONTH, bass_market_potential, market_state


def test_funded_items_in_plan_order_with_months(demo_plan):
    items = demo_plan.items.set_index("item_id")
    # F is not funded; order: start period, then decisions order
    assert list(demo_plan.items["item_id"]) == ["A", "B", "C", "D", "E"]
    # quarters of 3 months: period p covers months 3p-2 .. 3p
    assert items.loc["A", ["planned_start_month", "planned_finish_month"]].tolist() == [1, 3]
    assert items.loc["C", ["planned_start_month", "planned_finish_month"]].tolist() == [4, 9]
    assert items.loc["D", ["planned_start_month", "planned_finish_month"]].tolist() == [4, 12]
    assert items.loc["E", ["planned_start_month", "planned_finish_month"]].tolist() == [7, 9]
    assert items.loc["A", "total_effort_pw"] == 15.0  # 10 backend + 5 frontend
    assert items.loc["C", "depends_on"] == ["A"]
    assert demo_plan.skills == ["backend", "data", "frontend"]
    # capacity per quarter / 3 months
    assert demo_plan.capacity_pw_per_month == pytest.approx({"backend": 11.0, "data": 11 / 3, "frontend": 22 / 3})
    assert demo_plan.months == 24 and demo_plan.discount_rate == 0.08


def test_market_state_known_answers(sim_kpi_history):
    state = market_state(sim_kpi_history).set_index("product")
    iot = state.loc["IoT Platform"]
    # mau = 800 + 24 i for i = 0..5; last three months 872, 896, 920 -> mean 896
    assert iot["mau"] == pytest.approx(896.0)
    assert iot["customers"] == pytest.approx(448.0)  # 896 x 0.5
    # churn = 16 / previous mau: 16/848, 16/872, 16/896 -> mean 0.0183579
    assert iot["churn_rate"] == pytest.approx((16 / 848 + 16 / 872 + 16 / 896) / 3)
    assert iot["bass_p"] == pytest.approx(0.0025) and iot["bass_q"] == pytest.approx(0.38 / 12)
    # m reproduces the recent new users: (p + q U/m)(m - U) = n
    m, u, p, q = iot["market_potential"], 896.0, BASS_P_PER_MONTH, BASS_Q_PER_MONTH
    assert (p + q * u / m) * (m - u) == pytest.approx(40.0)
    assert m == pytest.approx(6999.49, abs=0.01)


def test_market_potential_edge_cases():
    assert bass_market_potential(1000.0, 0.0, 0.01, 0.3) == pytest.approx(1000.0)  # saturated
    assert bass_market_potential(0.0, 50.0, 0.01, 0.3) == pytest.approx(5000.0)  # m = n / p


def test_unknown_item_missing_skill_and_product_are_model_errors(
    sim_decisions, sim_backlog, sim_teams, sim_kpi_history, sim_settings
):
    with pytest.raises(ModelError, match="not in the backlog: A"):
        build_plan(
            "p", sim_decisions, sim_backlog[sim_backlog["item_id"] != "A"], sim_teams, sim_kpi_history, sim_settings
        )
    with pytest.raises(ModelError, match="need skill 'data'"):
        build_plan(
            "p", sim_decisions, sim_backlog, sim_teams[sim_teams["skill"] != "data"], sim_kpi_history, sim_settings
        )
    with pytest.raises(ModelError, match=r"Customer Portal .*no KPI history"):
        build_plan(
            "p",
            sim_decisions,
            sim_backlog,
            sim_teams,
            sim_kpi_history[sim_kpi_history["product"] != "Customer Portal"],
            sim_settings,
        )
    no_start = sim_decisions.copy()
    no_start.loc[0, "start_period"] = None
    with pytest.raises(ModelError, match="without start or finish period: A"):
        build_plan("p", no_start, sim_backlog, sim_teams, sim_kpi_history, sim_settings)


def test_headcount_universe_and_people(demo_plan, one_product_plan):
    assert demo_plan.headcount == {"backend": 3.0, "data": 1.0, "frontend": 2.0}
    assert demo_plan.universe == ("A", "B", "C", "D", "E", "F")  # the backlog, funded or not
    assert demo_plan.people("backend") == 3
    # no headcount given: capacity / 11 pw per person and quarter, at least one person
    plan = one_product_plan(capacity_pw_per_month={"backend": 11.0, "qa": 0.5})
    assert plan.people("backend") == 3 and plan.people("qa") == 1 and plan.people("ux") == 0
    arrays = demo_plan.arrays
    assert arrays is demo_plan.arrays  # computed once per plan
    assert arrays.universe_index.tolist() == [0, 1, 2, 3, 4]  # A..E in the universe A..F
    assert arrays.edge_pred.tolist() == [0] and arrays.edge_succ.tolist() == [2]  # A -> C


def test_okrs_travel_with_the_plan(sim_decisions, sim_backlog, sim_teams, sim_kpi_history, sim_settings):
    import pandas as pd

    okrs = pd.DataFrame(
        {
            "objective": ["O1", "O1"],
            "key_result": ["KR-1.1", "KR-1.2"],
            "description": ["", ""],
            "product": ["IoT Platform", None],
            "metric": [" MRR", "churn_rate"],
            "baseline": [1.0, None],
            "target": [2.0, 0.01],
            "weight": [0.5, 0.5],
            "deadline_period": [4, None],
        }
    )
    plan = build_plan("p", sim_decisions, sim_backlog, sim_teams, sim_kpi_history, sim_settings, okrs=okrs)
    got = plan.okrs.set_index("key_result")
    assert got["metric"].tolist() == ["mrr", "churn_rate"]
    assert got.loc["KR-1.1", "deadline_month"] == 12  # end of period 4 of 3 months
    assert got.loc["KR-1.2", "product"] is None and pd.isna(got.loc["KR-1.2", "deadline_month"])
    with pytest.raises(ModelError, match="target missing"):
        build_plan(
            "p", sim_decisions, sim_backlog, sim_teams, sim_kpi_history, sim_settings, okrs=okrs.drop(columns="target")
        )


def test_per_period_capacity_overrides_reach_the_teams(
    sim_decisions, sim_backlog, sim_teams, sim_kpi_history, sim_settings
):
    """A team's ``capacity_pw_p<N>`` override (as the optimiser plans with it) sets that quarter's capacity
    in the run; months after the plan keep the last quarter's."""
    from models.simulation import PortfolioMarketModel, Scenario

    teams = sim_teams.assign(capacity_pw_p2=[66.0, None, None], capacity_pw_p8=[0.0, 44.0, None])
    plan = build_plan("p", sim_decisions, sim_backlog, teams, sim_kpi_history, sim_settings)
    assert plan.capacity_pw_per_month["backend"] == 11.0  # the standing capacity, 33 pw a quarter
    backend = plan.capacity_pw_by_month["backend"]
    assert len(backend) == 24
    assert backend[:9] == (11.0, 11.0, 11.0, 22.0, 22.0, 22.0, 11.0, 11.0, 11.0)  # quarter 2: 66 pw
    assert backend[21:] == (0.0, 0.0, 0.0)  # quarter 8: nobody
    assert plan.capacity_pw_by_month["frontend"][21:] == pytest.approx((44 / 3,) * 3)
    assert plan.capacity_pw_by_month["data"] == (11 / 3,) * 24

    calm = Scenario(
        name="calm", constants={"attrition_per_month": 0.0, "context_switch_loss": 0.0, "horizon_months": 27}
    )
    model = PortfolioMarketModel(plan, calm, seed=1)
    available = []
    for _ in range(27):
        model.step()
        available.append({t.skill: t.available_pw for t in model.team_list})
    assert [a["backend"] for a in available[:9]] == pytest.approx([11.0] * 3 + [22.0] * 3 + [11.0] * 3)
    assert [a["backend"] for a in available[21:]] == [0.0] * 6  # months 25-27 after the plan: quarter 8's
    assert [a["frontend"] for a in available[21:]] == pytest.approx([44 / 3] * 6)
    assert [a["data"] for a in available] == pytest.approx([11 / 3] * 27)
    # without overrides every month has the standing capacity
    flat = build_plan("p", sim_decisions, sim_backlog, sim_teams, sim_kpi_history, sim_settings)
    assert flat.capacity_pw_by_month["backend"] == (11.0,) * 24


def test_kpi_limits_known_answers():
    """Ceilings and floors from a tiny history, by hand."""
    import math

    import pandas as pd

    from models.settings import KpiLimits
    from models.simulation.plan import LIMIT_COLUMNS, kpi_limits

    history = pd.DataFrame(
        {
            "product": ["P", "P", "P", "Q", "R"],
            "month": pd.to_datetime(["2026-01-01", "2026-02-01", "2026-04-01", "2026-01-01", "2026-01-01"]),
            "mau": [100.0, 200.0, 400.0, 50.0, 10.0],
            "churned_users": [5.0, 4.0, 1.0, 2.0, None],
            "conversion_rate": [0.1, 0.3, 0.2, 0.05, 0.8],
        }
    )
    limits = KpiLimits(conversion_ceiling={"Q": 0.9}, churn_floor={"Q": 0.01}, potential_ceiling_factor=2.0)
    got = kpi_limits(history, limits)
    assert list(got.columns) == LIMIT_COLUMNS and got["product"].tolist() == ["P", "Q", "R"]
    got = got.set_index("product")
    # P: ceiling min(1, 1.5 x 0.3) = 0.45; churn in February 4 / 100 = 0.04 (January has no previous
    # month, April's previous month is missing): floor 0.5 x 0.04 = 0.02
    assert got.loc["P", "conversion_ceiling"] == pytest.approx(0.45)
    assert got.loc["P", "churn_floor"] == pytest.approx(0.02)
    # Q: the settings' own values
    assert got.loc["Q", ["conversion_ceiling", "churn_floor"]].tolist() == pytest.approx([0.9, 0.01])
    # R: 1.5 x 0.8 capped at 1; no churn on record: floor 0
    assert got.loc["R", ["conversion_ceiling", "churn_floor"]].tolist() == [1.0, 0.0]
    assert (got["potential_ceiling_factor"] == 2.0).all()
    # the defaults of KpiLimits
    assert kpi_limits(history).set_index("product").loc["P", "potential_ceiling_factor"] == 1.5
    # market_state has no limits
    state = market_state(history.assign(new_users=1.0, arpu=1.0, nps=0.0, dau=1.0, mrr=1.0, cac=1.0))
    assert state["conversion_ceiling"].tolist() == [1.0] * 3 and state["churn_floor"].tolist() == [0.0] * 3
    assert all(math.isinf(v) for v in state["potential_ceiling_factor"])


def test_build_plan_carries_confidence_limits_and_realisation(
    sim_decisions, sim_backlog, sim_teams, sim_kpi_history, sim_settings, demo_plan
):
    import numpy as np

    from models.realisation import RealisationSettings
    from models.simulation.plan import PRODUCT_COLUMNS

    # the conftest backlog has no confidence: NaN for every item
    assert demo_plan.items["confidence"].isna().all() and np.isnan(demo_plan.arrays.confidence).all()
    assert demo_plan.realisation == sim_settings.realisation
    products = demo_plan.products.set_index("product")
    assert list(demo_plan.products.columns) == PRODUCT_COLUMNS
    # IoT: conversion 0.5 every month -> 0.75; churn 16 / previous mau, lowest 16 / 896 -> floor x 0.5
    assert products.loc["IoT Platform", "conversion_ceiling"] == pytest.approx(0.75)
    assert products.loc["IoT Platform", "churn_floor"] == pytest.approx(0.5 * 16 / 896)
    # Portal: 0.08 -> 0.12; mau 6000 + 240 i, lowest churn 180 / 6960
    assert products.loc["Customer Portal", "conversion_ceiling"] == pytest.approx(0.12)
    assert products.loc["Customer Portal", "churn_floor"] == pytest.approx(0.5 * 180 / 6960)
    assert (products["potential_ceiling_factor"] == 1.5).all()

    backlog = sim_backlog.assign(confidence=[1.0, None, 0.5, 0.8, 1.0, 0.5])
    settings = sim_settings.model_copy(update={"realisation": RealisationSettings(enabled=False)})
    plan = build_plan("p", sim_decisions, backlog, sim_teams, sim_kpi_history, settings)
    conf = plan.items.set_index("item_id")["confidence"]
    assert conf.loc[["A", "C", "D", "E"]].tolist() == [1.0, 0.5, 0.8, 1.0] and np.isnan(conf.loc["B"])
    assert plan.arrays.confidence[[0, 2, 3, 4]].tolist() == [1.0, 0.5, 0.8, 1.0]
    assert plan.realisation == RealisationSettings(enabled=False)
