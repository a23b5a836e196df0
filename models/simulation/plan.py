"""A plan made ready for simulation: funded items in months, products' starting market state.

:func:`build_plan` turns the optimiser's decisions and the canonical tables into a
:class:`SimulationPlan` (no randomness). :func:`single_product_plan` builds a one-product
plan without items, for validation against the Bass closed form and for examples.

Units: months are 1-based months from the plan start (period p covers months
``(p-1)*period_months+1 .. p*period_months``); effort in person-weeks (pw); money in EUR;
rates per month unless named annual; Bass coefficients per month.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import pandas as pd

from models.errors import ModelError
from models.portfolio.inputs import capacity_table
from models.realisation import RealisationSettings
from models.schemas import EFFORT_PREFIX, effort_columns, total_effort_pw
from models.settings import KpiLimits, Settings
from models.simulation.roles import Company, company_facts, plan_facts
from models.valuation import kpi_baselines

# Sultan, Farley & Lehmann (1990), J. Marketing Research 27(1):70-77: mean p = 0.03 and
# q = 0.38 per year over 213 applications; divided by 12 for monthly steps.
BASS_P_PER_MONTH = 0.03 / 12
BASS_Q_PER_MONTH = 0.38 / 12

ITEM_COLUMNS = [
    "item_id",
    "product",
    "kpi",
    "uplift",
    "confidence",
    "differentiation",
    "okr",
    "depends_on",
    "replaces",
    "planned_start_month",
    "planned_finish_month",
    "total_effort_pw",
]
PRODUCT_COLUMNS = [
    "product",
    "mau",
    "customers",
    "conversion_rate",
    "arpu",
    "churn_rate",
    "nps",
    "new_users",
    "market_potential",
    "bass_p",
    "bass_q",
    "conversion_ceiling",
    "churn_floor",
    "potential_ceiling_factor",
]
# the KPI limits of a product without any: no ceiling on conversion but 1, churn may fall to 0,
# items may widen the market potential without end
NO_LIMITS = {"conversion_ceiling": 1.0, "churn_floor": 0.0, "potential_ceiling_factor": float("inf")}
LIMIT_COLUMNS = ["product", *NO_LIMITS]
# hand-built plans realise every uplift exactly as estimated unless given realisation settings (frozen: shared)
NO_REALISATION = RealisationSettings(enabled=False)
OKR_COLUMNS = ["key_result", "objective", "metric", "product", "target", "weight", "baseline", "deadline_month"]
# KPIs an item can move -> code (column of the model's effects per product); other KPIs count as "none"
KPI_CODES = {"conversion_rate": 0, "churn_rate": 1, "arpu": 2, "mau": 3, "cost": 4, "nps": 5, "none": 6}
N_KPI = len(KPI_CODES)
# person-weeks one person delivers per month where a plan gives no headcount: 11 pw per person and
# quarter as in the demo company's teams.csv (44 working weeks a year, judgement)
PW_PER_PERSON_MONTH = 11.0 / 3.0


@dataclass(frozen=True)
class SimulationPlan:
    """Everything a run needs that is specific to the plan; no randomness.

    items: funded items in plan order (``ITEM_COLUMNS`` plus one ``effort_<skill>`` column
        per skill, pw); planned months are 1-based and inclusive; uplift is the estimated
        relative KPI change (cost: EUR/month), confidence the RICE confidence 0..1 (NaN: none;
        a hand-built table may leave the column out); replaces the item_ids whose KPI effect the
        item supersedes once delivered (a list; a hand-built table may leave the column out: none).
    products: starting state per product (``PRODUCT_COLUMNS``): mau and customers (paying)
        in people, conversion_rate (share of MAU paying), arpu (EUR/month), churn_rate
        (monthly), nps, new_users (per month), market_potential m (people), bass_p and
        bass_q (per month), and the limits of :func:`kpi_limits`: conversion_ceiling (share
        of MAU), churn_floor (monthly), potential_ceiling_factor (x m); missing: no limit
        (``NO_LIMITS``).
    capacity_pw_per_month: person-weeks per month per skill (sum over that skill's teams of
        their standing ``capacity_pw``); it sets the persons of a skill without headcount.
    capacity_pw_by_month: person-weeks per skill in each month of the plan (month 1 first), with
        the teams' per-period overrides (``capacity_pw_p<N>``) the optimiser plans with; months
        after the last use the last month's. Empty for a skill: ``capacity_pw_per_month`` in
        every month.
    months: months simulated by default.
    discount_rate: annual, for the NPV of monthly cash flows.
    company: the facts scenario roles are resolved against (:class:`~models.simulation.roles.Company`),
        from the backlog, teams and KPI history; None: the plan's own (:attr:`facts`).
    realisation: how much of its estimated uplift each item realises (:mod:`models.realisation`);
        :func:`build_plan` takes ``settings.realisation``. The default, for hand-built plans
        (e.g. :func:`single_product_plan`), is off: such plans realise every uplift exactly as
        estimated unless given settings.
    """

    name: str
    items: pd.DataFrame
    products: pd.DataFrame
    capacity_pw_per_month: dict[str, float]
    months: int
    discount_rate: float
    headcount: dict[str, float] = field(default_factory=dict)
    okrs: pd.DataFrame | None = None
    universe: tuple[str, ...] = ()
    capacity_pw_by_month: dict[str, tuple[float, ...]] = field(default_factory=dict)
    company: Company | None = None
    realisation: RealisationSettings = NO_REALISATION

    @cached_property
    def facts(self) -> Company:
        """What scenario roles are resolved against: ``company`` (the canonical tables', set by
        :func:`build_plan`), else the plan's own products and skills (:func:`~models.simulation.roles.plan_facts`)."""
        return self.company if self.company is not None else plan_facts(self)

    def capacity_path(self, skill: str) -> tuple[float, ...]:
        """Person-weeks of a skill in months 1, 2, ... of the plan (the last one holds after them)."""
        return self.capacity_pw_by_month.get(skill) or (self.capacity_pw_per_month.get(skill, 0.0),)

    @property
    def skills(self) -> list[str]:
        """Skills of the plan: those with capacity, then any other effort column."""
        extra = [
            c[len(EFFORT_PREFIX) :]
            for c in effort_columns(self.items)
            if c[len(EFFORT_PREFIX) :] not in self.capacity_pw_per_month
        ]
        return [*self.capacity_pw_per_month, *extra]

    def people(self, skill: str) -> int:
        """Persons in a skill's teams: the headcount if given, else capacity / ``PW_PER_PERSON_MONTH``
        (at least one person where there is capacity)."""
        heads = self.headcount.get(skill)
        if heads is None:
            heads = self.capacity_pw_per_month.get(skill, 0.0) / PW_PER_PERSON_MONTH
        return max(round(heads), 1 if self.capacity_pw_per_month.get(skill, 0.0) > 0 else 0)

    @cached_property
    def arrays(self) -> PlanArrays:
        """The plan as numpy arrays, computed once per plan object (see :class:`PlanArrays`)."""
        return PlanArrays.of(self)


@dataclass(frozen=True)
class PlanArrays:
    """What a run reads from the plan, as arrays in plan order (rows) by skill (columns).

    planned: pw per item and skill; planned_start/finish: months; kpi: codes of
    ``KPI_CODES``; uplift: estimated uplifts (NaN read as 0); confidence: RICE confidence
    0..1 (NaN: none); product: index into ``products``; edges: funded
    predecessor -> successor index pairs; replace_new/replace_old: replacing -> replaced index
    pairs among the plan's items of the same product and KPI (a replaced item outside the plan,
    or of another product or KPI, has none); universe_index: position of each item in the plan's
    ``universe`` (the stream of its effort draw); product_states: ``products`` as records;
    okrs: the key results as tuples in ``OKR_COLUMNS`` order; delivery_columns: the plan's
    columns of the delivery table.
    """

    skills: list[str]
    products: list[str]
    item_ids: list[str]
    planned: np.ndarray
    planned_start: np.ndarray
    planned_finish: np.ndarray
    kpi: np.ndarray
    uplift: np.ndarray
    confidence: np.ndarray
    differentiator: np.ndarray
    product: np.ndarray
    edge_pred: np.ndarray
    edge_succ: np.ndarray
    replace_new: np.ndarray
    replace_old: np.ndarray
    universe_size: int
    universe_index: np.ndarray
    product_states: list[dict]
    okrs: list[tuple]
    delivery_columns: dict[str, np.ndarray]

    @classmethod
    def of(cls, plan: SimulationPlan) -> PlanArrays:
        items = plan.items
        skills = plan.skills
        products = plan.products["product"].astype(str).tolist()
        n = len(items)
        planned = np.zeros((n, len(skills)))
        for j, skill in enumerate(skills):
            col = f"{EFFORT_PREFIX}{skill}"
            if col in items:
                planned[:, j] = items[col].to_numpy(dtype=float)
        ids = items["item_id"].astype(str).tolist()
        position = {item: i for i, item in enumerate(ids)}
        product_index = {p: k for k, p in enumerate(products)}
        edges = [(position[d], i) for i, deps in enumerate(items["depends_on"]) for d in deps if d in position]
        kpi = np.array([KPI_CODES.get(k, KPI_CODES["none"]) for k in items["kpi"]], dtype=np.int64)
        product = np.array([product_index.get(str(p), -1) for p in items["product"]], dtype=np.int64)
        replaced = items["replaces"] if "replaces" in items else [()] * n
        replacements = sorted(
            {
                (i, position[old])
                for i, olds in enumerate(replaced)
                if isinstance(olds, (list, tuple, np.ndarray))
                for old in olds
                if old in position
                and position[old] != i
                and kpi[position[old]] == kpi[i]
                and product[position[old]] == product[i]
            }
        )
        universe = list(plan.universe) or sorted(ids)
        slot = {item: i for i, item in enumerate(universe)}
        extra = [i for i in ids if i not in slot]
        for i in extra:
            slot[i] = len(slot)
        return cls(
            skills=skills,
            products=products,
            item_ids=ids,
            planned=planned,
            planned_start=items["planned_start_month"].to_numpy(dtype=float),
            planned_finish=items["planned_finish_month"].to_numpy(dtype=float),
            kpi=kpi,
            uplift=np.nan_to_num(items["uplift"].to_numpy(dtype=float)) if n else np.zeros(0),
            confidence=(
                pd.to_numeric(items["confidence"], errors="coerce").to_numpy(dtype=float)
                if "confidence" in items
                else np.full(n, np.nan)
            ),
            differentiator=(items["differentiation"] == "differentiator").to_numpy(dtype=bool),
            product=product,
            edge_pred=np.array([e[0] for e in edges], dtype=np.int64),
            edge_succ=np.array([e[1] for e in edges], dtype=np.int64),
            replace_new=np.array([e[0] for e in replacements], dtype=np.int64),
            replace_old=np.array([e[1] for e in replacements], dtype=np.int64),
            universe_size=len(slot),
            universe_index=np.array([slot[i] for i in ids], dtype=np.int64),
            product_states=plan.products.to_dict("records"),
            okrs=[] if plan.okrs is None else list(plan.okrs[OKR_COLUMNS].itertuples(index=False, name=None)),
            delivery_columns={
                "item_id": np.array(ids, dtype=object),
                **{c: items[c].astype(str).to_numpy(dtype=object) for c in ("product", "kpi", "differentiation")},
                "planned_start_month": items["planned_start_month"].to_numpy(dtype=np.int64),
                "planned_finish_month": items["planned_finish_month"].to_numpy(dtype=np.int64),
            },
        )


def build_plan(
    name: str,
    decisions: pd.DataFrame,
    backlog: pd.DataFrame,
    teams: pd.DataFrame,
    kpi_history: pd.DataFrame,
    settings: Settings,
    okrs: pd.DataFrame | None = None,
    baselines: pd.DataFrame | None = None,
) -> SimulationPlan:
    """Make a plan ready to simulate.

    decisions: :class:`models.schemas.PlanDecisions` (only funded rows are used; plan
        order is start period, then the order of the decisions table).
    backlog, teams, kpi_history: canonical tables; settings gives periods, period_months
        and the annual discount rate.
    okrs: the canonical okrs table (objective, key_result, metric, target, weight; optional
        product, baseline and a deadline as ``deadline_month`` or ``deadline_period``), for
        :meth:`~models.simulation.model.PortfolioMarketModel.okr_attainment`.
    Each item carries its RICE ``confidence`` (NaN where the backlog has none), its ``replaces``
    (empty where the backlog has no such column) and the plan
    ``settings.realisation``; each product the KPI limits of :func:`kpi_limits` (from the
    history and ``settings.kpi_limits``).
    The plan's ``universe`` is the backlog's item ids (sorted): an item draws its effort from
    the same stream in every plan built from the same backlog (common random numbers).
    baselines: ``kpi_baselines(kpi_history)`` when the caller has it (it is the same for every plan of a company).
    Raises ModelError if a funded item is not in the backlog or has no start/finish period,
    its product has no KPI history, or it needs a skill no team has.
    """
    pm = settings.period_months
    funded = decisions.loc[decisions["funded"].astype(bool)].copy()
    funded["_order"] = np.arange(len(funded))
    missing = sorted(set(funded["item_id"]) - set(backlog["item_id"]))
    if missing:
        raise ModelError(
            f"plan '{name}': funded items not in the backlog: {', '.join(missing)}. "
            "Fix: re-run the optimisation on the current backlog."
        )
    no_period = funded.loc[funded["start_period"].isna() | funded["finish_period"].isna(), "item_id"]
    if len(no_period):
        raise ModelError(
            f"plan '{name}': funded items without start or finish period: "
            f"{', '.join(map(str, no_period))}. Fix: give every funded item both periods."
        )
    efforts = effort_columns(backlog)
    cols = ["item_id", "product", "kpi", "uplift", "differentiation", *efforts]
    items = funded[["item_id", "start_period", "finish_period", "_order"]].merge(
        backlog[cols + [c for c in ("confidence", "okr", "depends_on", "replaces") if c in backlog.columns]],
        on="item_id",
        how="left",
    )
    items["confidence"] = (
        pd.to_numeric(items["confidence"], errors="coerce").astype(float) if "confidence" in items else np.nan
    )
    if "okr" not in items:
        items["okr"] = None
    for col in ("depends_on", "replaces"):
        if col not in items:
            items[col] = [[] for _ in range(len(items))]
        items[col] = items[col].map(lambda v: list(v) if isinstance(v, (list, tuple, np.ndarray)) else [])
    items["planned_start_month"] = (items["start_period"].astype(int) - 1) * pm + 1
    items["planned_finish_month"] = items["finish_period"].astype(int) * pm
    items[efforts] = items[efforts].astype(float).fillna(0.0)
    items["total_effort_pw"] = total_effort_pw(items)
    items["uplift"] = items["uplift"].astype(float).fillna(0.0)
    items = items.sort_values(["planned_start_month", "_order"], kind="stable").reset_index(drop=True)
    items = items[ITEM_COLUMNS + efforts]

    capacity = (teams.groupby("skill", sort=True)["capacity_pw"].sum() / pm).astype(float).to_dict()
    by_period = capacity_table(teams, settings)  # with the per-period overrides, as the optimiser plans
    by_month = {
        str(skill): tuple(float(c) / pm for c in g.sort_values("period")["capacity_pw"] for _ in range(pm))
        for skill, g in by_period.groupby("skill", sort=True)
    }
    for col in efforts:
        skill = col[len(EFFORT_PREFIX) :]
        needing = items.loc[items[col] > 0, "item_id"].tolist()
        if needing and capacity.get(skill, 0.0) <= 0:
            raise ModelError(
                f"plan '{name}': items {', '.join(needing)} need skill '{skill}' but no team "
                f"has it. Fix: add a team with skill '{skill}' to teams.csv."
            )
    products = market_state(kpi_history, baselines=baselines)
    limits = kpi_limits(kpi_history, settings.kpi_limits).set_index("product")
    for col, none in NO_LIMITS.items():
        products[col] = products["product"].map(limits[col]).fillna(none).astype(float)
    unknown = sorted(set(items["product"]) - set(products["product"]))
    if unknown:
        which = items.loc[items["product"].isin(unknown), "item_id"].tolist()
        raise ModelError(
            f"plan '{name}': products {', '.join(unknown)} (items {', '.join(which)}) have no "
            "KPI history. Fix: add their monthly KPIs to kpis.csv."
        )
    headcount = (
        teams.groupby("skill", sort=True)["headcount"].sum().astype(float).to_dict()
        if "headcount" in teams.columns
        else {}
    )
    return SimulationPlan(
        name=name,
        items=items,
        products=products,
        capacity_pw_per_month=capacity,
        months=settings.months,
        discount_rate=float(settings.discount_rate),
        headcount=headcount,
        okrs=okr_table(okrs, pm) if okrs is not None else None,
        universe=tuple(sorted(backlog["item_id"].astype(str))),
        capacity_pw_by_month=by_month,
        company=company_facts(backlog, teams, kpi_history, settings, baselines=baselines),
        realisation=settings.realisation,
    )


def kpi_limits(kpi_history: pd.DataFrame, limits: KpiLimits | None = None) -> pd.DataFrame:
    """Per product of the history, where its KPIs saturate (``LIMIT_COLUMNS``).

    * conversion_ceiling (share of MAU): ``limits.conversion_ceiling[product]`` if given, else
      min(1, ``conversion_ceiling_factor`` x the highest monthly conversion_rate on record);
      1 when the history has none;
    * churn_floor (monthly rate): ``limits.churn_floor[product]`` if given, else
      ``churn_floor_factor`` x the lowest monthly churn on record, churn = churned_users / the
      previous calendar month's mau over the months where both exist (mau > 0); 0 when none;
    * potential_ceiling_factor (x the market potential): ``limits.potential_ceiling_factor``.

    The market step keeps today's level where a limit lies beyond it on the wrong side
    (:func:`models.simulation.effects.combine`).
    """
    limits = limits if limits is not None else KpiLimits()
    rows = []
    for product, g in kpi_history.groupby("product", sort=True):
        g = g.sort_values("month")
        conv = pd.to_numeric(g["conversion_rate"], errors="coerce") if "conversion_rate" in g else None
        best = float(conv.max()) if conv is not None and conv.notna().any() else np.nan
        ceiling = min(1.0, limits.conversion_ceiling_factor * best) if np.isfinite(best) else 1.0
        churn = pd.Series(dtype=float)
        if {"churned_users", "mau", "month"} <= set(g.columns):
            month = pd.to_datetime(g["month"])
            consecutive = (month.dt.year * 12 + month.dt.month).diff() == 1
            prev_mau = pd.to_numeric(g["mau"], errors="coerce").shift(1)
            prev = prev_mau.where(consecutive & (prev_mau > 0))
            churn = (pd.to_numeric(g["churned_users"], errors="coerce") / prev).dropna()
        floor = limits.churn_floor_factor * float(churn.min()) if len(churn) else 0.0
        rows.append(
            {
                "product": str(product),
                "conversion_ceiling": float(limits.conversion_ceiling.get(str(product), ceiling)),
                "churn_floor": float(limits.churn_floor.get(str(product), floor)),
                "potential_ceiling_factor": float(limits.potential_ceiling_factor),
            }
        )
    return pd.DataFrame(rows, columns=LIMIT_COLUMNS)


def okr_table(okrs: pd.DataFrame, period_months: int = 3) -> pd.DataFrame:
    """The key results in ``OKR_COLUMNS``: product and baseline missing where not given;
    deadline_month from ``deadline_month`` or ``deadline_period`` (its last month), else missing."""
    missing = [c for c in ("key_result", "metric", "target") if c not in okrs.columns]
    if missing:
        raise ModelError(
            f"okrs: columns {', '.join(missing)} missing. Fix: give every key result its "
            "key_result, metric and target (see data/demo/okrs.csv)."
        )
    out = pd.DataFrame({"key_result": okrs["key_result"].astype(str)})
    out["objective"] = okrs["objective"].astype(str) if "objective" in okrs else ""
    out["metric"] = okrs["metric"].astype(str).str.strip().str.lower()
    out["product"] = okrs["product"].where(okrs["product"].notna(), None) if "product" in okrs else None
    out["target"] = okrs["target"].astype(float)
    out["weight"] = okrs["weight"].astype(float) if "weight" in okrs else 1.0
    out["baseline"] = okrs["baseline"].astype(float) if "baseline" in okrs else np.nan
    if "deadline_month" in okrs:
        out["deadline_month"] = okrs["deadline_month"].astype(float)
    elif "deadline_period" in okrs:
        out["deadline_month"] = okrs["deadline_period"].astype(float) * period_months
    else:
        out["deadline_month"] = np.nan
    return out[OKR_COLUMNS].reset_index(drop=True)


def market_state(
    kpi_history: pd.DataFrame,
    bass_p: float = BASS_P_PER_MONTH,
    bass_q: float = BASS_Q_PER_MONTH,
    baselines: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Starting market state per product: the KPI baselines of :func:`models.valuation.kpi_baselines`
    (means over the last months of history; churn_rate is churned_users / the previous
    month's mau) plus the Bass parameters. The market potential m is the one at which
    the Bass adoption rate with the given p and q reproduces the recent new users n at the
    current users U: ``(p + q U/m)(m - U) = n``, i.e. the positive root of
    ``p m^2 + (q U - p U - n) m - q U^2 = 0`` (m = U when n = 0). ``baselines``: ``kpi_baselines(kpi_history)``
    when the caller has it.
    """
    base = kpi_baselines(kpi_history) if baselines is None else baselines
    # a single month of history has no previous month: churn against the same month
    last = kpi_history.sort_values("month").groupby("product", sort=True).tail(1).set_index("product")
    same_month = (last["churned_users"] / last["mau"].where(last["mau"] > 0)).fillna(0.0)
    churn = base["churn_rate"].fillna(base["product"].map(same_month)).clip(0.0, 1.0)
    out = pd.DataFrame(
        {
            **NO_LIMITS,
            "product": base["product"],
            "mau": base["mau"],
            "customers": base["paying_customers"],
            "conversion_rate": base["conversion_rate"],
            "arpu": base["arpu"],
            "churn_rate": churn,
            "nps": base["nps"],
            "new_users": base["new_users"],
            "market_potential": [
                bass_market_potential(u, n, bass_p, bass_q) for u, n in zip(base["mau"], base["new_users"], strict=True)
            ],
            "bass_p": bass_p,
            "bass_q": bass_q,
        }
    )
    return out[PRODUCT_COLUMNS].reset_index(drop=True)


def bass_market_potential(users: float, new_users: float, p: float, q: float) -> float:
    """Market potential m (people) at which Bass adoption at ``users`` equals ``new_users``/month."""
    if p <= 0:
        raise ModelError("the Bass innovation coefficient p must be positive to derive a market potential.")
    b = q * users - p * users - new_users
    return float((-b + np.sqrt(b * b + 4 * p * q * users * users)) / (2 * p))


def single_product_plan(
    *,
    product: str = "Product",
    users: float = 0.0,
    market_potential: float = 10_000,
    bass_p: float = 0.03,
    bass_q: float = 0.38,
    churn_rate: float = 0.0,
    conversion_rate: float = 1.0,
    arpu: float = 1.0,
    nps: float = 0.0,
    months: int = 36,
    discount_rate: float = 0.0,
    name: str = "market only",
    items: pd.DataFrame | None = None,
    capacity_pw_per_month: dict[str, float] | None = None,
    headcount: dict[str, float] | None = None,
    okrs: pd.DataFrame | None = None,
    realisation: RealisationSettings | None = None,
    conversion_ceiling: float = NO_LIMITS["conversion_ceiling"],
    churn_floor: float = NO_LIMITS["churn_floor"],
    potential_ceiling_factor: float = NO_LIMITS["potential_ceiling_factor"],
) -> SimulationPlan:
    """A one-product plan (no items unless given), e.g. to check adoption against Bass.

    Rates per model step (a month); ``items`` in the layout of :attr:`SimulationPlan.items`.
    Without ``realisation`` every uplift is realised exactly as estimated; the KPI limits
    default to none (conversion up to 1, churn down to 0, potential without end).
    """
    products = pd.DataFrame(
        [
            {
                "product": product,
                "mau": float(users),
                "customers": float(users) * conversion_rate,
                "conversion_rate": conversion_rate,
                "arpu": arpu,
                "churn_rate": churn_rate,
                "nps": nps,
                "new_users": 0.0,
                "market_potential": float(market_potential),
                "bass_p": bass_p,
                "bass_q": bass_q,
                "conversion_ceiling": float(conversion_ceiling),
                "churn_floor": float(churn_floor),
                "potential_ceiling_factor": float(potential_ceiling_factor),
            }
        ],
        columns=PRODUCT_COLUMNS,
    )
    if items is None:
        items = pd.DataFrame(
            {
                c: pd.Series(
                    dtype=object
                    if c in ("item_id", "product", "kpi", "differentiation", "okr", "depends_on", "replaces")
                    else float
                )
                for c in ITEM_COLUMNS
            }
        )
    return SimulationPlan(
        name=name,
        items=items.reset_index(drop=True),
        products=products,
        capacity_pw_per_month=dict(capacity_pw_per_month or {}),
        months=months,
        discount_rate=discount_rate,
        headcount=dict(headcount or {}),
        okrs=okr_table(okrs) if okrs is not None else None,
        **({"realisation": realisation} if realisation is not None else {}),
    )
