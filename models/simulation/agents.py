"""The agents of :class:`~models.simulation.model.PortfolioMarketModel`.

* :class:`TeamAgent` - the teams of one skill: people who leave and are replaced after a
  hiring lag, budget cuts, cost inflation and context switching set the capacity the
  model's delivery book hands out in plan order.
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

from models.simulation.effects import combine
from models.simulation.plan import KPI_CODES, NO_LIMITS

if TYPE_CHECKING:
    from models.simulation.model import PortfolioMarketModel

EPS_PW = 1e-9  # remaining effort below this counts as done
# positions of the KPIs in a product's row of the model's effects
_CONVERSION, _CHURN, _ARPU, _MAU, _COST, _NPS = (
    KPI_CODES[k] for k in ("conversion_rate", "churn_rate", "arpu", "mau", "cost", "nps")
)
_MONTH_STRIDE = 1 << 40  # draws reserved per month in a market's stream (far more than a month uses)


def bass_step_hazard(adopted_share: float, p: float, q: float, dt: float = 1.0) -> float:
    """Probability that a non-adopter adopts within ``dt`` steps, given the adopted share x.

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
    """The teams of one skill: ``people`` persons delivering ``capacity_pw_per_month`` together
    (``capacity_by_month``: the plan's capacity in each month, with its per-period overrides).

    Each month, in this order:

    * leavers ~ Binomial(persons in post, ``attrition_per_month``); a leaver's capacity is
      gone from this month until the replacement arrives ``hiring_lag_months`` later (rounded
      to whole months); a replacement works at min(1, k / (``ramp_up_months`` + 1)) of a
      person in its k-th month;
    * capacity = capacity per person (this month's planned capacity / persons) x effective persons
      x ``capacity_factor`` x budget cuts x cost inflation (a fixed budget buys 1 / (1 + rise) of
      the work) x switching;
    * switching = 1 - min(``context_switch_loss`` x max(0, (n - max(n_plan,
      ``context_switch_threshold`` x persons)) / persons), ``context_switch_max_loss``) with
      n the workable items still needing this skill and n_plan the plan's items scheduled to
      be under way this month (Weinberg's rule of thumb of ~20 % per extra project). The
      planned capacities already carry the parallel work the plan schedules; the loss comes
      from the extra items that slips put in flight at the same time.

    The delivery book then hands the capacity to workable items in plan order. Attrition
    draws come from this team's own stream: the same people leave in every plan.
    """

    def __init__(
        self,
        model: PortfolioMarketModel,
        skill: str,
        column: int,
        capacity_pw_per_month: float,
        people: int,
        stream: np.random.Generator,
        capacity_by_month: tuple[float, ...] = (),
    ):
        super().__init__(model)
        self.skill = skill
        self.column = column
        self.capacity_pw_per_month = float(capacity_pw_per_month)
        self.people = int(people)
        self.per_person_pw = self.capacity_pw_per_month / self.people if self.people else 0.0
        # pw per person in months 1, 2, ... (the plan's per-period capacity); the last holds after them
        self.per_person_by_month = tuple(float(c) / self.people if self.people else 0.0 for c in capacity_by_month) or (
            self.per_person_pw,
        )
        self.stream = stream
        self.cut_factor = 1.0  # product of (1 - size) of the budget cuts so far
        self.cost_factor = 1.0  # product of 1 / (1 + size) of the cost inflation shocks so far
        self.vacancies = 0  # persons gone and not yet replaced
        self.arrivals: dict[int, int] = {}  # month -> replacements arriving
        self.cohorts: list[tuple[int, int]] = []  # (arrival month, count) still ramping up
        self.in_flight = 0  # workable items needing this skill (set by the model)
        self.planned_in_flight = 0  # the plan's items scheduled to be under way (set by the model)
        self.effective_people = float(self.people)
        self.switching = 1.0
        self.available_pw = 0.0
        self.leavers = 0

    def step(self) -> None:
        model = self.model
        prm = model.parameters
        month = model.steps
        self.leavers = 0
        if self.people and prm.attrition_per_month > 0:
            staffed = self.people - self.vacancies
            leavers = int(self.stream.binomial(staffed, prm.attrition_per_month)) if staffed > 0 else 0
            if leavers:
                self.leavers = leavers
                self.vacancies += leavers
                arrive = month + round(prm.hiring_lag_months)
                self.arrivals[arrive] = self.arrivals.get(arrive, 0) + leavers
        hired = self.arrivals.pop(month, 0)
        if hired:
            self.vacancies -= hired
            self.cohorts.append((month, hired))
        ramp_loss = 0.0
        if self.cohorts:
            ramp = prm.ramp_up_months
            still = []
            for start, count in self.cohorts:
                k = month - start + 1
                if k < ramp + 1:
                    ramp_loss += count * (1.0 - k / (ramp + 1.0))
                    still.append((start, count))
            self.cohorts = still
        self.effective_people = self.people - self.vacancies - ramp_loss
        switching = 1.0
        if self.people and prm.context_switch_loss > 0:
            allowed = max(self.planned_in_flight, prm.context_switch_threshold * self.people)
            excess = (self.in_flight - allowed) / self.people
            if excess > 0:
                switching = 1.0 - min(prm.context_switch_loss * excess, prm.context_switch_max_loss)
        self.switching = switching
        by_month = self.per_person_by_month
        self.per_person_pw = by_month[month - 1] if month <= len(by_month) else by_month[-1]
        self.available_pw = (
            self.per_person_pw
            * max(self.effective_people, 0.0)
            * prm.capacity_factor
            * self.cut_factor
            * self.cost_factor
            * model.inflation_factor
            * switching
        )


class CompetitorAgent(mesa.Agent):
    """A competitor in one product's market.

    It enters in ``entry_month`` (present from the first whole month at or after it). It can
    start copying an edge once both it is present and the edge exists (the product's
    existing edge: month 1; a differentiator: the month after its delivery); the copy
    lands ``copy_lag_months`` later, after which the edge's remaining share halves every
    ``copy_half_life_months``: copy progress k = 1 - 2^(-(t - s)/h) for t >= s.
    A differentiator then keeps ``1 - (1 - differentiator_retention) k`` of its uplift
    (written to the model's ``uplift_share``). ``parity`` (0..1) is the weighted mean copy
    progress over the existing edge (weight ``base_edge_weight``) and the delivered
    differentiators (weight 1 each); 0 while absent.
    """

    def __init__(self, model: PortfolioMarketModel, product: str, entry_month: float, items: np.ndarray):
        super().__init__(model)
        self.product = product
        self.entry_month = float(entry_month)
        self.items = items  # indices into the model's delivery book (this product's items)
        self.is_differentiator = model.book.differentiator[items]
        self.has_differentiators = bool(self.is_differentiator.any())
        self.parity = 0.0

    def step(self) -> None:
        month = self.model.steps
        prm = self.model.parameters
        base_start = max(1.0, self.entry_month) + prm.copy_lag_months
        if month < base_start:  # nothing copied yet (every differentiator exists from month 2)
            self.parity = 0.0
            return
        half_life = prm.copy_half_life_months
        base_k = 1.0 if half_life <= 0 else 1.0 - 2.0 ** (-(month - base_start) / half_life)
        live = (
            np.flatnonzero(self.is_differentiator & (self.model.book.delivered_month[self.items] < month))
            if self.has_differentiators
            else ()
        )
        if not len(live):
            self.parity = base_k
            return
        rows = self.items[live]
        start = np.maximum(self.model.book.delivered_month[rows] + 1.0, self.entry_month) + prm.copy_lag_months
        elapsed = month - start
        if half_life <= 0:
            k = (elapsed >= 0).astype(float)
        else:
            k = np.where(elapsed >= 0, 1.0 - np.exp2(-np.maximum(elapsed, 0.0) / half_life), 0.0)
        self.model.uplift_share[rows] = 1.0 - (1.0 - prm.differentiator_retention) * k
        self.model.share_version += 1  # the model recomputes the effects
        weight = prm.base_edge_weight + len(live)
        self.parity = float((prm.base_edge_weight * base_k + k.sum()) / weight) if weight > 0 else 1.0


class MarketSegmentAgent(mesa.Agent):
    """The customers of one product, as counts (the vectorised customer state).

    Delivered items act from the month after their delivery, each with its realised uplift
    w = uplift x R x s: R its realisation factor (the model's ``realisation``; 1 when off) and s
    the share the competitor left it (differentiators; 1 for parity items). Per KPI of this
    product the model hands over F = prod (1 + w) over the live items (each term at least 0;
    :mod:`models.simulation.effects`), or the sum of w for nps and cost. Each month, from the
    users U at the start of the month and the market potential:

    * m = potential x F_mau, at most ``potential_ceiling_factor`` x the potential (the current
      one, after demand shocks and shifts): reach lets more people adopt, not without end;
    * new users ~ Binomial(m - U, h) with h the exact one-month Bass transition
      (:func:`bass_step_hazard`, innovation p, imitation q, adopted share U/m);
    * churned users ~ Binomial(U, c) with the monthly churn hazard
      c = max(base churn x ``churn_factor`` x F_churn, churn floor) x (1 + ``churn_pressure`` x parity),
      at most 1: churn uplifts are negative when churn falls (-0.10: 10 % less churn); items
      stop at the product's churn floor, the competitor's pressure may push churn above it as
      the customers' perceived value falls towards parity;
    * conversion = min(base conversion x F_conversion, conversion ceiling);
      paying customers ~ Binomial(U', conversion) among the users U' after the month;
    * ARPU = max(base ARPU x price shocks x F_arpu, 0); MRR = paying x ARPU;
    * NPS proxy = base + 100 x sum w - ``nps_parity_penalty`` x parity, within [-100, 100];
      cost items save sum uplift x R in EUR per month (``cost_savings``).

    A limit beyond today's level on the wrong side keeps today's level (a conversion ceiling
    below today's conversion does not lower it). The limits come with the product's state
    (:func:`~models.simulation.plan.kpi_limits`; none in a hand-built plan). Churned users
    return to the pool of potential adopters. A demand drop removes ``size`` of m and of the
    users; a market shift moves ``size`` of m (and of the users, as potential) to another product.

    Draws: the product's own stream, restarted at a fixed offset every month, so a market
    sees the same random numbers each month in every plan (common random numbers).
    """

    def __init__(
        self,
        model: PortfolioMarketModel,
        state: dict,
        index: int,
        competitor: CompetitorAgent,
        stream: np.random.Generator,
    ):
        super().__init__(model)
        self.product = str(state["product"])
        self.index = index
        self.competitor = competitor
        self.stream = stream
        self._start_state = stream.bit_generator.state
        prm = model.parameters
        self.potential = float(state["market_potential"]) * prm.demand_factor
        self.bass_p = float(state["bass_p"]) * prm.bass_p_factor
        self.bass_q = float(state["bass_q"]) * prm.bass_q_factor
        self.base_churn = float(state["churn_rate"]) * prm.churn_factor
        self.base_conversion = float(state["conversion_rate"])
        self.base_arpu = float(state["arpu"]) * prm.price_factor
        self.base_nps = float(state["nps"])
        self.conversion_ceiling = min(float(state.get("conversion_ceiling", NO_LIMITS["conversion_ceiling"])), 1.0)
        self.churn_floor = float(state.get("churn_floor", NO_LIMITS["churn_floor"]))
        self.potential_ceiling_factor = float(
            state.get("potential_ceiling_factor", NO_LIMITS["potential_ceiling_factor"])
        )
        self._bounded_potential = not math.isinf(self.potential_ceiling_factor)
        self.price_shock = 1.0  # product of (1 - size) of price pressure so far
        self.pending_losses: list[float] = []  # shares of users leaving this month (drops, shifts)
        # reported state (python scalars, collected each month)
        self.mau = round(float(state["mau"]))
        self.paying_customers = round(float(state["customers"]))
        self.market_potential = self.potential
        self.conversion_rate = self.base_conversion
        self.arpu = self.base_arpu
        self.churn_rate = self.base_churn
        self.nps_proxy = self.base_nps
        self.mrr = self.paying_customers * self.arpu
        self.cost_savings = 0.0
        self.delivered_items = 0
        self.competitor_parity = 0.0
        self.new_users = 0
        self.churned_users = 0

    def step(self) -> None:
        model = self.model
        month = model.steps
        prm = model.parameters
        bits = self.stream.bit_generator
        bits.state = self._start_state
        bits.advance(month * _MONTH_STRIDE)
        rng = self.stream
        eff = model.effects[self.index]
        parity = self.competitor.parity
        users = self.mau
        for size in self.pending_losses:
            users -= int(rng.binomial(users, size))
        self.pending_losses = []
        potential = self.potential
        m = combine(
            potential, eff[_MAU], 0.0, potential * self.potential_ceiling_factor if self._bounded_potential else None
        )
        conversion = min(combine(self.base_conversion, eff[_CONVERSION], 0.0, self.conversion_ceiling), 1.0)
        arpu = max(self.base_arpu * self.price_shock * eff[_ARPU], 0.0)
        churn = combine(self.base_churn, eff[_CHURN], self.churn_floor) * (1.0 + prm.churn_pressure * parity)
        churn = min(max(churn, 0.0), 1.0)
        pool = max(round(m) - users, 0)
        hazard = bass_step_hazard(users / m, self.bass_p, self.bass_q) if m > 0 else 0.0
        new = int(rng.binomial(pool, hazard)) if pool and hazard > 0 else 0
        churned = int(rng.binomial(users, churn)) if users and churn > 0 else 0
        users = users + new - churned
        paying = int(rng.binomial(users, conversion)) if users else 0
        self.new_users = new
        self.churned_users = churned
        self.mau = users
        self.paying_customers = paying
        self.market_potential = m
        self.conversion_rate = conversion
        self.arpu = arpu
        self.churn_rate = churn
        self.mrr = paying * arpu
        self.nps_proxy = min(max(self.base_nps + 100.0 * eff[_NPS] - prm.nps_parity_penalty * parity, -100.0), 100.0)
        self.cost_savings = eff[_COST]
        self.delivered_items = model.delivered_by_product[self.index]
        self.competitor_parity = parity
