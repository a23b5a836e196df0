"""Each planning rule on an instance small enough to solve by hand."""

from __future__ import annotations

import pandas as pd
import pytest

from models.errors import ModelError, SolverError
from models.portfolio import build_model, independent_check, optimise, prepare_input, results, solve

RATE = 1000.0  # EUR per person-week


def one_team(make_teams, capacity=10.0, **overrides):
    return make_teams([dict(team="core", skill="backend", capacity_pw=capacity, cost_per_pw=RATE, **overrides)])


def flat_values(values: dict[str, float], periods: int, decline: float = 1.0) -> pd.DataFrame:
    """value_by_start rows: value of item i in period t = values[i] - decline * (t - 1)."""
    return pd.DataFrame(
        [(i, t, v - decline * (t - 1)) for i, v in values.items() for t in range(1, periods + 1)],
        columns=["item_id", "start_period", "value_eur"],
    )


def solved(backlog, teams, values, settings):
    inp = prepare_input(backlog, teams, values, settings)
    model = build_model(inp)
    res = results(model, solve(model))
    assert independent_check(res, inp) == []
    return res, model


def test_strategic_balance_min_share_changes_the_plan(make_backlog, make_teams, make_settings):
    # One period, 10 pw. G1 (grow, 6 pw, 100) + G2 (grow, 4 pw, 60) = 160 fill it with 100 % grow.
    # With run >= 30 % of spend: R (run, 4 pw, 20) must take 4 pw, the best grow item fitting the
    # other 6 pw is G1: 100 + 20 = 120 (run share 4/10 = 40 %). G2 + R = 80 is worse.
    backlog = make_backlog(
        [
            dict(item_id="G1", effort_backend=6.0, theme="grow"),
            dict(item_id="G2", effort_backend=4.0, theme="grow"),
            dict(item_id="R", effort_backend=4.0, theme="run"),
        ],
        skills=("backend",),
    )
    values = flat_values({"G1": 100.0, "G2": 60.0, "R": 20.0}, 1)
    free, _ = solved(backlog, one_team(make_teams), values, make_settings(periods=1, budget_per_period=1e9))
    assert sorted(free.funded) == ["G1", "G2"]
    ruled, model = solved(
        backlog,
        one_team(make_teams),
        values,
        make_settings(periods=1, budget_per_period=1e9, strategic_balance={"run": {"min": 0.3}}),
    )
    assert sorted(ruled.funded) == ["G1", "R"]
    assert ruled.run_info["value_eur"].item() == pytest.approx(120.0)
    assert model.constraints["balance"] == ["balance_min_run"]


def test_strategic_balance_max_share(make_backlog, make_teams, make_settings):
    # grow at most 50 % of spend: G1 (6 pw) alone is 100 % grow; G1 + R (4 pw) is 60 % grow;
    # G2 (4 pw) + R (4 pw) = 50 % grow, worth 60 + 20 = 80, the only feasible mix with value.
    backlog = make_backlog(
        [
            dict(item_id="G1", effort_backend=6.0, theme="grow"),
            dict(item_id="G2", effort_backend=4.0, theme="grow"),
            dict(item_id="R", effort_backend=4.0, theme="run"),
        ],
        skills=("backend",),
    )
    values = flat_values({"G1": 100.0, "G2": 60.0, "R": 20.0}, 1)
    res, _ = solved(
        backlog,
        one_team(make_teams),
        values,
        make_settings(periods=1, budget_per_period=1e9, strategic_balance={"grow": {"max": 0.5}}),
    )
    assert sorted(res.funded) == ["G2", "R"]


def test_unknown_theme_in_the_settings_is_named(make_backlog, make_teams, make_settings):
    backlog = make_backlog([dict(item_id="A", effort_backend=1.0, theme="grow")], skills=("backend",))
    with pytest.raises(ModelError, match=r"strategic_balance names theme 'trnsform'.*themes: grow"):
        prepare_input(
            backlog,
            one_team(make_teams),
            flat_values({"A": 1.0}, 1),
            make_settings(periods=1, budget_per_period=1e9, strategic_balance={"trnsform": {"min": 0.1}}),
        )


def test_okr_coverage_funds_an_item_per_key_result(make_backlog, make_teams, make_settings):
    # 10 pw in one period. A (KR-1, 10 pw, 100) alone is best without the rule. With one item
    # per key result: B (KR-1, 5 pw, 30) + C (KR-2, 5 pw, 20) = 50 is the only way.
    backlog = make_backlog(
        [
            dict(item_id="A", effort_backend=10.0, okr="KR-1"),
            dict(item_id="B", effort_backend=5.0, okr="KR-1"),
            dict(item_id="C", effort_backend=5.0, okr="KR-2"),
        ],
        skills=("backend",),
    )
    values = flat_values({"A": 100.0, "B": 30.0, "C": 20.0}, 1)
    free, _ = solved(backlog, one_team(make_teams), values, make_settings(periods=1, budget_per_period=1e9))
    assert free.funded == ["A"]
    ruled, model = solved(
        backlog,
        one_team(make_teams),
        values,
        make_settings(periods=1, budget_per_period=1e9, okr_coverage={"min_items": 1}),
    )
    assert sorted(ruled.funded) == ["B", "C"]
    assert sorted(model.constraints["okr"]) == ["okr_KR_1", "okr_KR_2"]
    # a per-key-result override of 0 switches the rule off for KR-2: A alone again
    off, _ = solved(
        backlog,
        one_team(make_teams),
        values,
        make_settings(periods=1, budget_per_period=1e9, okr_coverage={"min_items": 1, "per_key_result": {"KR-2": 0}}),
    )
    assert off.funded == ["A"]


def test_quick_wins_in_the_first_quarter(make_backlog, make_teams, make_settings):
    # Two quarters, 10 pw each. Big (10 pw, 100 in Q1 / 90 in Q2), S1 and S2 (2 pw, 5 each).
    # Free: Big in Q1 (100) and S1, S2 in Q2 (5 + 5 - tie-break) -> 110.
    # Two quick wins (<= 3 pw) by Q1: S1 + S2 in Q1, Big moves to Q2: 90 + 10 = 100.
    backlog = make_backlog(
        [
            dict(item_id="Big", effort_backend=10.0),
            dict(item_id="S1", effort_backend=2.0),
            dict(item_id="S2", effort_backend=2.0),
        ],
        skills=("backend",),
    )
    values = pd.DataFrame(
        [("Big", 1, 100.0), ("Big", 2, 90.0), ("S1", 1, 5.0), ("S1", 2, 5.0), ("S2", 1, 5.0), ("S2", 2, 5.0)],
        columns=["item_id", "start_period", "value_eur"],
    )
    free, _ = solved(backlog, one_team(make_teams), values, make_settings(periods=2, budget_per_period=1e9))
    assert free.run_info["value_eur"].item() == pytest.approx(110.0)
    rule = {"min_items": 2, "max_effort_pw": 3.0, "by_period": 1}
    ruled, _ = solved(
        backlog, one_team(make_teams), values, make_settings(periods=2, budget_per_period=1e9, quick_wins=rule)
    )
    d = ruled.decisions.set_index("item_id")
    assert d.loc[["S1", "S2", "Big"], "start_period"].tolist() == [1, 1, 2]
    assert ruled.run_info["value_eur"].item() == pytest.approx(100.0)


def test_wip_limit_per_team(make_backlog, make_teams, make_settings):
    # Plenty of capacity; three one-quarter items worth 10 / 9 / 8 in Q1 and half that in Q2.
    # WIP limit 2: two start in Q1; delaying I2 loses least (4): 10 + 9 + 4 = 23.
    backlog = make_backlog([dict(item_id=f"I{k}", effort_backend=1.0) for k in range(3)], skills=("backend",))
    values = pd.DataFrame(
        [(f"I{k}", t, (10.0 - k) / t) for k in range(3) for t in (1, 2)],
        columns=["item_id", "start_period", "value_eur"],
    )
    res, model = solved(
        backlog,
        one_team(make_teams, capacity=100.0),
        values,
        make_settings(periods=2, budget_per_period=1e9, wip_limit={"per_team": 2}),
    )
    d = res.decisions.set_index("item_id")
    assert d["start_period"].tolist() == [1, 1, 2]
    assert res.run_info["value_eur"].item() == pytest.approx(23.0)
    assert model.constraints["wip_limit"] == ["wip_core_1", "wip_core_2"]


def test_capacity_override_per_period(make_backlog, make_teams, make_settings):
    # 10 pw a quarter, but only 2 pw in Q1 (holidays): the 8 pw item worth more in Q1 waits for Q2.
    backlog = make_backlog([dict(item_id="A", effort_backend=8.0)], skills=("backend",))
    values = flat_values({"A": 50.0}, 2, decline=10.0)
    teams = one_team(make_teams, capacity_pw_p1=2.0)
    res, _ = solved(backlog, teams, values, make_settings(periods=2, budget_per_period=1e9))
    assert res.decisions.set_index("item_id").at["A", "start_period"] == 2
    cap = res.capacity.set_index("period")["capacity_pw"]
    assert cap.tolist() == [2.0, 10.0]


def test_work_in_progress_continues_even_when_worth_little(make_backlog, make_teams, make_settings):
    # W is running and worth 1; N (new) is worth 50 and needs the whole 10 pw of Q1.
    # Continue (default): W in Q1 (6 pw), N does not fit in Q1 and has 1 quarter: value 1.
    # may_stop: W stops, N is funded: value 50.
    backlog = make_backlog(
        [dict(item_id="W", effort_backend=6.0, status_category="In Progress"), dict(item_id="N", effort_backend=10.0)],
        skills=("backend",),
    )
    values = flat_values({"W": 1.0, "N": 50.0}, 1)
    cont, model = solved(backlog, one_team(make_teams), values, make_settings(periods=1, budget_per_period=1e9))
    assert cont.funded == ["W"]
    assert model.constraints["in_progress"] == ["continue_W"]
    stop, _ = solved(
        backlog, one_team(make_teams), values, make_settings(periods=1, budget_per_period=1e9, in_progress="may_stop")
    )
    assert stop.funded == ["N"]
    assert "in progress: stopped" in stop.decisions.set_index("item_id").at["W", "reason"]


def test_objective_net_of_cost_and_risk_adjusted(make_backlog, make_teams, make_settings):
    # A: 4 pw (4,000 EUR), value 10,000, confidence 0.5; B: 5 pw (5,000 EUR), value 9,000, confidence 1.
    # Only one fits (capacity 5 pw).
    #  plain: A (10,000 > 9,000).  risk_aversion 1: A = 10,000 - 1 x 0.5 x 10,000 = 5,000 < B 9,000 -> B.
    #  net of cost: A 6,000 > B 4,000 -> A.
    backlog = make_backlog(
        [dict(item_id="A", effort_backend=4.0, confidence=0.5), dict(item_id="B", effort_backend=5.0, confidence=1.0)],
        skills=("backend",),
    )
    values = flat_values({"A": 10_000.0, "B": 9_000.0}, 1)
    teams = one_team(make_teams, capacity=5.0)
    base = dict(periods=1, budget_per_period=1e9)
    assert optimise(backlog, teams, values, make_settings(**base)).funded == ["A"]
    risky = optimise(backlog, teams, values, make_settings(**base, objective={"risk_aversion": 1.0}))
    assert risky.funded == ["B"]
    net = optimise(backlog, teams, values, make_settings(**base, objective={"net_of_cost": True}))
    assert net.funded == ["A"]
    assert net.run_info["objective"].item() == pytest.approx(6_000.0 - 0.01, abs=1e-6)
    # explicit value ranges beat the confidence proxy: A's range 10,000 wide -> 10,000 - 10,000 = 0
    ranged = values.assign(value_low_eur=[5_000.0, 9_000.0], value_high_eur=[15_000.0, 9_000.0])
    assert optimise(backlog, teams, ranged, make_settings(**base, objective={"risk_aversion": 1.0})).funded == ["B"]


def test_infeasible_rules_are_diagnosed_in_the_planners_words(make_backlog, make_teams, make_settings):
    backlog = make_backlog(
        [
            dict(item_id="M1", effort_data=30.0, mandatory=True, deadline_period=1),
            dict(item_id="M2", effort_data=17.0, mandatory=True, deadline_period=1),
            dict(item_id="K", effort_backend=1.0, okr="KR-9"),
        ],
        skills=("backend", "data"),
    )
    teams = make_teams(
        [
            dict(team="d", skill="data", capacity_pw=33.0, cost_per_pw=RATE),
            dict(team="b", skill="backend", capacity_pw=10.0, cost_per_pw=RATE),
        ]
    )
    values = flat_values({"M1": 10.0, "M2": 10.0, "K": 1.0}, 2)
    inp = prepare_input(backlog, teams, values, make_settings(periods=2, budget_per_period=1e9))
    with pytest.raises(SolverError) as exc:
        solve(build_model(inp))
    # 30 + 17 = 47 data person-weeks by Q1 against 33
    assert "need 14.0 more data person-weeks in Q1 2027 than the data teams have (33.0; running then: M1, M2)" in str(
        exc.value
    )
    assert exc.value.status == "Infeasible"


def test_quick_wins_that_cannot_be_met_are_named(make_backlog, make_teams, make_settings):
    backlog = make_backlog(
        [dict(item_id="S", effort_backend=2.0), dict(item_id="L", effort_backend=9.0)], skills=("backend",)
    )
    inp = prepare_input(
        backlog,
        one_team(make_teams),
        flat_values({"S": 1.0, "L": 1.0}, 2),
        make_settings(
            periods=2, budget_per_period=1e9, quick_wins={"min_items": 2, "max_effort_pw": 3.0, "by_period": 1}
        ),
    )
    with pytest.raises(SolverError, match=r"only 1 quick win\(s\) .* can be delivered by Q1 2027, 2 are asked"):
        solve(build_model(inp))


def test_deadline_behind_a_late_predecessor_is_named(make_backlog, make_teams, make_settings):
    # ITEM-12 must finish by Q2 but waits on ITEM-40, which takes three quarters.
    backlog = make_backlog(
        [
            dict(item_id="ITEM-40", effort_backend=3.0, duration_periods=3),
            dict(item_id="ITEM-12", effort_backend=1.0, depends_on=["ITEM-40"], mandatory=True, deadline_period=2),
        ],
        skills=("backend",),
    )
    with pytest.raises(
        ModelError,
        match=r"mandatory item ITEM-12 takes 1 period\(s\) after its predecessors "
        r"ITEM-40 and cannot finish by its deadline Q2 2027.*earliest finish: Q4 2027",
    ):
        prepare_input(
            backlog,
            one_team(make_teams),
            flat_values({"ITEM-40": 1.0, "ITEM-12": 1.0}, 4),
            make_settings(periods=4, budget_per_period=1e9),
        )


def test_dependency_cycles_are_named(make_backlog, make_teams, make_settings):
    backlog = make_backlog(
        [
            dict(item_id="A", effort_backend=1.0, depends_on=["B"]),
            dict(item_id="B", effort_backend=1.0, depends_on=["A"]),
        ],
        skills=("backend",),
    )
    with pytest.raises(ModelError, match=r"dependency cycle (A -> B -> A|B -> A -> B)"):
        prepare_input(
            backlog,
            one_team(make_teams),
            flat_values({"A": 1.0, "B": 1.0}, 2),
            make_settings(periods=2, budget_per_period=1e9),
        )
