"""Explanations: shadow prices (sign pinned), the price of each rule, forced decisions and
the efficient frontier, on instances with hand-computed answers and random ones."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest
from hypothesis import given, settings as hyp_settings, strategies as st
from hypothesis_profiles import examples
from test_portfolio_checks import RATE, SKILLS, portfolios

from models.errors import ModelError, SolverError
from models.portfolio import build_model, prepare_input, results, solve
from models.portfolio.explain import (
    check_candidate,
    efficient_frontier,
    explain_all,
    explain_item,
    item_explanations,
    marginal_lp,
    plan_starts,
    resolve,
    rule_prices,
    shadow_prices,
)
from models.settings import Settings


def ab_instance(make_backlog, make_teams, make_settings, capacity=10.0, **settings):
    """One quarter, capacity 10 pw: A (6 pw, worth 60) and B (5 pw, worth 40); both do not fit."""
    backlog = make_backlog(
        [dict(item_id="A", effort_backend=6.0, theme="grow"), dict(item_id="B", effort_backend=5.0, theme="run")],
        skills=("backend",),
    )
    teams = make_teams([dict(team="core", skill="backend", capacity_pw=capacity, cost_per_pw=1000.0)])
    values = pd.DataFrame({"item_id": ["A", "B"], "start_period": [1, 1], "value_eur": [60.0, 40.0]})
    s = make_settings(
        periods=1,
        budget_per_period=1e9,
        solver={"gap_rel": 0.0, "time_limit_s": 10},
        explain={"time_limit_s": 10},
        **settings,
    )
    inp = prepare_input(backlog, teams, values, s)
    model = build_model(inp)
    return inp, results(model, solve(model))


def test_shadow_price_of_a_person_week_is_positive_and_matches_a_finite_difference(
    make_backlog, make_teams, make_settings
):
    inp, res = ab_instance(make_backlog, make_teams, make_settings)
    assert res.funded == ["A"]
    # A is fixed; 4 pw are left, so the LP takes 4/5 of B: one more pw adds 1/5 of B = 40 / 5 = 8 EUR
    prices = shadow_prices(inp, plan_starts(res))
    backend = prices.set_index(["skill", "period"]).at[("backend", 1), "shadow_price_eur_per_pw"]
    assert backend == pytest.approx(8.0)
    lp = marginal_lp(inp, plan_starts(res))
    # sign convention pinned: HiGHS reports the maximisation dual of a binding <= row as >= 0
    assert lp.model.prob.get_constraint_by_name("cap_backend_1").pi > 0
    inp11, _ = ab_instance(make_backlog, make_teams, make_settings, capacity=11.0)
    lp11 = marginal_lp(inp11, plan_starts(res))
    assert lp11.objective_eur - lp.objective_eur == pytest.approx(backend, abs=1e-6)
    # the budget does not bind: its price is 0
    assert prices.set_index(["skill", "period"]).at[("budget", 1), "shadow_price_eur_per_pw"] == 0.0


def test_price_of_a_rule_is_the_value_given_up(make_backlog, make_teams, make_settings):
    # run must have at least 40 % of spend: B (run, 5 pw) alone is the only valid plan (40 < 60);
    # without the rule A is funded: the rule costs 60 - 40 = 20 EUR
    inp, res = ab_instance(make_backlog, make_teams, make_settings, strategic_balance={"run": {"min": 0.4}})
    assert res.funded == ["B"]
    prices = rule_prices(inp, res).set_index("rule")
    assert list(prices.index) == ["balance"]
    assert prices.at["balance", "price_eur"] == pytest.approx(20.0)
    assert prices.at["balance", "exact"]
    assert prices.at["balance", "price_low_eur"] == pytest.approx(20.0, abs=1e-6)
    assert prices.at["balance", "price_high_eur"] == pytest.approx(20.0, abs=1e-6)


def test_forced_decisions_and_what_it_takes(make_backlog, make_teams, make_settings):
    inp, res = ab_instance(make_backlog, make_teams, make_settings)
    table = item_explanations(inp, res, near_misses=1).set_index("item_id")
    # forcing B in leaves B alone (A no longer fits): 60 - 40 = 20 lost; proven exactly
    assert table.at["B", "resolved"] and table.at["B", "forced"] == "in"
    assert table.at["B", "loss_eur"] == pytest.approx(20.0)
    assert table.at["B", "loss_low_eur"] == pytest.approx(20.0, abs=1e-6)
    assert (
        table.at["B", "what_it_takes"] == "to start in Q1 2027 it would need 1.0 more backend person-weeks in Q1 2027"
    )
    # LP estimate for B: its value 40 minus 5 pw at 8 EUR = 0 (it is the marginal item)
    assert table.at["B", "lp_loss_eur"] == pytest.approx(0.0, abs=1e-6)
    # A forced out: B takes its place: 60 - 40 = 20
    one = explain_item(inp, res, "A")
    assert one["funded"] and one["loss_eur"] == pytest.approx(20.0)
    with pytest.raises(ModelError, match=r"a is not a candidate of this plan .*Did you mean A\?.* Fix: "):
        explain_item(inp, res, "a")


def test_an_unknown_or_done_item_is_refused_from_the_backlog_alone(make_backlog):
    # nothing is solved: the command line refuses such an item before it plans
    backlog = make_backlog(
        [
            dict(item_id="APP-1", effort_backend=1.0),
            dict(item_id="APP-2", effort_backend=1.0, status="Done", status_category="Done"),
        ]
    )
    check_candidate(backlog, "APP-1")
    with pytest.raises(ModelError, match=r"^APP-2 is not a candidate of this plan \(APP-2 is Done; .*Fix: name a"):
        check_candidate(backlog, "APP-2")
    with pytest.raises(ModelError, match=r"^NOPE-1 is not a candidate .*unknown ids are not\)\. Fix: "):
        check_candidate(backlog, "NOPE-1")
    with pytest.raises(ModelError, match=r"Did you mean APP-1\? Fix: "):
        check_candidate(backlog, "app")


def test_unknown_rule_families_are_named(make_backlog, make_teams, make_settings):
    inp, _res = ab_instance(make_backlog, make_teams, make_settings)
    with pytest.raises(ModelError, match=r"unknown constraint families \['budgt'\]; known: .*'budget'.* Fix: "):
        build_model(inp, without=["budgt"])


def test_an_item_that_cannot_be_funded_is_explained(make_backlog, make_teams, make_settings):
    inp, _res = ab_instance(make_backlog, make_teams, make_settings, quick_wins={"min_items": 0})
    r = resolve(inp, force={"A": True, "B": True})
    assert r.objective is None and r.status == "Infeasible"


def test_frontier_is_monotone_and_meets_the_plan_at_the_budget(make_backlog, make_teams, make_settings):
    # budget-bound: three 1-pw items of 1,000 EUR worth 30 / 20 / 10, budget 2,000 EUR
    backlog = make_backlog([dict(item_id=k, effort_backend=1.0) for k in "XYZ"], skills=("backend",))
    teams = make_teams([dict(team="core", skill="backend", capacity_pw=10.0, cost_per_pw=1000.0)])
    values = pd.DataFrame({"item_id": list("XYZ"), "start_period": 1, "value_eur": [30.0, 20.0, 10.0]})
    s = make_settings(
        periods=1,
        budget_per_period=2000.0,
        solver={"gap_rel": 0.0},
        explain={"frontier_points": 5, "frontier_min_share": 0.5, "frontier_max_share": 1.5},
    )
    inp = prepare_input(backlog, teams, values, s)
    model = build_model(inp)
    res = results(model, solve(model))
    f = efficient_frontier(inp, res)
    assert f["budget_share"].tolist() == [0.5, 0.75, 1.0, 1.25, 1.5]
    # 1,000 EUR: X (30); 1,500: X; 2,000: X + Y (50); 2,500: 50; 3,000: all three (60)
    assert f["value_eur"].tolist() == [30.0, 30.0, 50.0, 50.0, 60.0]
    assert f.loc[f["budget_share"] == 1.0, "value_eur"].item() == pytest.approx(res.run_info["value_eur"].item())
    assert (f["status"] == "Optimal").all()


@hyp_settings(max_examples=examples(25))
@given(portfolios(), st.data())
def test_forcing_an_item_in_never_raises_the_value(make_backlog, make_teams, portfolio, data):
    rows, capacity, budget, total, T, values, rules = portfolio
    backlog = make_backlog(rows, skills=SKILLS)
    teams = make_teams([dict(team=f"t_{s}", skill=s, capacity_pw=c, cost_per_pw=RATE) for s, c in capacity.items()])
    s = Settings(
        start=date(2027, 1, 1),
        periods=T,
        budget_per_period=budget,
        budget_total=total,
        solver={"gap_rel": 0.0, "time_limit_s": 20},
        explain={"time_limit_s": 20},
        **rules,
    )
    try:
        inp = prepare_input(backlog, teams, values, s)
        model = build_model(inp)
        res = results(model, solve(model))
    except (ModelError, SolverError):
        return
    if inp.items.empty:  # every item Done: nothing to force
        return
    item = data.draw(st.sampled_from(sorted(inp.items.index)))
    base = sum(inp.objective_of(i, t) for i, t in plan_starts(res).items())
    forced = resolve(inp, force={item: True})
    if forced.objective is not None:
        assert forced.status == "Optimal"
        assert forced.objective <= base + 1e-6
        assert item in forced.starts


def test_one_pool_explains_like_the_two_families_and_prices_a_must_have_by_its_value(
    make_backlog, make_teams, make_settings
):
    # B (run, 40) is a Must-have and A (60) no longer fits beside it: the plan is B alone. Forced out,
    # B first loses its flag; then A is funded: the Must-have costs 60 - 40 = 20 EUR, and so does its rule
    backlog = make_backlog(
        [
            dict(item_id="A", effort_backend=6.0, theme="grow"),
            dict(item_id="B", effort_backend=5.0, theme="run", moscow="Must", mandatory=True),
        ],
        skills=("backend",),
    )
    teams = make_teams([dict(team="core", skill="backend", capacity_pw=10.0, cost_per_pw=1000.0)])
    values = pd.DataFrame({"item_id": ["A", "B"], "start_period": [1, 1], "value_eur": [60.0, 40.0]})
    s = make_settings(
        periods=1,
        budget_per_period=1e9,
        quick_wins={"min_items": 0},
        solver={"gap_rel": 0.0, "time_limit_s": 10},
        explain={"time_limit_s": 10, "workers": 2},
    )
    inp = prepare_input(backlog, teams, values, s)
    model = build_model(inp)
    res = results(model, solve(model))
    assert res.funded == ["B"]
    items, prices = explain_all(inp, res)
    pd.testing.assert_frame_equal(items, item_explanations(inp, res))
    pd.testing.assert_frame_equal(prices, rule_prices(inp, res))
    row = items.set_index("item_id").loc["B"]
    assert row["resolved"] and row["forced"] == "out" and row["resolve_status"] == "Optimal"
    assert row["loss_eur"] == pytest.approx(-20.0)
    assert prices.set_index("rule").at["must", "price_eur"] == pytest.approx(20.0)
