"""The demo company: its files are current, consistent, and read into the canonical tables."""

from __future__ import annotations

import functools
import importlib.util
import sys

import networkx as nx
import numpy as np
import pandas as pd
import pytest

from pipelines.paths import demo_data_dir
from pipelines.sources import load_inputs


@pytest.fixture(scope="module")
def inputs():
    return load_inputs(demo_data_dir())


@functools.cache
def _generator():
    """data/demo/generate.py as a module (it is a script, not part of the package)."""
    spec = importlib.util.spec_from_file_location("demo_generate", demo_data_dir() / "generate.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


def test_committed_files_are_what_the_generator_writes(tmp_path):
    generator = _generator()
    generator.generate(tmp_path)
    for name in generator.GENERATED_FILES:
        assert (tmp_path / name).read_bytes() == (demo_data_dir() / name).read_bytes(), name


def test_backlog_items(inputs):
    backlog = inputs.backlog
    assert len(backlog) == 140  # every epic is estimated; the 11 initiatives are not planned
    assert not backlog["item_id"].str.startswith("STRAT-").any()
    assert set(backlog["product"]) == {"IoT Platform", "Customer Portal", "Field Service App"}
    assert backlog["status_category"].value_counts().to_dict() == {"To Do": 128, "In Progress": 6, "Done": 6}
    assert set(backlog["theme"]) == {"run", "grow", "transform"}


def test_dependencies_resolve_without_cycles(inputs):
    backlog = inputs.backlog
    ids = set(backlog["item_id"])
    graph = nx.DiGraph()
    graph.add_nodes_from(ids)
    for item, deps in zip(backlog["item_id"], backlog["depends_on"], strict=True):
        assert set(deps) <= ids, item
        graph.add_edges_from((d, item) for d in deps)
    assert nx.is_directed_acyclic_graph(graph)
    waiting = int((backlog["depends_on"].map(len) > 0).sum())
    assert 0.10 <= waiting / len(backlog) <= 0.15  # 18 of 140 epics wait for another
    # the NIS2 item's blocker lives in a project that is not exported: dropped with a note
    assert any("IOT-382->SEC-14" in n for n in inputs.notes)


def test_gdpr_must_have(inputs):
    row = inputs.backlog.set_index("title").loc["DSGVO: Löschkonzept und Auskunftsprozess"]
    assert row["mandatory"] and row["moscow"] == "Must"
    assert row["deadline_period"] == 2  # due 30/Jun/27 = Q2 2027
    assert "regulatory" in row["labels"]
    assert row["initiative"] == "Regulatory compliance 2027 (DSGVO, NIS2, CRA, E-Rechnung)"
    assert row["theme"] == "run"  # inherited from the initiative
    # 34 SP split Backend 50 %, Frontend 30 %, QA 20 %; velocities 1.2, 1.3, 1.5 SP/pw
    assert row["story_points"] == 34
    assert row["effort_backend"] == pytest.approx(34 * 0.5 / 1.2)  # 14.17 pw
    assert row["effort_frontend"] == pytest.approx(34 * 0.3 / 1.3)  # 7.85 pw
    assert row["effort_qa"] == pytest.approx(34 * 0.2 / 1.5)  # 4.53 pw
    assert row[["effort_mobile", "effort_data", "effort_ux"]].sum() == 0


def test_must_haves_and_alternatives(inputs):
    backlog = inputs.backlog
    musts = backlog[backlog["mandatory"]]
    assert len(musts) == 10 and (musts["moscow"] == "Must").all()
    assert musts["deadline_period"].notna().sum() == 5
    groups = backlog.dropna(subset=["exclusive_group"]).groupby("exclusive_group")["title"].apply(list)
    assert len(groups) == 3 and all(len(titles) == 2 for titles in groups)
    assert all(titles[0].startswith("Build") and titles[1].startswith("Buy") for titles in groups)


def test_initiatives_are_named_on_their_children(inputs):
    generator = _generator()
    titles = {summary for summary, _, _ in generator.INITIATIVES}
    named = set(inputs.backlog["initiative"].dropna())
    assert named == titles
    without = [e["summary"] for e in generator._parse_epics() if e["initiative"] == 0]
    assert len(without) == 19
    assert sorted(inputs.backlog.loc[inputs.backlog["initiative"].isna(), "title"]) == sorted(without)


def test_capacity_is_about_half_of_the_open_demand(inputs):
    open_items = inputs.backlog[inputs.backlog["status_category"] != "Done"]
    teams, settings = inputs.teams, inputs.settings
    for skill in teams["skill"]:
        capacity = teams.loc[teams["skill"] == skill, "capacity_pw"].sum() * settings.periods
        assert 0.45 <= capacity / open_items[f"effort_{skill}"].sum() <= 0.65, skill
    total_capacity = teams["capacity_pw"].sum() * settings.periods
    total_demand = open_items.filter(like="effort_").to_numpy().sum()
    assert 0.50 <= total_capacity / total_demand <= 0.60


def test_budget_binds_in_some_quarters(inputs):
    teams, settings = inputs.teams, inputs.settings
    full_cost = float((teams["capacity_pw"] * teams["cost_per_pw"]).sum())  # EUR per quarter
    budgets = [settings.budget(p) for p in range(1, settings.periods + 1)]
    assert sum(b < full_cost for b in budgets) == 4  # Q1, Q2 2027 and Q1, Q2 2028
    assert settings.budget_total < sum(budgets)


def test_kpis_are_consistent_apart_from_the_three_export_flaws(inputs):
    kpis = inputs.kpi_history
    assert len(kpis) == 3 * 36 - 1  # Customer Portal 2025-03 is missing
    assert kpis["month"].min() == pd.Timestamp("2024-01-01") and kpis["month"].max() == pd.Timestamp("2026-12-01")
    assert kpis["nps"].isna().sum() == 1
    from models.valuation import clean_kpi_history

    _, imputations = clean_kpi_history(kpis)
    found = {
        (p, f"{m:%Y-%m}", c, r.split(":")[0])
        for p, m, c, r in imputations[["product", "month", "column", "reason"]].itertuples(index=False)
    }
    assert {(p, m, c, r) for p, m, c, r in found if c in ("mrr", "nps")} == {
        ("Customer Portal", "2025-03", "mrr", "missing month"),
        ("Customer Portal", "2025-03", "nps", "missing month"),
        ("Field Service App", "2025-09", "nps", "missing value"),
        ("IoT Platform", "2025-06", "mrr", "outlier"),
    }
    assert {(p, m) for p, m, _, _ in found} == {
        ("Customer Portal", "2025-03"),
        ("Field Service App", "2025-09"),
        ("IoT Platform", "2025-06"),
    }
    for product, series in kpis.groupby("product"):
        series = series.set_index("month")
        prev = series.shift(1)
        month_no = series.index.year * 12 + series.index.month
        consecutive = np.r_[False, np.diff(month_no) == 1]  # the month after the gap has no predecessor
        flow = prev["mau"] + series["new_users"] - series["churned_users"]
        assert np.array_equal(flow[consecutive], series["mau"][consecutive]), product
        assert (series["churned_users"][consecutive] <= prev["mau"][consecutive]).all()
        assert (series["dau"] <= series["mau"]).all()
        paying = series["mau"] * series["conversion_rate"]
        ok = ~((product == "IoT Platform") & (series.index == pd.Timestamp("2025-06-01")))
        assert np.allclose(series["mrr"][ok], (paying * series["arpu"])[ok], rtol=0.005), product
    last = kpis[kpis["month"] == kpis["month"].max()].set_index("product")
    customers = last["mau"] * last["conversion_rate"]
    assert 100 <= customers["IoT Platform"] <= 500 and last.loc["IoT Platform", "arpu"] > 1000
    assert last.loc["Customer Portal", "mau"] > 5000
    assert 500 <= last.loc["Field Service App", "mau"] <= 5000


def test_okrs_match_backlog_and_kpis(inputs):
    okrs = inputs.okrs
    assert len(okrs) == 10 and okrs["objective"].nunique() == 4
    assert okrs["weight"].sum() == pytest.approx(1.0)
    assert set(inputs.backlog["okr"].dropna()) <= set(okrs["key_result"])
    mau = inputs.kpi_history.set_index(["product", "month"])["mau"]
    kr = okrs.set_index("key_result")
    assert kr.loc["KR-2.1", "baseline"] == mau[("Customer Portal", pd.Timestamp("2026-12-01"))]


def test_settings(inputs):
    settings = inputs.settings
    assert settings.company == "Keller Industrie-Software GmbH"
    assert settings.start.isoformat() == "2027-01-01" and settings.periods == 8
    assert settings.period_label(8) == "Q4 2028"
    assert settings.solver.name == "highs" and settings.solver.time_limit_s == 30
