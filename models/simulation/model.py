"""The Mesa model: a funded plan delivered by teams into markets with competitors.

:class:`PortfolioMarketModel` steps month by month; :class:`DeliveryBook` holds the state of
the funded items (remaining effort per skill, delivery months) that the team agents' capacity
goes to; :class:`SeriesCollector` records the named monthly series (Mesa's DataCollector,
kept in numpy arrays and turned into tables once at the end). Units: months 1-based from the
plan start; effort in person-weeks (pw); money in EUR.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from functools import lru_cache
from operator import attrgetter

import mesa
import numpy as np
import pandas as pd

from models.realisation import RealisationSettings, draws_for
from models.simulation.agents import EPS_PW, CompetitorAgent, MarketSegmentAgent, TeamAgent
from models.simulation.effects import effect_table, superseded
from models.simulation.plan import KPI_CODES, N_KPI, PlanArrays, SimulationPlan
from models.simulation.roles import resolve_for_plan
from models.simulation.scenario import (
    BudgetCut,
    CompetitorEntry,
    CostInflation,
    DemandDrop,
    MarketShift,
    Parameters,
    PricePressure,
    RegulatoryMustHave,
    Scenario,
    named_stream,
)

SERIES_COLUMNS = [
    "month",
    "product",
    "mau",
    "paying_customers",
    "mrr",
    "churn_rate",
    "nps_proxy",
    "delivered_items",
    "competitor_parity",
    "conversion_rate",
    "arpu",
    "market_potential",
    "cost_savings",
    "new_users",
    "churned_users",
]
DELIVERY_COLUMNS = [
    "item_id",
    "product",
    "kpi",
    "differentiation",
    "planned_start_month",
    "planned_finish_month",
    "actual_start_month",
    "delivered_month",
    "slip_months",
    "effort_multiplier",
    "realisation_factor",
]
OKR_ATTAINMENT_COLUMNS = ["key_result", "objective", "metric", "product", "target", "value", "met", "weight"]
_INT_SERIES = ("mau", "paying_customers", "delivered_items", "new_users", "churned_users")
VALUE_SERIES = [c for c in SERIES_COLUMNS if c not in ("month", "product")]  # what the segments report

# OKR metrics the model can judge -> (series column, how products add up, lower is better)
OKR_METRICS: dict[str, tuple[str, str, bool]] = {
    "mau": ("mau", "sum", False),
    "active_users": ("mau", "sum", False),
    "mrr": ("mrr", "sum", False),
    "revenue": ("mrr", "sum", False),
    "arr": ("mrr", "sum12", False),
    "paying_customers": ("paying_customers", "sum", False),
    "customers": ("paying_customers", "sum", False),
    "conversion_rate": ("conversion_rate", "conversion", False),
    "conversion": ("conversion_rate", "conversion", False),
    "arpu": ("arpu", "arpu", False),
    "churn_rate": ("churn_rate", "churn", True),
    "churn": ("churn_rate", "churn", True),
    "nps": ("nps_proxy", "mau_weighted", False),
    "nps_proxy": ("nps_proxy", "mau_weighted", False),
    "cost": ("cost_savings", "sum", False),
    "cost_savings": ("cost_savings", "sum", False),
    "new_users": ("new_users", "sum", False),
}
# KPI codes whose items combine multiplicatively (prod (1 + w)); the others (cost, nps, none) add up
MULTIPLICATIVE_KPIS = np.array(
    [code in {KPI_CODES[k] for k in ("conversion_rate", "churn_rate", "arpu", "mau")} for code in range(N_KPI)]
)


@lru_cache(maxsize=8192)
def _realisation_factors(
    item_ids: tuple[str, ...], confidence: bytes, settings: RealisationSettings, seed: int
) -> np.ndarray:
    """R per item (replication 0 of ``seed``), read-only; cached: every scenario of a stress test runs
    the same plans with the same seeds, and the draw is a function of these arguments alone."""
    out = draws_for(list(item_ids), np.frombuffer(confidence, dtype=float), settings, seed=seed, replication=0)
    out.setflags(write=False)
    return out


def realisation_factors(arrays: PlanArrays, settings: RealisationSettings, seed: int) -> np.ndarray:
    """One realisation factor R per plan item (:func:`models.realisation.draws_for`, replication 0 of the
    model's seed): a function of (seed, item id, confidence) only, so an item gets the same R in every
    plan run with the same seed (common random numbers); exactly 1 when ``settings`` are off."""
    n = len(arrays.item_ids)
    if not settings.enabled or not n:
        return np.ones(n)
    conf = np.ascontiguousarray(arrays.confidence, dtype=float)
    return _realisation_factors(tuple(arrays.item_ids), conf.tobytes(), settings, int(seed))


def _object_array(values: list) -> np.ndarray:
    out = np.empty(len(values), dtype=object)
    out[:] = values
    return out


def series_frame(
    blocks: Sequence[np.ndarray], products: Sequence[str], keys: Mapping[str, np.ndarray] | None = None
) -> pd.DataFrame:
    """The tidy series table of one or more runs: one row per run, month (from 1) and product
    (``SERIES_COLUMNS``, month then product), ``keys`` columns in front.

    blocks: per run an array months x products x ``VALUE_SERIES``; keys: per key column one value
    per run (an array in the column's dtype), repeated over the run's rows."""
    p = len(products)
    data = (
        np.concatenate([b.reshape(-1, len(VALUE_SERIES)) for b in blocks])
        if blocks
        else np.zeros((0, len(VALUE_SERIES)))
    )
    months = [b.shape[0] for b in blocks]
    cols: dict[str, np.ndarray] = {
        k: np.repeat(v, np.array(months, dtype=np.int64) * p) for k, v in (keys or {}).items()
    }
    cols["month"] = (
        np.concatenate([np.repeat(np.arange(1, t + 1, dtype=np.int64), p) for t in months])
        if blocks
        else np.zeros(0, dtype=np.int64)
    )
    cols["product"] = np.tile(np.array(products, dtype=object), int(sum(months)))
    for j, name in enumerate(VALUE_SERIES):
        cols[name] = data[:, j].astype(np.int64) if name in _INT_SERIES else data[:, j]
    return pd.DataFrame(cols, copy=False)  # dict order is the keys, then SERIES_COLUMNS (no reindexing: faster)


def effective_multiplier(drawn: np.ndarray, early_finish_returned: float) -> np.ndarray:
    """Actual / planned effort from a lognormal draw: overruns count in full, under-runs only
    by the share ``early_finish_returned`` (0: at least the planned effort)."""
    drawn = np.asarray(drawn, dtype=float)
    return np.where(drawn >= 1.0, drawn, 1.0 - early_finish_returned * (1.0 - drawn))


class DeliveryBook:
    """The funded items' delivery state, as arrays (rows: unplanned regulatory items first, then the
    plan's items in plan order; columns: skills).

    ``remaining`` pw still to do; ``pace`` the most an item absorbs per month and skill;
    ``ready`` the items workable this month; ``delivered_month`` NaN until delivered.
    Rows ``offset:`` are the plan's items.
    """

    def __init__(
        self,
        arrays: PlanArrays,
        multipliers: np.ndarray,
        max_speedup: float,
        unplanned: list[RegulatoryMustHave] | None = None,
        unplanned_multiplier: float = 1.0,
    ):
        unplanned = unplanned or []
        skills = arrays.skills
        k = len(unplanned)
        self.offset = k
        extra = np.zeros((k, len(skills)))
        for r, shock in enumerate(unplanned):
            for skill, pw in shock.effort.items():
                extra[r, skills.index(skill)] = pw
        planned = np.vstack([extra, arrays.planned]) if k else arrays.planned
        self.planned_start = np.concatenate([[float(s.month) for s in unplanned], arrays.planned_start])
        self.planned_finish = np.concatenate(
            [[float(s.month + s.duration_months - 1) for s in unplanned], arrays.planned_finish]
        )
        self.multiplier = np.concatenate([np.full(k, float(unplanned_multiplier)), multipliers])
        duration = np.maximum(self.planned_finish - self.planned_start + 1.0, 1.0)
        self.remaining = planned * self.multiplier[:, None]
        self.pace = planned / duration[:, None] * max_speedup
        n = len(self.planned_start)
        self.differentiator = np.concatenate([np.zeros(k, dtype=bool), arrays.differentiator])
        self.edge_pred = arrays.edge_pred + k
        self.edge_succ = arrays.edge_succ + k
        self.delivered_month = np.full(n, np.nan)
        self.started_month = np.full(n, np.nan)
        self.ready = np.zeros(n, dtype=bool)
        self._rows = np.zeros(0, dtype=np.int64)
        self._rem = self.remaining[:0]
        self._open = np.zeros_like(self._rem, dtype=bool)
        self._n_skills = max(self.remaining.shape[1], 1)
        self._needs_planned = planned[k:] > EPS_PW  # the plan's own items (not the unplanned ones)

    def planned_in_flight(self, month: int) -> np.ndarray:
        """Per skill: the plan's items scheduled to be under way in ``month`` (planned start to
        planned finish) that need the skill - the parallel work the plan itself asks for."""
        k = self.offset
        active = (self.planned_start[k:] <= month) & (self.planned_finish[k:] >= month)
        return self._needs_planned[active].sum(axis=0)

    def open(self, month: int) -> np.ndarray:
        """Mark the items workable in ``month`` (planned start reached, funded predecessors
        delivered) and return the number of workable items still needing each skill."""
        not_done = np.isnan(self.delivered_month)
        ready = (self.planned_start <= month) & not_done
        if len(self.edge_succ):
            waiting = np.bincount(self.edge_succ, weights=not_done[self.edge_pred], minlength=len(ready))
            ready &= waiting == 0
        self.ready = ready
        self._rows = rows = np.flatnonzero(ready)
        self.started_month[rows[np.isnan(self.started_month[rows])]] = month
        self._rem = self.remaining[rows]
        self._open = self._rem > EPS_PW
        return self._open.sum(axis=0)

    def work(self, capacity: np.ndarray) -> np.ndarray:
        """Hand each skill's ``capacity`` (pw) to the workable items in row order, each up to its
        pace; return the pw used per skill."""
        rem = self._rem
        want = np.where(self._open, np.minimum(rem, self.pace[self._rows]), 0.0)
        before = np.zeros_like(want)
        np.cumsum(want[:-1], axis=0, out=before[1:])
        got = np.clip(capacity[None, :] - before, 0.0, want)
        rem -= got
        self.remaining[self._rows] = rem
        return got.sum(axis=0)

    def close(self, month: int) -> None:
        """Record as delivered in ``month`` the workable items with no effort left."""
        done = self._rem.sum(axis=1) <= EPS_PW * self._n_skills
        self.delivered_month[self._rows[done]] = month


class SeriesCollector:
    """Named monthly series of a run (what Mesa's DataCollector records, as numpy arrays).

    ``agent`` has one row per month and product and a column per name in ``names``, read
    from the :class:`MarketSegmentAgent` attributes of the same names; ``capacity_used_pw``
    the pw used per month (all skills). :meth:`get_model_vars_dataframe` gives the model
    totals per month, :meth:`frame` the series table.
    """

    def __init__(self, months: int, products: list[str], names: list[str]):
        self.names = names
        self.products = products
        self.agent = np.zeros((months, len(products), len(names)))
        self.capacity_used_pw = np.zeros(months)
        self.months_collected = 0
        self._get = attrgetter(*names)

    def collect(self, model: PortfolioMarketModel) -> None:
        t = model.steps - 1
        for i, seg in enumerate(model.segment_list):
            self.agent[t, i] = self._get(seg)
        self.capacity_used_pw[t] = model.capacity_used_pw
        self.months_collected = t + 1

    def column(self, name: str) -> np.ndarray:
        """One series as an array (months x products)."""
        return self.agent[: self.months_collected, :, self.names.index(name)]

    def get_model_vars_dataframe(self) -> pd.DataFrame:
        """Model totals per month: mrr, mau, delivered_items, capacity_used_pw."""
        t = self.months_collected
        return pd.DataFrame(
            {
                "mrr": self.column("mrr").sum(axis=1),
                "mau": self.column("mau").sum(axis=1).astype(np.int64),
                "delivered_items": self.column("delivered_items").sum(axis=1).astype(np.int64),
                "capacity_used_pw": self.capacity_used_pw[:t],
            },
            index=pd.RangeIndex(1, t + 1, name="month"),
        )

    def frame(self) -> pd.DataFrame:
        """One row per (month, product): ``SERIES_COLUMNS`` (see :func:`series_frame`)."""
        return series_frame([self.agent[: self.months_collected]], self.products)


class PortfolioMarketModel(mesa.Model):
    """A funded plan, delivered month by month into the markets of its products.

    Agents: one :class:`~models.simulation.agents.TeamAgent` per skill (attrition, hiring
    lag, budget cuts, cost inflation, context switching set its capacity); one
    :class:`~models.simulation.agents.CompetitorAgent` per product enters and copies our
    differentiators; one :class:`~models.simulation.agents.MarketSegmentAgent` per product
    adopts, churns, converts and pays. Each month: shocks of the month apply, teams set their
    capacity, the :class:`DeliveryBook` hands it to workable items (regulatory Must-haves
    first, then plan order), finished items are recorded, competitors copy, markets move,
    the :class:`SeriesCollector` records (``datacollector``).

    Adoption follows Bass, F. M. (1969) "A New Product Growth for Model Consumer Durables",
    Management Science 15(5): 215-227: non-adopters adopt at hazard p + q F (innovation p,
    imitation q per step, adopted share F of the market potential m). With competitors,
    shocks and churn off, mean adoption reproduces Bass's closed form
    F(t) = (1 - e^{-(p+q)t}) / (1 + (q/p) e^{-(p+q)t}), t in steps.

    Effects: a delivered item's uplift acts as ``uplift x R x s`` from the month after its
    delivery, R its realisation factor (:func:`models.realisation.draws_for` with the plan's
    ``realisation`` settings and this model's seed; exactly 1 when they are off, as for hand-built
    plans) and s the share of the uplift the competitor left it (1 for parity items). Per product,
    relative KPIs (conversion, churn, arpu, mau) combine multiplicatively, ``prod (1 + uplift R s)``,
    and saturate at the product's limits (conversion ceiling, churn floor, potential ceiling);
    nps points and cost savings add up (:mod:`models.simulation.effects`). An item stops acting
    from the month after an item of the same product and KPI that ``replaces`` it is delivered.

    Effort: each item's actual effort is its planned effort times
    ``effort_multiplier x exp(item_effort_sigma x z)``, z standard normal: a lognormal
    calibrated on real delays (models/simulation/calibration.py); a draw below 1 gives back
    only ``early_finish_returned`` of its under-run (default none: Parkinson's law), see
    :func:`effective_multiplier`.

    Randomness: only ``model.rng`` (seeded with ``seed``). Four keys are drawn from it in a
    fixed order and derive named streams: uncertainties (one per parameter), item effort (one
    normal per item of the plan's universe, i.e. the backlog), markets (one per product,
    restarted each month at a fixed offset) and teams (one per skill). So the same item
    overruns the same way, the same people leave and a market sees the same draws in every
    plan run with the same seed: common random numbers that make plans comparable
    replication by replication. Realisation factors come from a hash of (seed, item id), not
    from ``model.rng``: the same item realises the same share of its uplift in every plan run
    with the same seed.

    Args:
        plan: the plan (see :func:`~models.simulation.plan.build_plan`).
        stress_scenario: the scenario (constants, uncertainties, shocks); default: none.
        seed: seed of ``model.rng``.
    """

    def __init__(self, plan: SimulationPlan, stress_scenario: Scenario | None = None, seed: int = 0):
        super().__init__(rng=seed)
        scenario = stress_scenario if stress_scenario is not None else Scenario(name="defaults")
        arrays = plan.arrays
        products, skills = arrays.products, arrays.skills
        if scenario.shocks:  # roles become the plan's names; unknown names are errors
            scenario = resolve_for_plan(scenario, plan).scenario
        uncertainty_key, item_key, market_key, team_key = (int(k) for k in self.rng.integers(0, 2**63 - 1, size=4))
        self.plan = plan
        self.seed = seed
        self.sampled: dict[str, float] = scenario.sample(uncertainty_key)
        self.parameters: Parameters = scenario.parameters(self.sampled)
        prm = self.parameters
        self.months = int(prm.horizon_months or plan.months)
        self.shocks_by_month: dict[int, list] = {}
        for shock in scenario.shocks:
            self.shocks_by_month.setdefault(int(shock.month), []).append(shock)
        unplanned = sorted((s for s in scenario.shocks if isinstance(s, RegulatoryMustHave)), key=lambda s: s.month)
        self.unplanned = unplanned

        z = np.random.default_rng(item_key).standard_normal(arrays.universe_size)[arrays.universe_index]
        multipliers = effective_multiplier(
            prm.effort_multiplier * np.exp(prm.item_effort_sigma * z), prm.early_finish_returned
        )
        self.book = DeliveryBook(
            arrays,
            multipliers,
            prm.max_speedup,
            unplanned,
            float(effective_multiplier(np.array([prm.effort_multiplier]), prm.early_finish_returned)[0]),
        )
        off = self.book.offset
        n_products = len(products)
        self.uplift_share = np.ones(len(self.book.planned_start))  # per book row: uplift share the competitor left
        # one realisation factor R per plan item: a function of (seed, item id) only (common random numbers)
        self.realisation = realisation_factors(arrays, plan.realisation, seed)
        self._realised_uplift = arrays.uplift * self.realisation  # uplift x R per plan item
        # per product and KPI code: factors of the multiplicative KPIs, sums of the others (no item: 1 and 0)
        self.effects: list[list[float]] = [[1.0 if m else 0.0 for m in MULTIPLICATIVE_KPIS] for _ in range(n_products)]
        self.delivered_by_product = [0] * n_products
        self.inflation_factor = 1.0
        self.capacity_used_pw = 0.0
        self._effect_bin = arrays.product * N_KPI + arrays.kpi
        self._is_cost = arrays.kpi == KPI_CODES["cost"]
        self._multiplicative = np.tile(MULTIPLICATIVE_KPIS, n_products)
        self._item_multiplicative = MULTIPLICATIVE_KPIS[arrays.kpi]
        self.share_version = 0  # raised by a competitor that changes ``uplift_share``
        self._effects_key: tuple[int, int] | None = None  # (live items, share version) of the current effects

        self.team_list = [
            TeamAgent(
                self,
                skill,
                j,
                plan.capacity_pw_per_month.get(skill, 0.0),
                plan.people(skill),
                named_stream(team_key, skill),
                plan.capacity_path(skill),
            )
            for j, skill in enumerate(skills)
        ]
        self.competitor_list: list[CompetitorAgent] = []
        self.segment_list: list[MarketSegmentAgent] = []
        for i, state in enumerate(arrays.product_states):
            product = products[i]
            entry = min(
                [prm.competitor_entry_month]
                + [
                    float(s.month)
                    for s in scenario.shocks
                    if isinstance(s, CompetitorEntry) and s.product in (None, product)
                ]
            )
            items = np.flatnonzero(arrays.product == i)
            competitor = CompetitorAgent(self, product, entry, items + off)
            self.competitor_list.append(competitor)
            self.segment_list.append(MarketSegmentAgent(self, state, i, competitor, named_stream(market_key, product)))
        self.datacollector = SeriesCollector(self.months, products, VALUE_SERIES)

    def _apply_shocks(self, month: int) -> None:
        for shock in self.shocks_by_month.get(month, ()):
            if isinstance(shock, (BudgetCut, CostInflation)):
                for team in self.team_list:
                    if shock.skill in (None, team.skill):
                        if isinstance(shock, BudgetCut):
                            team.cut_factor *= 1.0 - shock.size
                        else:
                            team.cost_factor /= 1.0 + shock.size
            elif isinstance(shock, (DemandDrop, PricePressure)):
                for seg in self.segment_list:
                    if shock.product in (None, seg.product):
                        if isinstance(shock, DemandDrop):
                            seg.potential *= 1.0 - shock.size
                            seg.pending_losses.append(shock.size)
                        else:
                            seg.price_shock *= 1.0 - shock.size
            elif isinstance(shock, MarketShift):
                source = next(s for s in self.segment_list if s.product == shock.from_product)
                target = next(s for s in self.segment_list if s.product == shock.to_product)
                moved = source.potential * shock.size
                source.potential -= moved
                target.potential += moved
                source.pending_losses.append(shock.size)
            # competitor entry is scheduled when the competitors are created; regulatory
            # Must-haves are rows of the delivery book from the start, workable from their month

    def _update_effects(self, month: int) -> None:
        """Per product and KPI code, the combined effect of the plan items live this month
        (:func:`~models.simulation.effects.effect_table`): prod (1 + uplift R s) for conversion,
        churn, arpu and mau; sum uplift R s for nps and cost (s = 1 for cost items). A live item
        whose replacer (``PlanArrays.replace_new``, same product and KPI) is live too - delivered
        before this month - is superseded and contributes nothing (:func:`~models.simulation.effects.superseded`)."""
        arrays, off = self.plan.arrays, self.book.offset
        delivered = self.book.delivered_month[off:]
        live = delivered < month  # NaN compares False
        key = (int(np.count_nonzero(live)), self.share_version)  # items stay delivered: a count names the set
        if key != self._effects_key:  # else last month's effects hold
            self._effects_key = key
            if len(arrays.replace_new):
                live = live & ~superseded(live, arrays.replace_new, arrays.replace_old)
            weights = np.where(self._is_cost, 1.0, self.uplift_share[off:]) * self._realised_uplift * live
            self.effects = effect_table(
                self._effect_bin,
                weights,
                len(self.segment_list),
                self._multiplicative,
                N_KPI,
                self._item_multiplicative,
            ).tolist()
        self.delivered_by_product = (
            np.bincount(arrays.product, weights=delivered <= month, minlength=len(self.segment_list))
            .astype(int)
            .tolist()
        )

    def step(self) -> None:
        """One month: shocks, team capacity, delivery, competition, markets, data collection."""
        month = self.steps
        prm = self.parameters
        self._apply_shocks(month)
        if prm.cost_inflation_per_year > 0:
            self.inflation_factor = (1.0 + prm.cost_inflation_per_year) ** (-(month - 1) / 12.0)
        in_flight = self.book.open(month).tolist()
        planned_in_flight = self.book.planned_in_flight(month).tolist() if prm.context_switch_loss > 0 else None
        capacity = np.empty(len(self.team_list))
        for j, team in enumerate(self.team_list):
            team.in_flight = in_flight[j]
            if planned_in_flight is not None:
                team.planned_in_flight = planned_in_flight[j]
            team.step()
            capacity[j] = team.available_pw
        used = self.book.work(capacity) if len(capacity) else capacity
        self.capacity_used_pw = float(used.sum())
        self.book.close(month)
        for competitor in self.competitor_list:
            competitor.step()
        self._update_effects(month)
        for segment in self.segment_list:
            segment.step()
        self.datacollector.collect(self)
        if month >= self.months:
            self.running = False

    def run_model(self) -> None:
        """Step through every month of the horizon."""
        while self.running and self.steps < self.months:
            self.step()

    def series(self) -> pd.DataFrame:
        """Monthly series, one row per (month, product): ``SERIES_COLUMNS``."""
        return self.datacollector.frame()

    def delivery(self) -> pd.DataFrame:
        """One row per funded item of the plan: planned and actual months (``DELIVERY_COLUMNS``).

        delivered_month and slip_months (delivered - planned finish) are missing for items
        not delivered within the horizon; effort_multiplier is actual / planned effort;
        realisation_factor is R, the realised / estimated uplift (1 when realisation is off).
        Unplanned regulatory items are in :meth:`unplanned_delivery`.
        """
        static = self.plan.arrays.delivery_columns
        off = self.book.offset
        delivered = self.book.delivered_month[off:]
        started = self.book.started_month[off:]
        finish = static["planned_finish_month"]
        d_missing, s_missing = np.isnan(delivered), np.isnan(started)
        d_int = np.where(d_missing, 0, delivered).astype(np.int64)
        return pd.DataFrame(
            {
                **{k: v.copy() for k, v in static.items()},  # the plan's arrays stay untouched
                "actual_start_month": pd.arrays.IntegerArray(
                    np.where(s_missing, 0, started).astype(np.int64), s_missing
                ),
                "delivered_month": pd.arrays.IntegerArray(d_int, d_missing.copy()),
                "slip_months": pd.arrays.IntegerArray(d_int - finish, d_missing.copy()),
                "effort_multiplier": self.book.multiplier[off:].copy(),
                "realisation_factor": self.realisation.copy(),
            }
        )  # dict order is DELIVERY_COLUMNS

    def unplanned_delivery(self) -> pd.DataFrame:
        """One row per regulatory Must-have of the scenario: month it arrived, planned finish,
        delivered month (missing if not within the horizon) and its effort in pw."""
        k = self.book.offset
        delivered = self.book.delivered_month[:k]
        return pd.DataFrame(
            {
                "shock": [s.note or f"regulatory_must_have@{s.month}" for s in self.unplanned],
                "arrival_month": [s.month for s in self.unplanned],
                "planned_finish_month": self.book.planned_finish[:k].astype(np.int64),
                "delivered_month": pd.array([None if math.isnan(v) else int(v) for v in delivered], dtype="Int64"),
                "effort_pw": [
                    float(sum(s.effort.values())) * float(self.book.multiplier[i]) for i, s in enumerate(self.unplanned)
                ],
            }
        )

    def okr_attainment(self) -> pd.DataFrame:
        """Per key result the model can judge: its value at its deadline month (or the horizon) and
        whether the target is met (``OKR_ATTAINMENT_COLUMNS``; the table of :meth:`okr_columns`).

        Judged metrics (``OKR_METRICS``): mau, mrr, arr (12 x mrr), paying_customers, conversion_rate,
        arpu, churn_rate, nps (the NPS proxy), cost (cost savings EUR/month) and new_users; for a key
        result without product, sums over products (rates: paying / mau, mrr / paying, churned /
        previous mau, mau-weighted NPS); with a product, that product's series (churn_rate is
        then the month's churn hazard). A target below its baseline, or a churn metric, is met at
        or below the target; otherwise at or above it. Other metrics (e.g. compliance_findings) are
        not judged and left out; :meth:`unjudged_okrs` lists them.
        """
        types = {"target": float, "value": float, "met": bool, "weight": float}
        return pd.DataFrame(
            {
                c: _object_array(v) if c not in types else np.array(v, dtype=types[c])
                for c, v in self.okr_columns().items()
            },
            copy=False,
        )

    def okr_columns(self) -> dict[str, list]:
        """:meth:`okr_attainment` as lists by column (``OKR_ATTAINMENT_COLUMNS``), without a table."""
        horizon = self.datacollector.months_collected
        products = self.datacollector.products
        out: dict[str, list] = {c: [] for c in OKR_ATTAINMENT_COLUMNS}
        for key_result, objective, metric, product, target, weight, baseline, deadline in self.plan.arrays.okrs:
            spec = OKR_METRICS.get(metric)
            product = product if isinstance(product, str) and product else None
            if spec is None or horizon == 0 or (product is not None and product not in products):
                continue
            column, how, lower = spec
            month = horizon if deadline is None or math.isnan(deadline) else int(min(max(deadline, 1), horizon))
            value = self._metric_value(column, how, month, None if product is None else products.index(product))
            if baseline is not None and not math.isnan(baseline) and target != baseline:
                lower = target < baseline
            for col, v in zip(
                OKR_ATTAINMENT_COLUMNS,
                (
                    key_result,
                    objective,
                    metric,
                    product,
                    float(target),
                    value,
                    bool(value <= target if lower else value >= target),
                    float(weight),
                ),
                strict=True,
            ):
                out[col].append(v)
        return out

    def unjudged_okrs(self) -> list[str]:
        """Key results whose metric (or product) the model does not simulate, as 'KR (metric)'."""
        products = self.datacollector.products
        return [
            f"{kr[0]} ({kr[2]})"
            for kr in self.plan.arrays.okrs
            if kr[2] not in OKR_METRICS or (isinstance(kr[3], str) and kr[3] and kr[3] not in products)
        ]

    def _metric_value(self, column: str, how: str, month: int, product: int | None) -> float:
        t = month - 1
        c = self.datacollector

        def at(name: str, tt: int = t) -> np.ndarray:
            row = c.agent[tt, :, c.names.index(name)]
            return row if product is None else row[product : product + 1]

        if product is not None and how not in ("sum12",):
            return float(at(column)[0])
        if how == "sum":
            return float(at(column).sum())
        if how == "sum12":
            return 12.0 * float(at(column).sum())
        if how == "conversion":
            mau = at("mau").sum()
            return float(at("paying_customers").sum() / mau) if mau else 0.0
        if how == "arpu":
            paying = at("paying_customers").sum()
            return float(at("mrr").sum() / paying) if paying else 0.0
        if how == "churn":
            before = at("mau", t - 1).sum() if t > 0 else at("mau").sum()
            return float(at("churned_users").sum() / before) if before else 0.0
        if how == "mau_weighted":
            mau = at("mau")
            return float((at(column) * mau).sum() / mau.sum()) if mau.sum() else float(at(column).mean())
        raise ValueError(how)
