"""The Mesa model: a funded plan delivered by teams into markets with competitors.

:class:`PortfolioMarketModel` steps month by month; :class:`DeliveryBook` holds the state of
the funded items (remaining effort per skill, delivery months) that the team agents work
on. Units: months 1-based from the plan start; effort in person-weeks (pw); money in EUR.
"""

from __future__ import annotations

import math
import zlib

import mesa
import numpy as np
import pandas as pd

from models.schemas import EFFORT_PREFIX
from models.simulation.agents import EPS_PW, KPI_CODES, CompetitorAgent, MarketSegmentAgent, TeamAgent
from models.simulation.plan import SimulationPlan
from models.simulation.scenario import BudgetCut, CompetitorEntry, DemandDrop, Parameters, PricePressure, Scenario

SERIES_COLUMNS = ["month", "product", "mau", "paying_customers", "mrr", "churn_rate", "nps_proxy",
                  "delivered_items", "competitor_parity", "conversion_rate", "arpu", "market_potential",
                  "cost_savings"]
DELIVERY_COLUMNS = ["item_id", "product", "kpi", "differentiation", "planned_start_month",
                    "planned_finish_month", "actual_start_month", "delivered_month", "slip_months",
                    "effort_multiplier"]


def _crc(name: str) -> int:
    return zlib.crc32(str(name).encode("utf-8"))


class DeliveryBook:
    """The funded items' delivery state, as arrays in plan order (rows) by skill (columns).

    ``remaining`` pw still to do; ``pace`` the most an item absorbs per month and skill;
    ``ready`` the items workable this month; ``delivered_month`` NaN until delivered.
    """

    def __init__(self, plan: SimulationPlan, skills: list[str], multipliers: np.ndarray, max_speedup: float):
        items = plan.items
        n = len(items)
        planned = np.zeros((n, len(skills)))
        for j, skill in enumerate(skills):
            col = f"{EFFORT_PREFIX}{skill}"
            if col in items:
                planned[:, j] = items[col].to_numpy(dtype=float)
        self.item_ids = items["item_id"].astype(str).tolist()
        self.planned_start = items["planned_start_month"].to_numpy(dtype=float)
        self.planned_finish = items["planned_finish_month"].to_numpy(dtype=float)
        duration = np.maximum(self.planned_finish - self.planned_start + 1.0, 1.0)
        self.multiplier = multipliers
        self.remaining = planned * multipliers[:, None]
        self.pace = planned / duration[:, None] * max_speedup
        self.kpi = np.array([KPI_CODES.get(k, KPI_CODES["none"]) for k in items["kpi"]], dtype=int)
        self.uplift = items["uplift"].to_numpy(dtype=float) if n else np.zeros(0)
        self.differentiator = (items["differentiation"] == "differentiator").to_numpy(dtype=bool)
        position = {item: i for i, item in enumerate(self.item_ids)}
        edges = [(position[d], i) for i, deps in enumerate(items["depends_on"]) for d in deps if d in position]
        self.edge_pred = np.array([e[0] for e in edges], dtype=int)  # funded predecessor ...
        self.edge_succ = np.array([e[1] for e in edges], dtype=int)  # ... of this item
        self.delivered_month = np.full(n, np.nan)
        self.started_month = np.full(n, np.nan)
        self.ready = np.zeros(n, dtype=bool)

    def open(self, month: int) -> None:
        """Mark the items workable in ``month``: planned start reached, predecessors delivered."""
        done_before = ~np.isnan(self.delivered_month) & (self.delivered_month < month)
        waiting = np.bincount(self.edge_succ, weights=~done_before[self.edge_pred], minlength=len(done_before))
        preds_done = waiting == 0
        self.ready = (self.planned_start <= month) & np.isnan(self.delivered_month) & preds_done
        self.started_month = np.where(self.ready & np.isnan(self.started_month), month, self.started_month)

    def close(self, month: int) -> None:
        """Record as delivered in ``month`` the workable items with no effort left."""
        done = self.ready & (self.remaining.sum(axis=1) <= EPS_PW * max(self.remaining.shape[1], 1))
        self.delivered_month = np.where(done, month, self.delivered_month)


class PortfolioMarketModel(mesa.Model):
    """A funded plan, delivered month by month into the markets of its products.

    Agents: one :class:`~models.simulation.agents.TeamAgent` per skill delivers the items
    in plan order with uncertain effort; one
    :class:`~models.simulation.agents.CompetitorAgent` per product enters and copies our
    differentiators; one :class:`~models.simulation.agents.MarketSegmentAgent` per product
    adopts, churns, converts and pays. Each month: shocks of the month apply, teams work,
    finished items are recorded, competitors copy, markets move, data is collected
    (``datacollector``: model totals and one row per product).

    Adoption follows Bass, F. M. (1969) "A New Product Growth for Model Consumer Durables",
    Management Science 15(5): 215-227: non-adopters adopt at hazard p + q F (innovation p,
    imitation q, adopted share F of the market potential m). With competitors, shocks and
    churn off, mean adoption reproduces Bass's closed form
    F(t) = (1 - e^{-(p+q)t}) / (1 + (q/p) e^{-(p+q)t}).

    Effort: each item's actual effort is its planned effort times
    ``effort_multiplier x exp(item_effort_sigma x z)``, z standard normal: a lognormal with
    median ``effort_multiplier`` (default 1.15, log-sd 0.35) - placeholders until calibrated
    on real delay data.

    Randomness: only ``model.rng`` (seeded with ``seed``). Three keys are drawn from it in
    a fixed order and derive named streams: uncertainties (one per parameter), item effort
    (one per item id) and markets (one per product and month). So the same item overruns
    the same way, and a market sees the same draws, in every plan run with the same seed:
    common random numbers that make plans comparable replication by replication.

    Args:
        plan: the plan (see :func:`~models.simulation.plan.build_plan`).
        stress_scenario: the scenario (constants, uncertainties, shocks); default: none.
        seed: seed of ``model.rng``.
    """

    def __init__(self, plan: SimulationPlan, stress_scenario: Scenario | None = None, seed: int = 0):
        super().__init__(rng=seed)
        scenario = stress_scenario if stress_scenario is not None else Scenario(name="defaults")
        products = plan.products["product"].astype(str).tolist()
        skills = plan.skills
        scenario.check_plan(products, skills)
        uncertainty_key, item_key, market_key = (int(k) for k in self.rng.integers(0, 2**63 - 1, size=3))
        self.plan = plan
        self.seed = seed
        self.sampled: dict[str, float] = scenario.sample(uncertainty_key)
        self.parameters: Parameters = scenario.parameters(self.sampled)
        self.months = int(self.parameters.horizon_months or plan.months)
        self.shocks = list(scenario.shocks)
        prm = self.parameters

        z = np.array([np.random.default_rng([item_key, _crc(i)]).standard_normal()
                      for i in plan.items["item_id"]], dtype=float)
        multipliers = prm.effort_multiplier * np.exp(prm.item_effort_sigma * z)
        self.book = DeliveryBook(plan, skills, multipliers, prm.max_speedup)

        for j, skill in enumerate(skills):
            TeamAgent(self, skill, j, plan.capacity_pw_per_month.get(skill, 0.0))
        item_product = plan.items["product"].astype(str).to_numpy()
        for state in plan.products.to_dict("records"):
            product = str(state["product"])
            entry = min([prm.competitor_entry_month] + [
                float(s.month) for s in self.shocks
                if isinstance(s, CompetitorEntry) and s.product in (None, product)])
            items = np.flatnonzero(item_product == product)
            competitor = CompetitorAgent(self, product, entry, items)
            MarketSegmentAgent(self, state, competitor, items, (market_key, _crc(product)))

        self.datacollector = mesa.DataCollector(
            model_reporters={
                "mrr": lambda m: float(sum(a.mrr for a in m.segments)),
                "mau": lambda m: int(sum(a.mau for a in m.segments)),
                "delivered_items": lambda m: int((~np.isnan(m.book.delivered_month)).sum()),
                "capacity_used_pw": lambda m: float(sum(a.used_pw for a in m.teams)),
            },
            agenttype_reporters={MarketSegmentAgent: {c: c for c in SERIES_COLUMNS if c != "month"}},
        )

    @property
    def teams(self) -> list[TeamAgent]:
        return list(self.agents_by_type.get(TeamAgent, []))

    @property
    def segments(self) -> list[MarketSegmentAgent]:
        return list(self.agents_by_type.get(MarketSegmentAgent, []))

    def _apply_shocks(self, month: int) -> None:
        for shock in self.shocks:
            if shock.month != month:
                continue
            if isinstance(shock, BudgetCut):
                for team in self.teams:
                    if shock.skill in (None, team.skill):
                        team.cut_factor *= 1.0 - shock.size
            elif isinstance(shock, (DemandDrop, PricePressure)):
                for seg in self.segments:
                    if shock.product in (None, seg.product):
                        if isinstance(shock, DemandDrop):
                            seg.pending_drops.append(shock.size)
                        else:
                            seg.price_shock *= 1.0 - shock.size
            # competitor entry is scheduled when the competitors are created

    def _step_all(self, cls: type[mesa.Agent]) -> None:
        """Step every agent of one type, in creation order (deterministic)."""
        if cls in self.agents_by_type:
            self.agents_by_type[cls].do("step")

    def step(self) -> None:
        """One month: shocks, delivery, competition, markets, data collection."""
        month = self.steps
        self._apply_shocks(month)
        self.book.open(month)
        self._step_all(TeamAgent)
        self.book.close(month)
        self._step_all(CompetitorAgent)
        self._step_all(MarketSegmentAgent)
        self.datacollector.collect(self)
        if month >= self.months:
            self.running = False

    def run_model(self) -> None:
        """Step through every month of the horizon."""
        while self.running and self.steps < self.months:
            self.step()

    def series(self) -> pd.DataFrame:
        """Monthly series, one row per (month, product): ``SERIES_COLUMNS``."""
        df = self.datacollector.get_agenttype_vars_dataframe(MarketSegmentAgent).reset_index()
        if df.empty:
            return pd.DataFrame(columns=SERIES_COLUMNS)
        df["month"] = df["Step"].astype(int)
        df = df[SERIES_COLUMNS].sort_values(["month", "product"], kind="stable").reset_index(drop=True)
        return df.astype({"mau": "int64", "paying_customers": "int64", "delivered_items": "int64"})

    def delivery(self) -> pd.DataFrame:
        """One row per funded item: planned and actual months (``DELIVERY_COLUMNS``).

        delivered_month and slip_months (delivered - planned finish) are missing for items
        not delivered within the horizon; effort_multiplier is actual / planned effort.
        """
        items = self.plan.items
        delivered = pd.array([None if math.isnan(v) else int(v) for v in self.book.delivered_month], dtype="Int64")
        started = pd.array([None if math.isnan(v) else int(v) for v in self.book.started_month], dtype="Int64")
        out = pd.DataFrame({
            "item_id": items["item_id"].astype(str).to_numpy(),
            "product": items["product"].astype(str).to_numpy(),
            "kpi": items["kpi"].astype(str).to_numpy(),
            "differentiation": items["differentiation"].astype(str).to_numpy(),
            "planned_start_month": items["planned_start_month"].astype(int).to_numpy(),
            "planned_finish_month": items["planned_finish_month"].astype(int).to_numpy(),
            "actual_start_month": started,
            "delivered_month": delivered,
        })
        out["slip_months"] = out["delivered_month"] - out["planned_finish_month"]
        out["effort_multiplier"] = self.book.multiplier
        return out[DELIVERY_COLUMNS]
