"""The robust MILP (models.portfolio.robust): CVaR by hand, the linearised CVaR equal to the CVaR computed
afterwards, the robust optimum of a tiny instance found by enumerating every plan, core / borderline /
exterior items, and futures whose mean value is the expected value."""

from __future__ import annotations

import itertools
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from models import portfolio
from models.portfolio import robust
from models.portfolio.explain import plan_starts
from models.valuation import business_cases, value_by_start


def test_cvar_by_hand():
    v = np.arange(1.0, 11.0)  # 1..10, equally likely
    assert robust.cvar(v, 0.2) == pytest.approx(1.5)  # the worst two: (1 + 2) / 2
    assert robust.cvar(v, 0.25) == pytest.approx((1 + 2 + 0.5 * 3) / 2.5)  # a half of the third counts
    assert robust.cvar(v[::-1], 1.0) == pytest.approx(5.5)  # everything: the mean
    assert robust.cvar(v, 0.05) == pytest.approx(1.0)  # less than one future: the worst


@pytest.fixture
def tiny(make_backlog, make_teams, make_settings, kpi_history):
    """Four items on two products, backend 10 pw a quarter over four quarters: a big low-confidence bet
    (B, 8 pw, +40 % conversion on Shop, confidence 0.5) against safer small ones (S1-S3, 4-5 pw,
    confidence 0.9). With the realisation on, B is worth most on average and least in a bad future."""
    backlog = make_backlog(
        [
            dict(item_id="B", effort_backend=8.0, kpi="conversion_rate", uplift=0.40, confidence=0.5),
            dict(item_id="S1", effort_backend=4.0, kpi="conversion_rate", uplift=0.08, confidence=0.9),
            dict(item_id="S2", effort_backend=5.0, kpi="mau", uplift=0.10, confidence=0.9, product="App"),
            dict(item_id="S3", effort_backend=4.0, kpi="arpu", uplift=0.06, confidence=0.9, product="App"),
        ]
    )
    teams = make_teams([dict(team="core", skill="backend", capacity_pw=10.0, cost_per_pw=1000.0)])
    s = make_settings(realisation={"enabled": True}, commoditisation_per_year=0.0)
    cases = business_cases(backlog, teams, kpi_history, s)
    values = value_by_start(backlog, cases, s)
    inp = portfolio.prepare_input(backlog, teams, values, s)
    return SimpleNamespace(backlog=backlog, kpi=kpi_history, cases=cases, settings=s, inp=inp)


def _feasible_plans(inp):
    """Every assignment of starts (or none) that keeps backend within 10 pw per quarter."""
    items = list(inp.items.index)
    options = [[None, *inp.items.at[i, "rule_starts"]] for i in items]
    for combo in itertools.product(*options):
        starts = {i: int(t) for i, t in zip(items, combo, strict=True) if t is not None}
        load: dict[int, float] = {}
        for i, t in starts.items():
            d = int(inp.items.at[i, "duration_periods"])
            for p in range(t, t + d):
                load[p] = load.get(p, 0.0) + float(inp.items.at[i, "effort_backend"]) / d
        if all(v <= 10.0 + 1e-9 for v in load.values()):
            yield starts


@pytest.mark.parametrize(("objective", "weight"), [("cvar", 1.0), ("cvar", 0.5), ("maxmin", 1.0), ("expected", 1.0)])
def test_robust_optimum_equals_enumeration_and_the_model_measure_equals_the_plan_measure(tiny, objective, weight):
    backlog, kpi, cases, inp = tiny.backlog, tiny.kpi, tiny.cases, tiny.inp
    fv = robust.future_values(inp, backlog, cases, kpi, n=12, seed=3, market_sigma=0.1)
    best = max(robust.measure(fv.plan_values(p), objective, 0.25, weight) for p in _feasible_plans(inp))
    sv = robust.solve_robust(inp, fv, objective, alpha=0.25, gap_rel=0.0, weight=weight)
    assert sv.stats.status == "Optimal"
    assert sv.plan_value == pytest.approx(best, rel=1e-6)
    # the CVaR (or worst case, or mean) in the model is the one computed afterwards on the same futures
    assert sv.model_value == pytest.approx(sv.plan_value, rel=1e-6)


def test_cvar_prefers_the_safe_items_and_the_mean_the_bet(tiny):
    backlog, kpi, cases, inp = tiny.backlog, tiny.kpi, tiny.cases, tiny.inp
    fv = robust.future_values(inp, backlog, cases, kpi, n=40, seed=5, market_sigma=0.0)
    mean_plan = plan_starts(robust.solve_robust(inp, fv, "expected", gap_rel=0.0).result)
    tail_plan = plan_starts(robust.solve_robust(inp, fv, "cvar", alpha=0.1, gap_rel=0.0).result)
    assert "B" in mean_plan and "B" not in tail_plan
    v_mean, v_tail = fv.plan_values(mean_plan), fv.plan_values(tail_plan)
    assert v_mean.mean() > v_tail.mean() and robust.cvar(v_tail, 0.1) > robust.cvar(v_mean, 0.1)
    items = robust.classify_items(inp, {"expected": mean_plan, "cvar": tail_plan}).set_index("item_id")
    assert items.at["B", "class"] == "borderline" and items.at["B", "in_plans"] == "expected"
    both = set(mean_plan) & set(tail_plan)
    assert set(items.index[items["class"] == "core"]) == both
    assert set(items.index[items["class"] == "exterior"]) == set(inp.items.index) - set(mean_plan) - set(tail_plan)


def test_futures_average_to_the_expected_values(tiny):
    """E[R M] = E[R] (M has mean 1, independent of R): over many futures the mean value of each start
    approaches the business cases' expected value; the futures are reproducible by seed."""
    backlog, kpi, cases, inp = tiny.backlog, tiny.kpi, tiny.cases, tiny.inp
    fv = robust.future_values(inp, backlog, cases, kpi, n=4000, seed=11, market_sigma=0.05)
    expected = inp.values["value_eur"].to_numpy(dtype=float)
    spread = fv.value.std(axis=0) / np.sqrt(fv.n)
    assert np.all(np.abs(fv.value.mean(axis=0) - expected) < 4 * spread + 1e-6)
    again = robust.future_values(inp, backlog, cases, kpi, n=3, seed=11, market_sigma=0.05)
    np.testing.assert_array_equal(again.value, fv.value[:3])
    other = robust.future_values(inp, backlog, cases, kpi, n=3, seed=12, market_sigma=0.05)
    assert not np.allclose(other.value, again.value)


def test_market_sigma_comes_from_the_history_or_is_zero_without_a_year_of_it(kpi_history):
    assert robust.market_sigmas(kpi_history, ["Shop", "App"]) == {"Shop": 0.0, "App": 0.0}  # 4 months only
    # 26 months: MRR grows 1 % a month for a year, then 3 % a month: the 12-month log growth of months
    # 13..26 rises from 0.12 to 0.36 in steps of 0.02
    slope = np.r_[np.zeros(1), np.full(12, 0.01), np.full(13, 0.03)]
    log_mrr = np.log(10_000.0) + np.cumsum(slope)
    hist = pd.DataFrame(
        {
            "product": "Shop",
            "month": pd.date_range("2024-01-01", periods=26, freq="MS"),
            "mrr": np.exp(log_mrr),
            **dict.fromkeys(("mau", "dau", "new_users", "churned_users", "conversion_rate", "arpu", "nps", "cac"), 1.0),
        }
    )
    yoy = log_mrr[12:] - log_mrr[:-12]
    assert robust.market_sigmas(hist, ["Shop"])["Shop"] == pytest.approx(np.std(yoy, ddof=1), rel=1e-9)


def test_a_future_at_the_expected_factors_has_the_business_cases_values(tiny):
    """The vectorised future values are value_by_start's: realised at each item's expected factor with
    market factors of 1, every start is worth exactly what the deterministic model counts."""
    backlog, cases, s, inp = tiny.backlog, tiny.cases, tiny.settings, tiny.inp
    items = [str(i) for i in inp.items.index]
    case = cases.set_index("item_id").loc[items].reset_index()
    rows = backlog.set_index("item_id").loc[items].reset_index()
    keys = list(zip(inp.values["item_id"], inp.values["start_period"].astype(int), strict=True))
    r = case["expected_factor"].to_numpy(dtype=float)[None, :].repeat(3, axis=0)
    got = robust._future_value_matrix(case, rows, keys, items, ["App", "Shop"], r, np.ones((3, 2)), s, block=2)
    for row in got:
        np.testing.assert_allclose(row, inp.values["value_eur"].to_numpy(dtype=float), rtol=1e-12)
