"""KPI baselines on real customer data: IBM's Telco churn sample and the CDNOW transactions.

Each expected value is computed here independently, with the csv module and plain Python,
from the raw records; the workbench computes it through models.customers and
models.valuation. The excerpts in tests/data/kpi run in every clone; the full CDNOW file in
../shared/validation/kpi is used where it is present."""

from __future__ import annotations

import csv
import gzip
from collections import defaultdict

import pandas as pd
import pytest

from models import customers, valuation
from pipelines.paths import project_root

DATA = project_root() / "tests" / "data" / "kpi"
SHARED = project_root().parent / "shared" / "validation" / "kpi"
SNAPSHOT = "2024-12"  # the Telco sample carries no date; any month will do


def _telco_rows() -> list[dict]:
    with gzip.open(DATA / "telco_tenure_churn_charges.csv.gz", "rt", newline="") as f:
        return list(csv.DictReader(f))


def _telco_baseline():
    raw = pd.read_csv(DATA / "telco_tenure_churn_charges.csv.gz")
    raw["churned"] = raw["Churn"].eq("Yes")
    hist = customers.history_from_snapshot(
        raw, SNAPSHOT, "Telco", tenure="tenure", churned="churned", monthly_revenue="MonthlyCharges"
    )
    return hist, valuation.kpi_baselines(hist).set_index("product").loc["Telco"]


def test_telco_monthly_churn_rate_matches_an_independent_count():
    rows = _telco_rows()
    assert len(rows) == 7043
    left = sum(r["Churn"] == "Yes" for r in rows)
    at_start = sum(int(r["tenure"]) >= 1 for r in rows)  # customers before the last month began
    assert left == 1869 and left / len(rows) == pytest.approx(0.2654, abs=1e-4)  # the published share
    _, base = _telco_baseline()
    assert base["churn_rate"] == pytest.approx(left / at_start, rel=1e-12)  # 1,869 / 7,032 = 26.58 %
    assert base["churn_months_used"] == 1  # churn before the snapshot is not observed, and not invented


def test_telco_revenue_clv_and_the_unobserved_months():
    rows = _telco_rows()
    revenue = sum(float(r["MonthlyCharges"]) for r in rows)
    hist, base = _telco_baseline()
    last = hist.iloc[-1]
    assert last["mrr"] == pytest.approx(revenue)  # everyone paid for the last month, leavers too
    assert last["arpu"] == pytest.approx(revenue / len(rows))  # 64.76 USD
    assert hist["churned_users"].iloc[:-1].isna().all()
    # the baseline averages the last three months of ARPU (survivors' revenue before the snapshot)
    expected_arpu = hist["arpu"].tail(3).mean()
    assert base["arpu"] == pytest.approx(expected_arpu)
    c = base["churn_rate"]
    assert base["clv_eur"] == pytest.approx(expected_arpu * 0.8 / c)  # default gross margin 0.8
    assert base["retention_m12"] == pytest.approx((1 - c) ** 12)
    assert pd.isna(base["cac_payback_months"])  # a snapshot has no CAC


def _cdnow_rows(path) -> list[tuple[str, str, float]]:
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "rt") as f:
        next(f)
        return [(c, d, float(a)) for c, d, _, a in (line.split() for line in f if line.strip())]


def _independent_retention(rows) -> dict[tuple[str, str], tuple[int, float]]:
    first: dict[str, str] = {}
    for c, d, _ in rows:
        first[c] = min(first.get(c, d[:6]), d[:6])
    active: dict[tuple[str, str], set] = defaultdict(set)
    revenue: dict[tuple[str, str], float] = defaultdict(float)
    for c, d, a in rows:
        active[(first[c], d[:6])].add(c)
        revenue[(first[c], d[:6])] += a
    return {k: (len(v), revenue[k]) for k, v in active.items()}


def _workbench_retention(path) -> pd.DataFrame:
    tx = pd.read_csv(path, sep=r"\s+", dtype={"customer_id": str, "date": str})
    tx["date"] = pd.to_datetime(tx["date"], format="%Y%m%d")
    return customers.cohort_retention(tx, amount="dollar_value")


def _compare(ret: pd.DataFrame, expected: dict) -> None:
    got = {(f"{r.cohort:%Y%m}", f"{r.month:%Y%m}"): (r.active_customers, r.revenue) for r in ret.itertuples()}
    assert set(got) == set(expected)
    for key, (n, rev) in expected.items():
        assert got[key][0] == n, key
        assert got[key][1] == pytest.approx(rev, abs=0.01), key


def test_cdnow_january_cohort_retention_matches_an_independent_count():
    path = DATA / "cdnow_jan1997_cohort.txt.gz"
    ret = _workbench_retention(path)
    _compare(ret, _independent_retention(_cdnow_rows(path)))
    jan = ret.set_index("months_since")
    assert jan.loc[0, "cohort_size"] == 7846
    assert jan.loc[1, "retention_share"] == pytest.approx(0.1475, abs=5e-5)  # 1,157 of 7,846 buy again in Feb 1997


@pytest.mark.skipif(
    not (SHARED / "CDNOW_master.txt").exists(),
    reason="../shared/validation/kpi (CDNOW_master.txt) is not next to this clone",
)
def test_cdnow_all_cohorts_match_the_published_derived_table():
    ret = _workbench_retention(SHARED / "CDNOW_master.txt")
    _compare(ret, _independent_retention(_cdnow_rows(SHARED / "CDNOW_master.txt")))
    derived = pd.read_csv(SHARED / "cdnow_monthly_cohorts_DERIVED.csv", dtype=str)
    got = ret.assign(c=ret["cohort"].dt.strftime("%Y%m"), m=ret["month"].dt.strftime("%Y%m")).set_index(["c", "m"])
    assert len(derived) == len(got) == 51
    for r in derived.itertuples():
        row = got.loc[(r.cohort_first_purchase_month, r.activity_month)]
        assert row["active_customers"] == int(r.active_customers)
        assert row["retention_share"] == pytest.approx(float(r.retention_share), abs=5e-5)
        assert row["revenue"] == pytest.approx(float(r.revenue_usd), abs=0.01)


def test_cdnow_transactions_become_a_kpi_history_the_baselines_read():
    path = DATA / "cdnow_jan1997_cohort.txt.gz"
    rows = _cdnow_rows(path)
    tx = pd.read_csv(path, sep=r"\s+", dtype={"customer_id": str, "date": str})
    tx["date"] = pd.to_datetime(tx["date"], format="%Y%m%d")
    hist = customers.history_from_transactions(tx, "CDNOW", amount="dollar_value")
    assert len(hist) == 18  # 1997-01 .. 1998-06
    buyers: dict[str, set] = defaultdict(set)
    for c, d, _ in rows:
        buyers[d[:6]].add(c)
    assert hist["mau"].tolist() == [float(len(buyers[f"{m:%Y%m}"])) for m in hist["month"]]
    base = valuation.kpi_baselines(hist).set_index("product").loc["CDNOW"]
    last3 = [len(buyers[m]) for m in ("199804", "199805", "199806")]
    assert base["mau"] == pytest.approx(sum(last3) / 3)
    assert pd.isna(base["churn_rate"]) and pd.isna(base["clv_eur"])  # no contracts, no churn events
