"""`weitblick robustness` on the demo: every stress-tested plan over the same futures, as JSON."""

from __future__ import annotations

import json

import pandas as pd
from pipelines_testkit import invoke


def test_robustness_json_on_the_demo_company():
    # the README's command
    args = ["--data", "data/demo", "--scenarios", "baseline,budget_cut", "--replications", "3", "--time-limit", "5"]
    result = invoke("robustness", *args, "--format", "json")
    assert result.exit_code == 0, result.stderr[-3000:]
    payload = json.loads(result.stdout)  # stdout is exactly one JSON object
    t = pd.DataFrame(payload["robustness"]).set_index("plan")
    assert {"recommended", "robust", "status_quo"} <= set(t.index) and (t["futures"] == 6).all()
    assert (t["regret_mean"] >= 0).all() and (t["regret_max"] >= t["regret_mean"]).all()
    assert t["regret_mean"].min() < t["regret_max"].max()  # some plan is best in some future
    assert t["satisficing"].between(0, 1).all()
    assert (t["npv_worst"] <= t["npv_p10"]).all() and (t["npv_p10"] <= t["npv_mean"]).all()
    # the recommended plan beats the status quo in expectation in these futures
    assert t.loc["recommended", "npv_mean"] > t.loc["status_quo", "npv_mean"]
    tau = pd.DataFrame(payload["kendall_tau"])
    assert len(tau) == 15 and tau["tau"].dropna().between(-1, 1).all()
