"""Known-answer tests for models.forecast (the status quo's KPI path and its back-test)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from models import forecast
from models.errors import ModelError


def _history(
    values: dict[str, np.ndarray | list[float]], product: str = "Shop", start: str = "2025-01-01"
) -> pd.DataFrame:
    n = len(next(iter(values.values())))
    return pd.DataFrame({"product": product, "month": pd.date_range(start, periods=n, freq="MS"), **values})


def _path(f: pd.DataFrame, metric: str, column: str = "forecast") -> np.ndarray:
    return f.loc[f["metric"] == metric].sort_values("month")[column].to_numpy()


def test_exact_exponential_series_is_continued():
    # 2 % a month for 24 months: the next 12 months are 1000 * 1.02 ** (24..35)
    mrr = 1000.0 * 1.02 ** np.arange(24)
    truth = 1000.0 * 1.02 ** np.arange(24, 36)
    h = _history({"mrr": mrr})
    for method in ("loglinear", "drift"):  # undamped: exact
        f = forecast.forecast_kpis(h, 12, method=method, metrics=["mrr"])
        np.testing.assert_allclose(_path(f, "mrr"), truth, rtol=1e-9)
    # damped: the growth fades (phi <= 0.98), within 1 % over the first 6 months
    f = forecast.forecast_kpis(h, 12, metrics=["mrr"])
    rel = _path(f, "mrr") / truth - 1.0
    assert np.all(np.abs(rel[:6]) < 0.01)
    assert np.all(np.diff(rel) < 0)  # and below the compounding path, increasingly so
    assert np.all(_path(f, "mrr", "lo") <= _path(f, "mrr")) and np.all(_path(f, "mrr") <= _path(f, "mrr", "hi"))
    # month and calendar month
    assert list(f["month"]) == list(range(1, 13))
    assert f["calendar_month"].iloc[0] == pd.Timestamp("2027-01-01")
    assert f["calendar_month"].iloc[-1] == pd.Timestamp("2027-12-01")


@pytest.mark.parametrize("method", forecast.METHODS)
def test_flat_series_stays_flat(method):
    h = _history({"mau": [500.0] * 12, "churned_users": [10.0] * 12, "conversion_rate": [0.05] * 12})
    f = forecast.forecast_kpis(h, 6, method=method, metrics=["mau", "conversion_rate", "churn_rate"])
    for metric, value in (("mau", 500.0), ("conversion_rate", 0.05), ("churn_rate", 0.02)):
        for col in ("forecast", "lo", "hi"):
            np.testing.assert_allclose(_path(f, metric, col), value, rtol=1e-9)
    # the model itself (forecast_kpis short-cuts a flat history): no trend, no spread
    mean, sd = forecast._MODELS[method](np.full(12, np.log(500.0)), 6)
    np.testing.assert_allclose(mean, np.log(500.0), rtol=1e-12)
    np.testing.assert_allclose(sd, 0.0, atol=1e-9)
    # a conversion of exactly 1 (every customer pays, as in models.customers) stays 1
    ones = forecast.forecast_kpis(
        _history({"conversion_rate": [1.0] * 8}), 3, method=method, metrics=["conversion_rate"]
    )
    assert (ones[["forecast", "lo", "hi"]].to_numpy() == 1.0).all()


@pytest.mark.parametrize("method", forecast.METHODS)
def test_rates_stay_within_0_and_1_and_levels_above_0(method):
    n = 18
    h = _history(
        {
            "conversion_rate": np.linspace(0.30, 0.97, n),  # racing towards 1
            "mau": np.linspace(1000.0, 50.0, n),  # falling towards 0
            "churned_users": np.linspace(200.0, 0.5, n),  # churn rate falling towards 0
        }
    )
    f = forecast.forecast_kpis(h, 36, method=method, metrics=["conversion_rate", "churn_rate", "mau"])
    rates = f[f["metric"].isin(["conversion_rate", "churn_rate"])]
    assert rates[["forecast", "lo", "hi"]].to_numpy().min() >= 0.0
    assert rates[["forecast", "lo", "hi"]].to_numpy().max() <= 1.0
    assert f.loc[f["metric"] == "mau", ["forecast", "lo", "hi"]].to_numpy().min() >= 0.0


def test_backtest_hand_computed_errors():
    # fit on 6 flat months (every method forecasts 100, with a zero-width interval),
    # then the actuals are 110, 90, 125, 100
    h = _history({"mrr": [100.0] * 6 + [110.0, 90.0, 125.0, 100.0]})
    b = forecast.backtest(h, fit_months=6, horizon=4, metrics=["mrr"])
    assert list(b["method"]) == ["damped", "naive", "drift"]
    ape = [10 / 110, 10 / 90, 25 / 125, 0.0]
    pe = [-10 / 110, 10 / 90, -25 / 125, 0.0]
    for _, row in b.iterrows():
        assert row["n"] == 4
        assert row["mape"] == pytest.approx(np.mean(ape))  # 0.0980
        assert row["bias"] == pytest.approx(np.mean(pe))  # -0.0452
        assert row["mae"] == pytest.approx((10 + 10 + 25 + 0) / 4)
        assert row["coverage"] == pytest.approx(0.25)  # only the 4th month lies in [100, 100]
        assert np.isnan(row["mase"])  # no in-sample change to scale by
        assert row["rel_mape"] == pytest.approx(1.0)


def test_backtest_shows_the_trend_model_beating_the_last_value():
    # 3 % a month with a little noise: the trend continues, the naive forecast falls behind
    rng = np.random.default_rng(3)
    mrr = 1000.0 * np.exp(0.03 * np.arange(30) + 0.005 * rng.standard_normal(30))
    b = forecast.backtest(_history({"mrr": mrr}), fit_months=24, horizon=6, metrics=["mrr"]).set_index("method")
    assert b.loc["damped", "rel_mape"] < 0.25
    assert b.loc["naive", "bias"] < -0.05  # the last value is too low
    assert b.loc["damped", "mase"] < b.loc["naive", "mase"]


def test_interval_covers_about_80_percent():
    # local linear trend on the log scale (random-walk level and drift plus noise), 24 months fitted,
    # 6 forecast, 60 seeded series: the share of actuals inside the 80 % interval
    rng = np.random.default_rng(11)
    inside = []
    for _ in range(60):
        level = np.log(1000.0) + np.cumsum(0.01 + 0.03 * rng.standard_normal(30))
        mrr = np.exp(level + 0.02 * rng.standard_normal(30))
        f = forecast.forecast_kpis(_history({"mrr": mrr[:24]}), 6, metrics=["mrr"])
        inside.extend((mrr[24:] >= f["lo"].to_numpy()) & (mrr[24:] <= f["hi"].to_numpy()))
    assert 0.7 <= np.mean(inside) <= 0.9


# a series simulated from ETS(A,Ad,N) (alpha 0.6, beta 0.12, phi 0.9, sd 0.05; rounded), and the
# forecast of statsmodels 0.15.0: ETSModel(y, error="add", trend="add", damped_trend=True).fit()
# .get_prediction(24, 29).summary_frame(alpha=0.2): its mean and its half-width / z(0.9)
ETS_Y = [5.0513, 5.0838, 5.1547, 5.1856, 5.1922, 5.2482, 5.3338, 5.3917, 5.3791, 5.361, 5.3716, 5.3954,
         5.2871, 5.3096, 5.2379, 5.2026, 5.1622, 5.1274, 5.1245, 5.1453, 5.1066, 5.1661, 5.1075, 5.1342]  # fmt: skip
STATSMODELS_MEAN = [5.129442, 5.128093, 5.127014, 5.126151, 5.12546, 5.124908]
STATSMODELS_SD = [0.039942, 0.052978, 0.07094, 0.091051, 0.11187, 0.132677]


def test_damped_trend_agrees_with_statsmodels_ets():
    mean, sd = forecast._damped(np.array(ETS_Y), 6, guard=False)
    np.testing.assert_allclose(mean, STATSMODELS_MEAN, atol=1e-4)
    # statsmodels estimates sigma^2 as SSE / n, we as SSE / (n - 5): wider by sqrt(24 / 19)
    np.testing.assert_allclose(sd, np.array(STATSMODELS_SD) * np.sqrt(24 / 19), rtol=1e-3)


def test_bad_input_raises_model_error():
    short = _history({"mrr": [1.0, 2.0, 3.0, 4.0, 5.0]})
    with pytest.raises(ModelError, match=r"Shop: mrr has 5 month\(s\) with a value; a forecast needs at least 6"):
        forecast.forecast_kpis(short, 3, metrics=["mrr"])
    h = _history({"mrr": np.arange(1.0, 13.0)})
    with pytest.raises(ModelError, match=r"no column\(s\) mau.*Fix"):
        forecast.forecast_kpis(h, 3, metrics=["mrr", "mau"])
    with pytest.raises(ModelError, match=r"no column\(s\) churned_users, mau"):
        forecast.forecast_kpis(h, 3, metrics=["churn_rate"])
    with pytest.raises(ModelError, match="Cannot forecast metric"):
        forecast.forecast_kpis(h, 3, metrics=["revenue"])
    with pytest.raises(ModelError, match="Unknown forecast method"):
        forecast.forecast_kpis(h, 3, method="prophet", metrics=["mrr"])
    with pytest.raises(ModelError, match="horizon of at least 1 month"):
        forecast.forecast_kpis(h, 0, metrics=["mrr"])
    with pytest.raises(ModelError, match="no month after the first 12"):
        forecast.backtest(h, fit_months=12, horizon=3, metrics=["mrr"])
    with pytest.raises(ModelError, match="at least 6 months to fit on"):
        forecast.backtest(h, fit_months=4, horizon=3, metrics=["mrr"])
