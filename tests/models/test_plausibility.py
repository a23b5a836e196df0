"""The plausibility check by hand: the best year on record, the limit, and the items named."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from models.plausibility import COMPANY, best_year_on_record, growth_limit, implausible, plausibility
from models.settings import PlausibilitySettings


def _history(mrr: dict[str, list[float]]) -> pd.DataFrame:
    rows = []
    for product, values in mrr.items():
        for k, v in enumerate(values):
            rows.append(
                {
                    "product": product,
                    "month": pd.Timestamp("2025-01-01") + pd.DateOffset(months=k),
                    "mau": 1000.0,
                    "dau": 300.0,
                    "new_users": 50.0,
                    "churned_users": 20.0,
                    "conversion_rate": 0.1,
                    "arpu": v / 100.0,
                    "mrr": v,
                    "nps": 30.0,
                    "cac": 100.0,
                }
            )
    return pd.DataFrame(rows)


# A: flat at 100 for 12 months, then 130 from month 13 to 24 (best year: +30 %, first in the quarter to
# month 15, whose 3-month mean is 130 against 100 a year before)
# B: 50 a month, growing 1 % a month (best year: 1.01^12 - 1 = 12.7 %)
A = [100.0] * 12 + [130.0] * 12
B = [50.0 * 1.01**k for k in range(24)]


def test_best_year_on_record_by_hand():
    rec = best_year_on_record(_history({"A": A, "B": B})).set_index("product")
    assert rec.loc["A", "best_growth"] == pytest.approx(0.30)
    assert rec.loc["A", "best_year_ending"] == pd.Timestamp("2026-03-01")
    assert rec.loc["B", "best_growth"] == pytest.approx(1.01**12 - 1)  # 3-month means a year apart: 1.01^12
    assert rec.loc["A", "last_mrr"] == 130.0 and rec.loc["B", "months"] == 24
    assert rec.loc["B", "last_mrr"] == pytest.approx(50 * (1.01**21 + 1.01**22 + 1.01**23) / 3)
    # the company: (130 + B's mean of months 13-15) / (100 + B's mean of months 1-3) - 1, the best year
    # (later quarters add more of B, whose growth is lower)
    b_now, b_before = 50 * (1.01**12 + 1.01**13 + 1.01**14) / 3, 50 * (1 + 1.01 + 1.01**2) / 3
    assert rec.loc[COMPANY, "best_growth"] == pytest.approx((130 + b_now) / (100 + b_before) - 1)


def test_short_history_is_annualised_and_a_single_month_has_none():
    rec = best_year_on_record(_history({"A": [100.0, 100.0 * 1.02**6, 100 * 1.02**6], "B": [10.0]}))
    rec = rec.set_index("product")
    assert rec.loc["A", "best_growth"] == pytest.approx(1.02**36 - 1)  # +12.6 % in 2 months, annualised
    assert np.isnan(rec.loc["B", "best_growth"])


def test_limit_is_the_larger_of_factor_and_headroom():
    s = PlausibilitySettings()
    assert growth_limit(0.60, s) == pytest.approx(0.75)  # 1.25 x 60 % beats 60 % + 10 points
    assert growth_limit(0.30, s) == pytest.approx(0.40)  # 30 % + 10 points beats 1.25 x 30 %
    assert growth_limit(-0.05, s) == pytest.approx(0.05)


def _series(plan: str, product: str, path: list[float], replications: int = 3) -> pd.DataFrame:
    """P50 = ``path``: replications spread symmetrically around it (x0.9, x1, x1.1)."""
    rows = []
    for r, f in zip(range(replications), (0.9, 1.0, 1.1), strict=True):
        for m, v in enumerate(path, start=1):
            rows.append(
                {"plan": plan, "scenario": "baseline", "replication": r, "month": m, "product": product, "mrr": v * f}
            )
    return pd.DataFrame(rows)


def test_a_path_beyond_the_limit_is_flagged_naming_the_items():
    """A's best year is +30 %, so the limit is max(1.25 x 30 %, 30 % + 10 points) = 40 %. Plan 'big' grows
    A's MRR by 130 x m / 12 in month m: months 10-12 average 130 + 130 x 11/12 = 249.2 against 130 in the
    history's last quarter, +91.7 %, and is flagged, naming its items by expected monthly effect; plan
    'small' grows by 26 x m / 12: +18.3 %. B grows 1 % a month, as it always did."""
    history = _history({"A": A, "B": B})
    big = [130 + 130 * m / 12 for m in range(1, 13)]
    small = [130 + 26 * m / 12 for m in range(1, 13)]
    b_path = [50 * 1.01**23 * 1.01**m for m in range(1, 13)]
    series = pd.concat(
        [
            _series("big", "A", big),
            _series("big", "B", b_path),
            _series("small", "A", small),
            _series("small", "B", b_path),
        ]
    )
    cases = pd.DataFrame(
        {
            "item_id": ["A-1", "A-2", "A-3", "B-1"],
            "product": ["A", "A", "A", "B"],
            "kpi": ["conversion_rate", "arpu", "cost", "mau"],
            "uplift": [0.5, 0.2, 1000.0, 0.1],
            "monthly_effect_eur": [60.0, 30.0, 10.0, 5.0],
        }
    )
    decisions = {
        "big": pd.DataFrame({"item_id": ["A-1", "A-2", "A-3", "B-1"], "funded": [True, True, True, True]}),
        "small": pd.DataFrame({"item_id": ["A-1"], "funded": [False]}),
    }
    t = plausibility(series, history, cases, decisions, PlausibilitySettings())
    a = t.set_index(["plan", "product"])
    assert a.loc[("big", "A"), "implied_growth"] == pytest.approx(11 / 12)
    assert a.loc[("big", "A"), "limit"] == pytest.approx(0.40)
    assert bool(a.loc[("big", "A"), "flagged"]) and a.loc[("big", "A"), "excess"] == pytest.approx(11 / 12 - 0.40)
    assert (
        a.loc[("big", "A"), "top_items"]
        == "A-1 (+50.0% conversion_rate, 67% of the effect); A-2 (+20.0% arpu, 33% of the effect)"
    )
    # B-1 is another product's item; A-3 saves cost, which does not move MRR
    assert "B-1" not in a.loc[("big", "A"), "top_items"] and "A-3" not in a.loc[("big", "A"), "top_items"]
    assert a.loc[("small", "A"), "implied_growth"] == pytest.approx(0.2 * 11 / 12)
    assert not a.loc[("small", "A"), "flagged"]
    assert a.loc[("big", "B"), "implied_growth"] == pytest.approx(1.01**12 - 1) and not a.loc[("big", "B"), "flagged"]
    lines = implausible(t, "big")
    assert any(
        line.startswith("big: A's MRR grows 92% in plan year 1 (P50, baseline), beyond the plausible 40%")
        for line in lines
    )
    assert implausible(t, "small") == []
    # another scenario than the one checked: no rows
    assert plausibility(series.assign(scenario="budget_cut"), history, cases, decisions, PlausibilitySettings()).empty
