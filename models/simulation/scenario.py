"""Scenarios: what the world does to a plan, in the vocabulary of the EMA Workbench.

A scenario file (``scenarios/<name>.yaml``) declares

* ``constants``: fixed values for model parameters (overriding :class:`Parameters` defaults),
* ``uncertainties``: distributions, each sampled once per replication,
* ``shocks``: timed events (demand drop, market shift, competitor entry, budget cut, cost
  inflation, price pressure, a regulatory Must-have),
* ``replications`` and ``seed``.

Every key is checked: an unknown key, parameter, distribution or shock type is a
:class:`~models.errors.ScenarioError` naming the file, the line and the key. Products and
skills named by shocks are checked against the plan when the scenario is applied
(:meth:`Scenario.check_plan`).

Units: months are 1-based months from the start of the plan; factors are multipliers (x);
shares are fractions (0.1 = 10 %).
"""

from __future__ import annotations

import functools
import math
import zlib
from pathlib import Path
from typing import Annotated, Any, Literal, get_args

import numpy as np
import pandas as pd
from annotated_types import Ge, Gt, Le, Lt
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    create_model,
    model_validator,
)
from pydantic.fields import FieldInfo

from models.errors import InputProblem, ScenarioError
from models.yamlfile import line_of, parse_yaml_mapping, read_yaml_text, validation_problems


def name_key(name: str) -> int:
    """A name as a stable integer (CRC-32 of its UTF-8 text), for seeds: the streams of
    :func:`named_stream` and the replication seeds of the runner."""
    return zlib.crc32(str(name).encode("utf-8"))


def named_stream(key: int, name: str) -> np.random.Generator:
    """The random stream of ``name`` under ``key`` (PCG64 seeded by ``SeedSequence([key, name_key(name)])``):
    the same key and name give the same draws, whatever other names draw."""
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence([key, name_key(name)])))


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, ser_json_inf_nan="constants")


# ---------------------------------------------------------------------------------------
# Model parameters: what constants and uncertainties may set
# ---------------------------------------------------------------------------------------


class Parameters(_Strict):
    """Every parameter of the simulation model: default, unit and source (in each description).

    Sources are named where there is one; "judgement" marks a default chosen by judgement.
    Scenario files override the defaults through ``constants`` or ``uncertainties``.
    """

    # delivery: effort
    effort_multiplier: float = Field(
        0.46,
        gt=0,
        description="median of the lognormal ratio of actual to planned effort before early_finish_returned "
        "applies (x). Calibrated: lognormal fitted to the "
        "32,849 issues due >= 28 days ahead in Choetkiertikul et al. (2017), 12.6 % delayed, "
        "median overrun of the delayed 1.30 x (models/simulation/calibration.py)",
    )
    item_effort_sigma: float = Field(
        0.68,
        ge=0,
        description="log-standard deviation of each item's lognormal effort factor (-). Calibrated with "
        "effort_multiplier (same source)",
    )
    early_finish_returned: float = Field(
        0.0,
        ge=0,
        le=1,
        description="share of an under-run (multiplier below 1) that comes back as free capacity (-). 0: an "
        "item takes at least its planned effort, as work expands to fill the time planned "
        "(Parkinson 1955); the due-date data cannot tell, since an on-time issue only says M <= 1",
    )
    max_speedup: float = Field(
        1.25, ge=1, description="fastest pace of an item relative to its planned pace (x planned pw/month); judgement"
    )
    capacity_factor: float = Field(1.0, ge=0, description="multiplier on every team's capacity (x); judgement")
    # delivery: people
    attrition_per_month: float = Field(
        0.0117,
        ge=0,
        le=1,
        description="monthly hazard that a person leaves (1/month): 13.2 %/year, the software industry's "
        "turnover in LinkedIn Talent Solutions (2018), as 1 - (1 - 0.132)^(1/12)",
    )
    hiring_lag_months: float = Field(
        3.0, ge=0, description="months from a leaver's departure to the replacement's first month; judgement"
    )
    ramp_up_months: float = Field(
        3.0,
        ge=0,
        description="months a replacement needs to reach full productivity: in its k-th month it "
        "works at min(1, k / (ramp_up_months + 1)) (-); judgement",
    )
    context_switch_loss: float = Field(
        0.2,
        ge=0,
        le=1,
        description="share of a skill's capacity lost per workable item per person above both the plan's "
        "own parallel items and context_switch_threshold (-): Weinberg's rule of thumb of 20 % "
        "per extra project "
        "(Quality Software Management 1, 1992), a rule of thumb, not a measurement",
    )
    context_switch_threshold: float = Field(
        1.0,
        ge=0,
        description="workable items per person a skill carries without switching loss (items/person); judgement",
    )
    context_switch_max_loss: float = Field(
        0.75,
        ge=0,
        le=1,
        description="largest share of capacity lost to switching (-): Weinberg's table ends "
        "at 75 % lost with five projects",
    )
    cost_inflation_per_year: float = Field(
        0.0,
        ge=0,
        description="annual rise of team cost under a fixed budget (1/year): capacity x "
        "(1 + rate)^-((month - 1)/12). Default 0: plans are in constant prices",
    )
    # market
    demand_factor: float = Field(
        1.0, ge=0, description="multiplier on every product's market potential m (x); judgement"
    )
    bass_p_factor: float = Field(
        1.0,
        ge=0,
        description="multiplier on the Bass innovation coefficient p (x); 1: the plan's p "
        "(Sultan, Farley & Lehmann 1990 mean)",
    )
    bass_q_factor: float = Field(
        1.0,
        ge=0,
        description="multiplier on the Bass imitation coefficient q (x); 1: the plan's q "
        "(Sultan, Farley & Lehmann 1990 mean)",
    )
    churn_factor: float = Field(
        1.0, ge=0, description="multiplier on the base monthly churn rate (x); 1: the KPI history's churn"
    )
    price_factor: float = Field(1.0, ge=0, description="multiplier on ARPU (x); 1: the KPI history's ARPU")
    # competition
    competitor_entry_month: float = Field(
        math.inf,
        ge=0,
        description="month a competitor enters every product's market (inf: never; judgement: no entrant is known)",
    )
    copy_lag_months: float = Field(
        9.0, ge=0, description="months from the moment a competitor could copy a differentiator to its copy; judgement"
    )
    copy_half_life_months: float = Field(
        3.0, ge=0, description="half-life (months) of a copied differentiator's remaining edge; judgement"
    )
    differentiator_retention: float = Field(
        0.3, ge=0, le=1, description="share of a fully copied differentiator's uplift that remains (-); judgement"
    )
    churn_pressure: float = Field(
        0.5, ge=0, description="relative increase of churn at full competitor parity (0.5 = +50 %); judgement"
    )
    nps_parity_penalty: float = Field(10.0, ge=0, description="NPS points lost at full competitor parity; judgement")
    base_edge_weight: float = Field(
        1.0,
        ge=0,
        description="weight of a product's existing edge against its delivered differentiators "
        "(each weighs 1) in the competitor's parity (-); judgement",
    )
    # horizon
    horizon_months: int | None = Field(
        None, ge=1, le=240, description="months simulated (default: the plan's periods x period_months)"
    )


PARAMETER_NAMES: tuple[str, ...] = tuple(Parameters.model_fields)
# parameters an uncertainty may sample (the horizon is structural, constants only)
UNCERTAIN_PARAMETERS: tuple[str, ...] = tuple(n for n, f in Parameters.model_fields.items() if f.annotation is float)


@functools.cache  # called for every uncertainty of every draw
def parameter_bounds(name: str) -> tuple[float, float]:
    """Valid closed range [low, high] of a float parameter (open bounds treated as closed)."""
    low, high = -math.inf, math.inf
    for m in Parameters.model_fields[name].metadata:
        if isinstance(m, (Ge, Gt)):
            low = float(m.ge if isinstance(m, Ge) else m.gt)
        elif isinstance(m, (Le, Lt)):
            high = float(m.le if isinstance(m, Le) else m.lt)
    return low, high


# ---------------------------------------------------------------------------------------
# Distributions
# ---------------------------------------------------------------------------------------


class Uniform(_Strict):
    """Uniform on [low, high]."""

    dist: Literal["uniform"]
    low: float
    high: float

    @model_validator(mode="after")
    def _ordered(self) -> Uniform:
        if self.low > self.high:
            raise ValueError(f"low {self.low} exceeds high {self.high}")
        return self

    def sample(self, rng: np.random.Generator) -> float:
        return float(rng.uniform(self.low, self.high))

    def support(self) -> tuple[float, float]:
        return self.low, self.high


class Triangular(_Strict):
    """Triangular with minimum ``low``, most likely ``mode`` and maximum ``high``."""

    dist: Literal["triangular"]
    low: float
    mode: float
    high: float

    @model_validator(mode="after")
    def _ordered(self) -> Triangular:
        if not (self.low <= self.mode <= self.high) or self.low == self.high:
            raise ValueError(f"need low <= mode <= high and low < high, got {self.low}, {self.mode}, {self.high}")
        return self

    def sample(self, rng: np.random.Generator) -> float:
        return float(rng.triangular(self.low, self.mode, self.high))

    def support(self) -> tuple[float, float]:
        return self.low, self.high


class Normal(_Strict):
    """Normal with ``mean`` and standard deviation ``sd`` (clipped to the parameter's range)."""

    dist: Literal["normal"]
    mean: float
    sd: float = Field(ge=0)

    def sample(self, rng: np.random.Generator) -> float:
        return float(rng.normal(self.mean, self.sd))

    def support(self) -> tuple[float, float]:
        return -math.inf, math.inf


class Lognormal(_Strict):
    """Lognormal with ``median`` (= exp(mu)) and log-standard deviation ``sigma``."""

    dist: Literal["lognormal"]
    median: float = Field(gt=0)
    sigma: float = Field(ge=0)

    def sample(self, rng: np.random.Generator) -> float:
        return float(rng.lognormal(math.log(self.median), self.sigma))

    def support(self) -> tuple[float, float]:
        return 0.0, math.inf


class Choice(_Strict):
    """One of ``values``, with probabilities proportional to ``weights`` (equal if omitted)."""

    dist: Literal["choice"]
    values: list[float] = Field(min_length=1)
    weights: list[float] | None = None

    @model_validator(mode="after")
    def _weights(self) -> Choice:
        if self.weights is not None:
            if len(self.weights) != len(self.values):
                raise ValueError(f"{len(self.weights)} weights for {len(self.values)} values")
            if any(w < 0 for w in self.weights) or sum(self.weights) <= 0:
                raise ValueError("weights must be >= 0 with a positive sum")
        return self

    def sample(self, rng: np.random.Generator) -> float:
        w = None if self.weights is None else np.asarray(self.weights) / sum(self.weights)
        return float(rng.choice(np.asarray(self.values, dtype=float), p=w))

    def support(self) -> tuple[float, float]:
        return min(self.values), max(self.values)


Distribution = Annotated[Uniform | Triangular | Normal | Lognormal | Choice, Field(discriminator="dist")]


def _tags(union: Any, field: str) -> tuple[str, ...]:
    """The ``Literal`` tags of a discriminated union's members (field ``field``), in their order."""
    return tuple(
        tag for member in get_args(get_args(union)[0]) for tag in get_args(member.model_fields[field].annotation)
    )


DISTRIBUTIONS = _tags(Distribution, "dist")  # uniform, triangular, normal, lognormal, choice

# constants: any parameter, all optional; uncertainties: a distribution per float parameter
Constants = create_model(
    "Constants",
    __base__=_Strict,
    **{
        n: (f.annotation | None, FieldInfo.merge_field_infos(f, default=None))  # type: ignore[misc]
        for n, f in Parameters.model_fields.items()
    },
)
Uncertainties = create_model(
    "Uncertainties",
    __base__=_Strict,
    **dict.fromkeys(UNCERTAIN_PARAMETERS, (Distribution | None, None)),  # type: ignore[misc]
)


# ---------------------------------------------------------------------------------------
# Shocks
# ---------------------------------------------------------------------------------------


# Roles: a shock names a product or skill by what it is to the company ({largest: mrr}),
# resolved against the company's data when a run starts (models/simulation/roles.py).
PRODUCT_SIZE_METRICS = ("mrr", "mau", "dau", "paying_customers", "new_users", "arpu")
PRODUCT_GROWTH_METRICS = ("mrr", "mau")
SKILL_METRICS = ("capacity", "headcount", "cost_per_pw", "backlog_effort", "load")
ALL = "all"  # a product or skill named 'all': every one (as if the key were left out)


class Role(_Strict):
    """A product or skill named by its role: the ``rank``-th (1: the first) by one ordering.

    Products: ``largest`` / ``smallest`` by ``PRODUCT_SIZE_METRICS``, ``fastest_growing`` /
    ``slowest_growing`` by ``PRODUCT_GROWTH_METRICS``. Skills: ``largest`` / ``smallest`` by
    ``SKILL_METRICS``, ``most_loaded: true`` (= ``largest: load``)."""

    kind: Literal["product", "skill"]
    order: Literal["largest", "smallest", "fastest_growing", "slowest_growing"]
    metric: str
    rank: int = 1

    def text(self) -> str:
        """The role as written in a scenario file, e.g. ``{largest: mrr}``."""
        body = (
            "most_loaded: true"
            if (self.kind, self.order, self.metric) == ("skill", "largest", "load")
            else (f"{self.order}: {self.metric}")
        )
        return "{" + body + (f", rank: {self.rank}" if self.rank != 1 else "") + "}"

    def describe(self) -> str:
        """The role in words, e.g. ``the product with the largest mrr``."""
        nth = "" if self.rank == 1 else f"{_ordinal(self.rank)} "
        if self.order.endswith("growing"):
            return f"the {self.kind} with the {nth}{self.order.replace('_growing', '')}est growing {self.metric}"
        return f"the {self.kind} with the {nth}{self.order} {self.metric}"


def _ordinal(n: int) -> str:
    return f"{n}{'th' if 10 <= n % 100 <= 20 else {1: 'st', 2: 'nd', 3: 'rd'}.get(n % 10, 'th')}"


def _role_of(value: Any, kind: str) -> Any:
    """A shock's product or skill as written: a name (``all``: every one) or a role mapping."""
    if value is None or isinstance(value, (str, Role)):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    if not isinstance(value, dict):
        raise ValueError(f"name a {kind} or its role, e.g. {{largest: {'mrr' if kind == 'product' else 'capacity'}}}")
    if set(value) >= {"kind", "order", "metric"}:  # a stored role (scenario_table's JSON)
        return Role.model_validate(value)
    orders = (
        {"largest": PRODUCT_SIZE_METRICS, "smallest": PRODUCT_SIZE_METRICS}
        | {"fastest_growing": PRODUCT_GROWTH_METRICS, "slowest_growing": PRODUCT_GROWTH_METRICS}
        if kind == "product"
        else {"largest": SKILL_METRICS, "smallest": SKILL_METRICS, "most_loaded": (True,)}
    )
    unknown = sorted(str(k) for k in value if k not in orders and k != "rank")
    given = [k for k in value if k in orders]
    if unknown or len(given) != 1:
        what = f"unknown role key(s) {', '.join(unknown)}" if unknown else f"{len(given)} roles in one"
        raise ValueError(f"{what} in a {kind} role")
    order, metric = given[0], value[given[0]]
    if metric not in orders[order] or (order == "most_loaded" and metric is not True):
        raise ValueError(f"'{order}: {metric}' is not a {kind} role")
    rank = value.get("rank", 1)
    if isinstance(rank, bool) or not isinstance(rank, int) or rank < 1:
        raise ValueError(f"rank must be a whole number >= 1 (1: the first), got {rank!r}")
    if order == "most_loaded":
        order, metric = "largest", "load"
    return Role(kind=kind, order=order, metric=metric, rank=rank)


_ROLE_HELP = {
    "product": f"{{largest: {'|'.join(PRODUCT_SIZE_METRICS)}}}, {{smallest: ...}}, "
    f"{{fastest_growing: {'|'.join(PRODUCT_GROWTH_METRICS)}}}, {{slowest_growing: ...}}",
    "skill": f"{{largest: {'|'.join(SKILL_METRICS)}}}, {{smallest: ...}}, {{most_loaded: true}}",
}
ProductRef = Annotated[str | Role | None, BeforeValidator(lambda v: _role_of(v, "product"))]
SkillRef = Annotated[str | Role | None, BeforeValidator(lambda v: _role_of(v, "skill"))]


def _effort_of(value: Any) -> Any:
    """A regulation's effort as written: ``{skill: pw}`` or a list of ``{skill: name or role, pw: N}``."""
    if isinstance(value, dict):
        if not value:
            raise ValueError("no effort: give at least one skill with its person-weeks, e.g. {backend: 20}")
        bad = [str(k) for k, pw in value.items() if isinstance(pw, bool) or not isinstance(pw, (int, float)) or pw <= 0]
        if bad:
            raise ValueError(f"the effort of {', '.join(bad)} must be a number of person-weeks > 0")
        return {str(k): float(pw) for k, pw in value.items()}
    if isinstance(value, (list, tuple)):
        if not value:
            raise ValueError("no effort: give at least one {skill: ..., pw: ...}")
        out = []
        for i, entry in enumerate(value):
            if isinstance(entry, EffortShare):
                out.append(entry)
                continue
            if not isinstance(entry, dict) or set(entry) != {"skill", "pw"}:
                raise ValueError(f"entry {i + 1} must be {{skill: <name or role>, pw: <person-weeks>}}")
            pw = entry["pw"]
            if isinstance(pw, bool) or not isinstance(pw, (int, float)) or pw <= 0:
                raise ValueError(f"entry {i + 1}: pw must be a number of person-weeks > 0")
            out.append(EffortShare(skill=_role_of(entry["skill"], "skill"), pw=float(pw)))
        return out
    raise ValueError("give the effort as {skill: pw} or as a list of {skill: <name or role>, pw: <person-weeks>}")


class EffortShare(_Strict):
    """Person-weeks of one skill (a name or a role) in a regulation's effort."""

    skill: str | Role
    pw: float


class _Shock(_Strict):
    month: int = Field(ge=1, description="month the shock happens (1-based); it lasts to the horizon")
    note: str = Field("", description="where the shock comes from")


class DemandDrop(_Shock):
    """Market potential and active users of a product (all if omitted) fall by ``size``."""

    type: Literal["demand_drop"]
    product: ProductRef = None
    size: float = Field(gt=0, lt=1)


class CompetitorEntry(_Shock):
    """A competitor enters a product's market (all if omitted) in ``month`` (if not earlier)."""

    type: Literal["competitor_entry"]
    product: ProductRef = None


class BudgetCut(_Shock):
    """Capacity of a skill's teams (all if omitted) falls by ``size`` from ``month`` on."""

    type: Literal["budget_cut"]
    skill: SkillRef = None
    size: float = Field(gt=0, le=1)


class PricePressure(_Shock):
    """ARPU of a product (all if omitted) falls by ``size`` from ``month`` on."""

    type: Literal["price_pressure"]
    product: ProductRef = None
    size: float = Field(gt=0, lt=1)


class MarketShift(_Shock):
    """``size`` of ``from_product``'s market potential and users moves to ``to_product``'s
    potential (the users who leave become people who could adopt the other product)."""

    type: Literal["market_shift"]
    from_product: Annotated[str | Role, BeforeValidator(lambda v: _role_of(v, "product"))]
    to_product: Annotated[str | Role, BeforeValidator(lambda v: _role_of(v, "product"))]
    size: float = Field(gt=0, lt=1)

    @model_validator(mode="after")
    def _two_products(self) -> MarketShift:
        if isinstance(self.from_product, str) and self.from_product == self.to_product:
            raise ValueError(f"from_product and to_product are both '{self.from_product}'; name two products")
        return self


class CostInflation(_Shock):
    """Team cost of a skill (all if omitted) rises by ``size`` (0.06 = +6 %) from ``month`` on; under the
    fixed budget the same money buys 1 / (1 + size) of the capacity."""

    type: Literal["cost_inflation"]
    skill: SkillRef = None
    size: float = Field(gt=0, le=5)


class RegulatoryMustHave(_Shock):
    """A new mandatory item (e.g. a regulation) arrives in ``month`` with ``effort`` pw per skill,
    planned over ``duration_months``; it is worked before every planned item (it preempts capacity)
    and moves no KPI. Its effort is scaled by the run's ``effort_multiplier``."""

    type: Literal["regulatory_must_have"]
    effort: Annotated[dict[str, float] | list[EffortShare], BeforeValidator(_effort_of)]
    duration_months: int = Field(3, ge=1)
    product: ProductRef = None


Shock = Annotated[
    DemandDrop | CompetitorEntry | BudgetCut | PricePressure | MarketShift | CostInflation | RegulatoryMustHave,
    Field(discriminator="type"),
]
SHOCK_TYPES = _tags(Shock, "type")


# ---------------------------------------------------------------------------------------
# The scenario
# ---------------------------------------------------------------------------------------


class Scenario(_Strict):
    """One scenario: constants, uncertainties (sampled per replication) and shocks."""

    name: str = Field(min_length=1)
    description: str = ""
    replications: int = Field(50, ge=1, le=100_000)
    seed: int = Field(0, ge=0)
    constants: Constants = Field(default_factory=Constants)  # type: ignore[valid-type]
    uncertainties: Uncertainties = Field(default_factory=Uncertainties)  # type: ignore[valid-type]
    shocks: list[Shock] = Field(default_factory=list)

    _source: str = PrivateAttr("")  # file the scenario was read from, for messages
    _text: str = PrivateAttr("")  # its YAML text, to find lines
    _origin: str = PrivateAttr("library")  # or workspace, or workspace (overrides FILE): see load_library

    @property
    def source(self) -> str:
        """The file the scenario came from (or ``<scenario NAME>`` if built in code)."""
        return self._source or f"<scenario {self.name}>"

    def fixed(self) -> dict[str, Any]:
        """The constants the scenario sets (parameter -> value)."""
        return {k: v for k, v in self.constants.model_dump().items() if v is not None}

    def distributions(self) -> dict[str, Any]:
        """The uncertainties the scenario samples (parameter -> distribution), sorted by name."""
        return {
            k: getattr(self.uncertainties, k)
            for k in sorted(UNCERTAIN_PARAMETERS)
            if getattr(self.uncertainties, k) is not None
        }

    def sample(self, key: int) -> dict[str, float]:
        """Draw every uncertainty once, clipped to its parameter's valid range.

        Each parameter draws from its own stream (:func:`named_stream` of ``key`` and its name), so adding
        an uncertainty to a scenario does not change the values drawn for the others.
        """
        values = {}
        for name, dist in self.distributions().items():
            rng = named_stream(key, name)
            low, high = parameter_bounds(name)
            values[name] = float(min(max(dist.sample(rng), low), high))
        return values

    def parameters(self, sampled: dict[str, float] | None = None) -> Parameters:
        """The parameters of one replication: defaults, then constants, then sampled values."""
        return Parameters(**{**self.fixed(), **(sampled or {})})

    def check_plan(self, products: list[str], skills: list[str]) -> None:
        """Raise ScenarioError if a shock names a product or skill the plan does not have, or
        a role that cannot be resolved among them (:func:`models.simulation.roles.resolve`)."""
        from models.simulation.roles import Company, resolve

        empty = Company(
            pd.DataFrame(index=pd.Index(products, dtype=object)), pd.DataFrame(index=pd.Index(skills, dtype=object))
        )
        resolve(self, empty, products, skills)

    def has_roles(self) -> bool:
        """Whether a shock names a product or skill by role (or ``all``), to be resolved per company."""
        refs = []
        for shock in self.shocks:
            refs += [shock.__dict__.get(k) for k in ("product", "skill", "from_product", "to_product")]
            effort = shock.__dict__.get("effort")
            if isinstance(effort, list):
                refs += [e.skill for e in effort]
        return any(isinstance(r, Role) or r == ALL for r in refs)


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate one scenario YAML; errors name the file, line and key."""
    text = read_yaml_text(path, ScenarioError, "check the path (see scenarios/baseline.yaml).")
    return scenario_from_yaml(text, str(path))


def scenario_from_yaml(text: str, source: str = "<text>") -> Scenario:
    """Validate scenario YAML text; ``source`` names it in error messages."""
    raw = parse_yaml_mapping(
        text,
        source,
        ScenarioError,
        "a mapping (name, uncertainties, shocks, ...)",
        "write 'key: value' lines, see scenarios/baseline.yaml.",
    )
    try:
        scenario = Scenario.model_validate(raw)
    except ValidationError as exc:
        raise ScenarioError(_problems(exc, source, text)) from None
    both = sorted(set(scenario.fixed()) & set(scenario.distributions()))
    if both:
        raise ScenarioError(
            [
                InputProblem(
                    source,
                    f"'{n}' is both a constant and an uncertainty.",
                    "keep one of the two.",
                    line_of(text, ["uncertainties", n]),
                    f"uncertainties.{n}",
                )
                for n in both
            ]
        )
    problems = []
    for name, dist in scenario.distributions().items():
        low, high = parameter_bounds(name)
        s_low, s_high = dist.support()
        if (dist.dist != "normal") and (s_low < low or s_high > high):
            problems.append(
                InputProblem(
                    source,
                    f"'{name}' ranges over [{s_low}, {s_high}] but must lie in [{low}, {high}].",
                    "narrow the distribution.",
                    line_of(text, ["uncertainties", name]),
                    f"uncertainties.{name}",
                )
            )
    if problems:
        raise ScenarioError(problems)
    scenario._source, scenario._text = source, text
    return scenario


def load_scenarios(directory: str | Path) -> dict[str, Scenario]:
    """Every ``*.yaml``/``*.yml`` scenario in ``directory``, by name, sorted by name."""
    directory = Path(directory)
    files = sorted([*directory.glob("*.yaml"), *directory.glob("*.yml")])
    if not files:
        raise ScenarioError.single(
            directory, "no scenario files (*.yaml) found.", "add one, e.g. a copy of scenarios/baseline.yaml."
        )
    found: dict[str, Scenario] = {}
    for f in files:
        s = load_scenario(f)
        if s.name in found:
            raise ScenarioError.single(
                f,
                f"scenario name '{s.name}' is also used by {found[s.name].source}.",
                "give every scenario its own name.",
                line_of(s._text, ["name"]),
                "name",
            )
        found[s.name] = s
    return dict(sorted(found.items()))


def load_library(library: str | Path, workspace: str | Path | None = None) -> dict[str, Scenario]:
    """The scenario library (every file in ``library``) with a workspace's own scenarios: each file
    in ``workspace`` (if given and a folder) adds a scenario or, under the same name, overrides the
    library's. Each scenario's ``origin`` says which (``library``, ``workspace`` or ``workspace
    (overrides <library file>)``) and its ``source`` names its file. Sorted by name."""
    found = load_scenarios(library)
    for s in found.values():
        s._origin = "library"
    if workspace is None:
        return found
    if not Path(workspace).is_dir():
        raise ScenarioError.single(
            workspace, "scenario folder not found.", "check the path, or leave it out to run the library only."
        )
    if not [*Path(workspace).glob("*.yaml"), *Path(workspace).glob("*.yml")]:
        return found
    for name, s in load_scenarios(workspace).items():
        s._origin = f"workspace (overrides {found[name].source})" if name in found else "workspace"
        found[name] = s
    return dict(sorted(found.items()))


def scenario_table(scenarios: dict[str, Scenario]) -> pd.DataFrame:
    """One row per scenario: name, description, replications, seed, uncertainties, shocks,
    roles (the products and skills its shocks name by role, resolved when a run starts), source
    (its file), origin (library, workspace, or the workspace overriding a library file) and the
    full definition as JSON (``definition``; inverse: :func:`scenarios_from_table`)."""
    rows = [
        {
            "name": name,
            "description": s.description.strip(),
            "replications": s.replications,
            "seed": s.seed,
            "constants": ", ".join(sorted(s.fixed())),
            "uncertainties": ", ".join(s.distributions()),
            "shocks": ", ".join(f"{k.type}@{k.month}" for k in s.shocks),
            "roles": _roles_text(s),
            "source": s.source,
            "origin": s._origin,
            "definition": s.model_dump_json(),
            "yaml": s._text,
        }
        for name, s in scenarios.items()
    ]
    return pd.DataFrame(
        rows,
        columns=[
            "name",
            "description",
            "replications",
            "seed",
            "constants",
            "uncertainties",
            "shocks",
            "roles",
            "source",
            "origin",
            "definition",
            "yaml",
        ],
    )


def scenarios_from_table(df: pd.DataFrame) -> dict[str, Scenario]:
    """Inverse of :func:`scenario_table` (keeps each scenario's source for messages)."""
    out = {}
    for _, row in df.iterrows():
        s = Scenario.model_validate_json(row["definition"])
        s._source = str(row.get("source", "") or "")
        s._text = str(row.get("yaml", "") or "")
        s._origin = str(row.get("origin", "") or "library")
        out[s.name] = s
    return dict(sorted(out.items()))


def _roles_text(s: Scenario) -> str:
    """The roles of a scenario's shocks as written, e.g. ``market_shift@9 from_product {largest: mrr}``."""
    parts = []
    for shock in s.shocks:
        refs = [(k, getattr(shock, k, None)) for k in ("product", "skill", "from_product", "to_product")]
        if isinstance(getattr(shock, "effort", None), list):
            refs += [(f"effort.{j}.skill", e.skill) for j, e in enumerate(shock.effort)]
        parts += [
            f"{shock.type}@{shock.month} {k} {v.text() if isinstance(v, Role) else v}"
            for k, v in refs
            if isinstance(v, Role) or v == ALL
        ]
    return "; ".join(parts)


# ---------------------------------------------------------------------------------------
# Error locations
# ---------------------------------------------------------------------------------------

_TAGS = set(DISTRIBUTIONS) | set(SHOCK_TYPES)


def _key_of(loc: list) -> str:
    """Dotted key of a pydantic location, without the union tags pydantic inserts."""
    return ".".join(str(x) for x in loc if not (isinstance(x, str) and x in _TAGS))


def _problems(exc: ValidationError, source: str, text: str) -> list[InputProblem]:
    """pydantic errors as InputProblems with the exact YAML line and the dotted key, in the
    scenario's own words for unknown parameters, distributions and shock types."""

    def wording(err: dict, key: str, line: int | None):
        kind, loc, ctx = err["type"], list(err["loc"]), err.get("ctx") or {}
        named = [x for x in loc if x in ("product", "skill", "from_product", "to_product", "effort")]
        if kind == "value_error" and key.startswith("shocks.") and named:
            what = "skill" if named[-1] in ("skill", "effort") else "product"
            all_ = ", write 'all'," if named[-1] in ("product", "skill") and "effort" not in named else ""
            effort = "write the effort as {skill: pw} or as a list of {skill: <name or role>, pw: <person-weeks>}; "
            fix = (effort if named[-1] == "effort" else "") + (
                f"name the {what} as the company does{all_} or name it by a role: {_ROLE_HELP[what]} (and rank: N)."
            )
            return f"key '{key}': {err['msg'].removeprefix('Value error, ')}.", fix, key, line
        if kind == "extra_forbidden" and (key.startswith(("constants.", "uncertainties."))):
            known = PARAMETER_NAMES if key.startswith("constants.") else UNCERTAIN_PARAMETERS
            return f"unknown parameter '{key}'.", f"use one of {', '.join(known)}.", key, line
        if kind in ("union_tag_invalid", "union_tag_not_found"):
            is_shock = key.startswith("shocks")
            what, field, allowed = (
                ("shock type", "type", SHOCK_TYPES) if is_shock else ("distribution", "dist", DISTRIBUTIONS)
            )
            msg = (
                f"unknown {what} '{ctx.get('tag')}' in '{key}'."
                if kind == "union_tag_invalid"
                else f"'{key}' has no '{field}'."
            )
            return (
                msg,
                f"set '{field}' to one of {', '.join(allowed)}.",
                f"{key}.{field}",
                line_of(text, [*loc, field]) or line,
            )
        return None

    return validation_problems(exc, source, text, key_of=_key_of, wording=wording)
