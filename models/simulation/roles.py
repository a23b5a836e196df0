"""Roles: library scenarios name products and skills by what they are to the company.

A shock's ``product``, ``skill``, ``from_product``, ``to_product`` or a regulation's effort
skill may be a name (``IoT Platform``), ``all`` (every one, as if the key were left out) or a
role (:class:`~models.simulation.scenario.Role`), for example ``{largest: mrr}``,
``{fastest_growing: mau}``, ``{smallest: mau}``, ``{most_loaded: true}`` or
``{largest: capacity, rank: 2}``. :func:`resolve` turns the roles into the company's names
when a run starts and records what each one meant (:data:`RESOLUTION_COLUMNS`).

The facts a role is read from (:class:`Company`, built once per plan by :func:`company_facts`):

* products (KPI baselines of :func:`models.valuation.kpi_baselines`, means of the last 3
  months): ``mrr`` (EUR/month), ``mau``, ``dau``, ``paying_customers``, ``new_users`` (per
  month), ``arpu`` (EUR/month); growth ``mrr`` and ``mau``: the compound monthly growth fitted
  to the last 12 months of history (``*_growth_per_month`` of the KPI baselines);
* skills (teams.csv and the backlog): ``capacity`` (pw per period, summed over the skill's
  teams), ``headcount``, ``cost_per_pw`` (EUR, capacity-weighted over its teams),
  ``backlog_effort`` (pw of the backlog items not done) and ``load`` = backlog_effort / the
  skill's capacity over the whole horizon (per-period overrides included). ``most_loaded`` is
  ``largest: load``: a property of the company, not of the plan under test, so every plan of a
  stress test meets the same shock (common scenarios, like the common random numbers).

Ties go to the name first in alphabetical order; products or skills without a value of the
metric (e.g. no growth with one month of history) are not ranked. Within a market shift, a
role picks among the products other than the shift's other side, so the two differ; on a
company with one product a market shift by role is skipped, with a note. A regulation's effort
entries that resolve to the same skill add up.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from models.errors import InputProblem, ScenarioError
from models.schemas import EFFORT_PREFIX
from models.simulation.scenario import (
    ALL,
    PRODUCT_GROWTH_METRICS,
    PRODUCT_SIZE_METRICS,
    SKILL_METRICS,
    MarketShift,
    RegulatoryMustHave,
    Role,
    Scenario,
    _key_of,
)
from models.yamlfile import line_of

RESOLUTION_COLUMNS = ["scenario", "shock", "type", "key", "role", "resolved", "note"]


@dataclass(frozen=True)
class Company:
    """What roles are read from: ``products`` (index product; ``PRODUCT_SIZE_METRICS`` and the
    growth columns ``mrr_growth``, ``mau_growth``) and ``skills`` (index skill; ``SKILL_METRICS``)."""

    products: pd.DataFrame
    skills: pd.DataFrame

    def column(self, role: Role) -> pd.Series:
        """The values a role ranks (NaN: not ranked)."""
        table = self.products if role.kind == "product" else self.skills
        name = f"{role.metric}_growth" if role.order.endswith("_growing") else role.metric
        if name not in table:
            return pd.Series(np.nan, index=table.index, dtype=float)
        return table[name].astype(float)


def company_facts(
    backlog: pd.DataFrame,
    teams: pd.DataFrame,
    kpi_history: pd.DataFrame,
    settings,
    baselines: pd.DataFrame | None = None,
) -> Company:
    """The facts roles are resolved against, from the canonical tables (see the module docstring);
    ``baselines``: ``kpi_baselines(kpi_history)`` when the caller has it."""
    from models.portfolio.inputs import capacity_table
    from models.valuation import kpi_baselines

    base = (kpi_baselines(kpi_history) if baselines is None else baselines).set_index("product")
    products = base[list(PRODUCT_SIZE_METRICS)].astype(float).copy()
    for metric in PRODUCT_GROWTH_METRICS:
        products[f"{metric}_growth"] = base[f"{metric}_growth_per_month"].astype(float)
    products.index = products.index.astype(str)

    g = teams.assign(skill=teams["skill"].astype(str)).groupby("skill", sort=True)
    capacity = g["capacity_pw"].sum().astype(float)
    skills = pd.DataFrame({"capacity": capacity})
    skills["headcount"] = g["headcount"].sum().astype(float) if "headcount" in teams else np.nan
    if "cost_per_pw" in teams:
        weighted = teams.assign(_c=teams["cost_per_pw"] * teams["capacity_pw"]).groupby(teams["skill"].astype(str))
        skills["cost_per_pw"] = (weighted["_c"].sum() / capacity.where(capacity > 0)).astype(float)
    else:
        skills["cost_per_pw"] = np.nan
    open_items = backlog
    if "status_category" in backlog:
        open_items = backlog.loc[backlog["status_category"].astype(str) != "Done"]
    skills["backlog_effort"] = [
        float(open_items[f"{EFFORT_PREFIX}{s}"].fillna(0).sum()) if f"{EFFORT_PREFIX}{s}" in open_items else 0.0
        for s in skills.index
    ]
    horizon = capacity_table(teams, settings).groupby("skill")["capacity_pw"].sum().astype(float)
    horizon.index = horizon.index.astype(str)
    total = horizon.reindex(skills.index)
    skills["load"] = skills["backlog_effort"] / total.where(total > 0)
    skills = skills.loc[skills["capacity"] > 0]
    return Company(products=products, skills=skills[list(SKILL_METRICS)])


def plan_facts(plan) -> Company:
    """The facts of a plan built without the canonical tables (e.g. ``single_product_plan``): its
    products' starting state (mrr = paying customers x ARPU; no dau, no growth) and its skills'
    capacity per month, headcount and the plan's own effort (its funded items) as backlog."""
    p = plan.products.set_index(plan.products["product"].astype(str))
    products = pd.DataFrame(
        {
            "mrr": (p["customers"] * p["arpu"]).astype(float),
            "mau": p["mau"].astype(float),
            "dau": np.nan,
            "paying_customers": p["customers"].astype(float),
            "new_users": p["new_users"].astype(float),
            "arpu": p["arpu"].astype(float),
            "mrr_growth": np.nan,
            "mau_growth": np.nan,
        }
    )
    names = [s for s in plan.skills if plan.capacity_pw_per_month.get(s, 0.0) > 0]
    capacity = pd.Series({s: float(plan.capacity_pw_per_month[s]) for s in names}, dtype=float)
    effort = pd.Series(
        {
            s: float(plan.items[f"{EFFORT_PREFIX}{s}"].sum()) if f"{EFFORT_PREFIX}{s}" in plan.items else 0.0
            for s in names
        },
        dtype=float,
    )
    skills = pd.DataFrame(
        {
            "capacity": capacity,
            "headcount": pd.Series({s: float(plan.people(s)) for s in names}, dtype=float),
            "cost_per_pw": np.nan,
            "backlog_effort": effort,
            "load": effort / (capacity * max(plan.months, 1)),
        },
        index=pd.Index(names, dtype=object),
    )
    return Company(products=products, skills=skills)


@dataclass(frozen=True)
class Resolved:
    """A scenario with every role replaced by a name (``all`` by every one) and the record of
    each role: ``table`` in :data:`RESOLUTION_COLUMNS` (shock 1-based; key like
    ``from_product`` or ``effort.1.skill``; role as written; resolved name, ``all``
    or ``skipped``; note: the value that decided, or why a shock was skipped)."""

    scenario: Scenario
    table: pd.DataFrame

    def text(self) -> str:
        """The record in one line: ``market_shift: shock 1 from_product {largest: mrr} -> IoT Platform; ...``."""
        return resolution_text(self.table)


def resolution_text(table: pd.DataFrame) -> str:
    """Rows of a resolution table as ``scenario: shock N key role -> name`` joined by ``; ``, e.g.
    ``market_shift: shock 1 from_product {largest: mrr} -> IoT Platform`` (a skipped shock says why)."""
    return "; ".join(
        f"{r.scenario}: shock {r.shock} {r.key} {r.role} -> {r.resolved}"
        + (f" ({r.note})" if r.resolved == "skipped" else "")
        for r in table.itertuples(index=False)
    )


def _fmt(value: float) -> str:
    if abs(value) < 1:
        return f"{value:.2%}" if value else "0"
    return f"{value:,.1f}" if abs(value) < 100 else f"{value:,.0f}"


class _Resolver:
    def __init__(self, scenario: Scenario, company: Company, products: list[str], skills: list[str]):
        self.scenario, self.company = scenario, company
        self.known = {"product": products, "skill": skills}
        self.problems: list[InputProblem] = []
        self.rows: list[dict] = []

    def problem(self, loc: list, message: str, fix: str) -> None:
        self.problems.append(
            InputProblem(self.scenario.source, message, fix, line_of(self.scenario._text, loc), _key_of(loc))
        )

    def record(self, i: int, shock, key: str, role: str, resolved: str, note: str = "") -> None:
        self.rows.append(
            {
                "scenario": self.scenario.name,
                "shock": i + 1,
                "type": shock.type,
                "key": key,
                "role": role,
                "resolved": resolved,
                "note": note,
            }
        )

    def name(self, i: int, shock, key: str, value, kind: str, optional: bool, exclude: tuple[str, ...] = ()):
        """The name ``value`` stands for (None: every one); problems are collected."""
        loc = ["shocks", i, *key.split(".")]
        known = self.known[kind]
        if value is None:
            return None
        if isinstance(value, str):
            if value == ALL and optional:
                self.record(i, shock, key, ALL, ALL, f"every {kind}: {', '.join(known)}")
                return None
            if value not in known:
                fix = f"use one of {sorted(known)}, a role such as " + (
                    "{largest: mrr}" if kind == "product" else "{most_loaded: true}"
                )
                fix += f" or leave '{key}' out to hit all of them." if optional else "."
                self.problem(loc, f"shock {i + 1} ({shock.type}) names the unknown {kind} '{value}'.", fix)
                return False
            return value
        values = self.company.column(value).reindex([n for n in known if n not in exclude]).dropna()
        others = " other than " + ", ".join(exclude) if exclude else ""
        if len(values) < value.rank:
            have = f"{len(values)} {kind}{'s' if len(values) != 1 else ''}{others} with a value of {value.metric}"
            if value.order.endswith("_growing"):
                have += " growth (it needs at least two months of KPI history)"
            self.problem(
                loc,
                f"shock {i + 1} ({shock.type}): {key} {value.text()} cannot be resolved on this company: "
                f"it has {have}.",
                f"name the {kind} (one of {sorted(known)}) or use another role"
                + (f" or a rank up to {len(values)}." if len(values) else "."),
            )
            return False
        descending = value.order in ("largest", "fastest_growing")
        ranked = sorted(values.items(), key=lambda kv: ((-kv[1] if descending else kv[1]), kv[0]))
        chosen, metric = ranked[value.rank - 1]
        what = (
            f"{value.metric} growth {metric:+.2%}/month"
            if value.order.endswith("_growing")
            else (f"{value.metric} {_fmt(metric)}")
        )
        self.record(i, shock, key, value.text(), chosen, f"{what}; {len(values)} {kind}s ranked{others}")
        return chosen

    def shock(self, i: int, shock):
        update: dict = {}
        if isinstance(shock, MarketShift):
            roles = [v for v in (shock.from_product, shock.to_product) if isinstance(v, Role)]
            if roles and len(self.known["product"]) < 2:
                self.record(
                    i,
                    shock,
                    "from_product, to_product",
                    " -> ".join(v.text() if isinstance(v, Role) else v for v in (shock.from_product, shock.to_product)),
                    "skipped",
                    f"the company has one product ({', '.join(self.known['product'])}); a market shift needs two",
                )
                return None
            fixed_to = (shock.to_product,) if isinstance(shock.to_product, str) else ()
            src = self.name(i, shock, "from_product", shock.from_product, "product", False, fixed_to)
            dst = self.name(
                i, shock, "to_product", shock.to_product, "product", False, (src,) if isinstance(src, str) else ()
            )
            update = {"from_product": src, "to_product": dst}
        for key, kind in (("product", "product"), ("skill", "skill")):
            if key in type(shock).model_fields:
                update[key] = self.name(i, shock, key, getattr(shock, key), kind, True)
        if isinstance(shock, RegulatoryMustHave):
            effort: dict[str, float] = {}
            pws = shock.effort.values() if isinstance(shock.effort, dict) else [e.pw for e in shock.effort]
            for (key, value), pw in zip(_effort_names(shock), pws, strict=True):
                skill = self.name(i, shock, key, value, "skill", False)
                if isinstance(skill, str):
                    effort[skill] = effort.get(skill, 0.0) + pw
            update["effort"] = effort
        return shock.model_copy(update=update)


_NO_ROLES = pd.DataFrame(columns=RESOLUTION_COLUMNS)  # the record of a scenario without roles (not to be changed)


def _effort_names(shock: RegulatoryMustHave) -> list[tuple[str, str | Role]]:
    """(key, skill as written) of each entry of a regulation's effort."""
    if isinstance(shock.effort, dict):
        return [(f"effort.{k}", k) for k in shock.effort]
    return [(f"effort.{j}.skill", e.skill) for j, e in enumerate(shock.effort)]


def resolve(
    scenario: Scenario, company: Company, products: list[str] | None = None, skills: list[str] | None = None
) -> Resolved:
    """``scenario`` with its roles resolved against ``company`` (names checked against
    ``products`` and ``skills``, default: the company's). Raises one ScenarioError listing every
    unknown name and every role this company cannot resolve, each with file, line and key."""
    products = list(company.products.index) if products is None else list(products)
    skills = list(company.skills.index) if skills is None else list(skills)
    r = _Resolver(scenario, company, products, skills)
    if not scenario.has_roles():  # names only (e.g. a scenario resolved before): check them, keep it as it is
        for i, shock in enumerate(scenario.shocks):
            for key in ("product", "skill", "from_product", "to_product"):
                value = shock.__dict__.get(key)  # (a pydantic getattr of a missing field is slow)
                if isinstance(value, str):
                    r.name(i, shock, key, value, "skill" if key == "skill" else "product", True)
            if isinstance(shock, RegulatoryMustHave):
                for key, value in _effort_names(shock):
                    r.name(i, shock, key, value, "skill", False)
        if r.problems:
            raise ScenarioError(r.problems)
        return Resolved(scenario, _NO_ROLES)
    shocks = [s for s in (r.shock(i, shock) for i, shock in enumerate(scenario.shocks)) if s is not None]
    if r.problems:
        raise ScenarioError(r.problems)
    return Resolved(scenario.model_copy(update={"shocks": shocks}), pd.DataFrame(r.rows, columns=RESOLUTION_COLUMNS))


def resolve_for_plan(scenario: Scenario, plan) -> Resolved:
    """:func:`resolve` against a plan's company (:attr:`SimulationPlan.company`, else
    :func:`plan_facts`), names checked against the plan's products and skills."""
    return resolve(scenario, plan.facts, plan.arrays.products, plan.arrays.skills)
