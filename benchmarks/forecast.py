"""Back-test of the status quo's KPI forecast (models/forecast.py) on the demo company and on
CDNOW's real monthly revenue: the damped trend (and the undamped log-linear trend) against
the naive baselines (last value; last value plus the mean monthly change, "drift").

Prints JSON lines:
  {"benchmark": "forecast_backtest", "data": ..., "metric": ..., "method": ..., "series": k,
   "mape", "bias", "coverage", "mase", "rel_mape": means over the series (products) of
   models.forecast.backtest's columns, "beats_naive": share of series with mape < naive's}
  {"benchmark": "forecast_summary", "data": ..., "method": ..., the same over all series, "wall_s"}
  {"benchmark": "status_quo_vs_forecast", "month": m, "simulated_p50", "forecast", "ratio"}: the demo's
   status quo (running work only) simulated in the baseline scenario (100 replications), its total
   MRR P50 against the damped-trend forecast of the same months (the simulated market continues the
   history's trend); --no-simulation skips it
and with --detail one "forecast_series" line per product, metric and method.

Data sets:
* demo: data/demo/kpis.csv (36 months, 2024-01..2026-12, 3 products), fit on the first 24
  months, forecast the last 12; metrics mrr, mau, conversion_rate, arpu, churn_rate.
* cdnow: monthly revenue of CDNOW_master.txt (../shared/validation/kpi/; all purchases
  1997-01..1998-06 of the customers acquired in Q1 1997) turned into a history by
  models.customers.history_from_transactions (mrr = the month's revenue; the sum per month
  is checked against cdnow_monthly_cohorts_DERIVED.csv): fit on 1997-01..1997-12, forecast
  1998-01..1998-06 (12 + 6 months).
* cdnow_after_q1: the same from 1997-04 on (fit 1997-04..12, 9 months), leaving out the
  acquisition quarter, whose revenue is three times the rest.

    .venv/bin/python benchmarks/forecast.py [--methods damped,loglinear] [--detail]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd
from _common import emit

from models import forecast
from models.customers import history_from_transactions
from pipelines.sources import read_kpis

ROOT = Path(__file__).resolve().parents[1]
CDNOW = ROOT.parent / "shared" / "validation" / "kpi"


def cdnow_history() -> pd.DataFrame:
    """CDNOW's monthly KPI history (one product, "CDNOW"), its revenue checked against the
    derived cohort table."""
    tx = pd.read_csv(CDNOW / "CDNOW_master.txt", sep=r"\s+", dtype={"customer_id": str, "date": str})
    tx["date"] = pd.to_datetime(tx["date"], format="%Y%m%d")
    hist = history_from_transactions(tx, "CDNOW", amount="dollar_value")
    cohorts = pd.read_csv(CDNOW / "cdnow_monthly_cohorts_DERIVED.csv")
    by_month = cohorts.groupby("activity_month")["revenue_usd"].sum()
    by_month.index = pd.to_datetime(by_month.index.astype(str), format="%Y%m")
    gap = float(np.max(np.abs(hist.set_index("month")["mrr"] - by_month.reindex(hist["month"]).to_numpy())))
    if gap > 1.0:
        raise SystemExit(f"CDNOW monthly revenue differs from the derived cohort table by up to {gap:.2f} USD")
    return hist


def run(data: str, history: pd.DataFrame, fit: int, horizon: int, metrics, methods, detail: bool) -> None:
    started = time.perf_counter()
    parts = [forecast.backtest(history, fit, horizon, metrics, m) for m in methods]
    table = pd.concat(parts, ignore_index=True).drop_duplicates(["product", "metric", "method"])
    wall = time.perf_counter() - started
    naive = table[table["method"] == "naive"].set_index(["product", "metric"])["mape"]
    table["beats_naive"] = table["mape"] < naive.reindex(pd.MultiIndex.from_frame(table[["product", "metric"]])).values
    cols = ["mape", "bias", "coverage", "mase", "rel_mape", "beats_naive"]
    order = [*methods, *(m for m in ("naive", "drift") if m not in methods)]
    window = f"fit {fit} months, forecast {horizon}"

    def rounded(g: pd.DataFrame) -> dict:
        return {c: round(float(g[c].mean()), 4) for c in cols}

    if detail:
        for _, r in table.iterrows():
            emit(
                "forecast_series",
                data=data,
                product=r["product"],
                metric=r["metric"],
                method=r["method"],
                n=int(r["n"]),
                **{c: round(float(r[c]), 4) for c in cols},
            )
    for metric in metrics:
        for method in order:
            g = table[(table["metric"] == metric) & (table["method"] == method)]
            emit(
                "forecast_backtest", data=data, window=window, metric=metric, method=method, series=len(g), **rounded(g)
            )
    for method in order:
        g = table[table["method"] == method]
        emit(
            "forecast_summary",
            data=data,
            window=window,
            method=method,
            series=len(g),
            **rounded(g),
            wall_s=round(wall, 3),
        )


def status_quo_vs_forecast(replications: int = 100) -> None:
    """The simulated status quo of the demo against the damped-trend forecast (months 6, 12, 18, 24)."""
    from models import portfolio
    from models.portfolio.greedy import status_quo_plan
    from models.settings import load_settings
    from models.simulation import build_plan, load_library, series_bands, stress_test
    from models.valuation import business_cases, value_by_start
    from pipelines.sources import load_inputs

    t0 = time.perf_counter()
    d = load_inputs(ROOT / "data" / "demo")
    s = load_settings(ROOT / "data" / "demo" / "settings.yaml")
    values = value_by_start(d.backlog, business_cases(d.backlog, d.teams, d.kpi_history, s), s)
    _, decisions = status_quo_plan(portfolio.prepare_input(d.backlog, d.teams, values, s))
    plan = build_plan("status_quo", decisions, d.backlog, d.teams, d.kpi_history, s, okrs=d.okrs)
    baseline = load_library(ROOT / "scenarios")["baseline"]
    st = stress_test([plan], {"baseline": baseline}, replications=replications, seed=20270101, workers=1)
    bands = series_bands(st.series).set_index("month")["mrr_p50"]
    fc = forecast.forecast_kpis(d.kpi_history, int(bands.index.max()), metrics=("mrr",)).groupby("month")["forecast"]
    fc = fc.sum()
    for m in (6, 12, 18, 24):
        if m in bands.index:
            emit(
                "status_quo_vs_forecast",
                month=m,
                simulated_p50=round(float(bands.loc[m])),
                forecast=round(float(fc.loc[m])),
                ratio=round(float(bands.loc[m] / fc.loc[m]), 4),
                replications=replications,
                wall_s=round(time.perf_counter() - t0, 2),
            )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--methods", default="damped,loglinear", help="trend methods compared with naive and drift")
    ap.add_argument("--detail", action="store_true", help="also one line per product, metric and method")
    ap.add_argument("--no-simulation", action="store_true", help="skip the simulated status quo")
    args = ap.parse_args()
    methods = [m.strip() for m in args.methods.split(",") if m.strip()]

    demo = read_kpis(ROOT / "data" / "demo" / "kpis.csv")
    run("demo", demo, 24, 12, forecast.DEFAULT_METRICS, methods, args.detail)
    if not args.no_simulation:
        status_quo_vs_forecast()
    if not (CDNOW / "CDNOW_master.txt").exists():
        emit("forecast_summary", data="cdnow", skipped=f"{CDNOW / 'CDNOW_master.txt'} not found")
        return
    cdnow = cdnow_history()
    run("cdnow", cdnow, 12, 6, ("mrr",), methods, args.detail)
    run("cdnow_after_q1", cdnow[cdnow["month"] >= "1997-04-01"], 9, 6, ("mrr",), methods, args.detail)


if __name__ == "__main__":
    main()
