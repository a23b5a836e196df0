"""Roles: shocks name products and skills by what they are to the company, resolved when a run starts.

Unit tests on a small company with known answers; then the library on the demo company (resolved to the
names it wrote before, so its results are unchanged), on a renamed second company and on a company
with one product.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pandas.testing as pd_testing
import pytest

from models.errors import ScenarioError
from models.simulation import (
    Company,
    Scenario,
    company_facts,
    load_scenarios,
    resolve,
    scenario_from_yaml,
    simulate,
    stress_test,
)
from models.simulation.roles import resolution_text
from pipelines.paths import scenarios_dir

# products: mrr, mau and their monthly growth; skills: capacity, cost, load (NaN: not ranked)
COMPANY = Company(
    products=pd.DataFrame(
        {
            "mrr": [100.0, 300.0, 200.0],
            "mau": [50.0, 20.0, 500.0],
            "dau": np.nan,
            "paying_customers": [10.0, 30.0, 20.0],
            "new_users": [5.0, 2.0, 50.0],
            "arpu": [10.0, 10.0, 10.0],
            "mrr_growth": [0.05, 0.0, 0.02],
            "mau_growth": [0.01, 0.04, np.nan],
        },
        index=pd.Index(["Alpha", "Beta", "Gamma"], dtype=object),
    ),
    skills=pd.DataFrame(
        {
            "capacity": [10.0, 30.0, 20.0],
            "headcount": [1.0, 3.0, 2.0],
            "cost_per_pw": [100.0, 90.0, 120.0],
            "backlog_effort": [200.0, 240.0, 240.0],
            "load": [2.0, 1.0, 1.5],
        },
        index=pd.Index(["x", "y", "z"], dtype=object),
    ),
)


def scenario(*shocks: str) -> Scenario:
    return scenario_from_yaml("name: roles\nshocks:\n" + "".join(f"  - {s}\n" for s in shocks), "roles.yaml")


def resolved(shock: str, company: Company = COMPANY):
    r = resolve(scenario(shock), company)
    return r.scenario.shocks[0] if r.scenario.shocks else None, r.table


@pytest.mark.parametrize(
    "role, name",
    [
        ("{largest: mrr}", "Beta"),
        ("{largest: mau}", "Gamma"),
        ("{smallest: mau}", "Beta"),
        ("{smallest: mrr}", "Alpha"),
        ("{fastest_growing: mau}", "Beta"),  # Gamma has no growth: not ranked
        ("{fastest_growing: mrr}", "Alpha"),
        ("{slowest_growing: mrr}", "Beta"),
        ("{largest: mrr, rank: 2}", "Gamma"),
        ("{largest: mrr, rank: 3}", "Alpha"),
        ("Gamma", "Gamma"),  # a literal name still works
    ],
)
def test_product_roles(role, name):
    shock, table = resolved(f"{{type: price_pressure, month: 3, size: 0.1, product: {role}}}")
    assert shock.product == name
    if role.startswith("{"):
        assert table[["shock", "type", "key", "role", "resolved"]].values.tolist() == [
            [1, "price_pressure", "product", role, name]
        ]
    else:
        assert table.empty  # literal names are not roles: nothing to record


@pytest.mark.parametrize(
    "role, name",
    [
        ("{most_loaded: true}", "x"),
        ("{largest: load}", "x"),
        ("{largest: capacity}", "y"),
        ("{smallest: capacity}", "x"),
        ("{largest: cost_per_pw}", "z"),
        ("{largest: capacity, rank: 2}", "z"),
        ("{largest: backlog_effort}", "y"),  # y and z tie at 240: the first name wins
        ("z", "z"),
    ],
)
def test_skill_roles(role, name):
    shock, _ = resolved(f"{{type: budget_cut, month: 3, size: 0.1, skill: {role}}}")
    assert shock.skill == name


def test_all_means_every_one_and_is_recorded():
    shock, table = resolved("{type: cost_inflation, month: 3, size: 0.1, skill: all}")
    assert shock.skill is None  # as if the key were left out
    assert table.iloc[0]["resolved"] == "all" and "x, y, z" in table.iloc[0]["note"]
    shock, _ = resolved("{type: demand_drop, month: 3, size: 0.1, product: all}")
    assert shock.product is None


def test_market_shift_resolves_two_different_products():
    # Beta has the largest MRR; to_product picks the largest MRR among the others
    shock, table = resolved(
        "{type: market_shift, month: 9, size: 0.2, from_product: {largest: mrr}, to_product: {largest: mrr}}"
    )
    assert (shock.from_product, shock.to_product) == ("Beta", "Gamma")
    assert "other than Beta" in table.iloc[1]["note"]
    # a literal side is kept out of the role's choice
    shock, _ = resolved("{type: market_shift, month: 9, size: 0.2, from_product: {largest: mrr}, to_product: Beta}")
    assert (shock.from_product, shock.to_product) == ("Gamma", "Beta")


def test_market_shift_on_one_product_is_skipped_with_a_note():
    one = Company(COMPANY.products.loc[["Alpha"]], COMPANY.skills)
    sc = scenario(
        "{type: market_shift, month: 9, size: 0.2, from_product: {largest: mrr}, to_product: {largest: mau}}",
        "{type: budget_cut, month: 3, size: 0.1, skill: {most_loaded: true}}",
    )
    r = resolve(sc, one)
    assert [s.type for s in r.scenario.shocks] == ["budget_cut"] and r.scenario.shocks[0].skill == "x"
    skipped = r.table.iloc[0]
    assert skipped["resolved"] == "skipped" and "one product (Alpha)" in skipped["note"]
    assert "roles: shock 1 from_product, to_product {largest: mrr} -> {largest: mau} -> skipped" in r.text()


def test_effort_by_role_adds_up_where_roles_meet():
    shock, table = resolved(
        "{type: regulatory_must_have, month: 4, effort: [{skill: {largest: cost_per_pw}, pw: 30},"
        " {skill: {largest: capacity}, pw: 60}, {skill: z, pw: 5}]}"
    )
    assert shock.effort == {"z": 35.0, "y": 60.0}
    assert table["key"].tolist() == ["effort.0.skill", "effort.1.skill"]


def test_unknown_names_and_unresolvable_roles_name_file_line_key_and_fix():
    sc = scenario(
        "{type: price_pressure, month: 3, size: 0.1, product: Delta}",
        "{type: budget_cut, month: 3, size: 0.1, skill: {largest: cost_per_pw, rank: 4}}",
        "{type: demand_drop, month: 3, size: 0.1, product: {fastest_growing: mau}}",
    )
    no_growth = Company(COMPANY.products.assign(mau_growth=np.nan), COMPANY.skills)
    with pytest.raises(ScenarioError) as exc:
        resolve(sc, no_growth)
    p1, p2, p3 = exc.value.problems
    assert (p1.file, p1.row, p1.column) == ("roles.yaml", 3, "shocks.0.product")
    assert "unknown product 'Delta'" in p1.message and "'Alpha'" in p1.fix and "{largest: mrr}" in p1.fix
    assert (p2.row, p2.column) == (4, "shocks.1.skill") and "{largest: cost_per_pw, rank: 4}" in p2.message
    assert "it has 3 skills" in p2.message and "rank up to 3" in p2.fix
    assert (p3.row, p3.column) == (5, "shocks.2.product") and "two months of KPI history" in p3.message
    assert "roles.yaml, line 5, column 'shocks.2.product'" in str(exc.value)


@pytest.mark.parametrize(
    "value, words",
    [
        ("{biggest: mrr}", "unknown role key(s) biggest"),
        ("{largest: revenue}", "'largest: revenue' is not a product role"),
        ("{fastest_growing: arpu}", "'fastest_growing: arpu' is not a product role"),
        ("{largest: mrr, smallest: mau}", "2 roles in one"),
        ("{largest: mrr, rank: 0}", "rank must be a whole number >= 1"),
    ],
)
def test_a_misspelt_role_is_refused_at_its_line(tmp_path, value, words):
    with pytest.raises(ScenarioError) as exc:
        scenario(f"{{type: demand_drop, month: 3, size: 0.1, product: {value}}}")
    (p,) = exc.value.problems
    assert (p.row, p.column) == (3, "shocks.0.product") and words in p.message
    assert "{fastest_growing: mrr|mau}" in p.fix and "write 'all'" in p.fix


def test_roles_survive_the_scenario_table():
    from models.simulation import scenario_table, scenarios_from_table

    sc = scenario("{type: market_shift, month: 9, size: 0.2, from_product: {largest: mrr}, to_product: {largest: mau}}")
    table = scenario_table({"roles": sc})
    assert table.iloc[0]["roles"] == (
        "market_shift@9 from_product {largest: mrr}; market_shift@9 to_product {largest: mau}"
    )
    assert scenarios_from_table(table)["roles"] == sc


def test_company_facts_on_small_tables(sim_backlog, sim_teams, sim_kpi_history, sim_settings):
    facts = company_facts(sim_backlog, sim_teams, sim_kpi_history, sim_settings)
    skills = facts.skills
    # load = open backlog effort / capacity over the 8 periods
    assert skills.loc["backend", "load"] == pytest.approx(70 / (33 * 8))
    assert skills.loc["data", "load"] == pytest.approx(8 / (11 * 8))
    assert skills.loc["data", "cost_per_pw"] == 5000
    # growth: the compound monthly growth of the KPI baselines (mau +24/month on 800, +240 on 6000)
    assert facts.products.loc["Customer Portal", "mau_growth"] > facts.products.loc["IoT Platform", "mau_growth"] > 0
    shock, _ = resolved("{type: demand_drop, month: 3, size: 0.1, product: {fastest_growing: mau}}", facts)
    assert shock.product == "Customer Portal"
    shock, _ = resolved("{type: demand_drop, month: 3, size: 0.1, product: {largest: mrr}}", facts)
    assert shock.product == "IoT Platform"
    shock, _ = resolved("{type: budget_cut, month: 3, size: 0.1, skill: {most_loaded: true}}", facts)
    assert shock.skill == "backend"


def test_a_plan_without_tables_resolves_against_its_own_products_and_skills(one_product_plan):
    plan = one_product_plan(users=100, arpu=5.0, capacity_pw_per_month={"dev": 4.0})
    sc = scenario(
        "{type: budget_cut, month: 2, size: 0.5, skill: {most_loaded: true}}",
        "{type: price_pressure, month: 2, size: 0.1, product: {largest: mrr}}",
        "{type: market_shift, month: 3, size: 0.2, from_product: {largest: mrr}, to_product: {largest: mau}}",
    )
    outcome = simulate(plan, sc, seed=1)
    assert outcome.series["arpu"].iloc[-1] == pytest.approx(4.5)


# ---------------------------------------------------------------------------------------
# The library on whole companies
# ---------------------------------------------------------------------------------------

LIBRARY = load_scenarios(scenarios_dir())

# What the library named before it named roles: the demo's resolved shocks must be exactly these.
DEMO_NAMES = {
    "market_shift": [{"from_product": "IoT Platform", "to_product": "Customer Portal"}],
    "budget_cut": [{"skill": None}, {"skill": "data"}],
    "regulatory_change": [
        {"effort": {"backend": 60.0, "frontend": 20.0, "data": 30.0}},
        {"effort": {"backend": 25.0}},
    ],
    "vuca_storm": [
        {"effort": {"backend": 60.0, "data": 30.0}},
        {"skill": None},
        {"from_product": "IoT Platform", "to_product": "Customer Portal"},
        {"product": None},
        {"product": None},
    ],
}


@pytest.fixture(scope="module")
def demo_plan_of_company(demo_inputs, fit_plan):
    return fit_plan(demo_inputs)


def literal(name: str) -> Scenario:
    """The library scenario with the demo names it wrote before roles (DEMO_NAMES)."""
    sc = LIBRARY[name]
    shocks = [s.model_copy(update=u) for s, u in zip(sc.shocks, DEMO_NAMES[name], strict=True)]
    return sc.model_copy(update={"shocks": shocks})


def test_on_the_demo_roles_resolve_to_the_names_written_before_and_results_are_unchanged(demo_plan_of_company):
    plan = demo_plan_of_company
    before = {n: literal(n) for n in DEMO_NAMES}
    for name, sc in before.items():
        assert not sc.has_roles() and LIBRARY[name].has_roles(), name
    now = stress_test([plan], {n: LIBRARY[n] for n in DEMO_NAMES}, replications=3, seed=5, workers=1)
    then = stress_test([plan], before, replications=3, seed=5, workers=1)
    for table in ("runs", "series", "okrs"):
        pd_testing.assert_frame_equal(getattr(now, table), getattr(then, table))
    text = now.info["resolved"]
    assert "market_shift: shock 1 from_product {largest: mrr} -> IoT Platform" in text
    assert "market_shift: shock 1 to_product {largest: mau} -> Customer Portal" in text
    assert "budget_cut: shock 2 skill {largest: cost_per_pw} -> data" in text
    assert "regulatory_change: shock 1 effort.1.skill {largest: capacity, rank: 2} -> frontend" in text
    assert then.info["resolved"] == "" and then.resolutions.empty
    assert set(now.resolutions["scenario"]) == set(DEMO_NAMES)


# the renamed company's counterparts of the demo's names
RENAMED = {
    "market_shift": [{"from_product": "Sensor Cloud", "to_product": "Self-Service Hub"}],
    "budget_cut": [{"skill": None}, {"skill": "analytics"}],
    "regulatory_change": [
        {"effort": {"services": 60.0, "web": 20.0, "analytics": 30.0}},
        {"effort": {"services": 25.0}},
    ],
}


@pytest.mark.parametrize("name", sorted(LIBRARY))
def test_every_library_scenario_runs_on_another_company(name, other_company):
    _, plan = other_company
    assert not set(plan.arrays.products) & {"IoT Platform", "Customer Portal", "Field Service App"}
    assert not set(plan.arrays.skills) & {"backend", "frontend", "data"}
    sc = LIBRARY[name]
    outcome = simulate(plan, sc, seed=3)
    assert len(outcome.series) == plan.months * 3 and outcome.series["mau"].gt(0).all()
    assert outcome.delivery["delivered_month"].notna().any()
    r = resolve(sc, plan.facts, plan.arrays.products, plan.arrays.skills)
    for shock, expected in zip(r.scenario.shocks, RENAMED.get(name, []), strict=False):
        assert {k: getattr(shock, k) for k in expected} == expected


def test_the_library_runs_on_a_company_with_one_product(demo_inputs, fit_plan):
    keep = "IoT Platform"
    one = replace(
        demo_inputs,
        backlog=demo_inputs.backlog.loc[demo_inputs.backlog["product"] == keep],
        kpi_history=demo_inputs.kpi_history.loc[demo_inputs.kpi_history["product"] == keep],
        okrs=demo_inputs.okrs.loc[demo_inputs.okrs["product"].isin([keep]) | demo_inputs.okrs["product"].isna()],
    )
    plan = fit_plan(one, "one product")
    result = stress_test([plan], LIBRARY, replications=1, seed=2, workers=1, keep_series=False)
    assert len(result.runs) == len(LIBRARY)
    skipped = result.resolutions.loc[result.resolutions["resolved"] == "skipped"]
    assert sorted(skipped["scenario"]) == ["market_shift", "vuca_storm"]
    assert "a market shift needs two" in resolution_text(skipped)
    assert "market_shift: shock 1 from_product, to_product" in result.info["resolved"]
