"""Stage 1 of the portfolio optimiser: check the inputs and put them in the shape the
model builders need.

Everything a planner can get wrong is caught here, before a solver runs, and reported as
a :class:`~models.errors.ModelError` in the planner's words: an item that needs a skill
no team has, a dependency on an unknown item, a dependency cycle ("A -> B -> A"), a
mandatory item that cannot finish by its deadline or does not fit the capacity or budget
on its own.

Units: effort in person-weeks (pw) per item, capacity in pw per period, money in EUR.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import networkx as nx
import numpy as np
import pandas as pd

from models.checks import find_cycles
from models.errors import ModelError
from models.schemas import EFFORT_PREFIX, effort_columns, total_effort_pw
from models.settings import Settings
from models.valuation import check_skills, item_costs, skill_cost_rates


@dataclass(frozen=True)
class PortfolioInput:
    """Checked inputs of one optimisation.

    items: candidate backlog rows (status_category != "Done") plus cost_eur (EUR),
        total_effort_pw (total pw; not an effort_<skill> column), predecessors (candidate
        item_ids this item waits for; Done predecessors are dropped as satisfied), deadline
        (period a mandatory item must finish by; the last period when none is given), starts (start periods that finish
        within the plan and have a value: one variable each), rule_starts (the starts
        the rules allow on their own: period 1 only for In Progress items), small (total
        effort within settings.quick_wins.max_effort_pw) and okr (the key result an item
        names, "" when none).
    values: value_by_start rows of the candidates at their allowed starts
        (item_id, start_period, value_eur, spread_eur, objective_eur): spread_eur is the
        value range used by the risk adjustment, objective_eur what the optimiser maximises
        (value_eur, minus cost_eur when settings.objective.net_of_cost, minus
        risk_aversion x spread_eur).
    capacity: skill, period, capacity_pw (sum over the skill's teams, per-period overrides
        capacity_pw_p<N> applied).
    cost_rates: skill -> EUR per person-week.
    settings: the planning settings.
    team_skills: team -> skill (for the WIP limit per team).
    replacements: (old, new) candidate pairs where ``new`` names ``old`` in its ``replaces`` column
        and both move the same KPI of the same product: when both are funded, ``old``'s benefit ends
        once ``new`` is delivered (:meth:`replacement_loss`).
    """

    items: pd.DataFrame
    values: pd.DataFrame
    capacity: pd.DataFrame
    cost_rates: dict[str, float]
    settings: Settings
    team_skills: dict[str, str] = field(default_factory=dict)
    replacements: tuple[tuple[str, str], ...] = ()

    @property
    def periods(self) -> list[int]:
        return list(range(1, self.settings.periods + 1))

    @property
    def skills(self) -> list[str]:
        """Skills with an effort column in the candidates and a team (in capacity order)."""
        cols = {c[len(EFFORT_PREFIX) :] for c in effort_columns(self.items)}
        return [s for s in self.capacity["skill"].drop_duplicates() if s in cols]

    def effort(self, item_id: str, skill: str) -> float:
        """Effort of an item in a skill (pw); 0 when the backlog has no column for it."""
        col = EFFORT_PREFIX + skill
        if col not in self.items.columns:
            return 0.0
        v = self.items.at[item_id, col] if item_id in self.items.index else 0.0
        return 0.0 if pd.isna(v) else float(v)

    def _lookup(self, name: str, build) -> dict:
        """A lookup table built once per input (the dataclass is frozen, so it is kept in __dict__)."""
        cache = self.__dict__.get(name)
        if cache is None:
            cache = build()
            object.__setattr__(self, name, cache)
        return cache

    def _by_start(self, column: str) -> dict[tuple[str, int], float]:
        return self._lookup(
            f"_{column}_by_start",
            lambda: {
                (str(i), int(t)): float(v)
                for i, t, v in zip(
                    self.values["item_id"], self.values["start_period"], self.values[column], strict=True
                )
            },
        )

    def capacity_of(self, skill: str, period: int) -> float:
        """Capacity of a skill in a period (pw); 0 when no team has the skill."""
        table = self._lookup(
            "_capacity_by_period",
            lambda: {
                (str(k), int(p)): float(c)
                for k, p, c in zip(
                    self.capacity["skill"], self.capacity["period"], self.capacity["capacity_pw"], strict=True
                )
            },
        )
        return table.get((skill, period), 0.0)

    def value_of(self, item_id: str, start: int) -> float:
        """value_eur of an item started in ``start`` (EUR)."""
        return self._by_start("value_eur")[(item_id, start)]

    def objective_of(self, item_id: str, start: int) -> float:
        """objective_eur of an item started in ``start`` (EUR): what the optimiser maximises."""
        return self._by_start("objective_eur")[(item_id, start)]

    def replacement_loss(self, old: str, t_old: int, new: str, t_new: int) -> float:
        """Value (EUR) ``old`` started in ``t_old`` loses when ``new`` replaces it, started in ``t_new``:
        its benefit from the month after ``new`` finishes, i.e. its value as if it had finished
        when ``new`` does (value_by_start at the start that finishes then); all of it when ``old``
        would finish no earlier than ``new`` (it then never acts, as in the simulation)."""
        d_old = int(self.items.at[old, "duration_periods"])
        finish_new = t_new + int(self.items.at[new, "duration_periods"]) - 1
        whole = self.value_of(old, t_old)
        if t_old + d_old - 1 >= finish_new:
            return whole
        return self._by_start("value_eur").get((old, finish_new - d_old + 1), whole)

    def replacement_losses(self, starts: dict[str, int]) -> dict[str, float]:
        """Per funded replaced item: the value it loses to the funded items that replace it (EUR)."""
        out: dict[str, float] = {}
        for old, new in self.replacements:
            if old in starts and new in starts:
                out[old] = out.get(old, 0.0) + self.replacement_loss(old, starts[old], new, starts[new])
        return out

    def plan_value(self, starts: dict[str, int]) -> float:
        """A plan's value (EUR): the items' value at their starts less what replaced items lose."""
        lost = sum(self.replacement_losses(starts).values())
        return float(sum(self.value_of(i, t) for i, t in starts.items()) - lost)

    def plan_objective(self, starts: dict[str, int]) -> float:
        """What the optimiser maximises for a plan (EUR), replacements included (no tie-break)."""
        return float(
            sum(self.objective_of(i, t) for i, t in starts.items()) - sum(self.replacement_losses(starts).values())
        )

    def team_items(self, team: str) -> list[str]:
        """Candidates in flight for a team while they run: those with effort in its skill."""
        skill = self.team_skills[team]
        col = EFFORT_PREFIX + skill
        if col not in self.items.columns:
            return []
        return list(self.items.index[self.items[col].fillna(0.0) > 0])

    def okr_items(self) -> dict[str, list[str]]:
        """Key result -> candidates that name it."""
        out: dict[str, list[str]] = {}
        for i, kr in self.items["okr"].items():
            if kr:
                out.setdefault(kr, []).append(i)
        return out

    @property
    def must_continue(self) -> list[str]:
        """In Progress items that must continue in period 1 (settings.in_progress == "continue")."""
        if self.settings.in_progress != "continue":
            return []
        return self._lookup(
            "_must_continue", lambda: list(self.items.index[self.items["status_category"] == "In Progress"])
        )

    @property
    def forced_items(self) -> list[str]:
        """Candidates every plan must fund: mandatory items and the work in progress that
        must continue (in candidate order)."""

        def build() -> list[str]:
            cont = set(self.must_continue)
            return [i for i in self.items.index if bool(self.items.at[i, "mandatory"]) or i in cont]

        return self._lookup("_forced_items", build)


OVERRIDE_PREFIX = "capacity_pw_p"


def capacity_table(teams: pd.DataFrame, settings: Settings) -> pd.DataFrame:
    """Capacity per skill and period in person-weeks: the sum over the skill's teams of
    capacity_pw, or of the team's override ``capacity_pw_p<N>`` for period N where one is
    given (holidays, hiring, a team lent elsewhere)."""
    rows = []
    for p in range(1, settings.periods + 1):
        col = f"{OVERRIDE_PREFIX}{p}"
        cap = teams["capacity_pw"].astype(float)
        if col in teams.columns:
            cap = teams[col].astype(float).where(teams[col].notna(), cap)
        per_skill = cap.groupby(teams["skill"].astype(str)).sum().sort_index()
        rows += [(str(s), p, float(c)) for s, c in per_skill.items()]
    out = pd.DataFrame(rows, columns=["skill", "period", "capacity_pw"])
    return out.sort_values(["skill", "period"], kind="stable").reset_index(drop=True)


def objective_values(vals: pd.DataFrame, items: pd.DataFrame, settings: Settings) -> pd.DataFrame:
    """Add spread_eur and objective_eur to value_by_start rows (see :class:`PortfolioInput`).

    spread_eur: value_high_eur - value_low_eur when the table has both, else
    (1 - confidence) x value_eur with the item's RICE confidence (0..1; 1 when missing).
    """
    out = vals.copy()
    if {"value_low_eur", "value_high_eur"} <= set(out.columns):
        spread = (out["value_high_eur"].astype(float) - out["value_low_eur"].astype(float)).clip(lower=0.0)
    else:
        conf = items["confidence"] if "confidence" in items.columns else pd.Series(1.0, index=items.index)
        conf = conf.astype(float).fillna(1.0).clip(0.0, 1.0)
        spread = (1.0 - out["item_id"].map(conf)) * out["value_eur"].abs()
    out["spread_eur"] = spread.astype(float).fillna(0.0)
    obj = settings.objective
    out["objective_eur"] = out["value_eur"] - obj.risk_aversion * out["spread_eur"]
    if obj.net_of_cost:
        out["objective_eur"] -= out["item_id"].map(items["cost_eur"]).astype(float)
    return out


def _replacements(cand: pd.DataFrame) -> tuple[tuple[str, str], ...]:
    """(old, new) pairs of candidates where ``new`` replaces ``old`` on the same product and KPI
    (the backlog's optional ``replaces`` column; the reader notes pairs it cannot use)."""
    if "replaces" not in cand.columns:
        return ()
    pairs = []
    for new, names in cand["replaces"].items():
        if not isinstance(names, (list, tuple, np.ndarray)):
            continue
        for old in names:
            old = str(old)
            if old != new and old in cand.index:
                same = all(str(cand.at[old, c]) == str(cand.at[new, c]) for c in ("product", "kpi") if c in cand)
                if same:
                    pairs.append((old, str(new)))
    return tuple(dict.fromkeys(pairs))


def prepare_input(
    backlog: pd.DataFrame, teams: pd.DataFrame, values: pd.DataFrame, settings: Settings
) -> PortfolioInput:
    """Check the inputs and derive what the model needs (see :class:`PortfolioInput`).

    Candidates are the backlog rows not Done. A start period gets a variable when the item
    finishes within the plan (start + duration_periods - 1 <= periods) and ``values`` has
    a row for it. In Progress items may only start in period 1 (work in progress continues
    or stops; it does not restart later): the model enforces that with its ``wip_{i}``
    rows, and the checks here use it through ``rule_starts``.

    Raises ModelError (one message listing every problem found) for: effort in a skill
    no team has; a dependency on an item missing from the backlog; dependency cycles
    (named, e.g. "A -> B -> A"); a candidate that could finish within the plan but has no
    row in ``values``; a mandatory item that cannot finish by its deadline given its
    duration, its allowed starts and its predecessors' durations; a mandatory item that
    on its own needs more of a skill per period than the teams have, or more budget per
    period than the budget.
    """
    for col in ("item_id", "start_period", "value_eur"):
        if col not in values.columns:
            raise ModelError(f"the values table has no column '{col}'. Fix: pass the output of value_by_start.")
    T = settings.periods
    all_ids = set(backlog["item_id"].astype(str))
    status = dict(zip(backlog["item_id"].astype(str), backlog["status_category"].astype(str), strict=True))
    cand = backlog.loc[backlog["status_category"] != "Done"].copy()
    cand["item_id"] = cand["item_id"].astype(str)
    cand_ids = set(cand["item_id"])

    rates = skill_cost_rates(teams)
    check_skills(cand, rates.keys())
    capacity = capacity_table(teams, settings)

    problems: list[str] = []

    # dependencies
    preds: dict[str, list[str]] = {}
    edges: list[tuple[str, str]] = []
    for row in cand.itertuples():
        deps = list(row.depends_on) if isinstance(row.depends_on, (list, tuple, np.ndarray)) else []
        mine = []
        for d in deps:
            d = str(d)
            if d not in all_ids:
                problems.append(
                    f"item {row.item_id} depends on {d}, which is not in the backlog "
                    f"(fix: correct the id in depends_on or add {d} to the backlog)"
                )
            elif status[d] != "Done" and d not in mine:
                mine.append(d)
                edges.append((d, row.item_id))
        preds[row.item_id] = mine
    for cyc in find_cycles(edges):
        problems.append(f"dependency cycle {' -> '.join(cyc)} (fix: remove one of these links from depends_on)")
    if problems:
        raise ModelError("The backlog cannot be planned: " + "; ".join(problems) + ".")

    # allowed starts from durations, values and status
    vals = values.loc[values["item_id"].astype(str).isin(cand_ids), ["item_id", "start_period", "value_eur"]].copy()
    vals["item_id"] = vals["item_id"].astype(str)
    vals["start_period"] = vals["start_period"].astype(int)
    vals["value_eur"] = vals["value_eur"].astype(float)
    bad = vals.loc[~np.isfinite(vals["value_eur"])]
    if len(bad):
        r = bad.iloc[0]
        raise ModelError(
            f"value_eur of item {r.item_id} starting in period {r.start_period} is not a number. "
            "Fix: recompute value_by_start."
        )
    dur = dict(zip(cand["item_id"], cand["duration_periods"].astype(int), strict=True))
    wip = set(cand.loc[cand["status_category"] == "In Progress", "item_id"])
    vals = vals.drop_duplicates(["item_id", "start_period"], keep="last")
    fits = (vals["start_period"] >= 1) & (vals["start_period"] + vals["item_id"].map(dur) - 1 <= T)
    vals = vals.loc[fits].sort_values(["item_id", "start_period"]).reset_index(drop=True)
    starts = vals.groupby("item_id")["start_period"].apply(list).to_dict()
    no_rows = [i for i in cand["item_id"] if i not in starts and dur[i] <= T]
    if no_rows:
        shown = ", ".join(sorted(no_rows)[:5]) + (" ..." if len(no_rows) > 5 else "")
        raise ModelError(
            f"the values table has no row for item(s) {shown}. "
            "Fix: compute value_by_start on the same backlog and settings."
        )

    cand = cand.set_index("item_id", drop=False)
    cand.index.name = None
    cand["cost_eur"] = item_costs(cand, rates).to_numpy()
    cand["total_effort_pw"] = total_effort_pw(cand)
    cand["predecessors"] = [preds[i] for i in cand["item_id"]]
    dl = cand["deadline_period"] if "deadline_period" in cand.columns else pd.Series(pd.NA, index=cand.index)
    cand["deadline"] = [min(int(d), T) if not pd.isna(d) else T for d in dl]
    cand["starts"] = [starts.get(i, []) for i in cand["item_id"]]
    cand["rule_starts"] = [[t for t in starts.get(i, []) if t == 1 or i not in wip] for i in cand["item_id"]]
    cand["small"] = cand["total_effort_pw"] <= settings.quick_wins.max_effort_pw + 1e-9
    okr = cand["okr"] if "okr" in cand.columns else pd.Series("", index=cand.index)
    cand["okr"] = [str(k).strip() if isinstance(k, str) else "" for k in okr]
    cand["theme"] = cand["theme"].fillna("").astype(str).str.strip().str.lower()
    vals = objective_values(vals, cand, settings)

    team_skills = dict(zip(teams["team"].astype(str), teams["skill"].astype(str), strict=True))
    inp = PortfolioInput(
        items=cand,
        values=vals,
        capacity=capacity,
        cost_rates=rates,
        settings=settings,
        team_skills=team_skills,
        replacements=_replacements(cand),
    )
    _check_rules(inp)
    _check_mandatory(inp)
    return inp


def _check_rules(inp: PortfolioInput) -> None:
    """Settings that name themes, key results or teams the inputs do not have."""
    s = inp.settings
    problems = []
    themes = sorted(set(inp.items["theme"]) - {""})
    for theme in s.strategic_balance:
        if theme.strip().lower() not in themes:
            problems.append(
                f"strategic_balance names theme '{theme}', which no candidate item has "
                f"(themes: {', '.join(themes) or 'none'}; fix: correct the key or the items' theme)"
            )
    mins = sum(b.min for b in s.strategic_balance.values())
    if mins > 1 + 1e-9:
        problems.append(f"the minimum shares of strategic_balance add up to {mins:.2f}, more than 1 (fix: lower a min)")
    krs = sorted(set(inp.items["okr"]) - {""})
    for kr in s.okr_coverage.per_key_result:
        if kr not in krs:
            problems.append(
                f"okr_coverage.per_key_result names '{kr}', which no candidate item names in its okr "
                f"(key results: {', '.join(krs) or 'none'}; fix: correct the key)"
            )
    for team in s.wip_limit.teams:
        if team not in inp.team_skills:
            problems.append(
                f"wip_limit.teams names team '{team}', which is not in teams "
                f"(teams: {', '.join(inp.team_skills)}; fix: correct the name)"
            )
    if problems:
        raise ModelError("The planning settings do not match the inputs: " + "; ".join(problems) + ".")


def earliest_starts(inp: PortfolioInput) -> dict[str, float]:
    """Earliest allowed start of every candidate given its predecessors (math.inf when it
    can never start within the plan)."""
    items = inp.items
    g = nx.DiGraph()
    g.add_nodes_from(items.index)
    for i, ps in items["predecessors"].items():
        g.add_edges_from((p, i) for p in ps)
    es: dict[str, float] = {}
    for i in nx.topological_sort(g):
        ready = max((es[p] + items.at[p, "duration_periods"] for p in items.at[i, "predecessors"]), default=1)
        allowed = [t for t in items.at[i, "rule_starts"] if t >= ready]
        es[i] = float(min(allowed)) if allowed else math.inf
    return es


def _check_mandatory(inp: PortfolioInput) -> None:
    s = inp.settings
    items = inp.items
    es = earliest_starts(inp)
    problems = []
    for i in inp.forced_items:
        d = int(items.at[i, "duration_periods"])
        deadline = int(items.at[i, "deadline"])
        due = s.period_label(deadline)
        kind = "mandatory item" if bool(items.at[i, "mandatory"]) else "in-progress item"
        if not items.at[i, "rule_starts"]:
            why = (
                "it is in progress and must continue in period 1"
                if items.at[i, "status_category"] == "In Progress"
                else f"it takes {d} periods and the plan has {s.periods}"
            )
            fix = (
                "shorten it, split it, extend the plan or set in_progress: may_stop"
                if kind == "in-progress item"
                else "shorten it, split it or extend the plan"
            )
            problems.append(f"{kind} {i} cannot finish within the plan: {why} (fix: {fix})")
            continue
        if es[i] + d - 1 > deadline:
            ps = items.at[i, "predecessors"]
            chain = f" after its predecessors {', '.join(ps)}" if ps and es[i] > min(items.at[i, "rule_starts"]) else ""
            earliest = "never" if math.isinf(es[i]) else s.period_label(int(es[i] + d - 1))
            what = f"by its deadline {due}" if kind == "mandatory item" else "when it must continue in period 1"
            problems.append(
                f"{kind} {i} takes {d} period(s){chain} and cannot finish {what} "
                f"(period {deadline}); earliest finish: {earliest} "
                "(fix: move the deadline, shorten the item or drop the mandatory flag)"
            )
            continue
        windows = [t for t in items.at[i, "rule_starts"] if es[i] <= t and t + d - 1 <= deadline]
        reasons = []
        for t in windows:
            why = _window_misfit(inp, i, t)
            if why is None:
                break
            reasons.append(why)
        else:
            problems.append(
                f"{kind} {i} does not fit in any period it could run in: {reasons[0]} "
                "(fix: add capacity or budget, spread the item over more periods, or split it)"
            )
    if problems:
        raise ModelError("The mandatory and in-progress items cannot be planned: " + "; ".join(problems) + ".")


def _window_misfit(inp: PortfolioInput, item: str, start: int) -> str | None:
    """Why an item started in ``start`` cannot fit on its own (None if it fits)."""
    s = inp.settings
    d = int(inp.items.at[item, "duration_periods"])
    for p in range(start, start + d):
        for skill in inp.skills:
            need = inp.effort(item, skill) / d
            have = inp.capacity_of(skill, p)
            if need > have + 1e-9:
                return (
                    f"it needs {need:.1f} {skill} person-weeks per period but the {skill} teams have "
                    f"{have:.1f} in {s.period_label(p)}"
                )
        spend = float(inp.items.at[item, "cost_eur"]) / d
        if spend > s.budget(p) + 1e-6:
            return (
                f"it costs {spend:,.0f} EUR per period but the budget of {s.period_label(p)} is {s.budget(p):,.0f} EUR"
            )
    if s.budget_total is not None and float(inp.items.at[item, "cost_eur"]) > s.budget_total + 1e-6:
        cost = float(inp.items.at[item, "cost_eur"])
        return f"it costs {cost:,.0f} EUR, more than the total budget {s.budget_total:,.0f} EUR"
    return None
