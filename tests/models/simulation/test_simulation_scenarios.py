"""Scenario files: the library validates and runs; mistakes are named by file, line and key."""

from __future__ import annotations

import math
from pathlib import Path

import pandas.testing as pd_testing
import pytest

from models.errors import ScenarioError
from models.simulation import (
    PARAMETER_NAMES,
    Scenario,
    load_scenario,
    load_scenarios,
    scenario_table,
    scenarios_from_table,
    simulate,
)
from pipelines.paths import scenarios_dir

GOOD = """\
name: test
description: a test
replications: 5
seed: 3
constants:
  copy_lag_months: 4
uncertainties:
  effort_multiplier: {dist: lognormal, median: 1.15, sigma: 0.35}
  competitor_entry_month: {dist: uniform, low: 3, high: 12}
shocks:
  - {type: demand_drop, month: 9, size: 0.1}
"""


def write(tmp_path: Path, text: str, name: str = "s.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def only_problem(exc: pytest.ExceptionInfo) -> tuple:
    problems = exc.value.problems
    assert len(problems) == 1, str(exc.value)
    p = problems[0]
    return p.file, p.row, p.column, p.message


LIBRARY = {
    "baseline",
    "market_shift",
    "commoditisation",
    "competitor_entry",
    "budget_cut",
    "talent_attrition",
    "estimate_overrun",
    "cost_inflation",
    "regulatory_change",
    "vuca_storm",
}


def test_every_scenario_file_validates():
    found = load_scenarios(scenarios_dir())
    assert set(found) >= LIBRARY
    assert list(found) == sorted(found)
    for name, sc in found.items():
        assert sc.name == name and sc.description.strip() and sc.replications >= 1
        assert Path(sc.source).parent == scenarios_dir()
        # every file names its sources: a cited work or "judgement"
        assert "judgement" in sc.description or "et al." in sc.description, name


@pytest.fixture(scope="module")
def demo_company_plan(demo_inputs, fit_plan):
    """The demo company (3 products, 6 skills) with a plan that fits its capacity (conftest.plan_within_capacity)."""
    return fit_plan(demo_inputs)


@pytest.mark.parametrize("name", sorted(LIBRARY))
def test_every_scenario_runs_with_defaults_and_is_determined_by_its_seed(name, demo_company_plan):
    sc = load_scenarios(scenarios_dir())[name]
    first, again, other = (simulate(demo_company_plan, sc, seed) for seed in (3, 3, 4))
    for table in ("series", "delivery", "okrs"):
        pd_testing.assert_frame_equal(getattr(first, table), getattr(again, table))
    assert first.sampled == again.sampled
    assert not first.series.equals(other.series)
    assert len(first.series) == demo_company_plan.months * 3 and first.series["mau"].gt(0).all()
    assert len(first.delivery) == len(demo_company_plan.items) >= 30
    assert first.delivery["delivered_month"].notna().any()


def test_scenarios_move_the_outcomes_they_should(demo_company_plan):
    """Each shock scenario hurts what it aims at, against the baseline, over the same 8 seeds."""
    import numpy as np

    found = load_scenarios(scenarios_dir())

    def mean(name, what):
        out = [simulate(demo_company_plan, found[name], seed) for seed in range(8)]
        if what == "delivered":
            return np.mean([o.delivery["delivered_month"].notna().mean() for o in out])
        if what == "slip":
            return np.mean(
                [
                    np.maximum(
                        o.delivery["delivered_month"].astype(float).fillna(99) - o.delivery["planned_finish_month"], 0
                    ).mean()
                    for o in out
                ]
            )
        if what == "parity":
            return np.mean([o.series["competitor_parity"].mean() for o in out])
        return np.mean([o.series.groupby("month")["mrr"].sum().iloc[-1] for o in out])

    assert mean("baseline", "delivered") > 0.6  # a plan within 80 % of capacity mostly gets delivered
    base_slip = mean("baseline", "slip")  # months late (open at the horizon: 99)
    for name in ("budget_cut", "talent_attrition", "estimate_overrun", "regulatory_change", "cost_inflation"):
        assert mean(name, "slip") > base_slip, name
    assert mean("commoditisation", "parity") > mean("baseline", "parity")
    assert mean("vuca_storm", "mrr") < mean("baseline", "mrr")


def test_baseline_and_commoditisation_say_what_they_should():
    found = load_scenarios(scenarios_dir())
    base, comm = found["baseline"], found["commoditisation"]
    # baseline: entry within 24 months only with a small chance
    entry = base.distributions()["competitor_entry_month"]
    p_entry = sum(w for v, w in zip(entry.values, entry.weights, strict=True) if v <= 24) / sum(entry.weights)
    assert 0 < p_entry <= 0.15
    # commoditisation: an early entrant that copies faster than the default lag of 9 months
    assert comm.distributions()["competitor_entry_month"].high <= 12
    assert comm.distributions()["copy_lag_months"].mode < 9


def test_good_file_loads_and_samples_reproducibly(tmp_path):
    sc = load_scenario(write(tmp_path, GOOD))
    assert sc.fixed() == {"copy_lag_months": 4.0}
    assert list(sc.distributions()) == ["competitor_entry_month", "effort_multiplier"]
    a, b = sc.sample(123), sc.sample(123)
    assert a == b and 3 <= a["competitor_entry_month"] <= 12
    # each parameter has its own stream: dropping one uncertainty leaves the other's draw alone
    fewer = Scenario.model_validate(
        {
            **sc.model_dump(),
            "uncertainties": {"effort_multiplier": {"dist": "lognormal", "median": 1.15, "sigma": 0.35}},
        }
    )
    assert fewer.sample(123)["effort_multiplier"] == a["effort_multiplier"]
    prm = sc.parameters(a)
    assert prm.copy_lag_months == 4.0 and prm.effort_multiplier == a["effort_multiplier"]
    assert Scenario(name="x").parameters().competitor_entry_month == math.inf


@pytest.mark.parametrize(
    "text, line, key, words",
    [
        (GOOD.replace("seed: 3", "seed: 3\nrepeats: 4"), 5, "repeats", "unknown key"),
        (
            GOOD.replace("  copy_lag_months: 4", "  copy_lag_month: 4"),
            6,
            "constants.copy_lag_month",
            "unknown parameter",
        ),
        (
            GOOD.replace("dist: uniform", "dist: gamma"),
            9,
            "uncertainties.competitor_entry_month.dist",
            "unknown distribution 'gamma'",
        ),
        (
            GOOD.replace("type: demand_drop", "type: meteor_strike"),
            11,
            "shocks.0.type",
            "unknown shock type 'meteor_strike'",
        ),
        (GOOD.replace("size: 0.1}", "size: 0.1, sise: 2}"), 11, "shocks.0.sise", "unknown key"),
        (GOOD.replace("median: 1.15", "median: -1"), 8, "uncertainties.effort_multiplier.median", "greater than 0"),
        (GOOD.replace("low: 3, high: 12", "low: 12, high: 3"), 9, "uncertainties.competitor_entry_month", "exceeds"),
        (
            GOOD.replace("low: 3, high: 12", "low: -3, high: 12"),
            9,
            "uncertainties.competitor_entry_month",
            "must lie in",
        ),
        (
            GOOD.replace("uncertainties:\n", "uncertainties:\n  copy_lag_months: {dist: uniform, low: 1, high: 2}\n"),
            8,
            "uncertainties.copy_lag_months",
            "both a constant and an uncertainty",
        ),
    ],
)
def test_mistakes_name_file_line_and_key(tmp_path, text, line, key, words):
    path = write(tmp_path, text)
    with pytest.raises(ScenarioError) as exc:
        load_scenario(path)
    file, row, column, message = only_problem(exc)
    assert (file, row, column) == (str(path), line, key)
    assert words in message
    assert str(path) in str(exc.value) and f"line {line}" in str(exc.value)


def test_unknown_product_or_skill_is_named_when_applied(tmp_path, demo_plan):
    text = (
        GOOD + "  - {type: price_pressure, month: 3, size: 0.05, product: IoT Plattform}\n"
        "  - {type: budget_cut, month: 3, size: 0.2, skill: design}\n"
    )
    sc = load_scenario(write(tmp_path, text))
    with pytest.raises(ScenarioError) as exc:
        simulate(demo_plan, sc, seed=0)
    p1, p2 = exc.value.problems
    assert (p1.file, p1.row, p1.column) == (sc.source, 12, "shocks.1.product")
    assert "IoT Plattform" in p1.message and "IoT Platform" in p1.fix
    assert (p2.row, p2.column) == (13, "shocks.2.skill") and "design" in p2.message


def test_new_shocks_name_unknown_products_and_skills(tmp_path, demo_plan):
    text = GOOD + (
        "  - {type: market_shift, month: 3, size: 0.2, from_product: IoT Platform, "
        "to_product: Field App}\n"
        "  - {type: regulatory_must_have, month: 4, effort: {backend: 5, design: 3}}\n"
        "  - {type: cost_inflation, month: 5, size: 0.1, skill: devops}\n"
    )
    sc = load_scenario(write(tmp_path, text))
    with pytest.raises(ScenarioError) as exc:
        simulate(demo_plan, sc, seed=0)
    got = [(p.row, p.column) for p in exc.value.problems]
    assert got == [(12, "shocks.1.to_product"), (13, "shocks.2.effort.design"), (14, "shocks.3.skill")]
    assert "Field App" in exc.value.problems[0].message and "'design'" in exc.value.problems[1].message
    # a market shift needs both products; a regulation needs effort
    for bad, key in (
        ("  - {type: market_shift, month: 3, size: 0.2, from_product: IoT Platform}\n", "shocks.1.to_product"),
        ("  - {type: regulatory_must_have, month: 4, effort: {}}\n", "shocks.1.effort"),
        ("  - {type: market_shift, month: 3, size: 0.2, from_product: A, to_product: A}\n", "shocks.1"),
    ):
        with pytest.raises(ScenarioError) as exc:
            load_scenario(write(tmp_path, GOOD + bad))
        assert exc.value.problems[0].column == key


def test_missing_file_and_duplicate_names(tmp_path):
    with pytest.raises(ScenarioError, match="file not found"):
        load_scenario(tmp_path / "nope.yaml")
    write(tmp_path, GOOD, "a.yaml")
    write(tmp_path, GOOD, "b.yaml")
    with pytest.raises(ScenarioError, match="also used by"):
        load_scenarios(tmp_path)


def test_scenario_table_round_trips(tmp_path):
    write(tmp_path, GOOD, "a.yaml")
    write(tmp_path, GOOD.replace("name: test", "name: other"), "b.yaml")
    found = load_scenarios(tmp_path)
    table = scenario_table(found)
    assert table["name"].tolist() == ["other", "test"]
    back = scenarios_from_table(table)
    assert back == found and back["test"].source == found["test"].source
    assert back["test"].sample(9) == found["test"].sample(9)


def test_parameter_names_are_documented():
    from models.simulation import Parameters
    from pipelines.paths import project_root

    readme = (project_root() / "models" / "simulation" / "README.md").read_text(encoding="utf-8")
    for name in PARAMETER_NAMES:
        description = Parameters.model_fields[name].description
        assert description, name
        assert f"`{name}`" in readme, f"{name} is missing from the README's parameter table"
