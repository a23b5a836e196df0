"""Robustness metrics by hand: regret, satisficing against the status quo, ranks and Kendall's tau."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from models.robustness import Floors, meets_floors, plan_robustness, ranking_agreement, regrets

HALF = Floors(okr_met_share=0.5, on_time_share=0.5)


def _runs() -> pd.DataFrame:
    """Three plans in two futures: A steady, B great in f1 and poor in f2, status_quo below both."""
    rows = [
        # plan, scenario, replication, npv, okr share, on-time share
        ("A", "s", 0, 100.0, 0.6, 0.8),
        ("A", "s", 1, 90.0, 0.6, 0.8),
        ("B", "s", 0, 150.0, 0.4, 0.9),
        ("B", "s", 1, 60.0, 0.7, 0.2),
        ("status_quo", "s", 0, 80.0, np.nan, np.nan),
        ("status_quo", "s", 1, 70.0, np.nan, np.nan),
    ]
    return pd.DataFrame(rows, columns=["plan", "scenario", "replication", "npv_eur", "okr_met_share", "on_time_share"])


def test_regret_is_the_best_plan_in_the_same_future_minus_this_one():
    runs = _runs()
    # future 0: best 150 (B) -> A 50, B 0, sq 70; future 1: best 90 (A) -> A 0, B 30, sq 20
    assert regrets(runs).tolist() == [50.0, 0.0, 0.0, 30.0, 70.0, 20.0]


def test_satisficing_against_the_status_quo_and_the_share_floors():
    runs = _runs()
    ok = meets_floors(runs, HALF)
    # A: beats the status quo in both, OKRs 0.6, on time 0.8 -> both; B f0: OKRs 0.4 < 0.5 -> no;
    # B f1: 60 < 70 -> no; the status quo equals itself and promised nothing -> both
    assert ok.tolist() == [True, True, False, False, True, True]
    assert meets_floors(runs, Floors(npv_gain=15.0)).tolist()[:2] == [True, True]  # 100 >= 95, 90 >= 85
    assert meets_floors(runs, Floors(npv=95.0)).tolist()[:2] == [True, False]  # an absolute floor
    # the defaults ask a quarter of the key results and of the items on time: B's first future passes
    assert meets_floors(runs, Floors()).tolist() == [True, True, True, False, True, True]


def test_plan_robustness_by_hand():
    t = plan_robustness(_runs(), HALF).set_index("plan")
    assert t.loc["A", "npv_mean"] == 95.0 and t.loc["B", "npv_mean"] == 105.0
    assert t.loc["B", "npv_worst"] == 60.0 and t.loc["A", "npv_p10"] == pytest.approx(91.0)  # 90 + 0.1 x 10
    assert (t.loc["A", "regret_mean"], t.loc["A", "regret_max"]) == (25.0, 50.0)
    assert (t.loc["B", "regret_mean"], t.loc["B", "regret_max"]) == (15.0, 30.0)
    assert t.loc["A", "satisficing"] == 1.0 and t.loc["B", "satisficing"] == 0.0
    # B has the best mean and the lowest regrets, A the best tail and satisficing
    assert t.loc["B", "rank_npv_mean"] == 1 and t.loc["A", "rank_npv_worst"] == 1
    assert t.loc["B", "rank_regret_max"] == 1 and t.loc["A", "rank_satisficing"] == 1
    assert list(t.index) == ["A", "B", "status_quo"] and (t["futures"] == 2).all()


def test_kendall_tau_says_where_the_metrics_disagree():
    tau = ranking_agreement(plan_robustness(_runs())).set_index(["metric_a", "metric_b"])["tau"]
    # by mean B, A, sq; by worst A (90), sq (70), B (60). Pairs: (A, B) and (B, sq) are ordered the
    # other way, (A, sq) alike: tau = (1 - 2) / 3
    assert tau[("npv_mean", "npv_worst")] == pytest.approx(-1 / 3)
    assert tau[("regret_mean", "regret_max")] == pytest.approx(1.0)  # B, A, sq both ways


def test_discover_finds_the_two_drivers_that_define_failure():
    """Known answer: 2,000 futures over seven uniform drivers; a plan fails exactly where d1 > 0.6 and
    d3 < 0.3. The first box restricts d1 and d3 only, to within 0.05 of those limits, with coverage
    and density of at least 0.9."""
    from models.robustness import discover

    rng = np.random.default_rng(20270101)
    x = pd.DataFrame(rng.uniform(0, 1, (2000, 7)), columns=[f"d{i}" for i in range(7)])
    failed = (x["d1"] > 0.6) & (x["d3"] < 0.3)
    boxes = discover(x, failed)
    first = boxes.iloc[0]
    assert first["restricted"] == "d1, d3"
    assert first["coverage"] >= 0.9 and first["density"] >= 0.9
    assert abs(first["d1_lower"] - 0.6) <= 0.05 and abs(first["d3_upper"] - 0.3) <= 0.05
    assert np.isnan(first["d1_upper"]) and np.isnan(first["d3_lower"])  # open on the other side
    assert discover(x, failed & False).empty  # nothing failed: nothing to explain


def test_discover_drops_the_slivers_prim_peels_off_noise_drivers():
    """Noisy failures that depend on d1 alone (80 % of the futures with d1 > 0.6 fail, 10 % of the rest):
    on 300 futures PRIM's chosen box also restricts two noise drivers by a sliver each; dropping the
    restrictions that cost less than 5 % of the density leaves d1 alone, nearly as dense."""
    from models.robustness import discover

    rng = np.random.default_rng(0)
    x = pd.DataFrame(rng.uniform(0, 1, (300, 8)), columns=[f"d{i}" for i in range(8)])
    failed = ((x["d1"] > 0.6) & (rng.uniform(size=300) < 0.8)) | (rng.uniform(size=300) < 0.1)
    raw = discover(x, failed, max_boxes=1, prune=0.0).iloc[0]
    kept = discover(x, failed, max_boxes=1).iloc[0]
    assert raw["restricted"] == "d1, d2, d5"
    assert kept["restricted"] == "d1" and kept["density"] >= 0.95 * raw["density"]
    assert kept["coverage"] >= raw["coverage"] and abs(kept["d1_lower"] - 0.6) <= 0.05
