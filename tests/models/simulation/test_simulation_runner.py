"""Replications, seeds, summaries, and what scenarios do to plans."""

from __future__ import annotations

import math
import re

import numpy as np
import pandas as pd
import pytest

from models.errors import ModelError, ScenarioError
from models.simulation import (
    PARAMETER_NAMES,
    SUMMARY_FIELDS,
    Parameters,
    Scenario,
    candidate_plans,
    load_scenarios,
    make_chunks,
    okr_chances,
    okr_met_share,
    run_replications,
    simulate,
    single_product_plan,
    stress_test,
    summarise_run,
    summarise_runs,
)
from pipelines.paths import project_root, scenarios_dir


def small_scenarios() -> dict[str, Scenario]:
    return {
        "calm": Scenario.model_validate({"name": "calm", "replications": 2, "seed": 1}),
        "rough": Scenario.model_validate(
            {
                "name": "rough",
                "replications": 3,
                "seed": 2,
                "uncertainties": {"effort_multiplier": {"dist": "triangular", "low": 1, "mode": 1.3, "high": 2}},
                "shocks": [{"type": "demand_drop", "month": 6, "size": 0.2}],
            }
        ),
    }


def test_run_replications_shape_seeds_and_reproducibility(demo_plan, empty_plan):
    scenarios = small_scenarios()
    runs, series = run_replications([demo_plan, empty_plan], scenarios, seed=5, workers=1)
    # replications=None: each scenario's own (2 + 3) for each of the 2 plans
    assert len(runs) == 2 * (2 + 3)
    assert list(runs.columns[:4]) == ["plan", "scenario", "replication", "seed"]
    assert set(SUMMARY_FIELDS) | set(PARAMETER_NAMES) <= set(runs.columns)
    # common random numbers: the same seed for the same scenario and replication in every plan
    seeds = runs.pivot_table(index=["scenario", "replication"], columns="plan", values="seed")
    assert (seeds["demo"] == seeds["empty"]).all() and seeds["demo"].nunique() == 5
    # sampled values are recorded per run, constants elsewhere keep their defaults
    rough = runs[runs["scenario"] == "rough"]
    assert rough["effort_multiplier"].between(1, 2).all() and rough["effort_multiplier"].nunique() == 3
    assert (runs.loc[runs["scenario"] == "calm", "effort_multiplier"] == Parameters().effort_multiplier).all()
    # series: every run, every month, every product
    assert len(series) == len(runs) * 24 * 2
    assert list(series.columns[:3]) == ["plan", "scenario", "replication"]
    again_runs, again_series = run_replications([demo_plan, empty_plan], scenarios, seed=5, workers=1)
    pd.testing.assert_frame_equal(runs, again_runs)
    pd.testing.assert_frame_equal(series, again_series)
    other, _ = run_replications([demo_plan], scenarios, replications=1, seed=6, workers=1)
    assert len(other) == 2 and not set(other["seed"]) & set(runs["seed"])


def test_empty_plan_has_no_delivery_shares(empty_plan):
    runs, _ = run_replications([empty_plan], small_scenarios(), replications=1, workers=1)
    assert runs["on_time_share"].isna().all() and runs["delivered_share"].isna().all()
    assert (runs["npv_eur"] > 0).all()


def test_commoditisation_lowers_npv_of_a_plan_with_differentiators(demo_plan, empty_plan):
    library = load_scenarios(scenarios_dir())
    scenarios = {k: library[k] for k in ("baseline", "commoditisation")}
    assert (demo_plan.items["differentiation"] == "differentiator").sum() == 3
    runs, _ = run_replications([demo_plan, empty_plan], scenarios, replications=20, seed=0, workers=1)
    npv = runs.pivot_table(index="plan", columns="scenario", values="npv_eur", aggfunc="mean")
    assert npv.loc["demo", "commoditisation"] < 0.95 * npv.loc["demo", "baseline"]
    # and the plan's own contribution (paired by seed against the empty plan) shrinks too
    paired = runs.pivot_table(index=["scenario", "replication"], columns="plan", values="npv_eur")
    gain = (paired["demo"] - paired["empty"]).groupby("scenario").mean()
    assert 0 < gain["commoditisation"] < gain["baseline"]


def test_summarise_run_by_hand():
    plan = single_product_plan(months=12, discount_rate=0.0)
    series = pd.DataFrame({"month": range(1, 13), "mrr": [100.0] * 12, "cost_savings": [0.0] * 11 + [50.0]})
    delivery = pd.DataFrame(
        {"planned_finish_month": [3, 6, 30], "delivered_month": pd.array([3, 8, None], dtype="Int64")}
    )
    out = summarise_run(series, plan, delivery)
    # a delivery table alone says nothing about key results
    assert math.isnan(out.pop("okr_met_share"))
    # 12 x 100 + 50, undiscounted; items due within 12 months: on time 1 of 2, lateness (0 + 2) / 2
    assert out == {
        "npv_eur": 1250.0,
        "final_mrr": 100.0,
        "on_time_share": 0.5,
        "mean_slip_months": 1.0,
        "delivered_share": pytest.approx(2 / 3),
    }
    # 12 % a year: month 12 is discounted by exactly 1 / 1.12
    yearly = single_product_plan(months=12, discount_rate=0.12)
    one = pd.DataFrame({"month": range(1, 13), "mrr": [0.0] * 11 + [112.0], "cost_savings": [0.0] * 12})
    assert summarise_run(one, yearly, delivery)["npv_eur"] == pytest.approx(100.0)


def test_summarise_runs_by_hand():
    runs = pd.DataFrame(
        {
            "plan": "p",
            "scenario": "s",
            "replication": range(10),
            "seed": range(10),
            "npv_eur": np.arange(1.0, 11.0),
            "final_mrr": np.arange(10.0, 110.0, 10.0),
            "on_time_share": [1.0] * 5 + [0.0] * 5,
            "mean_slip_months": [2.0] * 10,
            "delivered_share": [1.0] * 10,
            "okr_met_share": [0.25] * 8 + [float("nan")] * 2,
        }
    )
    out = summarise_runs(runs).iloc[0]
    # linear quantiles of 1..10: p10 = 1 + 0.9 = 1.9, p50 = 5.5, p90 = 9.1
    assert out["runs"] == 10
    assert (out["npv_mean"], out["npv_p10"], out["npv_p50"], out["npv_p90"]) == pytest.approx((5.5, 1.9, 5.5, 9.1))
    assert (out["final_mrr_p10"], out["final_mrr_p90"]) == pytest.approx((19.0, 91.0))
    assert out["on_time_share_mean"] == 0.5 and out["mean_slip_months_mean"] == 2.0
    assert out["okr_met_share_mean"] == 0.25  # NaN (no key results) left out


def test_readme_example_runs(capsys):
    text = (project_root() / "models" / "simulation" / "README.md").read_text(encoding="utf-8")
    code = re.search(r"```python\n(.*?)```", text, re.S).group(1)
    exec(compile(code, "README.md", "exec"), {})
    printed = capsys.readouterr().out
    assert "competitor_parity" in printed and "npv_eur" in printed
    assert not math.isnan(float(re.search(r"'npv_eur': ([0-9.e+]+)", printed).group(1)))


def test_series_bands_sum_products_then_take_quantiles_across_replications():
    import pandas as pd

    from models.simulation import series_bands

    rows = []
    # two products, three replications, one month: totals per replication are 10+1, 20+2, 30+3
    for rep, base in enumerate((10.0, 20.0, 30.0)):
        rows += [
            {
                "plan": "p",
                "scenario": "s",
                "month": 1,
                "replication": rep,
                "product": "A",
                "mrr": base,
                "mau": 1.0,
                "paying_customers": 1.0,
            },
            {
                "plan": "p",
                "scenario": "s",
                "month": 1,
                "replication": rep,
                "product": "B",
                "mrr": base / 10,
                "mau": 1.0,
                "paying_customers": 1.0,
            },
        ]
    bands = series_bands(pd.DataFrame(rows))
    assert len(bands) == 1
    row = bands.iloc[0]
    # totals 11, 22, 33: median 22; linear-interpolated P10 = 11 + 0.2 * 11 = 13.2, P90 = 22 + 0.8 * 11 = 30.8
    assert row["mrr_p50"] == 22.0
    assert abs(row["mrr_p10"] - 13.2) < 1e-9 and abs(row["mrr_p90"] - 30.8) < 1e-9
    assert row["mau_p50"] == 2.0


def assert_same_tables(a, b):
    pd.testing.assert_frame_equal(a.runs, b.runs)
    pd.testing.assert_frame_equal(a.series, b.series)
    pd.testing.assert_frame_equal(a.okrs, b.okrs)


def test_chunks_cover_every_run_once_in_table_order(demo_plan, empty_plan):
    chunks = make_chunks([demo_plan, empty_plan], small_scenarios(), seed=5, chunk_size=2)
    # calm: 2 replications -> 1 chunk; rough: 3 -> 2 chunks; per plan
    assert [(c.plan.name, c.scenario_name, c.replications) for c in chunks] == [
        ("demo", "calm", (0, 1)),
        ("demo", "rough", (0, 1)),
        ("demo", "rough", (2,)),
        ("empty", "calm", (0, 1)),
        ("empty", "rough", (0, 1)),
        ("empty", "rough", (2,)),
    ]
    assert [c.index for c in chunks] == list(range(6))
    # common random numbers: the same seeds for both plans
    assert [c.seeds for c in chunks[:3]] == [c.seeds for c in chunks[3:]]
    with pytest.raises(ModelError, match="chunk_size"):
        make_chunks([demo_plan], small_scenarios(), chunk_size=0)


def test_tables_do_not_depend_on_workers_or_chunking(demo_plan, empty_plan):
    args = ([demo_plan, empty_plan], small_scenarios())
    serial = stress_test(*args, seed=11, workers=1, chunk_size=100)
    assert serial.info["backend"] == "serial" and serial.info["chunks"] == 4
    assert len(serial.runs) == 10 and serial.runs["npv_eur"].nunique() == 10
    one_run_chunks = stress_test(*args, seed=11, workers=1, chunk_size=1)
    assert one_run_chunks.info["chunks"] == 10
    assert_same_tables(serial, one_run_chunks)
    processes = stress_test(*args, seed=11, workers=2, chunk_size=2, progress=True)
    assert processes.info["backend"] == "processes" and processes.info["workers"] == 2
    assert_same_tables(serial, processes)
    info = serial.info
    assert (info["runs"], info["plans"], info["scenarios"], info["root_seed"]) == (10, 2, 2, 11)
    assert info["min_seed"] == serial.runs["seed"].min() and info["max_seed"] == serial.runs["seed"].max()
    assert info["replications"] == "calm: 2, rough: 3"
    without_series = stress_test(*args, seed=11, workers=1, keep_series=False)
    assert without_series.series.empty
    pd.testing.assert_frame_equal(without_series.runs, serial.runs)


def test_dask_cluster_gives_the_serial_tables(demo_plan):
    from distributed import Client, LocalCluster

    scenarios = small_scenarios()
    serial = stress_test([demo_plan], scenarios, replications=3, seed=2, workers=1)
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None) as cluster:
        with Client(cluster) as client:
            on_client = stress_test([demo_plan], scenarios, replications=3, seed=2, client=client, chunk_size=2)
        by_address = stress_test([demo_plan], scenarios, replications=3, seed=2, dask_address=cluster.scheduler_address)
    assert on_client.info["backend"] == "dask" and on_client.info["workers"] == 2
    assert_same_tables(serial, on_client)
    assert_same_tables(serial, by_address)


def test_bad_arguments_are_named_before_any_work_is_sent(demo_plan):
    unknown_product = Scenario.model_validate(
        {"name": "elsewhere", "shocks": [{"type": "demand_drop", "month": 3, "product": "Toaster", "size": 0.1}]}
    )
    with pytest.raises(ScenarioError, match="Toaster"):
        stress_test([demo_plan], {"elsewhere": unknown_product}, replications=2, workers=2)
    with pytest.raises(ModelError, match="plan names must differ"):
        stress_test([demo_plan, demo_plan], small_scenarios(), workers=1)
    with pytest.raises(ModelError, match="workers must be at least 1"):
        stress_test([demo_plan], small_scenarios(), workers=0)


def test_okr_met_share_weights_key_results():
    okrs = pd.DataFrame({"met": [True, False, True], "weight": [0.5, 0.3, 0.2]})
    assert okr_met_share(okrs) == pytest.approx(0.7)
    assert okr_met_share(okrs.assign(weight=0.0)) == pytest.approx(2 / 3)  # unweighted
    assert math.isnan(okr_met_share(okrs.iloc[:0]))


def test_okr_chances_by_hand():
    rows = []
    for rep, (v1, v2) in enumerate([(10.0, 1.0), (20.0, 3.0), (30.0, 5.0), (40.0, 7.0)]):
        rows += [
            {
                "plan": "p",
                "scenario": "s",
                "replication": rep,
                "key_result": "KR-1",
                "objective": "O1",
                "metric": "mrr",
                "product": "A",
                "target": 25.0,
                "value": v1,
                "met": v1 >= 25,
                "weight": 0.6,
            },
            {
                "plan": "p",
                "scenario": "s",
                "replication": rep,
                "key_result": "KR-2",
                "objective": "O1",
                "metric": "churn_rate",
                "product": "A",
                "target": 2.0,
                "value": v2,
                "met": v2 <= 2,
                "weight": 0.4,
            },
        ]
    out = okr_chances(pd.DataFrame(rows)).set_index("key_result")
    assert list(out.index) == ["KR-1", "KR-2"] and (out["runs"] == 4).all()
    assert out.loc["KR-1", "chance_met"] == 0.5 and out.loc["KR-2", "chance_met"] == 0.25
    # median of 10, 20, 30, 40 = 25; P10 = 10 + 0.3 x 10 = 13
    assert out.loc["KR-1", "value_p50"] == 25.0 and out.loc["KR-1", "value_p10"] == pytest.approx(13.0)
    assert out.loc["KR-2", ["target", "weight"]].tolist() == [2.0, 0.4]
    assert okr_chances(pd.DataFrame(rows).iloc[:0]).empty


def test_candidate_plans_keep_the_named_ones_in_order(
    sim_decisions, sim_backlog, sim_teams, sim_kpi_history, sim_settings
):
    decisions = {"recommended": sim_decisions, "rice": sim_decisions.assign(funded=False), "wsjf": sim_decisions}
    tables = (sim_backlog, sim_teams, sim_kpi_history, sim_settings)
    assert [p.name for p in candidate_plans(decisions, *tables)] == ["recommended", "rice", "wsjf"]
    kept = candidate_plans(decisions, *tables, names=["wsjf", "recommended"])
    assert [p.name for p in kept] == ["recommended", "wsjf"] and len(kept[1].items) == 5
    with pytest.raises(ModelError, match="unknown plans gut: the plans are recommended, rice, wsjf"):
        candidate_plans(decisions, *tables, names=["gut"])


def test_key_results_are_judged_per_run_and_summarised(
    sim_decisions, sim_backlog, sim_teams, sim_kpi_history, sim_settings
):
    okrs = pd.DataFrame(
        {
            "objective": ["O1", "O1", "O2"],
            "key_result": ["KR-1.1", "KR-1.2", "KR-2.1"],
            "metric": ["mau", "mau", "compliance_findings"],
            "product": ["Customer Portal", "IoT Platform", None],
            # portal MAU starts near 6,000 and grows: 1 is always met, 10 million never
            "target": [1.0, 10_000_000.0, 0.0],
            "weight": [0.75, 0.25, 1.0],
        }
    )
    plans = candidate_plans({"recommended": sim_decisions}, sim_backlog, sim_teams, sim_kpi_history, sim_settings, okrs)
    st = stress_test(plans, small_scenarios(), seed=3, workers=1)
    # the model cannot judge compliance findings: two key results per run
    assert len(st.okrs) == 2 * len(st.runs)
    assert list(st.okrs.columns[:3]) == ["plan", "scenario", "replication"]
    assert st.okrs["met"].dtype == bool
    met = st.okrs.set_index(["scenario", "replication", "key_result"])["met"].unstack()
    assert met["KR-1.1"].all() and not met["KR-1.2"].any()
    # weighted: 0.75 of the judged weight (0.75 + 0.25) met in every run
    assert st.runs["okr_met_share"].tolist() == pytest.approx([0.75] * len(st.runs))
    chances = okr_chances(st.okrs).set_index(["scenario", "key_result"])["chance_met"]
    assert chances.loc[("calm", "KR-1.1")] == 1.0 and chances.loc[("rough", "KR-1.2")] == 0.0
    assert summarise_runs(st.runs)["okr_met_share_mean"].tolist() == pytest.approx([0.75, 0.75])


def test_chunk_tables_equal_single_runs(sim_decisions, sim_backlog, sim_teams, sim_kpi_history, sim_settings):
    okrs = pd.DataFrame(
        {
            "objective": ["O1"],
            "key_result": ["KR-1.1"],
            "metric": ["mrr"],
            "product": ["IoT Platform"],
            "target": [200_000.0],
            "weight": [1.0],
        }
    )
    plan = candidate_plans({"demo": sim_decisions}, sim_backlog, sim_teams, sim_kpi_history, sim_settings, okrs)[0]
    scenarios = small_scenarios()
    st = stress_test([plan], scenarios, seed=4, workers=1)
    for (scenario, replication), series in st.series.groupby(["scenario", "replication"], sort=False):
        row = st.runs.set_index(["scenario", "replication"]).loc[(scenario, replication)]
        one = simulate(plan, scenarios[scenario], int(row["seed"]))
        pd.testing.assert_frame_equal(
            series.drop(columns=["plan", "scenario", "replication"]).reset_index(drop=True), one.series
        )
        expected = summarise_run(one.series, plan, one)
        assert {k: row[k] for k in SUMMARY_FIELDS} == pytest.approx(expected, nan_ok=True)
        kr = st.okrs.set_index(["scenario", "replication"]).loc[[(scenario, replication)]].reset_index(drop=True)
        pd.testing.assert_frame_equal(kr.drop(columns=["plan"]), one.okrs, check_dtype=False)


def test_compare_plans_by_hand():
    from models.simulation import compare_plans

    summary = pd.DataFrame(
        {
            "plan": ["a", "a", "a", "b"],
            "scenario": ["x", "y", "z", "x"],
            "npv_p50": [10.0, 30.0, 20.0, 5.0],
            "npv_p10": [8.0, 4.0, 9.0, 1.0],
            "on_time_share_mean": [0.5, 0.7, 0.6, 1.0],
            "okr_met_share_mean": [0.2, 0.4, 0.6, 0.0],
        }
    )
    out = compare_plans(summary).set_index("plan")
    assert out.loc["a", "scenarios"] == 3 and out.loc["a", "npv_p50_median"] == 20.0
    assert (out.loc["a", "worst_npv_p10"], out.loc["a", "worst_scenario"]) == (4.0, "y")
    assert out.loc["a", "on_time_share"] == pytest.approx(0.6) and out.loc["a", "okr_met_share"] == pytest.approx(0.4)
    assert list(out.index) == ["a", "b"]


def test_increment_over_the_status_quo_by_hand():
    """Each run's NPV minus the status quo's in the same scenario and replication."""
    from models.simulation import summarise_runs
    from models.simulation.runner import with_increments

    runs = pd.DataFrame(
        {
            "plan": ["status_quo", "status_quo", "a", "a", "a"],
            "scenario": ["x", "x", "x", "x", "y"],
            "replication": [0, 1, 0, 1, 0],
            "npv_eur": [100.0, 80.0, 130.0, 70.0, 50.0],
            "final_mrr": 1.0,
            "on_time_share": 1.0,
            "mean_slip_months": 0.0,
            "delivered_share": 1.0,
            "okr_met_share": 1.0,
        }
    )
    inc = with_increments(runs)["npv_increment_eur"].to_numpy()
    assert list(inc[:4]) == [0.0, 0.0, 30.0, -10.0] and np.isnan(inc[4])  # no status quo run in y
    summary = summarise_runs(runs).set_index(["plan", "scenario"])
    assert summary.loc[("a", "x"), "npv_increment_mean"] == pytest.approx(10.0)
    assert summary.loc[("a", "x"), "npv_increment_p50"] == pytest.approx(10.0)
    # without a status quo run there is no increment
    assert summarise_runs(runs.loc[runs["plan"] == "a"])["npv_increment_mean"].isna().all()


def test_plan_names_are_the_recommended_and_robust_plans_the_greedy_baselines_and_the_current_one(
    sim_decisions, sim_backlog, sim_teams, sim_kpi_history, sim_settings
):
    from models.portfolio.greedy import RANKINGS
    from models.simulation import PLAN_NAMES

    assert ("recommended", "robust", *RANKINGS, "status_quo", "current") == PLAN_NAMES and "wsjf" in PLAN_NAMES
    tables = (sim_backlog, sim_teams, sim_kpi_history, sim_settings)
    # a plan the stress test knows but without decisions here: say how to get them
    with pytest.raises(
        ModelError, match=r"unknown plans wsjf: the plans are recommended\. Fix: compute their decisions"
    ):
        candidate_plans({"recommended": sim_decisions}, *tables, names=["wsjf"])
