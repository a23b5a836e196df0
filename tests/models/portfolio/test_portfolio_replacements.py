"""An item that replaces another: the optimiser counts the old item's benefit only until its successor
is delivered (models.portfolio.inputs.replacement_loss, the ``replaces`` rows of the model). Checked
by hand and by enumerating every plan of a tiny instance."""

from __future__ import annotations

import itertools

import pytest

from models import portfolio
from models.portfolio.explain import plan_starts
from models.valuation import business_cases, value_by_start


@pytest.fixture
def tiny(make_backlog, make_teams, make_settings, kpi_history):
    """Shop: O (+20 % conversion, 6 pw in one quarter), N (+60 % conversion, 12 pw over three quarters,
    4 a quarter; replaces O) and X (+5 % arpu, 6 pw in one quarter); backend 12 pw per quarter. Value
    net of cost, so an item worth less than its cost is left out."""

    def make(replaces: bool):
        backlog = make_backlog(
            [
                dict(item_id="O", effort_backend=6.0, kpi="conversion_rate", uplift=0.20, differentiation="parity"),
                dict(
                    item_id="N",
                    effort_backend=12.0,
                    duration_periods=3,
                    kpi="conversion_rate",
                    uplift=0.60,
                    differentiation="parity",
                ),
                dict(item_id="X", effort_backend=6.0, kpi="arpu", uplift=0.05, differentiation="parity"),
            ]
        )
        if replaces:
            backlog["replaces"] = [[], ["O"], []]
        teams = make_teams([dict(team="core", skill="backend", capacity_pw=12.0, cost_per_pw=1000.0)])
        s = make_settings(objective={"net_of_cost": True}, commoditisation_per_year=0.0)
        values = value_by_start(backlog, business_cases(backlog, teams, kpi_history, s), s)
        return backlog, teams, values, s

    return make


def _enumerate(inp, loss_by_hand) -> float:
    """Best objective over every assignment of starts (or none) that keeps the 12 pw per quarter, with
    the replaced item's loss computed by hand."""
    items = list(inp.items.index)
    options = [[None, *inp.items.at[i, "rule_starts"]] for i in items]
    best = 0.0
    for combo in itertools.product(*options):
        starts = {i: t for i, t in zip(items, combo, strict=True) if t is not None}
        load = {}
        for i, t in starts.items():
            d = int(inp.items.at[i, "duration_periods"])
            for p in range(t, t + d):
                load[p] = load.get(p, 0.0) + float(inp.items.at[i, "effort_backend"]) / d
        if any(v > 12.0 + 1e-9 for v in load.values()):
            continue
        value = sum(inp.objective_of(i, t) for i, t in starts.items())
        if "O" in starts and "N" in starts:
            value -= loss_by_hand(starts["O"], starts["N"])
        best = max(best, value)
    return best


def test_replaced_item_loses_its_benefit_after_its_successor_lands(tiny):
    backlog, teams, values, s = tiny(replaces=True)
    inp = portfolio.prepare_input(backlog, teams, values, s)
    assert inp.replacements == (("O", "N"),)
    v = {(r.item_id, r.start_period): r.value_eur for r in values.itertuples()}
    # O in 1 finishes in 1, N in 1 finishes in 3: O is worth its benefit of quarters 2-3 only, i.e. its
    # value started in 1 less its value had it finished in 3 (started in 3)
    assert inp.replacement_loss("O", 1, "N", 1) == pytest.approx(v[("O", 3)])
    # O finishing no earlier than N never acts: it loses everything
    assert inp.replacement_loss("O", 3, "N", 1) == pytest.approx(v[("O", 3)])
    assert inp.replacement_loss("O", 4, "N", 2) == pytest.approx(v[("O", 4)])

    def by_hand(t_old: int, t_new: int) -> float:
        finish_new = t_new + 2
        return v[("O", t_old)] if t_old >= finish_new else v[("O", finish_new)]

    result = portfolio.optimise(backlog, teams, values, s)
    assert result.run_info.iloc[0]["status"] == "Optimal"
    starts = plan_starts(result)
    found = inp.plan_objective(starts)
    assert found == pytest.approx(_enumerate(inp, by_hand), abs=1.0)  # cents of tie-break
    # the decisions table reports the replaced item at what it is worth in this plan
    d = result.decisions.set_index("item_id")
    if "O" in starts and "N" in starts:
        assert d.at["O", "value"] == pytest.approx(v[("O", starts["O"])] - by_hand(starts["O"], starts["N"]))
    assert d["value"].sum() == pytest.approx(inp.plan_value(starts))


def test_without_the_link_both_gains_count(tiny):
    backlog, teams, values, s = tiny(replaces=False)
    inp = portfolio.prepare_input(backlog, teams, values, s)
    assert inp.replacements == ()
    starts = plan_starts(portfolio.optimise(backlog, teams, values, s))
    assert inp.plan_objective(starts) == pytest.approx(_enumerate(inp, lambda a, b: 0.0), abs=1.0)
    # the link can only lower what the same plan is worth
    linked = portfolio.prepare_input(*tiny(replaces=True))
    assert linked.plan_value(starts) <= inp.plan_value(starts) + 1e-9


def test_a_replacement_across_kpis_is_ignored(tiny):
    backlog, teams, values, s = tiny(replaces=True)
    backlog["replaces"] = [[], ["X"], []]  # N (conversion) names X (arpu): nothing is superseded
    assert portfolio.prepare_input(backlog, teams, values, s).replacements == ()


def test_the_tiny_plan_funds_the_old_item_for_the_quarters_before_its_successor(tiny):
    """In the tiny instance O is worth funding first (its benefit until N lands beats its cost), so the
    check of the reported value above is not vacuous."""
    backlog, teams, values, s = tiny(replaces=True)
    starts = plan_starts(portfolio.optimise(backlog, teams, values, s))
    assert {"O", "N"} <= set(starts) and starts["O"] < starts["N"] + 2  # O lands before N does
