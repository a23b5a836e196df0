"""`weitblick robust` and `weitblick discover` on the demo, as JSON: the robust plan against the recommended
one on held-out futures, and what breaks the plan in words."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from pipelines_testkit import invoke


def test_robust_json_compares_the_plans_on_held_out_futures():
    result = invoke("robust", "--data", "data/demo", "--futures", "8", "--time-limit", "2", "--format", "json")
    assert result.exit_code == 0, result.stderr[-3000:]
    payload = json.loads(result.stdout)  # stdout is exactly one JSON object
    assert payload["futures"] == 8 and payload["held_out"] == 500 and payload["objective"] == "cvar"
    comparison = pd.DataFrame(payload["comparison"]).set_index("plan")
    assert list(comparison.index) == ["recommended", "robust"]
    gain = comparison.at["robust", "value_p10"] - comparison.at["recommended", "value_p10"]
    assert payload["p10_gain_eur"] == pytest.approx(gain)
    items = pd.DataFrame(payload["items"])
    assert set(items["class"]) <= {"core", "borderline", "exterior"} and (items["class"] == "core").any()
    assert {f["item_id"] for f in payload["funded"]} >= set(items.loc[items["class"] == "core", "item_id"])


def test_discover_json_says_what_breaks_the_plan():
    result = invoke("discover", "--data", "data/demo", "--futures", "40", "--time-limit", "2", "--format", "json")
    assert result.exit_code == 0, result.stderr[-3000:]
    payload = json.loads(result.stdout)
    assert payload["futures"] == 40 and payload["failure"] == "NPV" and payload["npv_floor_eur"] > 0
    assert payload["sentences"] and payload["sentences"][0].startswith("The recommended plan ")
    drivers = pd.DataFrame(payload["drivers"])
    assert {"effort_multiplier", "shock_budget_cut", "realised_value"} <= set(drivers["driver"])
    assert (drivers["low"] <= drivers["high"]).all()


def test_discover_names_the_plans_it_can_explore():
    result = invoke("discover", "--data", "data/demo", "--plans", "recommended,nope")
    assert result.exit_code == 2 and "unknown plans nope" in result.stderr and "robust" in result.stderr
