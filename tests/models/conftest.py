"""Small hand-made canonical tables for the model tests (built in code, validated by the
canonical schemas).

Factories (session-scoped, so hypothesis tests may use them): ``make_backlog(rows,
skills)``, ``make_teams(rows)``, ``make_settings(**overrides)``. Ready-made tables:
``backlog``, ``teams``, ``kpi_history``, ``settings``.

The ready-made company, with numbers chosen for hand arithmetic:
* products Shop and App; each has 4 months of KPI history (Sep-Dec 2026) with constant
  levels: Shop mau 10,000, conversion 5 %, arpu 20 EUR, mrr 10,000 EUR/month, 300 churned
  users a month (churn 3 %); App mau 50,000, conversion 2 %, arpu 10 EUR, mrr 10,000
  EUR/month, 1,000 churned a month (churn 2 %).
* teams: backend "core" (10 pw/period, 4,000 EUR/pw) and "platform" (10 pw, 6,000
  EUR/pw) -> backend 20 pw/period at a mean 5,000 EUR/pw; frontend "web" (8 pw, 3,000
  EUR/pw).
* settings: 4 quarters from 2027-01-01, 10 % a year discount, 200,000 EUR per period,
  24 months of value horizon, 25 % commoditisation a year.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pandas as pd
import pytest

from models.schemas import BACKLOG_DEFAULTS as SCHEMA_BACKLOG_DEFAULTS, Backlog, KpiHistory, Teams, validate
from models.settings import Settings

BACKLOG_DEFAULTS = {**SCHEMA_BACKLOG_DEFAULTS, "product": "Shop"}


def _make_backlog(rows: list[dict], skills: tuple[str, ...] = ("backend", "frontend")) -> pd.DataFrame:
    """A validated canonical backlog; each row gives item_id, effort_<skill> values and any
    column that differs from BACKLOG_DEFAULTS."""
    records = []
    for r in rows:
        rec = {"item_id": r["item_id"], **BACKLOG_DEFAULTS}
        rec["title"] = r.get("title", f"Item {r['item_id']}")
        for s in skills:
            rec[f"effort_{s}"] = 0.0
        rec.update(r)
        rec["depends_on"] = list(rec["depends_on"] or [])
        records.append(rec)
    df = pd.DataFrame(records)
    df["deadline_period"] = pd.array(df["deadline_period"], dtype="Int64")
    return validate(df, Backlog, "test backlog")


def _make_teams(rows: list[dict]) -> pd.DataFrame:
    """A validated teams table; rows give team, skill, capacity_pw, cost_per_pw."""
    df = pd.DataFrame([{"headcount": 1.0, "velocity_sp_per_pw": 1.0, **r} for r in rows])
    return validate(df, Teams, "test teams")


def _make_settings(**overrides) -> Settings:
    base = dict(
        start=date(2027, 1, 1),
        periods=4,
        period_months=3,
        discount_rate=0.10,
        budget_per_period=200_000.0,
        value_horizon_months=24,
        commoditisation_per_year=0.25,
        solver={"time_limit_s": 20.0},
        # hand-computed figures take the estimates at face value; tests of the realisation
        # (test_realisation.py, test_valuation.py) turn it on
        realisation={"enabled": False},
    )
    base.update(overrides)
    return Settings.model_validate(base)


@pytest.fixture(scope="session")
def make_backlog() -> Callable[..., pd.DataFrame]:
    return _make_backlog


@pytest.fixture(scope="session")
def make_teams() -> Callable[..., pd.DataFrame]:
    return _make_teams


@pytest.fixture(scope="session")
def make_settings() -> Callable[..., Settings]:
    return _make_settings


@pytest.fixture
def backlog() -> pd.DataFrame:
    return _make_backlog(
        [
            # conversion +20 % on Shop; effort 4 backend + 2 frontend pw; RICE inputs for hand checks
            dict(
                item_id="S1",
                effort_backend=4.0,
                effort_frontend=2.0,
                kpi="conversion_rate",
                uplift=0.20,
                differentiation="differentiator",
                reach=1000.0,
                impact=2.0,
                confidence=0.8,
                business_value=8.0,
                time_criticality=5.0,
                risk_reduction=2.0,
                story_points=5.0,
                moscow="Must",
                mandatory=True,
                deadline_period=2,
            ),
            # churn -10 % (relative change) on Shop; two quarters of backend work
            dict(
                item_id="S2",
                effort_backend=6.0,
                kpi="churn_rate",
                uplift=-0.10,
                duration_periods=2,
                reach=500.0,
                impact=1.0,
                confidence=0.5,
                business_value=5.0,
                time_criticality=3.0,
                risk_reduction=1.0,
                moscow="Should",
            ),
            # saves 2,000 EUR a month
            dict(
                item_id="S3",
                effort_backend=2.0,
                kpi="cost",
                uplift=2000.0,
                theme="run",
                business_value=2.0,
                time_criticality=1.0,
                risk_reduction=3.0,
                moscow="Could",
            ),
            # MAU +2 % on App, needs A3's API first
            dict(
                item_id="A1",
                product="App",
                effort_frontend=3.0,
                kpi="mau",
                uplift=0.02,
                differentiation="differentiator",
                depends_on=["A3"],
                business_value=6.0,
                time_criticality=2.0,
                risk_reduction=1.0,
                moscow="Should",
                exclusive_group="onboarding",
            ),
            # NPS only: valued through the WSJF proxy
            dict(
                item_id="A2",
                product="App",
                effort_frontend=2.0,
                kpi="nps",
                uplift=5.0,
                business_value=3.0,
                time_criticality=1.0,
                risk_reduction=0.0,
                moscow="Won't",
                exclusive_group="onboarding",
            ),
            # ARPU +5 % on App, already in progress
            dict(
                item_id="A3",
                product="App",
                effort_backend=3.0,
                kpi="arpu",
                uplift=0.05,
                status_category="In Progress",
                status="In Development",
                business_value=4.0,
                time_criticality=4.0,
                risk_reduction=2.0,
                moscow="Must",
                theme="transform",
            ),
            # finished already
            dict(
                item_id="D1",
                effort_backend=1.0,
                status_category="Done",
                status="Closed",
                kpi="mau",
                uplift=0.01,
                moscow="Could",
            ),
        ]
    )


@pytest.fixture
def teams() -> pd.DataFrame:
    return _make_teams(
        [
            dict(team="core", skill="backend", capacity_pw=10.0, cost_per_pw=4000.0),
            dict(team="platform", skill="backend", capacity_pw=10.0, cost_per_pw=6000.0),
            dict(team="web", skill="frontend", capacity_pw=8.0, cost_per_pw=3000.0),
        ]
    )


@pytest.fixture
def kpi_history() -> pd.DataFrame:
    months = pd.date_range("2026-09-01", periods=4, freq="MS")
    rows = []
    for m in months:
        rows.append(
            dict(
                product="Shop",
                month=m,
                mau=10_000.0,
                dau=2_000.0,
                new_users=300.0,
                churned_users=300.0,
                conversion_rate=0.05,
                arpu=20.0,
                mrr=10_000.0,
                nps=30.0,
                cac=50.0,
            )
        )
        rows.append(
            dict(
                product="App",
                month=m,
                mau=50_000.0,
                dau=9_000.0,
                new_users=1_000.0,
                churned_users=1_000.0,
                conversion_rate=0.02,
                arpu=10.0,
                mrr=10_000.0,
                nps=10.0,
                cac=20.0,
            )
        )
    return validate(pd.DataFrame(rows), KpiHistory, "test kpi history")


@pytest.fixture
def settings() -> Settings:
    return _make_settings()
