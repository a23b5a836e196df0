"""Why the plan is what it is: prices of resources and rules, and per item what it would
take to change the decision.

* :func:`shadow_prices`: the value of one more person-week per skill and period (and one
  more EUR of budget), from the LP relaxation with the plan's integer decisions fixed:
  the funded items keep their start, the others may enter fractionally. A price is the
  objective (EUR) gained per unit of extra capacity at the margin of this plan, so it is
  >= 0 and 0 where capacity is left over.
* :func:`rule_prices`: for each rule family the strategy team chose (Must-haves,
  strategic balance, OKR coverage, quick wins, WIP limits, ...), the value given up
  because of it: the plan re-solved without the rule, warm-started from the plan.
* :func:`item_explanations`: per item, in or out, the binding reason, an LP estimate of the
  value lost if the decision were forced the other way (reduced costs of the LP relaxation),
  and for near misses and every Must-have the re-solved value lost (with the solver's status and the bounds it proved).
* :func:`what_it_takes`: for an item left out, the capacity and budget it would need at
  its best start beyond what the plan leaves free.
* :func:`check_candidate`: refuses an unknown or Done item from the backlog alone, before
  anything is solved.

Money in EUR, effort in person-weeks. Re-solves use ``settings.explain.time_limit_s``; when
a re-solve stops at its limit the value lost is reported as an interval [low, high] that
the solver proved, never as an exact number.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pulp

from models.errors import ModelError, SolverError
from models.portfolio.build import MONEY_SCALE, RULE_FAMILIES, TIE_BREAK_EUR, PortfolioModel, build_model
from models.portfolio.greedy import greedy_warm_start
from models.portfolio.inputs import PortfolioInput
from models.portfolio.results import PortfolioResult
from models.portfolio.solve import diagnose_infeasibility, solve


def plan_starts(result: PortfolioResult | pd.DataFrame) -> dict[str, int]:
    """item -> start period of the funded items of a plan."""
    d = result.decisions if isinstance(result, PortfolioResult) else result
    f = d.loc[d["funded"].astype(bool)]
    return {str(i): int(t) for i, t in zip(f["item_id"], f["start_period"], strict=True)}


def _objective(inp: PortfolioInput, starts: dict[str, int]) -> float:
    """The plan's objective in EUR (value, net of cost / risk-adjusted as the settings say)."""
    return inp.plan_objective(starts)


def _model_objective(inp: PortfolioInput, starts: dict[str, int]) -> float:
    """The objective as the solver sees it: with the tie-break of TIE_BREAK_EUR per start
    period, so it compares with the solver's bounds (differences are cents)."""
    return inp.plan_objective(starts) - TIE_BREAK_EUR * sum(starts.values())


def _started(fn: Callable, args: Iterable, workers: int, pool: Executor | None = None) -> Callable[[], list]:
    """Start ``fn`` on every item of ``args`` and return a function that waits for the results, in the order
    of ``args``. The re-solves are independent; HiGHS releases Python's lock while it solves, so two threads
    use two cores (measured: 6 time-limited re-solves of the demo in 6.5 s instead of 12.4 s). In ``pool``
    when given (several families of re-solves then share its threads and queue), else in ``workers``
    threads of their own (one: here and now)."""
    args = list(args)
    if pool is not None:
        futures = [pool.submit(fn, a) for a in args]
        return lambda: [f.result() for f in futures]
    if workers <= 1 or len(args) <= 1:
        done = [fn(a) for a in args]
        return lambda: done
    with ThreadPoolExecutor(max_workers=min(workers, len(args))) as own:
        done = list(own.map(fn, args))
    return lambda: done


def _side_by_side(fn: Callable, args: Iterable, workers: int, pool: Executor | None = None) -> list:
    """``[fn(a) for a in args]``, computed side by side (:func:`_started`)."""
    return _started(fn, args, workers, pool)()


# -- shadow prices ------------------------------------------------------------------------
# Families whose rows are written in model money (thousands of EUR on both sides), so their
# duals are already EUR per EUR; the other rows' duals are thousands of EUR per unit.
MONEY_FAMILIES = frozenset({"budget", "budget_total", "balance"})


@dataclass
class MarginalLP:
    """A solved LP relaxation (:func:`marginal_lp` around a plan, or :func:`lp_relaxation`)."""

    model: PortfolioModel
    objective_eur: float

    def prices(self, family: str) -> dict[tuple, float]:
        """Dual of every row of a constraint family, by the keys the row was built for (e.g.
        (skill, period) for "cap"), in EUR per unit of its right-hand side: pw for capacity,
        EUR for the families written in model money (MONEY_FAMILIES), 1 for count rows."""
        scale = 1.0 if family in MONEY_FAMILIES else 1.0 / MONEY_SCALE
        m = self.model
        out: dict[tuple, float] = {}
        for name in m.constraints.get(family, []):
            c = m.prob.get_constraint_by_name(name)
            out[m.keys[name]] = ((c.pi if c is not None else None) or 0.0) * scale
        return out

    def reduced_cost(self, item: str, start: int) -> float:
        """EUR gained per unit of x[item, start] at the LP's prices (<= 0 for starts the LP leaves out)."""
        dj = self.model.x[item, start].dj
        return (dj or 0.0) / MONEY_SCALE


def _relaxation(inp: PortfolioInput, fixed: dict[str, int] | None) -> MarginalLP:
    """Solve the LP relaxation (every x in [0, 1]) with the objective in EUR without the
    tie-break; items in ``fixed`` are held at their start (all their other starts at 0).
    Raises SolverError when the LP has no solution (a fixed plan breaks a rule)."""
    m = build_model(inp)
    m.prob.setObjective(pulp.lpSum(MONEY_SCALE * inp.objective_of(i, t) * v for (i, t), v in m.x.items()))
    for (i, t), v in m.x.items():
        v.cat = "Continuous"
        if fixed and i in fixed:
            on = 1.0 if fixed[i] == t else 0.0
            v.bounds(on, on)
    raw = m.prob.solve(pulp.HiGHS(msg=False, mip=False))
    if not raw.has_solution:
        raise SolverError(
            "the LP relaxation has no solution" + (": the plan breaks a rule" if fixed else ""),
            pulp.LpSolveStatus(raw.status).name,
        )
    obj = (raw.objective if raw.objective is not None else m.prob.objective.value()) / MONEY_SCALE
    return MarginalLP(model=m, objective_eur=obj)


def marginal_lp(inp: PortfolioInput, starts: dict[str, int]) -> MarginalLP:
    """The LP relaxation with the plan's funded items fixed at their starts (for shadow prices)."""
    return _relaxation(inp, starts)


def lp_relaxation(inp: PortfolioInput) -> MarginalLP:
    """The LP relaxation of the whole model (for reduced costs)."""
    return _relaxation(inp, None)


def shadow_prices(inp: PortfolioInput, starts: dict[str, int]) -> pd.DataFrame:
    """skill, period, shadow_price_eur_per_pw: value of one more person-week at the margin
    of the plan (>= 0). Budget rows are returned with skill "budget" (EUR per EUR)."""
    lp = marginal_lp(inp, starts)
    cap, budget = lp.prices("cap"), lp.prices("budget")  # no row (nothing can use it): price 0
    rows = [(skill, p, max(0.0, cap.get((skill, p), 0.0))) for skill in inp.skills for p in inp.periods]
    rows += [("budget", p, max(0.0, budget.get((p,), 0.0))) for p in inp.periods]
    return pd.DataFrame(rows, columns=["skill", "period", "shadow_price_eur_per_pw"])


# -- re-solves ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Resolve:
    """A re-solve with one change: its plan value (objective, EUR), bound, status."""

    status: str
    objective: float | None
    best_bound: float | None
    starts: dict[str, int]
    message: str = ""


def resolve(
    inp: PortfolioInput,
    *,
    without: tuple[str, ...] = (),
    force: dict[str, bool] | None = None,
    warm_start: dict[str, int] | None = None,
    time_limit_s: float | None = None,
) -> Resolve:
    """Build and solve the model without some rule families and/or with items forced in
    (True: funded at some start) or out (False); no plan -> status "Infeasible" and the
    diagnosis as message."""
    m = build_model(inp, without=without)
    for item, on in (force or {}).items():
        xs = [m.x[item, t] for t in m.starts(item)]
        if on:
            if not xs:
                return Resolve("Infeasible", None, None, {}, f"{item} cannot finish within the plan")
            m.prob += (pulp.lpSum(xs) == 1, f"force_in_{m.tokens[item]}")
        elif xs:
            m.prob += (pulp.lpSum(xs) == 0, f"force_out_{m.tokens[item]}")
    limit = time_limit_s if time_limit_s is not None else inp.settings.explain.time_limit_s
    try:
        stats = solve(m, time_limit_s=limit, warm_start=warm_start)
    except SolverError as exc:
        return Resolve(exc.status or "Infeasible", None, None, {}, str(exc))
    starts = m.chosen_starts()
    # objective and bound as the solver sees them (EUR, with the tie-break)
    return Resolve(stats.status, _model_objective(inp, starts), stats.best_bound, starts)


def _loss_interval(base_obj: float, base_bound: float, r: Resolve) -> tuple[float | None, float | None]:
    """Value lost by a change, as the interval the two solves prove: low = base plan value
    minus the changed problem's bound, high = the base bound minus the changed plan found
    (None when the change leaves no plan)."""
    if r.objective is None:
        return None, None
    bound = r.best_bound if r.best_bound is not None else r.objective
    low = base_obj - bound
    high = base_bound - r.objective
    return low, max(low, high)


def rule_prices(inp: PortfolioInput, result: PortfolioResult, pool: Executor | None = None) -> pd.DataFrame:
    """Per rule family present in the model: rule, description, rows, status (of the
    re-solve without it), value_without_eur, price_eur (value given up because of the rule:
    re-solved plan without it minus the plan; >= 0 up to the solvers' gaps), price_low_eur
    and price_high_eur (what the two solves prove), exact (both solves optimal)."""
    return _rule_prices_started(inp, result, pool)()


def _rule_prices_started(
    inp: PortfolioInput, result: PortfolioResult, pool: Executor | None
) -> Callable[[], pd.DataFrame]:
    """:func:`rule_prices` with its re-solves started (in ``pool`` when given): call the result for the table."""
    info = result.run_info.iloc[0]
    base_starts, base_obj, base_bound = _baseline(inp, result)
    present = build_model(inp).constraints
    families = [f for f in RULE_FAMILIES if present.get(f)]
    workers = inp.settings.explain.worker_count()
    pending = _started(lambda f: resolve(inp, without=(f,), warm_start=base_starts), families, workers, pool)
    return lambda: _rule_table(families, pending(), present, base_obj, base_bound, info)


def _rule_table(
    families: list[str], solved: list[Resolve], present: dict, base_obj: float, base_bound: float, info: pd.Series
) -> pd.DataFrame:
    rows = []
    for family, r in zip(families, solved, strict=True):
        description = RULE_FAMILIES[family]
        # the plan stays feasible without a rule: the re-solve is never worse than the plan
        found = max(r.objective if r.objective is not None else base_obj, base_obj)
        bound = max(r.best_bound if r.best_bound is not None else found, found)
        rows.append(
            {
                "rule": family,
                "description": description,
                "rows": len(present[family]),
                "status": r.status,
                "value_without_eur": found,
                "price_eur": found - base_obj,
                "price_low_eur": max(0.0, found - base_bound),
                "price_high_eur": max(0.0, bound - base_obj),
                "exact": r.status == "Optimal" and info["status"] == "Optimal",
            }
        )
    return pd.DataFrame(
        rows,
        columns=[
            "rule",
            "description",
            "rows",
            "status",
            "value_without_eur",
            "price_eur",
            "price_low_eur",
            "price_high_eur",
            "exact",
        ],
    )


# -- per item -------------------------------------------------------------------------------
def _lp_estimate(inp: PortfolioInput, lp: MarginalLP, item: str, funded_at: int | None) -> float:
    """LP estimate (EUR) of the value lost if the decision on ``item`` were reversed, from the
    reduced costs of the LP relaxation of the whole model.

    Left out: when the LP leaves the item out too, minus its best reduced cost (what the
    LP's prices say making room costs); 0 when the LP already funds part of it. Funded: the
    reduced costs of the starts the LP uses, weighted by how much it uses them (0 when the
    LP only half wants the item: then dropping it costs little at the margin)."""
    row = inp.items.loc[item]
    xs = [(lp.model.x[item, t], t) for t in row["rule_starts"] if (item, t) in lp.model.x]
    if not xs:
        return float("nan")
    used = sum(v.value() or 0.0 for v, _ in xs)
    if funded_at is None:
        if used > 1e-6:
            return 0.0
        return max(0.0, -max(lp.reduced_cost(item, t) for _, t in xs))
    return sum(max(0.0, lp.reduced_cost(item, t)) * (v.value() or 0.0) for v, t in xs)


@dataclass(frozen=True)
class _Room:
    """What a plan leaves free: person-weeks per (skill, period), EUR per period, and its starts."""

    pw: dict[tuple[str, int], float]
    eur: dict[int, float]
    starts: dict[str, int]


def _room(result: PortfolioResult) -> _Room:
    cap, bud = result.capacity, result.budget
    return _Room(
        pw={
            (str(k), int(p)): float(c - u)
            for k, p, c, u in zip(cap["skill"], cap["period"], cap["capacity_pw"], cap["used_pw"], strict=True)
        },
        eur={int(p): float(b - x) for p, b, x in zip(bud["period"], bud["budget_eur"], bud["spend_eur"], strict=True)},
        starts=plan_starts(result),
    )


def what_it_takes(inp: PortfolioInput, item: str, room: _Room) -> str:
    """For a left-out item: at its least-blocked allowed start, the capacity and budget it
    would need beyond what the plan leaves free (``room``: :func:`_room` of the plan)."""
    s, items = inp.settings, inp.items
    row = items.loc[item]
    starts = room.starts
    ready = max(
        (starts[p] + int(items.at[p, "duration_periods"]) for p in row["predecessors"] if p in starts), default=1
    )
    missing = [p for p in row["predecessors"] if p not in starts]
    d = int(row["duration_periods"])
    best: tuple[float, int, list[str]] | None = None
    for t in row["rule_starts"]:
        if t < ready:
            continue
        short, words = 0.0, []
        for p in range(t, t + d):
            for skill in inp.skills:
                need = inp.effort(item, skill) / d
                free = room.pw[(skill, p)]
                if need > free + 1e-6:
                    short += (need - free) / max(need, 1e-9)
                    words.append(f"{need - free:.1f} more {skill} person-weeks in {s.period_label(p)}")
            spend = float(row["cost_eur"]) / d
            free_eur = room.eur[p]
            if spend > free_eur + 1e-6:
                short += (spend - free_eur) / max(spend, 1e-9)
                words.append(f"{spend - free_eur:,.0f} EUR more budget in {s.period_label(p)}")
        if best is None or short < best[0]:
            best = (short, t, words)
    prefix = f"needs {', '.join(missing)} funded first; " if missing else ""
    if best is None:
        return prefix + "cannot start within the plan after its predecessors"
    short, t, words = best
    if not words:
        return prefix + f"fits from {s.period_label(t)} as the plan stands; left out by the rules or its value"
    return prefix + f"to start in {s.period_label(t)} it would need " + ", ".join(words)


def item_explanations(
    inp: PortfolioInput, result: PortfolioResult, near_misses: int | None = None, pool: Executor | None = None
) -> pd.DataFrame:
    """One row per candidate: item_id, funded, start_period, reason, what_it_takes,
    forced ("out" for funded items, "in" for the others), lp_loss_eur (LP estimate of the
    value lost if forced), resolved (whether it was re-solved), resolve_status, loss_eur
    (the plan's value minus the best forced plan found), loss_low_eur / loss_high_eur (the
    interval the two solves prove; equal to loss_eur when both are optimal), note.

    Re-solved: every mandatory item (forced out: what the Must-have costs; not for running
    work that must continue) and the ``near_misses`` left-out items with the smallest LP
    estimate (settings.explain). A negative loss_low_eur only says how wide the solvers'
    gaps leave the interval."""
    cfg = inp.settings.explain
    k = cfg.near_misses if near_misses is None else near_misses
    base, base_obj, base_bound = _baseline(inp, result)
    lp = lp_relaxation(inp)
    reasons = result.decisions.set_index("item_id")["reason"]
    room = _room(result)
    out = pd.DataFrame([_item_row(inp, i, base, reasons, lp, room) for i in inp.items.index])
    musts = [i for i in inp.items.index if bool(inp.items.at[i, "mandatory"])]
    left = out.loc[~out["funded"] & out["lp_loss_eur"].notna()].sort_values(["lp_loss_eur", "item_id"])
    left = left.loc[[bool(inp.items.at[i, "rule_starts"]) for i in left["item_id"]]]
    chosen = musts + left["item_id"].head(k).tolist()
    out["resolved"] = out["item_id"].isin(chosen)
    for col in ("resolve_status", "note"):
        out[col] = ""
    for col in ("loss_eur", "loss_low_eur", "loss_high_eur"):
        out[col] = float("nan")
    losses = _side_by_side(lambda i: _forced_loss(inp, base, base_obj, base_bound, i), chosen, cfg.worker_count(), pool)
    for i, (status, note, loss, low, high) in zip(chosen, losses, strict=True):
        idx = out.index[out["item_id"] == i][0]
        if status is None:
            out.at[idx, "resolved"] = False
        out.at[idx, "resolve_status"] = status or ""
        out.at[idx, "note"] = note
        out.at[idx, "loss_eur"], out.at[idx, "loss_low_eur"], out.at[idx, "loss_high_eur"] = loss, low, high
    return out


def explain_all(inp: PortfolioInput, result: PortfolioResult) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(:func:`item_explanations`, :func:`rule_prices`) with every re-solve in one pool of
    ``settings.explain.workers`` threads: the rules' re-solves are queued first (two of them run to their
    time limit on the demo), the items' behind them, so no thread idles while the other finishes a family."""
    with ThreadPoolExecutor(max_workers=inp.settings.explain.worker_count()) as pool:
        prices = _rule_prices_started(inp, result, pool)
        items = item_explanations(inp, result, pool=pool)
        return items, prices()


def _baseline(inp: PortfolioInput, result: PortfolioResult) -> tuple[dict[str, int], float, float]:
    """The plan's starts, its objective as the solver sees it, and the bound the solve proved."""
    base = plan_starts(result)
    bound = result.run_info["best_bound"].iloc[0]
    base_obj = _model_objective(inp, base)
    return base, base_obj, float(bound) if pd.notna(bound) else base_obj


def _item_row(
    inp: PortfolioInput, item: str, base: dict[str, int], reasons: pd.Series, lp: MarginalLP, room: _Room
) -> dict:
    t = base.get(item)
    return {
        "item_id": item,
        "funded": t is not None,
        "start_period": t,
        "reason": str(reasons[item]),
        "what_it_takes": "" if t is not None else what_it_takes(inp, item, room),
        "forced": "out" if t is not None else "in",
        "lp_loss_eur": _lp_estimate(inp, lp, item, t),
    }


def _forced_loss(
    inp: PortfolioInput, base: dict[str, int], base_obj: float, base_bound: float, item: str
) -> tuple[str | None, str, float, float, float]:
    """Re-solve with ``item`` forced the other way: (status or None when not re-solved,
    note, loss, proven low, proven high); NaN losses when no plan exists."""
    nan = float("nan")
    if item in base and item in inp.must_continue:
        return None, "in progress and continued (settings in_progress: continue); not re-solved", nan, nan, nan
    if item not in base:
        r = resolve(inp, force={item: True})
    else:
        if bool(inp.items.at[item, "mandatory"]):  # forced out, a Must-have first has to lose its flag
            r = _resolve_without_must(inp, item, base)
        else:
            r = resolve(inp, force={item: False}, warm_start={j: s for j, s in base.items() if j != item})
    if r.objective is None:
        reasons = diagnose_infeasibility_with(inp, item) if item not in base else []
        note = ("cannot be funded with the other rules: " + "; ".join(reasons)) if reasons else r.message
        return r.status, note, nan, nan, nan
    low, high = _loss_interval(base_obj, base_bound, r)
    return r.status, "", base_obj - r.objective, low, high


def _require_candidate(item: str, candidates: list[str], done: bool = False) -> None:
    """ModelError unless ``item`` is among ``candidates`` (item_ids); ``done``: it is a Done item."""
    if item in candidates:
        return
    close = [i for i in candidates if item.lower() in i.lower()][:5]
    hint = f" Did you mean {', '.join(close)}?" if close else ""
    why = f"{item} is Done; " if done else ""
    raise ModelError(
        f"{item} is not a candidate of this plan ({why}Done items and unknown ids are not).{hint} "
        "Fix: name a backlog item that is not Done (weitblick plan lists them)."
    )


def check_candidate(backlog: pd.DataFrame, item: str) -> None:
    """Refuse ``item`` unless a plan on ``backlog`` has it as a candidate: the candidates are
    the rows not Done (as :func:`models.portfolio.inputs.prepare_input` takes them). Needs
    only the backlog, so a caller can refuse an unknown or Done item before solving.
    Raises ModelError naming close ids."""
    ids = backlog["item_id"].astype(str)
    done = backlog["status_category"] == "Done"
    _require_candidate(item, ids[~done].tolist(), done=item in set(ids[done]))


def explain_item(inp: PortfolioInput, result: PortfolioResult, item: str) -> dict:
    """Why one item is in or out and what it would take: item_id, funded, start_period,
    reason, what_it_takes, forced, lp_loss_eur, resolve_status, loss_eur, loss_low_eur,
    loss_high_eur, note (one re-solve with the item forced the other way). An item that is
    not a candidate is a ModelError (:func:`check_candidate`)."""
    _require_candidate(item, list(inp.items.index))
    base, base_obj, base_bound = _baseline(inp, result)
    row = _item_row(inp, item, base, result.decisions.set_index("item_id")["reason"], lp_relaxation(inp), _room(result))
    status, note, loss, low, high = _forced_loss(inp, base, base_obj, base_bound, item)
    return {
        **row,
        "resolve_status": status or "",
        "loss_eur": loss,
        "loss_low_eur": low,
        "loss_high_eur": high,
        "note": note,
    }


def _with_mandatory(inp: PortfolioInput, item: str, mandatory: bool) -> PortfolioInput:
    """The same inputs with one item's mandatory flag set."""
    items = inp.items.copy()
    items.loc[item, "mandatory"] = mandatory
    return dataclasses.replace(inp, items=items)


def _resolve_without_must(inp: PortfolioInput, item: str, base: dict[str, int]) -> Resolve:
    """Forced out, a Must-have first has to lose its mandatory flag."""
    return resolve(
        _with_mandatory(inp, item, False), force={item: False}, warm_start={j: s for j, s in base.items() if j != item}
    )


def diagnose_infeasibility_with(inp: PortfolioInput, item: str) -> list[str]:
    """Why ``item`` cannot be funded together with the rules: the elastic diagnosis of the
    model with the item made mandatory."""
    return diagnose_infeasibility(_with_mandatory(inp, item, True))


# -- efficient frontier ---------------------------------------------------------------------
def _frontier_chain(inp: PortfolioInput, shares: list[float], warm: dict[str, int] | None) -> list[dict]:
    """The frontier's rows for ``shares`` (ascending), each solve warm-started from the one before."""
    cfg, s = inp.settings.explain, inp.settings
    prev = None
    rows = []
    for share in shares:
        per = [s.budget(p) * share for p in inp.periods]
        total = None if s.budget_total is None else s.budget_total * share
        scaled = s.model_copy(update={"budget_per_period": per, "budget_total": total})
        sub = dataclasses.replace(inp, settings=scaled)
        # start from the best plan known to fit this budget: the one below, the plan itself
        # (from share 1 up) or the best valid greedy plan at this budget
        fits = [c for c in (prev, warm if share >= 1.0 else None, greedy_warm_start(sub)) if c]
        start = max(fits, key=lambda c: _objective(inp, c)) if fits else None
        m = build_model(sub)
        try:
            stats = solve(m, time_limit_s=cfg.time_limit_s, warm_start=start)
        except SolverError as exc:
            rows.append(
                {
                    "budget_share": share,
                    "budget_eur": min(sum(per), total or np.inf),
                    "status": exc.status or "Infeasible",
                    "value_eur": np.nan,
                    "objective_eur": np.nan,
                    "cost_eur": np.nan,
                    "n_funded": 0,
                    "gap": np.nan,
                    "best_bound_eur": np.nan,
                }
            )
            continue
        starts = m.chosen_starts()
        prev = starts
        rows.append(
            {
                "budget_share": share,
                "budget_eur": min(sum(per), total or np.inf),
                "status": stats.status,
                "value_eur": inp.plan_value(starts),
                "objective_eur": _objective(inp, starts),
                "cost_eur": float(inp.items.loc[list(starts), "cost_eur"].sum()) if starts else 0.0,
                "n_funded": len(starts),
                "gap": stats.gap,
                "best_bound_eur": stats.best_bound,
            }
        )
    return rows


def efficient_frontier(inp: PortfolioInput, result: PortfolioResult | None = None) -> pd.DataFrame:
    """Best plan value for a range of budgets: every period's budget (and the total budget)
    scaled by a share from settings.explain.frontier_min_share to frontier_max_share.

    Solved in two chains side by side (``settings.explain.workers``): the budgets below the plan's
    from the smallest up, and the plan's budget and above from the plan up; each solve is
    warm-started from the best plan known to fit: the plan of the budget below in its chain,
    ``result`` from share 1 up, or the best valid greedy plan at that budget. Columns: budget_share,
    budget_eur (sum over the periods, or the total budget when it binds more), status,
    value_eur, objective_eur, cost_eur, n_funded, gap, best_bound_eur, marginal_value
    (value gained per extra EUR of budget since the previous point)."""
    cfg = inp.settings.explain
    n = cfg.frontier_points
    shares = sorted(set(np.round(np.linspace(cfg.frontier_min_share, cfg.frontier_max_share, n), 4)) | {1.0})
    warm = plan_starts(result) if result is not None else None
    chains = [[x for x in shares if x < 1.0], [x for x in shares if x >= 1.0]]
    done = _side_by_side(lambda chain: _frontier_chain(inp, chain, warm), [c for c in chains if c], cfg.worker_count())
    rows = sorted((row for chain in done for row in chain), key=lambda r: r["budget_share"])
    out = pd.DataFrame(
        rows,
        columns=[
            "budget_share",
            "budget_eur",
            "status",
            "value_eur",
            "objective_eur",
            "cost_eur",
            "n_funded",
            "gap",
            "best_bound_eur",
        ],
    )
    out["marginal_value"] = out["objective_eur"].diff() / out["budget_eur"].diff()
    return out
