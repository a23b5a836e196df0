"""Known-answer tests for models.realisation (arithmetic in the comments)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError

from models.errors import ModelError
from models.realisation import (
    RealisationSettings,
    draw_factors,
    draws_for,
    expected_factor,
    factor_quantiles,
    factor_table,
    quantile_function,
    shares,
)

# A tiny parameter set, by hand: no spread, so E[R | works] = 0.5 and E[R | harms] = -0.25.
# A missing confidence gives p_pos = 0.5, p_null = 0.5 x 0.6 = 0.3, p_neg = 0.5 x 0.4 = 0.2.
TINY = RealisationSettings(p_pos_missing=0.5, null_share_of_rest=0.6, m_pos=0.5, s_pos=0.0, m_neg=0.25, s_neg=0.0)
DEFAULTS = RealisationSettings()
NaN = float("nan")


def test_expected_factor_by_hand():
    # 0.5 x 0.5 + 0.3 x 0 + 0.2 x (-0.25) = 0.25 - 0.05 = 0.2
    assert expected_factor(NaN, TINY)[0] == pytest.approx(0.2)
    # with spread: E[L] = median x exp(sigma^2 / 2); 0.5 x 0.5 e^{0.08} - 0.2 x 0.25 e^{0.02}
    spread = TINY.model_copy(update={"s_pos": 0.4, "s_neg": 0.2})
    assert expected_factor(NaN, spread)[0] == pytest.approx(0.25 * math.exp(0.08) - 0.05 * math.exp(0.02))


def test_default_shares_at_the_rice_levels():
    p_pos, p_null, p_neg = shares(np.array([0.5, 0.8, 1.0, NaN]), DEFAULTS)
    # low 0.5 -> 0.15 (Bing/Google), medium 0.8 -> 0.15 + 0.6 x 0.30 = 0.33, high 1.0 -> 0.45, missing -> 1/3
    np.testing.assert_allclose(p_pos, [0.15, 0.33, 0.45, 1 / 3])
    np.testing.assert_allclose(p_null, [0.425, 0.335, 0.275, 1 / 3])  # failures split evenly
    np.testing.assert_allclose(p_neg, p_null)
    # E[R] at medium: 0.33 x 0.6 e^{0.18} - 0.335 x 0.2 e^{0.125}
    assert expected_factor(0.8, DEFAULTS)[0] == pytest.approx(
        0.33 * 0.6 * math.exp(0.18) - 0.335 * 0.2 * math.exp(0.125)
    )


def test_shares_sum_to_one_and_move_with_confidence():
    conf = np.linspace(0.0, 1.0, 101)
    p_pos, p_null, p_neg = shares(conf, DEFAULTS)
    np.testing.assert_allclose(p_pos + p_null + p_neg, 1.0)
    assert np.all(np.diff(p_pos) >= 0) and p_pos[-1] > p_pos[0]
    assert np.all(np.diff(p_null) <= 0) and np.all(np.diff(p_neg) <= 0) and p_neg[-1] < p_neg[0]
    # below conf_low nothing changes: p_pos stays at p_pos_low
    assert p_pos[0] == p_pos[50] == pytest.approx(0.15)


def test_confidence_outside_a_fraction_is_an_error_naming_the_fix():
    with pytest.raises(ModelError, match="divide percentages by 100"):
        shares(np.array([80.0]), DEFAULTS)


def test_settings_reject_unknown_keys_and_disordered_bounds():
    with pytest.raises(ValidationError):
        RealisationSettings(p_pos=0.3)
    with pytest.raises(ValidationError, match="conf_low"):
        RealisationSettings(conf_low=0.9, conf_high=0.5)
    with pytest.raises(ValidationError, match="p_pos_low"):
        RealisationSettings(p_pos_low=0.6, p_pos_high=0.4)


def test_quantiles_by_hand_and_monotone():
    s = TINY.model_copy(update={"s_pos": 0.5, "s_neg": 0.3})
    q = factor_quantiles(NaN, s, q=(0.1, 0.3, 0.5, 0.75, 0.95))[0]
    # u = 0.1 < p_neg = 0.2: the harm's median (0.1 / 0.2 = 0.5 of the harm part) -> -0.25
    # u = 0.3, 0.5 lie in [0.2, 0.5): no effect -> 0; u = 0.75: (0.75 - 0.5) / 0.5 = 0.5 -> the median 0.5
    # u = 0.95: (0.95 - 0.5) / 0.5 = 0.9 -> 0.5 x exp(0.5 x 1.28155)
    np.testing.assert_allclose(q, [-0.25, 0.0, 0.0, 0.5, 0.5 * math.exp(0.5 * 1.2815515655446004)], atol=1e-12)
    fine = quantile_function(np.linspace(0.001, 0.999, 999)[:, None], np.array([0.5, 0.8, 1.0, NaN]), DEFAULTS)
    assert np.all(np.diff(fine, axis=0) >= 0)


def test_symmetric_case_has_median_zero_also_by_bisection():
    sym = RealisationSettings(p_pos_missing=0.4, null_share_of_rest=1 / 3, m_pos=0.5, s_pos=0.4, m_neg=0.5, s_neg=0.4)
    assert factor_quantiles(NaN, sym, q=(0.5,))[0, 0] == 0.0
    # p_neg = 0.4: the 10 % quantile is the harm part's 25 % quantile, -0.5 exp(0.4 x 0.67449)
    p10 = -0.5 * math.exp(0.4 * 0.6744897501960817)
    assert factor_quantiles(NaN, sym, q=(0.1,))[0, 0] == pytest.approx(p10)
    # a narrow normal around 0 makes the numerical inversion run: same answers within its width
    noisy = sym.model_copy(update={"null_sd": 1e-4})
    np.testing.assert_allclose(factor_quantiles(NaN, noisy, q=(0.1, 0.5, 0.9))[0], [p10, 0.0, -p10], atol=1e-3)


def test_draws_for_is_a_function_of_the_item_not_of_the_plan():
    ids, conf = ["A-1", "B-2", "C-3", "D-4"], np.array([0.5, 0.8, 1.0, 0.8])
    full = draws_for(ids, conf, DEFAULTS, seed=7, replication=3)
    order = [2, 0, 3]
    part = draws_for([ids[k] for k in order], conf[order], DEFAULTS, seed=7, replication=3)
    np.testing.assert_array_equal(part, full[order])  # other items and their order do not matter
    many = np.array(
        [draws_for(["B-2"], [0.8], DEFAULTS, seed=7, replication=r)[0] for r in range(200)]
    )  # one item over replications: varies, and the vectorised call agrees
    assert len(np.unique(many)) > 50
    np.testing.assert_array_equal(draws_for(["B-2"], [0.8], DEFAULTS, seed=7, replication=range(200))[:, 0], many)
    assert not np.array_equal(full, draws_for(ids, conf, DEFAULTS, seed=8, replication=3))


def test_draws_for_matches_quantiles():
    # the empirical P10/P50/P90 of draws_for over replications match factor_quantiles
    r = draws_for(["X"], [0.8], DEFAULTS, seed=1, replication=range(20_000))[:, 0]
    np.testing.assert_allclose(np.quantile(r, [0.1, 0.5, 0.9]), factor_quantiles(0.8, DEFAULTS)[0], atol=0.03)


def test_empirical_shares_and_mean_of_many_draws():
    conf = np.array([0.5, 0.8, 1.0, NaN])
    r = draw_factors(conf, DEFAULTS, np.random.default_rng(42), size=100_000)
    p_pos, p_null, p_neg = shares(conf, DEFAULTS)
    np.testing.assert_allclose((r > 0).mean(axis=0), p_pos, atol=0.01)
    np.testing.assert_allclose((r == 0).mean(axis=0), p_null, atol=0.01)
    np.testing.assert_allclose((r < 0).mean(axis=0), p_neg, atol=0.01)
    # the mean over all items within 1 % of E[R] (per item the low-confidence E[R] is near 0)
    assert r.mean() == pytest.approx(expected_factor(conf, DEFAULTS).mean(), rel=0.01)
    np.testing.assert_allclose(r.mean(axis=0)[1:], expected_factor(conf, DEFAULTS)[1:], rtol=0.02)


def test_disabled_means_exactly_the_estimate():
    off = RealisationSettings(enabled=False)
    conf = np.array([0.5, 1.0, NaN])
    assert np.all(expected_factor(conf, off) == 1.0)
    assert np.all(factor_quantiles(conf, off) == 1.0)
    assert np.all(draw_factors(conf, off, np.random.default_rng(0), size=10) == 1.0)
    assert np.all(draws_for(["a", "b", "c"], conf, off, seed=0, replication=0) == 1.0)
    p_pos, p_null, p_neg = shares(conf, off)
    assert np.all(p_pos == 1.0) and np.all(p_null == 0.0) and np.all(p_neg == 0.0)


def test_factor_table_one_row_per_item():
    backlog = pd.DataFrame({"item_id": ["S1", "S2"], "confidence": [0.5, np.nan]})
    t = factor_table(backlog, DEFAULTS)
    assert list(t.columns) == [
        "item_id",
        "confidence",
        "p_pos",
        "p_null",
        "p_neg",
        "expected_factor",
        "factor_p10",
        "factor_p50",
        "factor_p90",
    ]
    assert t["p_pos"].tolist() == pytest.approx([0.15, 1 / 3])
    assert t.loc[1, "expected_factor"] == pytest.approx(expected_factor(NaN, DEFAULTS)[0])


def test_estimates_to_test_rank_the_value_at_stake():
    """At stake = estimated benefit x (1 - p_works): A 100 x 0.5 = 50, B 300 x 0.9 = 270, C 80 x 0.8 = 64;
    D is not funded, E moves no KPI."""
    from models.realisation import estimates_to_test

    cases = pd.DataFrame(
        {
            "item_id": ["A", "B", "C", "D", "E"],
            "kpi": ["mau", "arpu", "conversion_rate", "mau", "none"],
            "pv_benefit_estimated_eur": [100.0, 300.0, 80.0, 1000.0, 500.0],
            "p_works": [0.5, 0.1, 0.2, 0.1, 0.1],
        }
    )
    top = estimates_to_test(cases, ["A", "B", "C", "E"], n=2)
    assert top["item_id"].tolist() == ["B", "C"] and top["at_stake_eur"].tolist() == [270.0, 64.0]
