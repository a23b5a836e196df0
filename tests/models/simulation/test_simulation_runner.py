"""Replications, seeds, summaries, and what scenarios do to plans."""

from __future__ import annotations

import math
import re

import numpy as np
import pandas as pd
import pytest

from models.simulation import (
    PARAMETER_NAMES,
    SUMMARY_FIELDS,
    Scenario,
    load_scenarios,
    run_replications,
    single_product_plan,
    summarise_run,
    summarise_runs,
)
from pipelines.paths import project_root, scenarios_dir


def small_scenarios() -> dict[str, Scenario]:
    return {
        "calm": Scenario.model_validate({"name": "calm", "replications": 2, "seed": 1}),
        "rough": Scenario.model_validate({
            "name": "rough", "replications": 3, "seed": 2,
            "uncertainties": {"effort_multiplier": {"dist": "triangular", "low": 1, "mode": 1.3, "high": 2}},
            "shocks": [{"type": "demand_drop", "month": 6, "size": 0.2}]}),
    }


def test_run_replications_shape_seeds_and_reproducibility(demo_plan, empty_plan):
    scenarios = small_scenarios()
    runs, series = run_replications([demo_plan, empty_plan], scenarios, seed=5)
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
    assert (runs.loc[runs["scenario"] == "calm", "effort_multiplier"] == 1.15).all()
    # series: every run, every month, every product
    assert len(series) == len(runs) * 24 * 2
    assert list(series.columns[:3]) == ["plan", "scenario", "replication"]
    again_runs, again_series = run_replications([demo_plan, empty_plan], scenarios, seed=5)
    pd.testing.assert_frame_equal(runs, again_runs)
    pd.testing.assert_frame_equal(series, again_series)
    other, _ = run_replications([demo_plan], scenarios, replications=1, seed=6)
    assert len(other) == 2 and not set(other["seed"]) & set(runs["seed"])


def test_empty_plan_has_no_delivery_shares(empty_plan):
    runs, _ = run_replications([empty_plan], small_scenarios(), replications=1)
    assert runs["on_time_share"].isna().all() and runs["delivered_share"].isna().all()
    assert (runs["npv_eur"] > 0).all()


def test_commoditisation_lowers_npv_of_a_plan_with_differentiators(demo_plan, empty_plan):
    library = load_scenarios(scenarios_dir())
    scenarios = {k: library[k] for k in ("baseline", "commoditisation")}
    assert (demo_plan.items["differentiation"] == "differentiator").sum() == 3
    runs, _ = run_replications([demo_plan, empty_plan], scenarios, replications=20, seed=0)
    npv = runs.pivot_table(index="plan", columns="scenario", values="npv_eur", aggfunc="mean")
    assert npv.loc["demo", "commoditisation"] < 0.95 * npv.loc["demo", "baseline"]
    # and the plan's own contribution (paired by seed against the empty plan) shrinks too
    paired = runs.pivot_table(index=["scenario", "replication"], columns="plan", values="npv_eur")
    gain = (paired["demo"] - paired["empty"]).groupby("scenario").mean()
    assert 0 < gain["commoditisation"] < gain["baseline"]


def test_summarise_run_by_hand():
    plan = single_product_plan(months=12, discount_rate=0.0)
    series = pd.DataFrame({"month": range(1, 13), "mrr": [100.0] * 12, "cost_savings": [0.0] * 11 + [50.0]})
    delivery = pd.DataFrame({"planned_finish_month": [3, 6, 30],
                             "delivered_month": pd.array([3, 8, None], dtype="Int64")})
    out = summarise_run(series, plan, delivery)
    # 12 x 100 + 50, undiscounted; items due within 12 months: on time 1 of 2, lateness (0 + 2) / 2
    assert out == {"npv_eur": 1250.0, "final_mrr": 100.0, "on_time_share": 0.5, "mean_slip_months": 1.0,
                   "delivered_share": pytest.approx(2 / 3)}
    # 12 % a year: month 12 is discounted by exactly 1 / 1.12
    yearly = single_product_plan(months=12, discount_rate=0.12)
    one = pd.DataFrame({"month": range(1, 13), "mrr": [0.0] * 11 + [112.0], "cost_savings": [0.0] * 12})
    assert summarise_run(one, yearly, delivery)["npv_eur"] == pytest.approx(100.0)


def test_summarise_runs_by_hand():
    runs = pd.DataFrame({"plan": "p", "scenario": "s", "replication": range(10), "seed": range(10),
                         "npv_eur": np.arange(1.0, 11.0), "final_mrr": np.arange(10.0, 110.0, 10.0),
                         "on_time_share": [1.0] * 5 + [0.0] * 5, "mean_slip_months": [2.0] * 10,
                         "delivered_share": [1.0] * 10})
    out = summarise_runs(runs).iloc[0]
    # linear quantiles of 1..10: p10 = 1 + 0.9 = 1.9, p50 = 5.5, p90 = 9.1
    assert out["runs"] == 10
    assert (out["npv_mean"], out["npv_p10"], out["npv_p50"], out["npv_p90"]) == pytest.approx((5.5, 1.9, 5.5, 9.1))
    assert (out["final_mrr_p10"], out["final_mrr_p90"]) == pytest.approx((19.0, 91.0))
    assert out["on_time_share_mean"] == 0.5 and out["mean_slip_months_mean"] == 2.0


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
        rows += [{"plan": "p", "scenario": "s", "month": 1, "replication": rep, "product": "A",
                  "mrr": base, "mau": 1.0, "paying_customers": 1.0},
                 {"plan": "p", "scenario": "s", "month": 1, "replication": rep, "product": "B",
                  "mrr": base / 10, "mau": 1.0, "paying_customers": 1.0}]
    bands = series_bands(pd.DataFrame(rows))
    assert len(bands) == 1
    row = bands.iloc[0]
    # totals 11, 22, 33: median 22; linear-interpolated P10 = 11 + 0.2 * 11 = 13.2, P90 = 22 + 0.8 * 11 = 30.8
    assert row["mrr_p50"] == 22.0
    assert abs(row["mrr_p10"] - 13.2) < 1e-9 and abs(row["mrr_p90"] - 30.8) < 1e-9
    assert row["mau_p50"] == 2.0
