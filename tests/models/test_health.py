"""Portfolio health by hand: two products, two themes, a plan of one year (4 quarters)."""

from __future__ import annotations

import pandas as pd
import pytest

from models import health
from models.errors import ModelError


def _plan() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "item_id": ["A", "B", "C", "D"],
            "funded": [True, True, True, False],
            "value": [300_000.0, 50_000.0, 10_000.0, 999_999.0],
            "cost": [100_000.0, 80_000.0, 20_000.0, 0.0],
            "product": ["Shop", "Shop", "App", "App"],
            "theme": ["grow", "run", "run", "grow"],
        }
    )


def _baselines() -> pd.DataFrame:
    return pd.DataFrame({"product": ["Shop", "App"], "mrr": [30_000.0, 10_000.0], "mrr_growth_per_year": [0.05, 0.40]})


def test_capital_tied_value_created_and_flags_by_hand(make_settings):
    s = make_settings(
        economics={
            "gross_margin": 0.5,
            "run_cost_eur_per_month": {"Shop": 5_000, "App": 6_000},
            "high_growth_per_year": 0.2,
        },
        strategic_balance={"grow": {"min": 0.6, "max": 1.0}, "run": {"min": 0.0, "max": 0.3}},
    )
    h = health.portfolio_health(_plan(), _baselines(), s).set_index(["level", "name"])
    shop, app = h.loc[("product", "Shop")], h.loc[("product", "App")]
    # Shop: run 60,000 a year + investment 180,000 (A and B; the plan spans one year)
    assert shop["capital_tied_eur_per_year"] == pytest.approx(240_000.0)
    # contribution 30,000 x 12 x 0.5 - 60,000 = 120,000; planned value 350,000
    assert shop["contribution_eur_per_year"] == pytest.approx(120_000.0)
    assert shop["value_created_eur_per_year"] == pytest.approx(470_000.0)
    assert shop["value_per_eur_tied"] == pytest.approx(470_000.0 / 240_000.0)
    assert shop["flags"] == "" and shop["matrix"] == "cash cow"  # 75 % of MRR, 5 % growth
    # App: contribution 10,000 x 12 x 0.5 - 72,000 = -12,000; its item C loses 10,000 net
    assert app["contribution_eur_per_year"] == pytest.approx(-12_000.0)
    assert app["planned_npv_eur"] == pytest.approx(-10_000.0)
    assert app["flags"] == "capital tied without value"
    assert app["matrix"] == "question mark"  # 25 % of MRR (below an equal 50 %), 40 % growth
    assert app["funded_items"] == 1  # D is not funded and does not count
    # themes: grow has A (100,000) of 200,000 planned = 50 %, below its 60 % minimum
    grow, run = h.loc[("theme", "grow")], h.loc[("theme", "run")]
    assert grow["share_of_investment"] == pytest.approx(0.5)
    assert grow["flags"] == "off target" and grow["reasons"] == "50% of planned spend, target 60%-100%"
    assert run["share_of_investment"] == pytest.approx(0.5) and "off target" in run["flags"]
    assert run["planned_npv_eur"] == pytest.approx(-40_000.0) and "investment without return" in run["flags"]
    total = h.loc[("portfolio", "all products")]
    assert total["capital_tied_eur_per_year"] == pytest.approx(240_000.0 + 92_000.0)
    assert "92,000 EUR a year" in total["reasons"]  # App's capital, flagged


def test_run_cost_not_covered_is_named_when_the_plan_still_pays(make_settings):
    s = make_settings(economics={"gross_margin": 0.5, "run_cost_eur_per_month": {"App": 6_000}})
    plan = _plan().assign(value=[300_000.0, 50_000.0, 50_000.0, 0.0])
    app = health.portfolio_health(plan, _baselines(), s).set_index("name").loc["App"]
    assert app["flags"] == "run cost not covered"
    assert app["reasons"] == "MRR x margin falls 12,000 EUR a year short of the run cost 72,000 EUR"


def test_run_cost_of_an_unknown_product_is_refused(make_settings):
    s = make_settings(economics={"run_cost_eur_per_month": {"Shopp": 5_000}})
    with pytest.raises(ModelError, match=r"Shopp.*known: App, Shop"):
        health.portfolio_health(_plan(), _baselines(), s)
