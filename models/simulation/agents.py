"""The agents of :class:`~models.simulation.model.PortfolioMarketModel`.

* :class:`TeamAgent` - the teams of one skill, delivering funded items in plan order.
* :class:`CompetitorAgent` - one per product market: enters, then copies our
  differentiators after a lag, so their edge decays towards parity.
* :class:`MarketSegmentAgent` - one per product: its customers, as counts drawn
  binomially each month (Bass adoption, churn, conversion), and their revenue.

All randomness comes from generators derived from ``model.rng`` (see the model docstring).
Units: months 1-based from the plan start; effort in person-weeks (pw); money in EUR.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import mesa
import numpy as np

if TYPE_CHECKING:
    from models.simulation.model import PortfolioMarketModel

EPS_PW = 1e-9  # remaining effort below this counts as done
KPI_CODES = {"conversion_rate": 0, "churn_rate": 1, "arpu": 2, "mau": 3, "cost": 4, "nps": 5, "none": 6}


def bass_step_hazard(adopted_share: float, p: float, q: float, dt: float = 1.0) -> float:
    """Probability that a non-adopter adopts within ``dt`` months, given the adopted share x.

    The exact transition of the continuous Bass model dF/dt = (p + qF)(1 - F) started at
    F = x: ``h = 1 - s E / (p + q x + q E (1 - x))`` with s = p + q and E = exp(-s dt).
    At x = 0 it is the closed form F(dt) = (1 - E) / (1 + (q/p) E); with q = 0 it is
    1 - exp(-p dt). Using it for monthly steps adds no discretisation error.
    """
    x = min(max(adopted_share, 0.0), 1.0)
    s = p + q
    if s <= 0 or x >= 1.0:
        return 0.0
    e = math.exp(-s * dt)
    return min(max(1.0 - s * e / (p + q * x + q * e * (1.0 - x)), 0.0), 1.0)


class TeamAgent(mesa.Agent):
    """The teams of one skill.

    Each month the skill's capacity (pw/month x ``capacity_factor`` x budget cuts) goes to
    the workable items in plan order; an item absorbs at most its planned pace
    (planned pw / planned months) x ``max_speedup``. An item is workable from its planned
    start month once every funded predecessor is delivered, while it still needs this skill.
    """

    def __init__(self, model: PortfolioMarketModel, skill: str, column: int, capacity_pw_per_month: float):
        super().__init__(model)
        self.skill = skill
        self.column = column
        self.capacity_pw_per_month = float(capacity_pw_per_month)
        self.cut_factor = 1.0  # product of (1 - size) of the budget cuts so far
        self.used_pw = 0.0

    @property
    def available_pw(self) -> float:
        """Capacity this month (pw)."""
        return self.capacity_pw_per_month * self.model.parameters.capacity_factor * self.cut_factor

    def step(self) -> None:
        book = self.model.book
        col = self.column
        idx = np.flatnonzero(book.ready & (book.remaining[:, col] > EPS_PW))
        want = np.minimum(book.remaining[idx, col], book.pace[idx, col])
        before = np.concatenate(([0.0], np.cumsum(want)[:-1]))
        got = np.clip(self.available_pw - before, 0.0, want)
        book.remaining[idx, col] -= got
        self.used_pw = float(got.sum())


class CompetitorAgent(mesa.Agent):
    """A competitor in one product's market.

    It enters in ``entry_month`` (present from the first whole month at or after it). It can
    start copying an edge once both it is present and the edge exists (the product's
    existing edge: month 1; a differentiator: the month after its delivery); the copy
    lands ``copy_lag_months`` later, after which the edge's remaining share halves every
    ``copy_half_life_months``: copy progress k = 1 - 2^(-(t - s)/h) for t >= s.
    A differentiator then keeps ``1 - (1 - differentiator_retention) k`` of its uplift.
    ``parity`` (0..1) is the weighted mean copy progress over the existing edge (weight
    ``base_edge_weight``) and the delivered differentiators (weight 1 each); 0 while absent.
    """

    def __init__(self, model: PortfolioMarketModel, product: str, entry_month: float, items: np.ndarray):
        super().__init__(model)
        self.product = product
        self.entry_month = float(entry_month)
        self.items = items  # indices into the model's delivery book (this product's items)
        self.is_differentiator = model.book.differentiator[items]
        self.multiplier = np.ones(len(items))  # share of each item's uplift still effective
        self.parity = 0.0

    @property
    def present(self) -> bool:
        return self.model.steps >= self.entry_month

    def _progress(self, available: np.ndarray, month: int) -> np.ndarray:
        prm = self.model.parameters
        start = np.maximum(available, self.entry_month) + prm.copy_lag_months
        elapsed = month - start
        if prm.copy_half_life_months <= 0:
            k = (elapsed >= 0).astype(float)
        else:
            k = np.where(elapsed >= 0, 1.0 - np.exp2(-np.maximum(elapsed, 0.0) / prm.copy_half_life_months), 0.0)
        return k

    def step(self) -> None:
        month = self.model.steps
        prm = self.model.parameters
        delivered = self.model.book.delivered_month[self.items]
        available = np.where(np.isnan(delivered), np.inf, delivered + 1.0)
        k = self._progress(available, month)
        k = np.where(self.is_differentiator & (available <= month), k, 0.0)
        self.multiplier = 1.0 - (1.0 - prm.differentiator_retention) * k
        if not self.present:
            self.parity = 0.0
            return
        live = self.is_differentiator & (available <= month)
        base_k = float(self._progress(np.array([1.0]), month)[0])
        weight = prm.base_edge_weight + live.sum()
        self.parity = float((prm.base_edge_weight * base_k + k[live].sum()) / weight) if weight > 0 else 1.0


class MarketSegmentAgent(mesa.Agent):
    """The customers of one product, as counts (the vectorised customer state).

    Each month, from the users U at the start of the month and the market potential m:

    * new users ~ Binomial(m - U, h) with h the exact one-month Bass transition
      (:func:`bass_step_hazard`, innovation p, imitation q, adopted share U/m);
    * churned users ~ Binomial(U, c) with the monthly churn hazard
      c = base churn x ``churn_factor`` x (1 - churn uplifts) x (1 + ``churn_pressure`` x parity);
    * paying customers ~ Binomial(U', conversion) among the users U' after the month;
    * MRR = paying x ARPU.

    Delivered items act from the month after their delivery, each with its uplift times the
    share the competitor left it (differentiators) or in full (parity items):
    conversion_rate and arpu rise by the summed relative uplifts, churn_rate falls by them,
    mau raises m by them (reach: more people can adopt), nps adds uplift x 100 points, and
    cost items save their uplift in EUR per month (``cost_savings``). Churned users return
    to the pool of potential adopters. A demand drop removes ``size`` of m and of the users.
    """

    def __init__(self, model: PortfolioMarketModel, state: dict, competitor: CompetitorAgent,
                 items: np.ndarray, stream: tuple[int, ...]):
        super().__init__(model)
        self.product = str(state["product"])
        self.competitor = competitor
        self.items = items
        self.stream = stream  # seed of this product's monthly random streams
        prm = model.parameters
        self.base_potential = float(state["market_potential"]) * prm.demand_factor
        self.bass_p = float(state["bass_p"]) * prm.bass_p_factor
        self.bass_q = float(state["bass_q"]) * prm.bass_q_factor
        self.base_churn = float(state["churn_rate"]) * prm.churn_factor
        self.base_conversion = float(state["conversion_rate"])
        self.base_arpu = float(state["arpu"]) * prm.price_factor
        self.base_nps = float(state["nps"])
        self.demand_shock = 1.0  # product of (1 - size) of demand drops so far
        self.price_shock = 1.0  # product of (1 - size) of price pressure so far
        self.pending_drops: list[float] = []
        kpi = model.book.kpi[items]
        self._kpi = kpi
        self._uplift = model.book.uplift[items]
        # reported state (python scalars, for the DataCollector)
        self.mau = int(round(float(state["mau"])))
        self.paying_customers = int(round(float(state["customers"])))
        self.market_potential = self.base_potential
        self.conversion_rate = self.base_conversion
        self.arpu = self.base_arpu
        self.churn_rate = self.base_churn
        self.nps_proxy = self.base_nps
        self.mrr = self.paying_customers * self.arpu
        self.cost_savings = 0.0
        self.delivered_items = 0
        self.competitor_parity = 0.0

    def _effects(self, month: int) -> np.ndarray:
        """Summed effective uplift per KPI code of the items live this month."""
        delivered = self.model.book.delivered_month[self.items]
        live = ~np.isnan(delivered) & (delivered < month)
        share = np.where(live, self.competitor.multiplier, 0.0)
        return np.bincount(self._kpi, weights=self._uplift * share, minlength=len(KPI_CODES))

    def _cost_savings(self, month: int) -> float:
        delivered = self.model.book.delivered_month[self.items]
        live = ~np.isnan(delivered) & (delivered < month) & (self._kpi == KPI_CODES["cost"])
        return float(self._uplift[live].sum())

    def step(self) -> None:
        month = self.model.steps
        prm = self.model.parameters
        rng = np.random.default_rng([*self.stream, month])  # common random numbers across plans
        eff = self._effects(month)
        parity = self.competitor.parity
        users = self.mau
        for size in self.pending_drops:
            self.demand_shock *= 1.0 - size
            users -= int(rng.binomial(users, size))
        self.pending_drops = []
        m = self.base_potential * self.demand_shock * max(1.0 + eff[KPI_CODES["mau"]], 0.0)
        conversion = min(max(self.base_conversion * (1.0 + eff[KPI_CODES["conversion_rate"]]), 0.0), 1.0)
        arpu = max(self.base_arpu * self.price_shock * (1.0 + eff[KPI_CODES["arpu"]]), 0.0)
        churn = self.base_churn * max(1.0 - eff[KPI_CODES["churn_rate"]], 0.0) * (1.0 + prm.churn_pressure * parity)
        churn = min(max(churn, 0.0), 1.0)
        pool = max(int(round(m)) - users, 0)
        hazard = bass_step_hazard(users / m, self.bass_p, self.bass_q) if m > 0 else 0.0
        new = int(rng.binomial(pool, hazard))
        churned = int(rng.binomial(users, churn))
        users = users + new - churned
        paying = int(rng.binomial(users, conversion))
        delivered = self.model.book.delivered_month[self.items]
        self.mau = users
        self.paying_customers = paying
        self.market_potential = float(m)
        self.conversion_rate = float(conversion)
        self.arpu = float(arpu)
        self.churn_rate = float(churn)
        self.mrr = float(paying * arpu)
        self.nps_proxy = float(min(max(self.base_nps + 100.0 * eff[KPI_CODES["nps"]] - prm.nps_parity_penalty * parity,
                                       -100.0), 100.0))
        self.cost_savings = self._cost_savings(month)
        self.delivered_items = int((~np.isnan(delivered) & (delivered <= month)).sum())
        self.competitor_parity = float(parity)

