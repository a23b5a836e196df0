"""The open exploration by hand: the drivers of the real scenario library and their ranges, the Latin
hypercube's strata, futures as scenarios, failures against the floors, and a known answer of what
breaks a plan."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from models.exploration import (
    PARAMETER_WORDS,
    _sentences,
    explore_failures,
    future_scenarios,
    library_drivers,
    sample_futures,
    what_breaks,
)
from models.robustness import Floors
from models.simulation.scenario import UNCERTAIN_PARAMETERS, load_library

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"
HORIZON = 24


@pytest.fixture(scope="module")
def library():
    return load_library(SCENARIOS)


@pytest.fixture(scope="module")
def drivers(library):
    return library_drivers(library, HORIZON).set_index("driver", drop=False)


def test_every_parameter_has_words_for_a_board():
    assert set(UNCERTAIN_PARAMETERS) <= set(PARAMETER_WORDS)


def test_driver_ranges_of_the_library_by_hand(drivers):
    def span(name):
        return float(drivers.loc[name, "low"]), float(drivers.loc[name, "high"])

    # default 0.46; estimate_overrun and vuca_storm choose among 0.72, 0.75, 0.92
    assert span("effort_multiplier") == pytest.approx((0.46, 0.92))
    assert drivers.loc["effort_multiplier", "sources"] == "estimate_overrun.yaml, vuca_storm.yaml"
    assert drivers.loc["effort_multiplier", "unit"] == "x"
    # default 0.0117 (13.2 %/year); uniform 0.0117..0.0293 in talent_attrition and vuca_storm
    assert span("attrition_per_month") == pytest.approx((0.0117, 0.0293))
    assert drivers.loc["attrition_per_month", "label"] == "monthly attrition"
    # normal mean 1 sd 0.05 in the baseline: mean +- 2 sd
    assert span("demand_factor") == pytest.approx((0.9, 1.1))
    # constants 2 (commoditisation, vuca_storm) and the default 3
    assert span("copy_half_life_months") == pytest.approx((2.0, 3.0))
    # uniform from month 3 (commoditisation); the baseline's 999 and the default inf: after the horizon
    assert span("competitor_entry_month") == pytest.approx((3.0, HORIZON + 1.0))
    # shocks: from none to the library's largest
    assert span("shock_budget_cut") == pytest.approx((0.0, 0.2))
    assert drivers.loc["shock_budget_cut", "label"] == "the budget cut in month 7 (all skills)"
    assert span("shock_market_shift") == pytest.approx((0.0, 0.25))
    assert span("shock_regulatory_must_have") == (0.0, 1.0)  # a factor on 110 pw (regulatory_change.yaml)
    assert "month 6 (110 pw over 6 months)" in drivers.loc["shock_regulatory_must_have", "label"]
    assert "horizon_months" not in drivers.index and "max_speedup" not in drivers.index  # never varied
    assert (drivers["default"].between(drivers["low"], drivers["high"])).all()


def test_latin_hypercube_puts_one_future_in_each_stratum_and_repeats_by_seed(drivers):
    n = 50
    futures = sample_futures(drivers.reset_index(drop=True), n, seed=7)
    assert futures["future"].tolist() == list(range(n))
    for d in drivers.itertuples(index=False):
        u = (futures[d.driver] - d.low) / (d.high - d.low)
        assert sorted(np.floor(u * n).astype(int)) == list(range(n)), d.driver
    pd.testing.assert_frame_equal(futures, sample_futures(drivers.reset_index(drop=True), n, seed=7))
    assert not futures.equals(sample_futures(drivers.reset_index(drop=True), n, seed=8))


def test_a_future_carries_its_constants_and_leaves_a_zero_shock_out(library, drivers):
    futures = sample_futures(drivers.reset_index(drop=True), 3, seed=1)
    futures.loc[1, "shock_budget_cut"] = 0.0
    futures.loc[1, "shock_regulatory_must_have"] = 0.5
    sims = future_scenarios(futures, drivers.reset_index(drop=True), library)
    assert [s.name for s in sims] == ["future_0", "future_1", "future_2"]
    assert [s.seed for s in sims] == [0, 1, 2] and all(s.replications == 1 for s in sims)
    one = sims[1]
    assert one.fixed()["effort_multiplier"] == pytest.approx(futures.loc[1, "effort_multiplier"])
    assert "budget_cut" not in [s.type for s in one.shocks]
    assert "budget_cut" in [s.type for s in sims[0].shocks]
    regulation = next(s for s in one.shocks if s.type == "regulatory_must_have")
    assert [e.pw for e in regulation.effort] == pytest.approx([30.0, 10.0, 15.0])  # half of 60, 20, 30
    assert regulation.effort[0].skill.describe() == "the skill with the largest capacity"  # role kept


def test_failures_name_the_floors_each_run_misses():
    runs = pd.DataFrame(
        {
            "plan": ["p", "p", "status_quo", "status_quo"],
            "future": [0, 1, 0, 1],
            "npv_eur": [100.0, 50.0, 80.0, 60.0],
            "okr_met_share": [0.1, 0.5, np.nan, np.nan],
            "on_time_share": [0.9, 0.2, np.nan, np.nan],
        }
    )
    out = explore_failures(runs, Floors(okr_met_share=0.25, on_time_share=0.25))
    assert out["misses_npv"].tolist() == [False, True, False, False]  # 50 < the status quo's 60
    assert out["misses_okr"].tolist() == [True, False, False, False]
    assert out["misses_on_time"].tolist() == [False, True, False, False]
    assert out["failed"].tolist() == [True, True, False, False]


def _known_failures(futures: pd.DataFrame, failed: np.ndarray, plan: str = "recommended") -> pd.DataFrame:
    return pd.DataFrame(
        {
            "plan": plan,
            "future": futures["future"],
            "misses_npv": failed,
            "misses_okr": False,
            "misses_on_time": False,
            "failed": failed,
        }
    )


def test_what_breaks_names_exactly_the_two_drivers_that_define_failure(drivers):
    d = drivers.reset_index(drop=True)
    futures = sample_futures(d, 400, seed=0)
    failed = (futures["effort_multiplier"] > 0.8).to_numpy() & (futures["shock_budget_cut"] > 0.1).to_numpy()
    found = what_breaks(futures, _known_failures(futures, failed), d, "recommended", max_boxes=1)
    assert found.failed_share == pytest.approx(failed.mean())
    assert set(found.boxes.loc[0, "restricted"].split(", ")) == {"effort_multiplier", "shock_budget_cut"}
    sentence = found.sentences[0]
    named = [label for label in d["label"] if label in sentence]
    assert sorted(named) == sorted(
        ["the median ratio of actual to planned effort", "the budget cut in month 7 (all skills)"]
    )
    # only the NPV floor was missed: the sentence names it (with several floors missed it says which most)
    assert sentence.startswith("The recommended plan misses its NPV floor in ") and "mostly of" not in sentence
    assert "0.8" in sentence and "10 %" in sentence
    assert set(found.scores["driver"].head(2)) == {"effort_multiplier", "shock_budget_cut"}
    assert found.trajectory["chosen"].sum() == 1 and found.trajectory["step"].iloc[0] == 0
    assert found.trajectory["coverage"].iloc[0] == pytest.approx(1.0)


def test_what_breaks_says_when_nothing_failed_everything_failed_or_no_box_explains_it(drivers):
    d = drivers.reset_index(drop=True)
    futures = sample_futures(d, 100, seed=0)
    none = what_breaks(futures, _known_failures(futures, np.zeros(100, dtype=bool)), d, "recommended")
    assert none.sentences == ("The recommended plan met its floors in all 100 futures.",)
    assert none.boxes.empty and none.trajectory.empty and none.failed_share == 0.0
    every = what_breaks(
        futures, _known_failures(futures, np.ones(100, dtype=bool), "status_quo_plan"), d, "status_quo_plan"
    )
    assert every.sentences == ("The status quo plan misses its NPV floor in all 100 futures, whatever the drivers.",)
    # failures PRIM puts in no box: the sentence says so and names the drivers that score highest
    failed = np.arange(100) % 4 == 0
    table = futures.merge(_known_failures(futures, failed), on="future")
    scores = pd.DataFrame({"driver": ["demand_factor", "shock_budget_cut"], "score": [0.3, 0.2]})
    scores.insert(1, "label", scores["driver"].map(d.set_index("driver")["label"]))
    (sentence,) = _sentences("recommended", table, pd.DataFrame(), d, scores)
    assert sentence == (
        "The recommended plan misses its NPV floor in 25 of 100 futures (25 %), but no small set of drivers "
        "explains them; the drivers that matter most are market demand against plan (0.30) and the budget "
        "cut in month 7 (all skills) (0.20)."
    )
