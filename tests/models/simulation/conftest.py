"""Small canonical tables for the simulation tests (two products, three skills, five funded items),
and whole companies: the demo and a second company renamed from it (``other_company``)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import numpy as np
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
        ("B", "IoT Platform", "churn_rate", -0.15, "differentiator", 0.0, 0.0, 8.0, []),  # churn falls 15 %
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
        "confidence": np.nan,
        "differentiation": "parity",
        "okr": None,
        "depends_on": [],
        "replaces": [],
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


# A second company: the demo's tables with every product, skill and team renamed (and no name in common).
PRODUCT_NAMES = {"IoT Platform": "Sensor Cloud", "Customer Portal": "Self-Service Hub", "Field Service App": "Crew App"}
SKILL_NAMES = {
    "backend": "services",
    "frontend": "web",
    "mobile": "apps",
    "data": "analytics",
    "ux": "design",
    "qa": "test",
}


def renamed_company(inputs):
    """The demo inputs with products, skills and teams renamed (PRODUCT_NAMES, SKILL_NAMES; team X -> 'Team X')."""
    efforts = {f"effort_{old}": f"effort_{new}" for old, new in SKILL_NAMES.items()}
    okrs = inputs.okrs.copy()
    okrs["product"] = okrs["product"].replace(PRODUCT_NAMES)
    return replace(
        inputs,
        backlog=inputs.backlog.assign(product=inputs.backlog["product"].replace(PRODUCT_NAMES)).rename(columns=efforts),
        teams=inputs.teams.assign(
            skill=inputs.teams["skill"].replace(SKILL_NAMES), team="Team " + inputs.teams["team"]
        ),
        kpi_history=inputs.kpi_history.assign(product=inputs.kpi_history["product"].replace(PRODUCT_NAMES)),
        okrs=okrs,
    )


def plan_within_capacity(inputs, name: str = "demo company"):
    """A plan of a whole company that fits its capacity: backlog items in order, each at the earliest
    quarter where every skill stays within 80 % of its capacity (predecessors first); the items that
    fit nowhere are left out."""
    from models.schemas import effort_columns
    from models.simulation import build_plan

    backlog, periods = inputs.backlog, inputs.settings.periods
    efforts = effort_columns(backlog)
    cap = inputs.teams.groupby("skill")["capacity_pw"].sum()
    room = np.tile(np.array([0.8 * cap.get(c[len("effort_") :], 0.0) for c in efforts]), (periods, 1))
    finish: dict[str, int] = {}
    rows = []
    for item in backlog.itertuples(index=False):
        deps = list(item.depends_on) if isinstance(item.depends_on, (list, tuple, np.ndarray)) else []
        if any(d not in finish for d in deps):
            continue
        dur = int(item.duration_periods)
        need = np.array([getattr(item, c) for c in efforts], dtype=float) / dur
        earliest = max([finish[d] + 1 for d in deps], default=1)
        for start in range(earliest, periods - dur + 2):
            if (room[start - 1 : start - 1 + dur] >= need).all():
                room[start - 1 : start - 1 + dur] -= need
                finish[item.item_id] = start + dur - 1
                rows.append((item.item_id, start, start + dur - 1))
                break
    decisions = (
        pd.DataFrame(rows, columns=["item_id", "start_period", "finish_period"])
        .assign(funded=True, value=0.0, cost=0.0)
        .astype({"start_period": "Int64", "finish_period": "Int64"})
    )
    return build_plan(name, decisions, backlog, inputs.teams, inputs.kpi_history, inputs.settings, okrs=inputs.okrs)


@pytest.fixture(scope="session")
def fit_plan():
    """plan_within_capacity(inputs, name): a whole company's plan that fits its capacity."""
    return plan_within_capacity


@pytest.fixture(scope="session")
def demo_inputs():
    from pipelines.paths import demo_data_dir
    from pipelines.sources import load_inputs

    return load_inputs(demo_data_dir())


@pytest.fixture(scope="session")
def other_company(demo_inputs):
    """The renamed company's inputs and its plan within capacity."""
    inputs = renamed_company(demo_inputs)
    return inputs, plan_within_capacity(inputs, "other company")
