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


# A: flat at 100 for 12 months, then 130 from month 13 to 24 (best year: +30 %, the year to month 13)
# B: 50 a month, growing 1 % a month (best year: 1.01^12 - 1 = 12.7 %)
A = [100.0] * 12 + [130.0] * 12
B = [50.0 * 1.01**k for k in range(24)]


def test_best_year_on_record_by_hand():
    rec = best_year_on_record(_history({"A": A, "B": B})).set_index("product")
    assert rec.loc["A", "best_growth"] == pytest.approx(0.30)
    assert rec.loc["A", "best_year_ending"] == pd.Timestamp("2026-01-01")
    assert rec.loc["B", "best_growth"] == pytest.approx(1.01**12 - 1)
    assert rec.loc["A", "last_mrr"] == 130.0 and rec.loc["B", "months"] == 24
    # the company: (130 + 50 x 1.01^12) / (100 + 50) - 1 in the year to 2026-01, the best year
    assert rec.loc[COMPANY, "best_growth"] == pytest.approx((130 + 50 * 1.01**12) / 150 - 1)


def test_short_history_is_annualised_and_a_single_month_has_none():
    rec = best_year_on_record(_history({"A": [100.0, 100.0 * 1.02**6, 100 * 1.02**6], "B": [10.0]}))
    rec = rec.set_index("product")
    assert rec.loc["A", "best_growth"] == pytest.approx(1.02**36 - 1)  # +12.6 % in 2 months, annualised
    assert np.isnan(rec.loc["B", "best_growth"])


def test_limit_is_the_larger_of_factor_and_headroom():
    s = PlausibilitySettings()
    assert growth_limit(0.30, s) == pytest.approx(0.45)  # 1.5 x 30 % beats 30 % + 10 points
    assert growth_limit(0.10, s) == pytest.approx(0.20)  # 10 % + 10 points beats 1.5 x 10 %
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
    """A's best year is +30 %, so the limit is 45 %. Plan 'big' doubles A's MRR in year 1 (130 -> 260:
    +100 %) and is flagged, naming its items by expected monthly effect; plan 'small' grows 20 % (156)."""
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
    assert a.loc[("big", "A"), "implied_growth"] == pytest.approx(1.0)
    assert a.loc[("big", "A"), "limit"] == pytest.approx(0.45)
    assert bool(a.loc[("big", "A"), "flagged"]) and a.loc[("big", "A"), "excess"] == pytest.approx(0.55)
    assert a.loc[("big", "A"), "top_items"].startswith("A-1 (+50.0% conversion_rate, 60% of the effect); A-2")
    assert "B-1" not in a.loc[("big", "A"), "top_items"]  # another product's item
    assert a.loc[("small", "A"), "implied_growth"] == pytest.approx(0.2) and not a.loc[("small", "A"), "flagged"]
    assert not a.loc[("big", "B"), "flagged"]  # B keeps its 1 % a month
    lines = implausible(t, "big")
    assert any(
        line.startswith("big: A grows 100% in plan year 1 (P50, baseline), beyond the plausible 45%")
        for line in lines
    )
    assert implausible(t, "small") == []
    # another scenario than the one checked: no rows
    assert plausibility(series.assign(scenario="budget_cut"), history, cases, decisions, PlausibilitySettings()).empty
