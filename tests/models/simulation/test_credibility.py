"""Credibility of the market model: it reproduces the Bass closed form, and, fitted to the IBM
first-generation computer installations, it matches that series (R^2 >= 0.95).

Time unit: the model steps once per period and takes p and q per step, so published (annual)
coefficients are used as given per step, and t in the closed form counts steps."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from models.simulation.calibration import (
    bass_cumulative,
    fit_bass,
    mean_adoption,
    published_bass_parameters,
    r_squared,
)
from pipelines.paths import project_root

DATA = project_root() / "tests" / "data" / "bass"


@pytest.mark.parametrize("product", ["META-ANALYSIS MEAN (213 applications)", "Color TV"])
def test_mean_adoption_follows_the_bass_closed_form(product):
    """Within 2 % of m at every step, for published (p, q) pairs."""
    table = published_bass_parameters(DATA / "published_bass_parameters.csv").set_index("product")
    p, q = float(table.loc[product, "p"]), float(table.loc[product, "q"])
    m, steps = 10_000, 36
    mau, new = mean_adoption(p, q, m, steps)
    closed = m * bass_cumulative(np.arange(1, steps + 1), p, q)
    assert np.max(np.abs(mau - closed)) <= 0.02 * m
    assert np.allclose(np.cumsum(new), mau, rtol=0, atol=1e-6)  # without churn, users are the adopters so far
    assert mau[-1] > 0.9 * m  # the pairs saturate within 36 steps


def test_published_pairs_are_the_ones_the_table_names():
    table = published_bass_parameters(DATA / "published_bass_parameters.csv")
    rows = table.set_index("row")
    assert (rows.loc[1, "p"], rows.loc[1, "q"]) == (0.03, 0.38)
    assert (rows.loc[3, "product"], rows.loc[3, "p"], rows.loc[3, "q"]) == ("Color TV", 0.005, 0.84)


def test_ibm_first_generation_fit_and_model_match_the_data():
    """Bass fitted to yearly IBM installations (one step = one year), then the model run with the
    fitted (p, q, m): its mean installations per year explain >= 95 % of the data's variance."""
    siu1 = pd.read_csv(DATA / "ibm_gen1.csv")["SIU1"].to_numpy(dtype=float)
    fit = fit_bass(siu1)
    # the independent reference fit (our_bass_fits.csv): p 0.0152, q 0.658, m 15,680, R^2 0.993
    assert fit.p == pytest.approx(0.0152, abs=0.001) and fit.q == pytest.approx(0.658, abs=0.01)
    assert fit.m == pytest.approx(15_680, rel=0.01) and fit.r2 >= 0.99
    _, new = mean_adoption(fit.p, fit.q, round(fit.m), len(siu1))
    assert r_squared(siu1, new) >= 0.95
    assert int(np.argmax(new)) + 1 == 6  # peak year 6, as in the data (2,640 installations)


def test_scenario_bass_factors_are_the_cited_published_rows():
    """market_shift.yaml and vuca_storm.yaml scale q (and p) by published values over the meta-analysis
    mean (row 1): q rows 13 (0.24) and 7 (0.65), p rows 3 (0.005) and 12 (0.039)."""
    from models.simulation import load_scenarios
    from pipelines.paths import scenarios_dir

    rows = published_bass_parameters(DATA / "published_bass_parameters.csv").set_index("row")
    p0, q0 = rows.loc[1, "p"], rows.loc[1, "q"]
    found = load_scenarios(scenarios_dir())
    for name in ("market_shift", "vuca_storm"):
        q = found[name].distributions()["bass_q_factor"]
        assert (q.low, q.mode, q.high) == (round(rows.loc[13, "q"] / q0, 2), 1.0, round(rows.loc[7, "q"] / q0, 2))
    p = found["vuca_storm"].distributions()["bass_p_factor"]
    assert (p.low, p.high) == (round(rows.loc[3, "p"] / p0, 2), round(rows.loc[12, "p"] / p0, 2))


def test_realised_uplifts_average_to_the_expected_factor():
    """Across seeds, the model's realisation factor of an item averages to the closed form
    E[R] = p_pos m_pos exp(s_pos^2 / 2) - p_neg m_neg exp(s_neg^2 / 2) of models.realisation
    (confidence 0.8: p_pos 0.33, p_neg 0.335; E[R] = 0.33 x 0.6 e^0.18 - 0.335 x 0.2 e^0.125
    = 0.2370 - 0.0759 = 0.161), within 4 standard errors."""
    from simkit import backend_item, item_frame

    from models.realisation import RealisationSettings, expected_factor
    from models.simulation import PortfolioMarketModel, single_product_plan

    item = backend_item("X", "conversion_rate", 0.2, confidence=0.8)
    settings = RealisationSettings()
    plan = single_product_plan(
        items=item_frame([item]),
        capacity_pw_per_month={"backend": 10.0},
        realisation=settings,
        months=6,
    )
    r = np.array([PortfolioMarketModel(plan, None, seed=s).realisation[0] for s in range(3000)])
    expected = float(expected_factor(0.8, settings)[0])
    assert expected == pytest.approx(0.161, abs=0.001)
    assert abs(r.mean() - expected) <= 4 * r.std() / np.sqrt(len(r))
    # p_pos(0.8) = 0.15 + (0.45 - 0.15) x (0.8 - 0.5) / 0.5 = 0.33; no effect: (1 - 0.33) x 0.5 = 0.335
    assert (r == 0).mean() == pytest.approx(0.335, abs=0.03)  # 3.5 standard errors
    assert (r > 0).mean() == pytest.approx(0.33, abs=0.03)
