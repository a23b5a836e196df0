"""Small canonical tables for the simulation tests: two products, three skills, five funded items."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from models.settings import Settings
from models.simulation import build_plan, single_product_plan
from models.simulation.plan import ITEM_COLUMNS


@pytest.fixture
def sim_settings() -> Settings:
    return Settings(start=date(2027, 1, 1), periods=8, period_months=3, discount_rate=0.08, budget_per_period=1_000_000)


@pytest.fixture
def sim_teams() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "team": ["Platform", "Web", "Data"],
            "skill": ["backend", "frontend", "data"],
            "headcount": [3.0, 2.0, 1.0],
            "capacity_pw": [33.0, 22.0, 11.0],
            "cost_per_pw": [4500.0, 4200.0, 5000.0],
            "velocity_sp_per_pw": [2.0, 2.0, 2.0],
        }
    )


@pytest.fixture
def sim_kpi_history() -> pd.DataFrame:
    months = pd.date_range("2026-07-01", periods=6, freq="MS")
    rows = []
    for product, mau0, conv, arpu, churned, new in (
        ("IoT Platform", 800.0, 0.5, 400.0, 16.0, 40.0),
        ("Customer Portal", 6000.0, 0.08, 35.0, 180.0, 420.0),
    ):
        for i, m in enumerate(months):
            mau = mau0 + i * (new - churned)
            rows.append(
                {
                    "product": product,
                    "month": m,
                    "mau": mau,
                    "dau": mau * 0.3,
                    "new_users": new,
                    "churned_users": churned,
                    "conversion_rate": conv,
                    "arpu": arpu,
                    "mrr": mau * conv * arpu,
                    "nps": 30.0,
                    "cac": 900.0,
                }
            )
    return pd.DataFrame(rows)


@pytest.fixture
def sim_backlog() -> pd.DataFrame:
    rows = [
        # item, product, kpi, uplift, differentiation, backend, frontend, data, depends_on
        ("A", "IoT Platform", "conversion_rate", 0.10, "differentiator", 10.0, 5.0, 0.0, []),
        ("B", "IoT Platform", "churn_rate", 0.15, "differentiator", 0.0, 0.0, 8.0, []),
        ("C", "Customer Portal", "arpu", 0.05, "parity", 0.0, 12.0, 0.0, ["A"]),
        ("D", "Customer Portal", "conversion_rate", 0.20, "differentiator", 15.0, 0.0, 0.0, []),
        ("E", "Customer Portal", "cost", 2000.0, "parity", 5.0, 0.0, 0.0, []),
        ("F", "IoT Platform", "arpu", 0.10, "differentiator", 40.0, 0.0, 0.0, []),
    ]
    df = pd.DataFrame(
        rows,
        columns=[
            "item_id",
            "product",
            "kpi",
            "uplift",
            "differentiation",
            "effort_backend",
            "effort_frontend",
            "effort_data",
            "depends_on",
        ],
    )
    df["okr"] = "KR-1.1"
    df["duration_periods"] = 1
    return df


@pytest.fixture
def sim_decisions() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "item_id": ["A", "B", "C", "D", "E", "F"],
            "funded": [True, True, True, True, True, False],
            "start_period": pd.array([1, 1, 2, 2, 3, None], dtype="Int64"),
            "finish_period": pd.array([1, 2, 3, 4, 3, None], dtype="Int64"),
            "value": [1.0] * 6,
            "cost": [1.0] * 6,
        }
    )


@pytest.fixture
def demo_plan(sim_decisions, sim_backlog, sim_teams, sim_kpi_history, sim_settings):
    return build_plan("demo", sim_decisions, sim_backlog, sim_teams, sim_kpi_history, sim_settings)


@pytest.fixture
def empty_plan(sim_decisions, sim_backlog, sim_teams, sim_kpi_history, sim_settings):
    none = sim_decisions.assign(funded=False)
    return build_plan("empty", none, sim_backlog, sim_teams, sim_kpi_history, sim_settings)


def items_table(rows: list[dict]) -> pd.DataFrame:
    """Items in the layout of SimulationPlan.items from a few fields (the rest defaulted)."""
    defaults = {
        "product": "Product",
        "kpi": "none",
        "uplift": 0.0,
        "differentiation": "parity",
        "okr": None,
        "depends_on": [],
        "total_effort_pw": 0.0,
    }
    df = pd.DataFrame([{**defaults, **r} for r in rows])
    efforts = [c for c in df.columns if c.startswith("effort_")]
    df["total_effort_pw"] = df[efforts].sum(axis=1)
    return df[ITEM_COLUMNS + efforts]


@pytest.fixture
def make_items():
    return items_table


@pytest.fixture
def one_product_plan():
    """A one-product plan (see models.simulation.single_product_plan)."""
    return single_product_plan
