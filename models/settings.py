"""Planning settings (settings.yaml), validated by pydantic.

Units: money in EUR, rates per year, periods are planning periods of
``period_months`` months (quarters by default), numbered from 1.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic_core import PydanticCustomError

from models.errors import FormulaError, InputError, ModelError
from models.formula import parse_formula
from models.names import CRITERIA
from models.realisation import RealisationSettings
from models.robustness import DiscoverySettings, Floors, RobustSettings
from models.yamlfile import parse_yaml_mapping, read_yaml_text, validation_problems

if TYPE_CHECKING:
    import pandas as pd

MAX_PERIODS = 16  # most planning periods a run may have (Settings.periods)
FORMULA_ERROR = "scoring_formula"  # pydantic error type of a formula that does not parse


def _checked_formula(text: str) -> str:
    """A scoring formula as written, once it parses over the criteria (:mod:`models.formula`);
    else a validation error carrying the formula's problem and its fix."""
    try:
        parse_formula(text, CRITERIA, where="scoring formula")
    except FormulaError as exc:
        raise PydanticCustomError(FORMULA_ERROR, "{problem}", {"problem": exc.problem, "fix": exc.fix}) from None
    return text


def _known_criterion(name: str) -> str:
    """A criterion of the weighted score, once it is one of models.names.CRITERIA."""
    if name not in CRITERIA:
        raise ValueError(f"unknown criterion {name!r}; the criteria are {', '.join(CRITERIA)}")
    return name


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ShareBounds(_Strict):
    """Bounds on a theme's share of planned spend (fractions of the total)."""

    min: float = Field(0.0, ge=0, le=1)
    max: float = Field(1.0, ge=0, le=1)

    @model_validator(mode="after")
    def _ordered(self) -> ShareBounds:
        if self.min > self.max:
            raise ValueError(f"min {self.min} exceeds max {self.max}")
        return self


class OkrCoverage(_Strict):
    """Each key result gets at least ``min_items`` funded items that name it (column ``okr``)
    and finish within the plan; ``per_key_result`` overrides the number for single key results
    (0 switches the rule off for one). Key results no candidate names are reported, not enforced."""

    min_items: int = Field(0, ge=0)
    per_key_result: dict[str, Annotated[int, Field(ge=0)]] = Field(default_factory=dict)

    def required(self, key_result: str) -> int:
        return self.per_key_result.get(key_result, self.min_items)


class QuickWins(_Strict):
    """At least ``min_items`` small items (total effort <= ``max_effort_pw``) delivered by the
    end of period ``by_period``."""

    min_items: int = Field(0, ge=0)
    max_effort_pw: float = Field(10.0, gt=0)
    by_period: int = Field(1, ge=1)


class WipLimit(_Strict):
    """At most ``per_team`` items in flight per team and period (``teams`` overrides single
    teams). An item is in flight for every team that has a skill it needs effort in."""

    per_team: int | None = Field(None, ge=1)
    teams: dict[str, Annotated[int, Field(ge=1)]] = Field(default_factory=dict)

    def limit(self, team: str) -> int | None:
        return self.teams.get(team, self.per_team)


class ObjectiveSettings(_Strict):
    """What the optimiser maximises: discounted value (cost of delay included), optionally net
    of the item's cost and optionally risk-adjusted (value - risk_aversion x spread, where the
    spread is value_high_eur - value_low_eur of the values table, or (1 - confidence) x value
    when the table has no range)."""

    net_of_cost: bool = False
    risk_aversion: float = Field(0.0, ge=0)


class ExplainSettings(_Strict):
    """How much re-solving the explanations may do: every Must-have and the ``near_misses``
    left-out items with the smallest LP estimate are re-solved (forced out / in), each with
    ``time_limit_s``; so is the plan without each rule (its price), ``workers`` of them at a time;
    the efficient frontier solves ``frontier_points`` budget levels between ``frontier_min_share``
    and ``frontier_max_share`` of the budget, one after the other (each warm-starts the next)."""

    near_misses: int = Field(5, ge=0)
    time_limit_s: float = Field(5.0, gt=0)
    frontier_points: int = Field(6, ge=2, le=50)
    frontier_min_share: float = Field(0.5, gt=0)
    frontier_max_share: float = Field(1.25, gt=0)
    workers: int | None = Field(
        None,
        ge=1,
        description="re-solves run side by side in this many threads (the solver releases Python's lock while it "
        "works); default: one per core, at most 4",
    )

    def worker_count(self) -> int:
        """Threads for the re-solves: ``workers``, else one per core (at most 4)."""
        import os

        return self.workers or max(1, min(4, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1))


class Economics(_Strict):
    """What products earn and cost outside the backlog: gross margin (for CLV and CAC
    payback) and the monthly run cost per product (for portfolio health)."""

    gross_margin: float = Field(
        0.8, gt=0, le=1, description="share of revenue left after the cost of serving it (hosting, support)"
    )
    margins: dict[str, Annotated[float, Field(gt=0, le=1)]] = Field(
        default_factory=dict, description="gross margin per product, where it differs"
    )
    run_cost_eur_per_month: dict[str, Annotated[float, Field(ge=0)]] = Field(
        default_factory=dict, description="per product: operating cost outside the planned work (EUR/month)"
    )
    high_growth_per_year: float = Field(
        0.10, description="MRR growth per year from which a product counts as growing fast (growth/share matrix)"
    )

    def margin(self, product: str) -> float:
        """Gross margin of a product (a share of revenue)."""
        return float(self.margins.get(product, self.gross_margin))


class ValuationSettings(_Strict):
    """How items without any value input are valued: ``proxy: none`` (at 0, and a plan whose
    candidates all lack one stops) or ``priority`` (by their Jira priority, see
    :data:`models.valuation.PRIORITY_PROXY`)."""

    proxy: Literal["none", "priority"] = "none"


class KpiLimits(_Strict):
    """Where KPI levels saturate when delivered items combine (models.simulation): the ceiling
    of each product's conversion rate, the floor of its monthly churn rate (retention's
    ceiling) and how far items may widen the market potential of the Bass model.

    A product without its own value gets one derived from its KPI history
    (:func:`models.simulation.plan.kpi_limits`): the conversion ceiling is
    ``conversion_ceiling_factor`` times the highest monthly conversion on record (at most 1),
    the churn floor ``churn_floor_factor`` times the lowest monthly churn on record."""

    conversion_ceiling: dict[str, Annotated[float, Field(gt=0, le=1)]] = Field(
        default_factory=dict, description="per product: highest conversion rate items can reach (share of MAU)"
    )
    churn_floor: dict[str, Annotated[float, Field(ge=0, lt=1)]] = Field(
        default_factory=dict, description="per product: lowest monthly churn rate items can reach"
    )
    conversion_ceiling_factor: float = Field(
        1.5,
        ge=1,
        description="default conversion ceiling = this x the best month on record (judgement: a product rarely "
        "converts half as well again as it ever did)",
    )
    churn_floor_factor: float = Field(
        0.5,
        gt=0,
        le=1,
        description="default churn floor = this x the lowest monthly churn on record (judgement: retention work "
        "rarely halves the best churn a product has seen)",
    )
    potential_ceiling_factor: float = Field(
        1.5,
        ge=1,
        description="market potential items can reach, as a multiple of the Bass potential fitted to the history "
        "(judgement: items that widen the reach add customers the market has, not without end)",
    )


class PlausibilitySettings(_Strict):
    """When a plan's KPI path is implausible (models.plausibility): the yearly MRR growth of its
    stress-test median in ``scenario`` beyond max(best year on record x max_growth_factor, best year
    + min_headroom)."""

    scenario: str = Field("baseline", description="the scenario whose P50 path is checked")
    max_growth_factor: float = Field(
        1.25,
        ge=1,
        description="a plan year may grow at most this x the best year on record (judgement: a quarter better)",
    )
    min_headroom: float = Field(
        0.10,
        ge=0,
        description="... or this many points (a fraction per year) above the best year, whichever is higher "
        "(judgement: room for a company whose best year was slow)",
    )


class SolverSettings(_Strict):
    name: Literal["highs", "cbc"] = "highs"
    time_limit_s: float = Field(60.0, gt=0)
    gap_rel: float = Field(0.0, ge=0, lt=1)
    threads: int | None = Field(None, ge=1)
    seed: int = 0
    warm_start: bool = Field(False, description="start the solver from the best valid greedy plan")


class Settings(_Strict):
    """What a planning run assumes. See data/demo/settings.yaml for a commented example."""

    company: str = "Unnamed company"
    currency: str = "EUR"
    start: date = Field(description="first day of period 1")
    periods: int = Field(8, ge=1, le=MAX_PERIODS)
    period_months: int = Field(3, ge=1, le=12)
    discount_rate: float = Field(0.08, ge=0, lt=1, description="annual")
    budget_per_period: list[float] | float = Field(description="EUR per period; one number or one per period")
    budget_total: float | None = Field(None, gt=0)
    value_horizon_months: int = Field(
        36, ge=1, le=120, description="benefits count up to this month after the plan start (NPV window)"
    )
    commoditisation_per_year: float = Field(0.25, ge=0, lt=1, description="yearly value decay of differentiators")
    strategic_balance: dict[str, ShareBounds] = Field(
        default_factory=dict, description="share of planned spend per theme"
    )
    okr_coverage: OkrCoverage = OkrCoverage()
    quick_wins: QuickWins = QuickWins()
    wip_limit: WipLimit = WipLimit()
    in_progress: Literal["continue", "may_stop"] = Field(
        "continue", description="items already in progress continue in period 1, or may be stopped"
    )
    objective: ObjectiveSettings = ObjectiveSettings()
    scoring_weights: dict[Annotated[str, AfterValidator(_known_criterion)], float] = Field(default_factory=dict)
    scoring_formulas: dict[str, Annotated[str, AfterValidator(_checked_formula)]] = Field(
        default_factory=dict,
        description="own scores as formulas over the criteria (models.names.CRITERIA), e.g. reach * impact / effort",
    )
    economics: Economics = Economics()
    strict: bool = Field(
        False, description="every reader note that fills in, drops or renames data is an error (weitblick --strict)"
    )
    solver: SolverSettings = SolverSettings()
    explain: ExplainSettings = ExplainSettings()
    valuation: ValuationSettings = ValuationSettings()
    realisation: RealisationSettings = Field(
        default_factory=RealisationSettings,
        description="how much of an estimated uplift an item realises (models.realisation)",
    )
    kpi_limits: KpiLimits = KpiLimits()
    plausibility: PlausibilitySettings = PlausibilitySettings()
    satisficing: Floors = Field(
        default_factory=Floors, description="floors a future must meet for a plan to count as good enough in it"
    )
    discovery: DiscoverySettings = Field(
        default_factory=DiscoverySettings, description="the open exploration of what breaks a plan"
    )
    robust: RobustSettings = Field(default_factory=RobustSettings, description="the plan optimised to hold up")

    @field_validator("budget_per_period")
    @classmethod
    def _positive(cls, v):
        values = v if isinstance(v, list) else [v]
        if any(b < 0 for b in values):
            raise ValueError("budgets must not be negative")
        return v

    @model_validator(mode="after")
    def _quick_wins_in_plan(self) -> Settings:
        if self.quick_wins.by_period > self.periods:
            raise ValueError(
                f"quick_wins.by_period {self.quick_wins.by_period} is after the last period {self.periods}"
            )
        return self

    @model_validator(mode="after")
    def _budget_length(self) -> Settings:
        if isinstance(self.budget_per_period, list) and len(self.budget_per_period) != self.periods:
            raise ValueError(
                f"budget_per_period has {len(self.budget_per_period)} entries but periods is {self.periods}"
            )
        return self

    def budget(self, period: int) -> float:
        """Budget of a 1-based period in EUR."""
        b = self.budget_per_period
        return float(b[period - 1] if isinstance(b, list) else b)

    def period_label(self, period: int) -> str:
        """Human label such as 'Q1 2027' (or 'P3 2027' for non-quarter periods)."""
        month0 = self.start.month - 1 + (period - 1) * self.period_months
        year = self.start.year + month0 // 12
        if self.period_months == 3:
            return f"Q{(month0 % 12) // 3 + 1} {year}"
        return f"P{period} {year}"

    @property
    def months(self) -> int:
        return self.periods * self.period_months


def _formula_wording(err: dict, key: str, line: int | None) -> tuple[str, str, str, int | None] | None:
    """A scoring formula's own problem and fix instead of the general wording."""
    if err["type"] != FORMULA_ERROR:
        return None
    return f"key '{key}': {err['ctx']['problem']}", err["ctx"]["fix"], key, line


def load_settings(path: str | Path) -> Settings:
    """Read and validate a settings YAML; errors name the file, line and key. Scoring
    formulas are checked here (grammar and criteria), so a run refuses a bad one before it
    plans, not only when it scores."""
    text = read_yaml_text(path, InputError, "create it (see data/demo/settings.yaml).")
    raw = parse_yaml_mapping(text, path, InputError, "a mapping of settings", "write 'key: value' lines.")
    try:
        return Settings.model_validate(raw)
    except ValidationError as exc:
        raise InputError(validation_problems(exc, path, text, wording=_formula_wording)) from None


def settings_table(settings: Settings, source: str = "") -> pd.DataFrame:
    """Settings as a one-row table (for the store): a few readable columns plus the full JSON."""
    import pandas as pd

    return pd.DataFrame(
        [
            {
                "company": settings.company,
                "start": pd.Timestamp(settings.start),
                "periods": settings.periods,
                "period_months": settings.period_months,
                "discount_rate": settings.discount_rate,
                "source": source,
                "settings_json": settings.model_dump_json(),
            }
        ]
    )


def settings_from_table(df: pd.DataFrame) -> Settings:
    """Inverse of :func:`settings_table`. A table of another shape, or settings this version
    no longer accepts (a store written by an older one), is a ModelError."""
    if len(df) != 1 or "settings_json" not in df.columns:
        raise ModelError(
            "expected the one-row settings table with a settings_json column. "
            "Fix: pass the table settings_table wrote (the store's settings), or refresh the store."
        )
    try:
        return Settings.model_validate_json(df["settings_json"].iloc[0])
    except ValidationError as exc:
        source = str(df["source"].iloc[0]) if "source" in df.columns else "the stored settings"
        problems = "\n".join(str(p) for p in validation_problems(exc, source, "", wording=_formula_wording))
        raise ModelError(
            f"the stored settings are not valid settings of this version (a store an older one wrote?):\n{problems}\n"
            "Then refresh the store (weitblick demo, or the refresh job)."
        ) from None
