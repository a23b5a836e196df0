"""Run-to-run differences by hand: a four-item run (A, B, C, D) changed one input at a time.

The earlier run: A (backend 10 pw), B (frontend 5 pw, 8 story points), C (backend 4 +
frontend 2, depends on A), D (backend 3, not funded); teams core (backend, 20 pw/period,
4,000 EUR/pw) and web (frontend, 10 pw, 3,000 EUR/pw); one product Shop; the solver proved
optimality (gap 0.1 %). Each test edits the later run's inputs and plan as the optimiser
might have, and checks the change and its causes.
"""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd
import pytest

from models import diff
from models.errors import ModelError
from models.settings import settings_table


@pytest.fixture
def run(make_backlog, make_teams, make_settings) -> dict[str, pd.DataFrame]:
    backlog = make_backlog(
        [
            {"item_id": "A", "effort_backend": 10.0, "story_points": 20.0},
            {"item_id": "B", "effort_frontend": 5.0, "story_points": 8.0},
            {"item_id": "C", "effort_backend": 4.0, "effort_frontend": 2.0, "depends_on": ["A"]},
            {"item_id": "D", "effort_backend": 3.0},
        ]
    )
    teams = make_teams(
        [
            {"team": "core", "skill": "backend", "capacity_pw": 20.0, "cost_per_pw": 4000.0},
            {"team": "web", "skill": "frontend", "capacity_pw": 10.0, "cost_per_pw": 3000.0},
        ]
    )
    plan = pd.DataFrame(
        {
            "item_id": ["A", "B", "C", "D"],
            "funded": [True, True, True, False],
            "start_period": pd.array([1, 2, 2, None], dtype="Int64"),
            "value": [100_000.0, 50_000.0, 30_000.0, 0.0],
            "cost": [40_000.0, 15_000.0, 22_000.0, 0.0],
            "title": ["Item A", "Item B", "Item C", "Item D"],
        }
    )
    info = pd.DataFrame(
        [
            {
                "solver": "HiGHS",
                "status": "Optimal",
                "gap": 0.001,
                "value_eur": 180_000.0,
                "cost_eur": 77_000.0,
                "n_funded": 3,
            }
        ]
    )
    baselines = pd.DataFrame(
        [
            {
                "product": "Shop",
                "mrr": 10_000.0,
                "mau": 10_000.0,
                "churn_rate": 0.03,
                "conversion_rate": 0.05,
                "arpu": 20.0,
            }
        ]
    )
    stress = pd.DataFrame(
        {
            "plan": ["recommended", "recommended", "wsjf", "wsjf"],
            "scenario": ["budget_cut", "baseline", "baseline", "budget_cut"],
            "npv_p10": [50_000.0, 80_000.0, 1.0, 2.0],
            "npv_p50": [70_000.0, 100_000.0, 3.0, 4.0],
        }
    )
    return {
        "backlog": backlog,
        "teams": teams,
        "settings": settings_table(make_settings(budget_per_period=[200_000.0] * 4)),
        "kpi_baselines": baselines,
        "portfolio_plan": plan,
        "plan_run_info": info,
        "stress_test_summary": stress,
    }


def _later(run: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    return {k: v.copy(deep=True) for k, v in copy.deepcopy(run).items()}


def _set(t: pd.DataFrame, key: str, keyval: str, **values) -> None:
    for col, v in values.items():
        t.loc[t[key] == keyval, col] = v


def _fund(run, item: str, start: int | None) -> None:
    plan = run["portfolio_plan"]
    i = plan.index[plan["item_id"] == item][0]
    plan.loc[i, "funded"] = start is not None
    plan.loc[i, "start_period"] = pd.NA if start is None else start
    if start is None:
        plan.loc[i, ["value", "cost"]] = 0.0


def _row(changes: pd.DataFrame, item: str) -> pd.Series:
    rows = changes.loc[changes["item_id"] == item]
    assert len(rows) == 1, f"{item} not among the changes: {changes['item_id'].tolist()}"
    return rows.iloc[0]


def test_identical_runs_give_empty_tables_with_the_columns(run):
    changes = diff.item_changes(run, _later(run))
    assert changes.empty
    assert list(changes.columns) == diff.ITEM_CHANGE_COLUMNS
    assert str(changes["start_before"].dtype) == "Int64"
    inputs = diff.input_changes(run, _later(run))
    assert inputs.empty and list(inputs.columns) == diff.INPUT_CHANGE_COLUMNS
    assert (diff.run_changes(run, _later(run))["change"] == 0).all()


def test_more_effort_moves_the_item_with_the_fields_named(run):
    after = _later(run)
    _set(after["backlog"], "item_id", "B", story_points=13.0, effort_frontend=8.0)
    _fund(after, "B", 3)
    row = _row(diff.item_changes(run, after), "B")
    assert row["change"] == "moved"
    assert (row["start_before"], row["start_after"]) == (2, 3)
    assert row["cause_codes"] == ["effort_changed"]
    assert "effort_frontend 5 -> 8" in row["causes"][0] and "story_points 8 -> 13" in row["causes"][0]
    inputs = diff.input_changes(run, after)
    assert inputs[["key", "field", "before", "after"]].values.tolist() == [
        ["B", "effort_frontend", "5", "8"],
        ["B", "story_points", "8", "13"],
    ]


def test_capacity_drop_removes_a_backend_item_and_names_the_skill(run):
    after = _later(run)
    _set(after["teams"], "team", "core", capacity_pw=12.0)
    _fund(after, "A", None)  # backend item dropped
    _fund(after, "C", None)  # its successor goes with it
    _set(after["backlog"], "item_id", "B", effort_frontend=6.0)
    _fund(after, "B", 3)  # frontend only, explained by its own effort
    changes = diff.item_changes(run, after)
    a = _row(changes, "A")
    assert a["change"] == "removed" and a["cause_codes"] == ["capacity_changed"]
    assert "backend capacity 20 -> 12 pw per period" in a["causes"][0]
    c = _row(changes, "C")
    assert c["cause_codes"] == ["dependency_changed", "capacity_changed"]
    assert "predecessor A removed" in c["causes"][0]
    b = _row(changes, "B")
    assert b["cause_codes"] == ["effort_changed"]  # uses no backend and has its own cause
    skill = diff.input_changes(run, after).query("kind == 'skill'")
    assert skill[["key", "field", "before", "after"]].values.tolist() == [["backend", "capacity_pw", "20", "12"]]


def test_capacity_change_elsewhere_is_the_cause_only_when_nothing_else_explains(run):
    after = _later(run)
    _set(after["teams"], "team", "core", capacity_pw=12.0)
    _fund(after, "B", 1)  # frontend only, no input of its own changed
    row = _row(diff.item_changes(run, after), "B")
    assert row["cause_codes"] == ["capacity_changed"]
    assert "does not use" in row["causes"][0] and "backend" in row["causes"][0]


def test_team_cost_change_is_a_capacity_cause_for_the_skill(run):
    after = _later(run)
    _set(after["teams"], "team", "web", cost_per_pw=3600.0)
    _set(after["portfolio_plan"], "item_id", "B", cost=18_000.0)
    row = _row(diff.item_changes(run, after), "B")
    assert row["change"] == "cost changed"
    assert row["cause_codes"] == ["capacity_changed"]
    assert "frontend cost 3,000 -> 3,600 EUR/pw" in row["causes"][0]


def test_new_backlog_item_funded_is_added_as_new(run, make_backlog):
    after = _later(run)
    new = make_backlog([{"item_id": "E", "title": "Export", "effort_backend": 2.0}])
    after["backlog"] = pd.concat([after["backlog"], new], ignore_index=True)
    after["portfolio_plan"] = pd.concat(
        [
            after["portfolio_plan"],
            pd.DataFrame([{"item_id": "E", "funded": True, "start_period": 1, "value": 9_000.0, "cost": 8_000.0}]),
        ],
        ignore_index=True,
    )
    changes = diff.item_changes(run, after)
    row = _row(changes, "E")
    assert row["change"] == "added" and row["cause_codes"] == ["new_item"]
    assert row["title"] == "Export"  # from the backlog when the plan has no title
    assert np.isnan(row["value_before_eur"]) and row["value_after_eur"] == 9_000.0
    inputs = diff.input_changes(run, after)
    assert inputs.iloc[0][["kind", "key", "after"]].tolist() == ["item_added", "E", "Export"]


def test_must_have_added_and_removed(run):
    after = _later(run)
    _set(after["backlog"], "item_id", "D", mandatory=True)
    _fund(after, "D", 1)
    _set(after["backlog"], "item_id", "B", moscow="Must")
    _set(run["backlog"], "item_id", "C", moscow="Must")  # C was a Must-have before, not now
    _fund(after, "C", 3)
    changes = diff.item_changes(run, after)
    d = _row(changes, "D")
    assert d["change"] == "added" and d["cause_codes"] == ["must_have_added"]
    assert "mandatory" in d["causes"][0]
    c = _row(changes, "C")
    assert c["cause_codes"] == ["must_have_removed"] and "MoSCoW Must" in c["causes"][0]
    assert "B" not in changes["item_id"].tolist()  # B's decision did not change


def test_solver_time_limit_sentence_gives_both_gaps(run):
    after = _later(run)
    _set(after["plan_run_info"], "solver", "HiGHS", status="TimeLimit", gap=0.023)
    _set(after["backlog"], "item_id", "B", story_points=10.0)
    _fund(after, "B", 4)
    row = _row(diff.item_changes(run, after), "B")
    assert row["cause_codes"] == ["effort_changed", "solver_stopped"]  # item-level first
    assert row["causes"][1] == "the solver stopped at its time limit in the later run (gap before 0.1 %, after 2.3 %)"
    runs = diff.run_changes(run, after).set_index("metric")
    assert runs.loc["solver proved optimal", ["before", "after"]].tolist() == [1.0, 0.0]
    assert runs.loc["solver gap", "change"] == pytest.approx(0.022)


def test_plan_moved_without_input_change_is_unexplained(run):
    after = _later(run)
    _set(after["settings"], "company", run["settings"].at[0, "company"], source="elsewhere.yaml")
    _fund(after, "D", 2)
    _fund(after, "B", None)
    changes = diff.item_changes(run, after)
    assert changes["item_id"].tolist() == ["D", "B"]  # added before removed
    for _, row in changes.iterrows():
        assert row["cause_codes"] == ["unexplained"]
        assert "gap (before 0.1 %, after 0.1 %)" in row["causes"][0]


def test_value_change_within_tolerance_is_no_change_and_beyond_is_explained_by_the_baseline(run):
    after = _later(run)
    _set(after["portfolio_plan"], "item_id", "A", value=100_400.0)  # 0.4 %: within REL_TOL
    assert diff.item_changes(run, after).empty
    _set(after["portfolio_plan"], "item_id", "A", value=110_000.0)
    _set(after["kpi_baselines"], "product", "Shop", mrr=11_000.0, mau=10_010.0)  # mau within KPI_REL_TOL
    row = _row(diff.item_changes(run, after), "A")
    assert row["change"] == "value changed"
    assert (row["value_before_eur"], row["value_after_eur"]) == (100_000.0, 110_000.0)
    assert row["cause_codes"] == ["kpi_baseline_moved"]
    assert row["causes"][0] == "KPI baseline moved: Shop mrr 10,000 -> 11,000"


def test_done_item_is_removed_from_the_backlog_only(run, make_settings):
    after = _later(run)
    _set(after["backlog"], "item_id", "B", status="Done", status_category="Done")
    after["settings"] = settings_table(make_settings(budget_per_period=[200_000.0, 150_000.0, 200_000.0, 200_000.0]))
    _fund(after, "B", None)
    _fund(after, "D", 3)
    changes = diff.item_changes(run, after)
    assert _row(changes, "B")["cause_codes"] == ["removed_from_backlog"]
    d = _row(changes, "D")
    assert d["cause_codes"] == ["budget_changed"]
    assert d["causes"][0] == "budget changed: period 2 200,000 -> 150,000 EUR"


def test_rules_change_but_solver_settings_are_no_cause(run, make_settings):
    after = _later(run)
    after["settings"] = settings_table(
        make_settings(
            budget_per_period=[200_000.0] * 4,
            quick_wins={"min_items": 2},
            wip_limit={"teams": {"core": 3}},
            solver={"time_limit_s": 99.0},
        )
    )
    _fund(after, "D", 4)
    row = _row(diff.item_changes(run, after), "D")
    assert row["cause_codes"] == ["rule_changed"]
    assert row["causes"][0] == "rules changed: quick_wins.min_items 0 -> 2, wip_limit.teams.core none -> 3"
    settings = diff.input_changes(run, after).set_index("field")
    assert "wip_limit.teams" not in settings.index  # an empty mapping is no value of its own
    assert settings.loc["solver.time_limit_s", "kind"] == "setting"
    assert settings.loc["quick_wins.min_items", "kind"] == "rule"


def test_dependency_change_names_the_field(run):
    after = _later(run)
    _set(after["backlog"], "item_id", "D", exclusive_group="exports")
    _fund(after, "D", 1)
    row = _row(diff.item_changes(run, after), "D")
    assert row["cause_codes"] == ["dependency_changed"]
    assert "exclusive_group none -> exports" in row["causes"][0]


def test_run_changes_npv_of_the_recommended_plan_and_kpi_baselines(run):
    after = _later(run)
    stress = after["stress_test_summary"]
    stress.loc[stress["plan"] == "recommended", "npv_p10"] += 5_000.0
    stress.loc[(stress["plan"] == "recommended") & (stress["scenario"] == "baseline"), "npv_p50"] = 90_000.0
    _set(after["kpi_baselines"], "product", "Shop", churn_rate=0.025)
    _set(after["plan_run_info"], "solver", "HiGHS", value_eur=200_000.0)
    out = diff.run_changes(run, after)
    assert list(out.columns) == diff.RUN_CHANGE_COLUMNS
    npv = out.loc[out["metric"].str.startswith("NPV")]
    assert npv[["metric", "scope", "change"]].values.tolist() == [
        ["NPV P10", "baseline", 5_000.0],
        ["NPV P50", "baseline", -10_000.0],
        ["NPV P10", "budget_cut", 5_000.0],
        ["NPV P50", "budget_cut", 0.0],
    ]
    kpi = out.set_index(["metric", "scope"])
    assert kpi.loc[("baseline churn_rate", "Shop"), "change"] == pytest.approx(-0.005)
    assert kpi.loc[("baseline mrr", "Shop"), "change"] == 0.0
    assert kpi.loc[("plan value", "plan"), ["before", "after", "change", "unit"]].tolist() == [
        180_000.0,
        200_000.0,
        20_000.0,
        "EUR",
    ]


def test_missing_optional_tables_are_skipped(run):
    after = _later(run)
    del after["stress_test_summary"]
    del after["teams"]
    out = diff.run_changes(run, after)
    assert not out["metric"].str.startswith("NPV").any()
    assert "baseline mrr" in out["metric"].tolist()
    _fund(after, "B", 4)
    assert _row(diff.item_changes(run, after), "B")["cause_codes"] == ["unexplained"]
    assert diff.input_changes(run, after).empty


def test_a_run_without_a_plan_is_an_error(run):
    after = _later(run)
    del after["portfolio_plan"]
    with pytest.raises(ModelError, match="later run has no portfolio_plan"):
        diff.item_changes(run, after)
