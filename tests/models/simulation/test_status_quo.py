"""The status quo as counterfactual: without new work the simulated market continues the history's
trend, as the damped-trend forecast of models.forecast does (checked on the demo company)."""

from __future__ import annotations

import pytest

from models import portfolio
from models.forecast import forecast_kpis
from models.portfolio.greedy import status_quo_plan
from models.settings import load_settings
from models.simulation import build_plan, load_library, series_bands, stress_test
from models.valuation import business_cases, value_by_start
from pipelines import paths
from pipelines.sources import load_inputs


@pytest.fixture(scope="module")
def demo_status_quo():
    demo = paths.demo_data_dir()
    d = load_inputs(demo)
    s = load_settings(demo / "settings.yaml")
    values = value_by_start(d.backlog, business_cases(d.backlog, d.teams, d.kpi_history, s), s)
    _, decisions = status_quo_plan(portfolio.prepare_input(d.backlog, d.teams, values, s))
    plan = build_plan("status_quo", decisions, d.backlog, d.teams, d.kpi_history, s, okrs=d.okrs)
    baseline = load_library(paths.project_root() / "scenarios")["baseline"]
    st = stress_test([plan], {"baseline": baseline}, replications=30, seed=7, workers=1)
    return d, st


def test_simulated_status_quo_follows_the_history_trend(demo_status_quo):
    """The P50 of the simulated status quo's total MRR stays within 10 % of the damped-trend forecast
    in every month of the plan (measured: within 5 % at month 24, benchmarks/forecast.py)."""
    d, st = demo_status_quo
    bands = series_bands(st.series).set_index("month")["mrr_p50"]
    forecast = forecast_kpis(d.kpi_history, int(bands.index.max()), metrics=("mrr",)).groupby("month")["forecast"].sum()
    ratio = bands / forecast.loc[bands.index]
    assert ratio.between(0.90, 1.10).all(), ratio.round(3).to_dict()
    # and it grows, as the history did: no new work is not no growth
    assert bands.iloc[-1] > 1.15 * bands.iloc[0]
