"""Delivered items' effects: multiplicative combination, KPI limits, the churn sign and realisation
factors in the model - every expected number computed by hand in the comments."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from simkit import EXACT, QUIET, backend_item, item_frame

from models.realisation import RealisationSettings, draws_for
from models.simulation import PortfolioMarketModel, Scenario, build_plan, run, simulate, single_product_plan
from models.simulation.effects import combine, effect_table, potential_cap, product_of
from models.simulation.model import DELIVERY_COLUMNS, MULTIPLICATIVE_KPIS
from models.simulation.plan import KPI_CODES, N_KPI


def items(*specs: tuple[str, str, float]) -> pd.DataFrame:
    """Items (id, kpi, uplift) of one product, each 3 pw over months 1-3."""
    return item_frame([backend_item(item, kpi, uplift) for item, kpi, uplift in specs])


def plan_of(*specs: tuple[str, str, float], **kw):
    base = dict(users=1000, market_potential=5000, bass_p=0.0, bass_q=0.0, months=6)
    return single_product_plan(items=items(*specs), capacity_pw_per_month={"backend": 100.0}, **{**base, **kw})


# --------------------------------------------------------------------------- pure arithmetic


def test_effect_table_multiplies_relative_kpis_and_adds_the_others():
    conv, churn, cost, nps = (KPI_CODES[k] for k in ("conversion_rate", "churn_rate", "cost", "nps"))
    bins = np.array([conv, conv, N_KPI + churn, N_KPI + cost, N_KPI + cost, N_KPI + nps])
    w = np.array([0.1, 0.2, -0.5, 1000.0, 500.0, 0.05])
    got = effect_table(bins, w, 2, MULTIPLICATIVE_KPIS, N_KPI)
    assert got.shape == (2, N_KPI)
    assert got[0, conv] == pytest.approx(1.1 * 1.2)  # 1.32, not 1.30
    assert got[1, churn] == pytest.approx(0.5)
    assert got[1, cost] == pytest.approx(1500.0) and got[1, nps] == pytest.approx(0.05)
    assert got[0, churn] == 1.0 and got[0, cost] == 0.0  # no item: factor 1, sum 0
    # a term of -100 % or worse is clipped at 0: the factor is 0
    assert effect_table(np.array([conv, conv]), np.array([-1.5, 0.3]), 1, MULTIPLICATIVE_KPIS, N_KPI)[0, conv] == 0
    assert product_of([0.1, 0.2, -1.5]) == 0.0 and product_of([0.1, 0.2]) == pytest.approx(1.32)


def test_combine_bounds_and_today_level():
    assert combine(0.1, 1.32) == pytest.approx(0.132)
    assert combine(0.1, 1.32, 0.0, 0.125) == pytest.approx(0.125)  # the ceiling 1.25 x base
    assert combine(0.02, 0.5, 0.015) == pytest.approx(0.015)  # the churn floor
    # a ceiling below today's level keeps today's level (and lets the level fall)
    assert combine(0.2, 1.1, 0.0, 0.1) == pytest.approx(0.2)
    assert combine(0.2, 0.5, 0.0, 0.1) == pytest.approx(0.1)
    # a floor above today's level keeps today's level (and lets the level rise)
    assert combine(0.02, 0.5, 0.03) == pytest.approx(0.02)
    assert combine(0.02, 1.2, 0.03) == pytest.approx(0.024)
    assert combine(100.0, 3.0, 0.0, potential_cap(100.0, 1.5)) == pytest.approx(150.0)
    assert potential_cap(0.0, math.inf) == math.inf and combine(0.0, 3.0, 0.0, math.inf) == 0.0


# --------------------------------------------------------------------------- in the model


def test_two_conversion_items_multiply_and_stop_at_the_ceiling():
    # base 0.1; +10 % and +20 % act from month 4: 0.1 x 1.1 x 1.2 = 0.132
    plan = plan_of(("A", "conversion_rate", 0.1), ("B", "conversion_rate", 0.2), conversion_rate=0.1)
    s = run(plan, QUIET, seed=0)
    assert s["conversion_rate"].tolist() == pytest.approx([0.1] * 3 + [0.132] * 3)
    # a ceiling of 1.25 x base: 0.125
    capped = plan_of(
        ("A", "conversion_rate", 0.1), ("B", "conversion_rate", 0.2), conversion_rate=0.1, conversion_ceiling=0.125
    )
    assert run(capped, QUIET, seed=0)["conversion_rate"].tolist() == pytest.approx([0.1] * 3 + [0.125] * 3)


def test_negative_churn_uplift_lowers_churn_down_to_the_floor():
    # -0.5: churn falls by half, 0.02 -> 0.01 (the old rule base x (1 - uplift) raised it to 0.03)
    plan = plan_of(("X", "churn_rate", -0.5), churn_rate=0.02)
    assert run(plan, QUIET, seed=0)["churn_rate"].tolist() == pytest.approx([0.02] * 3 + [0.01] * 3)
    floored = plan_of(("X", "churn_rate", -0.5), churn_rate=0.02, churn_floor=0.015)
    assert run(floored, QUIET, seed=0)["churn_rate"].tolist() == pytest.approx([0.02] * 3 + [0.015] * 3)
    # a positive churn uplift raises churn: 0.02 x 1.25
    worse = plan_of(("X", "churn_rate", 0.25), churn_rate=0.02, churn_floor=0.015)
    assert run(worse, QUIET, seed=0)["churn_rate"].tolist() == pytest.approx([0.02] * 3 + [0.025] * 3)


def test_competitor_pressure_may_push_churn_above_the_floor():
    # floor 0.015 reached from month 4; the entrant's existing edge is copied at once from month 5
    # (entry 2, lag 3, half-life 0): 0.015 x (1 + 0.5 x 1) = 0.0225
    plan = plan_of(("X", "churn_rate", -0.5), churn_rate=0.02, churn_floor=0.015)
    sc = Scenario.model_validate(
        {
            "name": "entrant",
            "constants": {
                **EXACT,
                "competitor_entry_month": 2,
                "copy_lag_months": 3,
                "copy_half_life_months": 0,
                "churn_pressure": 0.5,
            },
        }
    )
    assert run(plan, sc, seed=0)["churn_rate"].tolist() == pytest.approx([0.02] * 3 + [0.015] + [0.0225] * 2)


def test_reach_items_multiply_the_potential_up_to_its_ceiling():
    # +60 % and +50 %: 5000 x 1.6 x 1.5 = 12,000; ceiling 1.5 x 5000 = 7,500
    specs = (("A", "mau", 0.6), ("B", "mau", 0.5))
    assert run(plan_of(*specs), QUIET, seed=0)["market_potential"].tolist()[3:] == pytest.approx([12_000.0] * 3)
    capped = plan_of(*specs, potential_ceiling_factor=1.5)
    assert run(capped, QUIET, seed=0)["market_potential"].tolist() == pytest.approx([5000.0] * 3 + [7500.0] * 3)


def test_arpu_multiplies_nps_and_cost_add_up():
    # arpu 10 x 1.1 x 0.9 = 9.9; nps 20 + 100 x (0.05 + 0.03) = 28; cost 300 + 200 EUR/month
    plan = plan_of(
        ("A", "arpu", 0.1),
        ("B", "arpu", -0.1),
        ("C", "nps", 0.05),
        ("D", "nps", 0.03),
        ("E", "cost", 300.0),
        ("F", "cost", 200.0),
        arpu=10.0,
        nps=20.0,
    )
    s = run(plan, QUIET, seed=0)
    assert s["arpu"].tolist() == pytest.approx([10.0] * 3 + [9.9] * 3)
    assert s["nps_proxy"].tolist() == pytest.approx([20.0] * 3 + [28.0] * 3)
    assert s["cost_savings"].tolist() == pytest.approx([0.0] * 3 + [500.0] * 3)


# --------------------------------------------------------------------------- realisation


def test_realisation_scales_the_uplift_and_is_reported():
    # one conversion item +20 %, confidence 0.8; R from the hash of (seed, item): conversion 0.1 x (1 + 0.2 R)
    spec = items(("A", "conversion_rate", 0.2)).assign(confidence=0.8)
    on = RealisationSettings()
    plan = single_product_plan(
        users=1000,
        market_potential=5000,
        bass_p=0.0,
        bass_q=0.0,
        conversion_rate=0.1,
        months=6,
        items=spec,
        capacity_pw_per_month={"backend": 100.0},
        realisation=on,
    )
    for seed in (1, 2, 3):
        r = float(draws_for(["A"], [0.8], on, seed=seed, replication=0)[0])
        out = simulate(plan, QUIET, seed=seed)
        assert list(out.delivery.columns) == DELIVERY_COLUMNS and DELIVERY_COLUMNS[-1] == "realisation_factor"
        assert out.delivery["realisation_factor"].tolist() == [r]
        assert out.series["conversion_rate"].iloc[3] == pytest.approx(max(0.1 * (1 + 0.2 * r), 0.0))
    # hand-built plans realise uplifts as estimated unless told otherwise
    assert single_product_plan().realisation == RealisationSettings(enabled=False)
    default = simulate(plan_of(("A", "conversion_rate", 0.2), conversion_rate=0.1), QUIET, seed=1)
    assert default.delivery["realisation_factor"].tolist() == [1.0]


def test_same_item_same_realisation_in_every_plan_other_seed_differs(
    sim_decisions, sim_backlog, sim_teams, sim_kpi_history, sim_settings
):
    """Common random numbers: R depends on (seed, item), not on the plan."""
    backlog = sim_backlog.assign(confidence=[1.0, 0.8, 0.5, 0.8, 1.0, 0.5])
    full = build_plan("full", sim_decisions, backlog, sim_teams, sim_kpi_history, sim_settings)
    some = sim_decisions.assign(funded=sim_decisions["item_id"].isin(["B", "D"]))
    fewer = build_plan("fewer", some, backlog, sim_teams, sim_kpi_history, sim_settings)
    assert full.realisation == sim_settings.realisation and full.realisation.enabled
    assert full.items.set_index("item_id")["confidence"].to_dict() == {"A": 1.0, "B": 0.8, "C": 0.5, "D": 0.8, "E": 1.0}

    def factors(plan, seed):
        return PortfolioMarketModel(plan, None, seed=seed).delivery().set_index("item_id")["realisation_factor"]

    a, b = factors(full, 5), factors(fewer, 5)
    assert b.to_dict() == a.loc[["B", "D"]].to_dict()
    expected = draws_for(list(a.index), [1.0, 0.8, 0.5, 0.8, 1.0], sim_settings.realisation, seed=5, replication=0)
    assert a.to_numpy() == pytest.approx(expected)
    other = np.array([factors(full, s).to_numpy() for s in range(6, 16)])
    assert not np.allclose(other, a.to_numpy())  # other seeds, other factors
    assert len({tuple(row) for row in other.round(12)}) > 1


def test_realisation_off_reproduces_the_estimate_as_realised_numbers(
    sim_decisions, sim_backlog, sim_teams, sim_kpi_history, sim_settings
):
    """With realisation off and one item per product and KPI (A, C, D, E: no churn item), the run equals
    the numbers of the earlier rule (each uplift realised as estimated, effects summed), recorded from it:
    seed 7, 24 months, 37,095 paying customer-months and 7,131,432 EUR of MRR in all."""
    off = sim_settings.model_copy(update={"realisation": RealisationSettings(enabled=False)})
    decisions = sim_decisions.assign(funded=sim_decisions["item_id"].isin(["A", "C", "D", "E"]))
    plan = build_plan("no churn item", decisions, sim_backlog, sim_teams, sim_kpi_history, off)
    out = simulate(plan, None, seed=7)
    assert out.delivery["realisation_factor"].tolist() == [1.0] * 4
    s = out.series
    assert int(s["paying_customers"].sum()) == 37_095 and s["mrr"].sum() == pytest.approx(7_131_432.0)
    last = s[s["month"] == 24].set_index("product")
    assert last.loc["IoT Platform", ["mau", "paying_customers"]].tolist() == [1499, 829]
    assert last.loc["IoT Platform", "conversion_rate"] == pytest.approx(0.55)  # 0.5 x 1.1
    assert last.loc["Customer Portal", ["mau", "paying_customers"]].tolist() == [12572, 1124]
    assert last.loc["Customer Portal", "conversion_rate"] == pytest.approx(0.096)  # 0.08 x 1.2
    assert last.loc["Customer Portal", "arpu"] == pytest.approx(36.75)  # 35 x 1.05
    assert last.loc["Customer Portal", "cost_savings"] == pytest.approx(2000.0)
