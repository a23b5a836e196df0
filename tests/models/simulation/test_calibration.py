"""Overrun calibration: the lognormal fitted to real due-date delays reproduces their delayed share and
median overrun; the model's defaults are the full-data fit. The excerpt in tests/data/delays runs in
a plain clone; the full data in ../shared/validation/jira/delays is used where it is present."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from models.errors import ModelError
from models.simulation import Parameters
from models.simulation.calibration import (
    MIN_PLANNED_DAYS,
    delay_statistics,
    fit_by_project,
    fit_effort_lognormal,
    lognormal_from_delays,
    read_delays,
    simulated_delays,
    usable,
)
from pipelines.paths import project_root

EXCERPT = project_root() / "tests" / "data" / "delays" / "delays_excerpt.csv"
SHARED = project_root().parent / "shared" / "validation" / "jira" / "delays"
# tolerances of the draws (200,000 draws: Monte Carlo error ~0.001 on the share, ~0.005 on the overrun)
SHARE_TOL = 0.005  # absolute
OVERRUN_TOL = 0.02  # absolute, in units of actual / planned duration


def test_delay_statistics_by_hand():
    # planned 10, 20, 40, 40 days; delays 0, 10, 20, 60 -> 3 of 4 delayed, median delay 20 days,
    # overruns (20+10)/20 = 1.5, 60/40 = 1.5, 100/40 = 2.5 -> median 1.5
    s = delay_statistics(np.array([0, 10, 20, 60]), np.array([10, 20, 40, 40]))
    assert s == {"n": 4, "delayed_share": 0.75, "median_delay_days": 20.0, "median_overrun": 1.5}


def test_lognormal_from_delays_matches_both_statistics():
    from statistics import NormalDist

    median, sigma = lognormal_from_delays(0.2, 1.5)
    dist = NormalDist(math.log(median), sigma)
    assert 1 - dist.cdf(0.0) == pytest.approx(0.2)  # P(M > 1)
    assert math.exp(dist.inv_cdf(1 - 0.2 / 2)) == pytest.approx(1.5)  # median of M given M > 1
    with pytest.raises(ModelError, match="cannot fit"):
        lognormal_from_delays(0.0, 1.5)


def _check_reproduces(delays: pd.DataFrame) -> None:
    fit = fit_effort_lognormal(delays)
    data = usable(delays)
    observed = delay_statistics(data["delay_days"].to_numpy(), data["planned_days"].to_numpy())
    drawn = simulated_delays(fit, data["planned_days"].to_numpy(), np.random.default_rng(7))
    assert abs(drawn["delayed_share"] - observed["delayed_share"]) <= SHARE_TOL
    assert abs(drawn["median_overrun"] - observed["median_overrun"]) <= OVERRUN_TOL
    assert fit.n == observed["n"] == int((delays["planned_days"] >= MIN_PLANNED_DAYS).sum())


def test_excerpt_fit_reproduces_delayed_share_and_median_overrun():
    delays = read_delays(EXCERPT)
    assert len(delays) == 800 and delays["project"].nunique() == 8
    _check_reproduces(delays)


@pytest.mark.skipif(not SHARED.is_dir(), reason="../shared/validation/jira/delays is not next to this clone")
def test_full_data_fit_is_the_model_default_and_reproduces_the_data():
    delays = read_delays(SHARED)
    assert len(delays) == 64_724  # 64,747 rows, 23 repeated keys
    fit = fit_effort_lognormal(delays)
    assert fit.n == 32_849
    assert fit.delayed_share == pytest.approx(0.1257, abs=1e-4)
    assert fit.median_overrun == pytest.approx(1.297, abs=1e-3)
    defaults = Parameters()
    assert round(fit.median, 2) == defaults.effort_multiplier
    assert round(fit.sigma, 2) == defaults.item_effort_sigma
    _check_reproduces(delays)
    # every project's fit reproduces its own data, too; they differ a lot (scenario spread)
    by_project = fit_by_project(delays)
    assert len(by_project) == 8 and by_project["median"].between(0.1, 1.0).all()
    assert by_project["median"].max() / by_project["median"].min() > 3
    # estimate_overrun.yaml (and vuca_storm.yaml) quote the three most delay-prone projects' fits
    from models.simulation import load_scenarios
    from pipelines.paths import scenarios_dir

    worst = by_project.nlargest(3, "delayed_share").set_index("project")
    assert set(worst.index) == {"apache", "jira", "jboss"}
    for name in ("estimate_overrun", "vuca_storm"):
        sc = load_scenarios(scenarios_dir())[name]
        assert sorted(sc.distributions()["effort_multiplier"].values) == sorted(worst["median"].round(2))
        assert sc.fixed()["item_effort_sigma"] == round(worst.loc["jboss", "sigma"], 2)


def test_missing_columns_are_named(tmp_path):
    bad = tmp_path / "x_due.csv"
    bad.write_text("issuekey,delay\nA-1,3\n", encoding="utf-8")
    with pytest.raises(ModelError, match="delaydays, RemainingDay missing"):
        read_delays(bad)
