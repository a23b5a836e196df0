"""Stage 2 of the portfolio optimiser: build the PuLP model, one builder per constraint
family, so a caller can add or drop constraints between building and solving.

Decision: ``x[i,t] = 1`` if item i starts in period t (only for the allowed starts of
:class:`~models.portfolio.inputs.PortfolioInput`, i.e. starts that finish within the
plan). An item of duration d started in t runs in periods t..t+d-1 and uses effort/d of
each skill and cost/d of the budget in each of them.

Constraint families (names carry their keys; ids are made name-safe by :func:`token`):

* ``one_start_{i}``: sum_t x[i,t] <= 1.
* ``cap_{skill}_{p}``: sum of effort_{i,skill}/d_i over items running in p <= capacity (pw).
* ``budget_{p}``: sum of cost_i/d_i over items running in p <= budget of p (EUR);
  ``budget_total``: sum cost_i x <= settings.budget_total when it is set.
* ``prec_{i}_{j}_{t}`` (i is needed by j): sum_{s<=t} x[j,s] <= sum_{s<=t-d_i} x[i,s], for
  each allowed start t of j. j starts only after i finished and only if i is funded.
* ``must_{i}``: a mandatory item starts in one of the periods that let it finish by its
  deadline (sum of those x[i,t] == 1).
* ``continue_{i}``: an In Progress item continues in period 1 (x[i,1] == 1); with
  settings.in_progress "may_stop", ``wip_stop_{i}`` only forbids restarting it later.
* ``excl_{g}``: at most one item of an exclusive group is funded.
* ``balance_min_{theme}`` / ``balance_max_{theme}``: share of planned spend per theme.
* ``okr_{kr}``: at least n funded items per key result.
* ``quick_wins``: at least k small items finish by a period.
* ``wip_{team}_{p}``: at most n items in flight per team and period.
* ``repl_{old}_{new}_{s}_{t}`` (``new`` replaces ``old``, same product and KPI): z = x[old,s] AND
  x[new,t] (three rows), and the objective loses ``replacement_loss(old, s, new, t)`` x z: old's
  benefit after new is delivered counts once, not twice.

Objective (EUR; solved in thousands of EUR, see MONEY_SCALE):
sum objective_eur[i,t] x[i,t] - delta * t * x[i,t] - sum loss z (replacements), where
objective_eur is the discounted value of starting i in t (cost of delay included), net of cost
and risk-adjusted when the
settings ask for it (:func:`models.portfolio.inputs.objective_values`). The tie-break delta (TIE_BREAK_EUR, one
cent per period of delay and started item) prefers earlier starts among equally valuable
plans and leaves items worth nothing out. An item starts at most once, so all tie-break
terms together stay below candidates x periods cents (10.40 EUR for 130 items over 8
quarters): it can only change which items are funded between plans whose values differ by
less than that, i.e. plans worth the same for any practical purpose (and well inside a
solver gap tolerance of 0.1 %). At 1e-5 in model units it stays above the solver's
numerical tolerances, so it does take effect.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import pulp

from models.errors import ModelError
from models.portfolio.inputs import PortfolioInput

TIE_BREAK_EUR = 0.01
# Money enters the model in thousands of EUR (objective and budget rows), which keeps the
# coefficients in a range the solver handles well; results are reported in EUR.
MONEY_SCALE = 1e-3


def _expr(pairs: list[tuple[pulp.LpVariable, float]]):
    """A linear expression from (variable, coefficient) pairs, built in one call (fast for
    long rows; repeated variables are summed)."""
    return pulp.LpAffineExpression.from_list(pairs) if pairs else pulp.lpSum([])


def token(key: object) -> str:
    """A name-safe version of an id: letters, digits and underscores only."""
    return re.sub(r"[^A-Za-z0-9_]", "_", str(key))


@dataclass
class PortfolioModel:
    """The PuLP problem with its variables and the names of its constraints per family."""

    inp: PortfolioInput
    prob: pulp.LpProblem
    x: dict[tuple[str, int], pulp.LpVariable]
    tokens: dict[str, str]  # item_id -> name-safe token used in variable/constraint names
    constraints: dict[str, list[str]] = field(default_factory=dict)
    keys: dict[str, tuple] = field(default_factory=dict)  # constraint name -> the keys it was built for
    tie_break_eur: float = 0.0  # delta: EUR subtracted per start period index
    penalties: list[tuple[pulp.LpVariable, float]] = field(default_factory=list)  # (z, EUR lost when z = 1)
    replacement_keys: list[tuple[str, str, int, int]] = field(default_factory=list)  # (old, new, s, t) per penalty
    _running_cache: dict[int, list[tuple[str, int, int]]] | None = field(default=None, repr=False)
    _starts_cache: dict[str, list[int]] | None = field(default=None, repr=False)

    def starts(self, item: str) -> list[int]:
        """Allowed start periods of an item (those with a variable)."""
        if self._starts_cache is None:
            self._starts_cache = {i: [int(t) for t in ts] for i, ts in self.inp.items["starts"].items()}
        return self._starts_cache[item]

    def chosen_starts(self) -> dict[str, int]:
        """Start period of every item the solver funded (x[i,t] > 0.5 in the solved model),
        in variable order; empty before a solve."""
        return {i: t for (i, t), v in self.x.items() if (v.value() or 0.0) > 0.5}

    def add(self, family: str, expr, name: str, *key) -> None:
        """Add one named constraint and record it under its family, with the keys its name
        was made from (e.g. skill and period), so readers need not parse names back."""
        self.prob += (expr, name)
        self.constraints.setdefault(family, []).append(name)
        self.keys[name] = key


def _tokens(ids: list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    used: set[str] = set()
    for i in ids:
        t = token(i)
        base, k = t, 1
        while t in used:
            k += 1
            t = f"{base}_v{k}"
        used.add(t)
        out[i] = t
    return out


def create_model(inp: PortfolioInput) -> PortfolioModel:
    """An empty maximisation problem with one binary x[i,t] per allowed start."""
    prob = pulp.LpProblem("portfolio", pulp.LpMaximize)
    tokens = _tokens(list(inp.items.index))
    x: dict[tuple[str, int], pulp.LpVariable] = {}
    for i in inp.items.index:
        for t in inp.items.at[i, "starts"]:
            x[i, int(t)] = prob.add_variable(f"x_{tokens[i]}_{int(t)}", cat="Binary")
    return PortfolioModel(inp=inp, prob=prob, x=x, tokens=tokens)


def add_one_start(m: PortfolioModel) -> None:
    """``one_start_{i}``: an item starts at most once."""
    for i in m.inp.items.index:
        xs = [m.x[i, t] for t in m.starts(i)]
        if xs:
            m.add("one_start", pulp.lpSum(xs) <= 1, f"one_start_{m.tokens[i]}")


def _running(m: PortfolioModel, period: int) -> list[tuple[str, int, int]]:
    """(item, start, duration) of every start that has the item running in ``period``."""
    if m._running_cache is None:
        by_period: dict[int, list[tuple[str, int, int]]] = {}
        dur = m.inp.items["duration_periods"].astype(int).to_dict()
        for i, t in m.x:
            for p in range(t, t + dur[i]):
                by_period.setdefault(p, []).append((i, t, dur[i]))
        m._running_cache = by_period
    return m._running_cache.get(period, [])


def add_capacity(m: PortfolioModel) -> None:
    """``cap_{skill}_{p}``: effort spread evenly over the duration fits each skill's capacity (pw)."""
    inp = m.inp
    for skill in inp.skills:
        effort = inp.items["effort_" + skill].fillna(0.0).astype(float).to_dict()
        for p in inp.periods:
            pairs = [(m.x[i, t], effort[i] / d) for i, t, d in _running(m, p) if effort[i] > 0]
            if pairs:
                m.add("cap", _expr(pairs) <= inp.capacity_of(skill, p), f"cap_{token(skill)}_{p}", skill, p)


def add_budget(m: PortfolioModel) -> None:
    """``budget_{p}``: spend per period (cost spread like effort) within the period's budget (EUR)."""
    inp = m.inp
    cost = inp.items["cost_eur"].astype(float).to_dict()
    for p in inp.periods:
        pairs = [(m.x[i, t], MONEY_SCALE * float(cost[i]) / d) for i, t, d in _running(m, p) if cost[i] > 0]
        if pairs:
            m.add("budget", _expr(pairs) <= MONEY_SCALE * inp.settings.budget(p), f"budget_{p}", p)


def add_budget_total(m: PortfolioModel) -> None:
    """``budget_total``: the planned spend stays within settings.budget_total (EUR)."""
    inp = m.inp
    cost = inp.items["cost_eur"].astype(float).to_dict()
    if inp.settings.budget_total is not None:
        terms = [MONEY_SCALE * float(cost[i]) * v for (i, _), v in m.x.items() if cost[i] > 0]
        if terms:
            m.add("budget_total", pulp.lpSum(terms) <= MONEY_SCALE * inp.settings.budget_total, "budget_total")


def add_precedence(m: PortfolioModel) -> None:
    """``prec_{i}_{j}_{t}``: j (the successor) starts in t or earlier only if i started by
    t - d_i, i.e. finished before t. Written for each allowed start t of j (the rows for
    other t are implied)."""
    items = m.inp.items
    dur = items["duration_periods"].astype(int).to_dict()
    for j, preds in items["predecessors"].items():
        for i in preds:
            d_i = dur[i]
            for t in m.starts(j):
                lhs = pulp.lpSum(m.x[j, s] for s in m.starts(j) if s <= t)
                rhs = pulp.lpSum(m.x[i, s] for s in m.starts(i) if s <= t - d_i)
                m.add("prec", lhs - rhs <= 0, f"prec_{m.tokens[i]}_{m.tokens[j]}_{t}")


def add_mandatory(m: PortfolioModel) -> None:
    """``must_{i}``: a mandatory item is funded and finishes by its deadline."""
    items = m.inp.items
    for i in items.index[items["mandatory"].astype(bool)]:
        d = int(items.at[i, "duration_periods"])
        deadline = int(items.at[i, "deadline"])
        xs = [m.x[i, t] for t in m.starts(i) if t + d - 1 <= deadline]
        m.add("must", pulp.lpSum(xs) == 1, f"must_{m.tokens[i]}")


def add_in_progress(m: PortfolioModel) -> None:
    """``continue_{i}``: an In Progress item continues in period 1 (settings.in_progress
    "continue", the default); ``wip_stop_{i}``: with "may_stop" it continues in period 1
    or is stopped, never restarted later."""
    items = m.inp.items
    for i in items.index[items["status_category"] == "In Progress"]:
        if i in m.inp.must_continue and (i, 1) in m.x:
            m.add("in_progress", m.x[i, 1] == 1, f"continue_{m.tokens[i]}")
        later = [m.x[i, t] for t in m.starts(i) if t >= 2]
        if later:
            m.add("in_progress", pulp.lpSum(later) == 0, f"wip_stop_{m.tokens[i]}")


def exclusive_groups(inp: PortfolioInput) -> dict[str, list[str]]:
    """Exclusive groups with at least two candidate items: group -> item_ids."""
    if "exclusive_group" not in inp.items.columns:
        return {}
    col = inp.items["exclusive_group"]
    groups: dict[str, list[str]] = {}
    for i, g in col.items():
        if isinstance(g, str) and g.strip():
            groups.setdefault(g.strip(), []).append(i)
    return {g: ids for g, ids in sorted(groups.items()) if len(ids) >= 2}


def add_exclusive(m: PortfolioModel) -> None:
    """``excl_{g}``: at most one item of each exclusive group."""
    for g, ids in exclusive_groups(m.inp).items():
        xs = [m.x[i, t] for i in ids for t in m.starts(i)]
        if xs:
            m.add("excl", pulp.lpSum(xs) <= 1, f"excl_{token(g)}", g)


def _spend(m: PortfolioModel, ids) -> pulp.LpAffineExpression:
    """Planned spend (model money units) of the funded items among ``ids``."""
    cost = m.inp.items["cost_eur"].astype(float)
    return pulp.lpSum(MONEY_SCALE * float(cost[i]) * m.x[i, t] for i in ids for t in m.starts(i) if cost[i] > 0)


def balance_themes(inp: PortfolioInput) -> dict[str, list[str]]:
    """Theme of settings.strategic_balance (lower case) -> its candidate items."""
    themes = inp.items["theme"]
    return {
        str(k).strip().lower(): list(themes.index[themes == str(k).strip().lower()])
        for k in inp.settings.strategic_balance
    }


def add_balance(m: PortfolioModel) -> None:
    """``balance_min_{theme}`` / ``balance_max_{theme}``: a theme's spend is at least min and
    at most max times the planned spend of all funded items (settings.strategic_balance)."""
    inp = m.inp
    if not inp.settings.strategic_balance:
        return
    total = _spend(m, inp.items.index)
    for key, bounds in inp.settings.strategic_balance.items():
        theme = key.strip().lower()
        spend = _spend(m, balance_themes(inp)[theme])
        if bounds.min > 0:
            m.add("balance", spend - bounds.min * total >= 0, f"balance_min_{token(theme)}", "min", key)
        if bounds.max < 1:
            m.add("balance", spend - bounds.max * total <= 0, f"balance_max_{token(theme)}", "max", key)


def add_okr_coverage(m: PortfolioModel) -> None:
    """``okr_{kr}``: at least the required number of funded items per key result
    (settings.okr_coverage; items count when they finish within the plan, which every
    funded item does)."""
    cov = m.inp.settings.okr_coverage
    for kr, ids in sorted(m.inp.okr_items().items()):
        need = cov.required(kr)
        if need > 0:
            xs = [m.x[i, t] for i in ids for t in m.starts(i)]
            m.add("okr", pulp.lpSum(xs) >= need, f"okr_{token(kr)}", kr)


def add_quick_wins(m: PortfolioModel) -> None:
    """``quick_wins``: at least k small items finish by settings.quick_wins.by_period."""
    q = m.inp.settings.quick_wins
    if q.min_items <= 0:
        return
    items = m.inp.items
    dur = items["duration_periods"].astype(int)
    xs = [m.x[i, t] for i in items.index[items["small"]] for t in m.starts(i) if t + dur[i] - 1 <= q.by_period]
    m.add("quick_wins", pulp.lpSum(xs) >= q.min_items, "quick_wins")


def add_wip_limit(m: PortfolioModel) -> None:
    """``wip_{team}_{p}``: at most n items in flight per team and period (settings.wip_limit)."""
    inp = m.inp
    for team in inp.team_skills:
        n = inp.settings.wip_limit.limit(team)
        if n is None:
            continue
        mine = set(inp.team_items(team))
        for p in inp.periods:
            xs = [m.x[i, t] for i, t, _ in _running(m, p) if i in mine]
            if len(xs) > n:
                m.add("wip_limit", pulp.lpSum(xs) <= n, f"wip_{token(team)}_{p}", team, p)


def add_replacements(m: PortfolioModel) -> None:
    """``repl_{old}_{new}_{s}_{t}``: z = 1 exactly when old starts in s and new in t (z <= each, z >=
    their sum - 1); the objective loses the value old gives up then (``inp.replacement_loss``)."""
    inp = m.inp
    for old, new in inp.replacements:
        for s in m.starts(old):
            for t in m.starts(new):
                loss = inp.replacement_loss(old, s, new, t)
                if abs(loss) < 1e-9:
                    continue
                name = f"repl_{m.tokens[old]}_{m.tokens[new]}_{s}_{t}"
                z = m.prob.add_variable(f"z_{name}", lowBound=0, upBound=1)
                m.add("replaces", z >= m.x[old, s] + m.x[new, t] - 1, f"{name}_both", old, new, s, t)
                m.add("replaces", z <= m.x[old, s], f"{name}_old", old, new, s, t)
                m.add("replaces", z <= m.x[new, t], f"{name}_new", old, new, s, t)
                m.penalties.append((z, loss))
                m.replacement_keys.append((old, new, s, t))


def set_objective(m: PortfolioModel) -> None:
    """Maximise sum objective_eur x minus the tie-break delta * t and the replacement losses (see the
    module docstring)."""
    inp = m.inp
    m.tie_break_eur = TIE_BREAK_EUR
    terms = [(v, MONEY_SCALE * (inp.objective_of(i, t) - m.tie_break_eur * t)) for (i, t), v in m.x.items()]
    terms += [(z, -MONEY_SCALE * loss) for z, loss in m.penalties]
    m.prob += _expr(terms)


# The builder of each constraint family (name prefix of its rows -> function), in the order
# build_model adds them.
FAMILY_BUILDERS = {
    "one_start": add_one_start,
    "cap": add_capacity,
    "budget": add_budget,
    "budget_total": add_budget_total,
    "prec": add_precedence,
    "must": add_mandatory,
    "in_progress": add_in_progress,
    "excl": add_exclusive,
    "balance": add_balance,
    "okr": add_okr_coverage,
    "quick_wins": add_quick_wins,
    "wip_limit": add_wip_limit,
    "replaces": add_replacements,
}
BUILDERS = tuple(FAMILY_BUILDERS.values())
# Families a strategy team chooses (rather than facts such as capacity): each has a price,
# the value given up because of it (models.portfolio.explain.rule_prices).
RULE_FAMILIES = {
    "must": "Must-haves and deadlines",
    "in_progress": "work in progress continues",
    "excl": "exclusive alternatives",
    "balance": "strategic balance",
    "okr": "OKR coverage",
    "quick_wins": "quick wins",
    "wip_limit": "WIP limit per team",
    "budget_total": "total budget",
}


def build_model(inp: PortfolioInput, without: tuple[str, ...] | list[str] = ()) -> PortfolioModel:
    """Create the variables, add every constraint family (except the families named in
    ``without``, keys of FAMILY_BUILDERS) and set the objective."""
    unknown = set(without) - set(FAMILY_BUILDERS)
    if unknown:
        raise ModelError(
            f"unknown constraint families {sorted(unknown)}; known: {sorted(FAMILY_BUILDERS)}. "
            "Fix: name families from that list (the keys of FAMILY_BUILDERS)."
        )
    skip = {FAMILY_BUILDERS[f] for f in without}
    m = create_model(inp)
    for builder in BUILDERS:
        if builder not in skip:
            builder(m)
    set_objective(m)
    return m


def write_lp(model: PortfolioModel, path: str | Path) -> Path:
    """Write the model as an LP file (for debugging); returns the path."""
    path = Path(path)
    model.prob.writeLP(str(path))
    return path
