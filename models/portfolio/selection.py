"""Selection-only mode of the portfolio optimiser, and its validation on the 0/1
multidimensional knapsack problem (MKP) of OR-Library.

An MKP (maximise sum_j p_j x_j subject to sum_j w_kj x_j <= c_k for every dimension k,
x binary) is exactly the optimiser's model with one period and every item taking one
period: :func:`selection_input` writes it as canonical inputs (one ``effort_<dim>`` column
and one team per dimension k, capacity_pw = c_k, cost_per_pw = 0 so that no budget row
arises; value_eur = p_j x :data:`VALUE_SCALE` for start period 1) and passes them through
the public :func:`~models.portfolio.inputs.prepare_input`. :func:`solve_selection` then runs
the unchanged :func:`~models.portfolio.build.build_model` and
:func:`~models.portfolio.solve.solve` (PuLP + HiGHS) and reads the chosen items back.

The objective carries the optimiser's tie-break of TIE_BREAK_EUR (0.01 EUR) per started
item. Profits enter as EUR x 1000, so in model units (thousands of EUR) an item is worth
its profit and the tie-break is 1e-5 per item: it can only decide between selections whose
profits differ by less than n x 1e-5, which for OR-Library data (integer profits, or one
decimal in mknap1) never changes the optimum. The reported ``value`` is the sum of the
chosen items' own profits (exact for integers), not the solver's objective.

:func:`read_orlib_mkp` reads the OR-Library files (mknap1.txt, mknapcb1-9.txt);
:func:`read_best_known` the best-known table (mkcbres_best_known.csv).

Units: profits, weights and capacities are the instance's own numbers (no unit).
"""

from __future__ import annotations

import csv
import math
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path

import pandas as pd

from models.errors import InputError, ModelError
from models.portfolio.build import TIE_BREAK_EUR, build_model
from models.portfolio.inputs import PortfolioInput, prepare_input
from models.portfolio.solve import highs_options, solve
from models.schemas import BACKLOG_DEFAULTS, EFFORT_PREFIX
from models.settings import Settings

VALUE_SCALE = 1000.0  # value_eur of one unit of profit
DEFAULT_TIME_LIMIT_S = 60.0
BEST_KNOWN_CSV = "mkcbres_best_known.csv"


# ---------------------------------------------------------------------------------------
# MKP -> canonical inputs
# ---------------------------------------------------------------------------------------


def _check_instance(
    profits: Sequence[float], weights: Sequence[Sequence[float]], capacities: Sequence[float]
) -> tuple[list[float], list[list[float]], list[float]]:
    """Plain float lists of a consistent instance; ModelError naming what is wrong."""
    p = [float(v) for v in profits]
    w = [[float(v) for v in row] for row in weights]
    c = [float(v) for v in capacities]
    n, m = len(p), len(c)
    problems = []
    if n == 0:
        problems.append("there are no items (profits is empty)")
    if m == 0:
        problems.append("there are no dimensions (capacities is empty)")
    if len(w) != m:
        problems.append(f"weights has {len(w)} rows but there are {m} capacities (one row per dimension)")
    for k, row in enumerate(w):
        if len(row) != n:
            problems.append(f"weights row {k} has {len(row)} entries but there are {n} profits")
        if any(not math.isfinite(v) or v < 0 for v in row):
            problems.append(f"weights row {k} has a negative or non-finite entry")
    if any(not math.isfinite(v) for v in p):
        problems.append("a profit is not a finite number")
    if any(not math.isfinite(v) or v <= 0 for v in c):
        problems.append("a capacity is zero, negative or not finite")
    if problems:
        raise ModelError(
            "The knapsack instance cannot be used: "
            + "; ".join(problems)
            + ". Fix: pass n profits, an m x n weight matrix and m positive capacities."
        )
    return p, w, c


def _dims(m: int) -> list[str]:
    width = len(str(m))
    return [f"dim{k + 1:0{width}d}" for k in range(m)]


def _item_ids(n: int, item_ids: Sequence[str] | None) -> list[str]:
    if item_ids is None:
        width = len(str(n - 1))
        return [f"j{j:0{width}d}" for j in range(n)]
    ids = [str(i) for i in item_ids]
    if len(ids) != n or len(set(ids)) != n:
        raise ModelError(
            f"item_ids must be {n} distinct ids, one per profit (got {len(ids)}, "
            f"{len(set(ids))} distinct). Fix: pass one unique id per item or none."
        )
    return ids


def selection_tables(
    profits: Sequence[float],
    weights: Sequence[Sequence[float]],
    capacities: Sequence[float],
    *,
    item_ids: Sequence[str] | None = None,
    time_limit_s: float | None = None,
    gap_rel: float = 0.0,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, Settings]:
    """The canonical (backlog, teams, values, settings) of an MKP (see the module docstring).

    weights is m x n (one row per dimension, as in OR-Library). The backlog holds minimal
    To-Do items of duration 1 with no dependencies, no Must-haves and no exclusive groups;
    teams one team per dimension (skill ``dimK``) with cost 0; settings one period, a budget of
    0 (no budget rows arise because no item costs anything) and the solver time limit and
    gap. The tables satisfy the Backlog and Teams schemas except for an item with zero weight
    in every dimension (the schema requires some effort; the model does not).
    """
    p, w, c = _check_instance(profits, weights, capacities)
    n, m = len(p), len(c)
    ids = _item_ids(n, item_ids)
    dims = _dims(m)
    # plain To-Do items with no scoring inputs: only the knapsack weights and the profits matter
    backlog = pd.DataFrame(
        {
            **BACKLOG_DEFAULTS,
            "item_id": ids,
            "title": [f"MKP item {i}" for i in ids],
            "product": "mkp",
            "item_type": "Item",
            **{EFFORT_PREFIX + d: w[k] for k, d in enumerate(dims)},
            "story_points": float("nan"),
            "reach": 0.0,
            "impact": 0.0,
            "business_value": 0.0,
            "time_criticality": 0.0,
            "risk_reduction": 0.0,
            "moscow": "Could",
            "depends_on": [[] for _ in range(n)],
            "deadline_period": pd.array([pd.NA] * n, dtype="Int64"),
        }
    )
    teams = pd.DataFrame(
        {
            "team": [f"team_{d}" for d in dims],
            "skill": dims,
            "headcount": 1.0,
            "capacity_pw": c,
            "cost_per_pw": 0.0,
            "velocity_sp_per_pw": 1.0,
        }
    )
    values = pd.DataFrame({"item_id": ids, "start_period": 1, "value_eur": [v * VALUE_SCALE for v in p]})
    settings = Settings.model_validate(
        {
            "company": "MKP selection",
            "start": date(2027, 1, 1),
            "periods": 1,
            "budget_per_period": 0.0,
            "solver": {"time_limit_s": float(time_limit_s or DEFAULT_TIME_LIMIT_S), "gap_rel": float(gap_rel)},
        }
    )
    return backlog, teams, values, settings


def selection_input(
    profits: Sequence[float],
    weights: Sequence[Sequence[float]],
    capacities: Sequence[float],
    *,
    item_ids: Sequence[str] | None = None,
    time_limit_s: float | None = None,
    gap_rel: float = 0.0,
) -> PortfolioInput:
    """The optimiser's checked inputs (:func:`prepare_input`) of a 0/1 multidimensional
    knapsack: maximise sum p_j x_j s.t. sum_j weights[k][j] x_j <= capacities[k]."""
    return prepare_input(
        *selection_tables(profits, weights, capacities, item_ids=item_ids, time_limit_s=time_limit_s, gap_rel=gap_rel)
    )


# ---------------------------------------------------------------------------------------
# Solving
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SelectionResult:
    """One MKP solve. value: sum of the chosen items' profits; chosen: item indices (0-based,
    ascending); status: the solver's ("Optimal", "TimeLimit", ...); gap: the solver's proven
    relative gap on its own objective (fraction); best_bound: an upper bound on the best
    total profit proven by the solver (its bound plus the largest possible tie-break, in
    profit units; rounded down when all profits are integers); time_s: solve time;
    build_s: time to prepare the input and build the model."""

    value: float
    chosen: tuple[int, ...]
    status: str
    gap: float | None
    best_bound: float | None
    time_s: float
    build_s: float = 0.0
    n_variables: int = 0
    n_constraints: int = 0
    solver: str = "HiGHS"


def greedy_selection(
    profits: Sequence[float], weights: Sequence[Sequence[float]], capacities: Sequence[float]
) -> list[int]:
    """A simple greedy: items by profit / sum_k (w_kj / c_k), highest first (ties by index),
    each taken when it still fits in every dimension. Returns 0-based indices, ascending."""
    p, w, c = _check_instance(profits, weights, capacities)
    m = len(c)
    norm = [sum(w[k][j] / c[k] for k in range(m)) for j in range(len(p))]
    ratio = [(math.inf if norm[j] == 0 else p[j] / norm[j]) for j in range(len(p))]
    order = sorted((j for j in range(len(p)) if p[j] > 0), key=lambda j: (-ratio[j], j))
    left = list(c)
    chosen = []
    for j in order:
        if all(w[k][j] <= left[k] + 1e-9 for k in range(m)):
            for k in range(m):
                left[k] -= w[k][j]
            chosen.append(j)
    return sorted(chosen)


def selection_value(profits: Sequence[float], chosen: Sequence[int]) -> float:
    """Sum of the chosen profits (math.fsum, rounded to 6 decimals so that one-decimal data
    such as mknap1 add up to the number printed in the file)."""
    return round(math.fsum(float(profits[j]) for j in chosen), 6)


def solve_selection(
    profits: Sequence[float],
    weights: Sequence[Sequence[float]],
    capacities: Sequence[float],
    *,
    item_ids: Sequence[str] | None = None,
    time_limit_s: float | None = None,
    gap_rel: float = 0.0,
    threads: int | None = None,
    solver_options: dict | None = None,
    warm_start: bool = False,
) -> SelectionResult:
    """Solve a 0/1 multidimensional knapsack with the portfolio optimiser:
    :func:`selection_input` -> :func:`build_model` -> :func:`solve` (HiGHS, relative gap
    target ``gap_rel``, 0 = prove optimality).

    ``solver_options`` (HiGHS option name -> value, e.g. {"mip_heuristic_effort": 0.3};
    values are converted to the option's type, so strings from a command line work) and
    ``warm_start`` (start HiGHS from :func:`greedy_selection`) are passed to :func:`solve`.
    Raises ModelError for an inconsistent instance or an unknown HiGHS option, SolverError
    when no selection came back.
    """
    t0 = time.perf_counter()
    inp = selection_input(profits, weights, capacities, item_ids=item_ids, time_limit_s=time_limit_s, gap_rel=gap_rel)
    model = build_model(inp)
    build_s = time.perf_counter() - t0
    ids = list(inp.items.index)  # same order as the profits
    options = highs_options(solver_options or {})  # typed, for the label; solve converts them too
    start = {ids[j]: 1 for j in greedy_selection(profits, weights, capacities)} if warm_start else None
    stats = solve(model, time_limit_s=time_limit_s, gap_rel=gap_rel, threads=threads, warm_start=start, **options)
    funded = model.chosen_starts()
    chosen = tuple(j for j, i in enumerate(ids) if i in funded)
    value = selection_value(profits, chosen)
    bound = None
    if stats.best_bound is not None:
        bound = (stats.best_bound + TIE_BREAK_EUR * len(ids)) / VALUE_SCALE
        if all(float(v).is_integer() for v in profits):
            bound = float(math.floor(bound + 1e-6))
    extras = [f"{k}={v}" for k, v in options.items()] + (["greedy warm start"] if warm_start else [])
    label = stats.solver + (f" ({', '.join(extras)})" if extras else "")
    return SelectionResult(
        value=value,
        chosen=chosen,
        status=stats.status,
        gap=stats.gap,
        best_bound=bound,
        time_s=stats.time_s,
        build_s=build_s,
        n_variables=stats.n_variables,
        n_constraints=stats.n_constraints,
        solver=label,
    )


# ---------------------------------------------------------------------------------------
# OR-Library files
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MkpProblem:
    """One OR-Library MKP. weights is m x n; optimum: the value in the problem's header
    (None when the file gives 0, i.e. unknown); best_known / lp_bound: from the header or the
    best-known table (None when unknown)."""

    source: str  # file name
    index: int  # 0-based position in the file
    profits: tuple[float, ...]
    weights: tuple[tuple[float, ...], ...]
    capacities: tuple[float, ...]
    optimum: float | None = None
    best_known: float | None = None
    lp_bound: float | None = None
    name: str | None = None

    @property
    def n(self) -> int:
        return len(self.profits)

    @property
    def m(self) -> int:
        return len(self.capacities)


_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_FORMAT_FIX = (
    "use the OR-Library layout: K, then per problem 'n m optimum', n profits, m rows of n "
    "weights and m capacities, all whitespace-separated numbers."
)


class _Tokens:
    """Whitespace-separated numbers of a file with their line numbers."""

    def __init__(self, path: Path):
        self.path = path
        self.items: list[tuple[str, int]] = []
        with path.open(encoding="utf-8", errors="replace") as fh:
            for lineno, line in enumerate(fh, start=1):
                self.items.extend((tok, lineno) for tok in line.split())
        self.pos = 0
        self.last_line = self.items[-1][1] if self.items else 1

    def _fail(self, message: str, row: int) -> InputError:
        return InputError.single(str(self.path), message, _FORMAT_FIX, row=row)

    def number(self, what: str) -> float:
        if self.pos >= len(self.items):
            raise self._fail(
                f"the file ends early: expected {what} as number {self.pos + 1}, "
                f"but it has only {len(self.items)} numbers (truncated file?).",
                self.last_line,
            )
        tok, line = self.items[self.pos]
        if not _NUMBER.fullmatch(tok):
            raise self._fail(f"'{tok}' (number {self.pos + 1} in the file, {what}) is not a number.", line)
        self.pos += 1
        return float(tok)

    def count(self, what: str) -> int:
        line = self.items[self.pos][1] if self.pos < len(self.items) else self.last_line
        v = self.number(what)
        if not v.is_integer() or v < 1:
            raise self._fail(
                f"{what} must be a positive whole number, found {v:g} (number {self.pos} in the file).", line
            )
        return int(v)

    def numbers(self, k: int, what: str) -> tuple[float, ...]:
        return tuple(self.number(f"{what} {i + 1} of {k}") for i in range(k))


def read_orlib_mkp(path: str | Path, best_known: str | Path | None = None) -> list[MkpProblem]:
    """The problems of an OR-Library MKP file (mknap1.txt, mknapcb1-9.txt).

    Format: whitespace-separated numbers (line breaks carry no meaning): K; then per problem
    n m optimum, n profits, m rows of n weights, m capacities. A header optimum of 0 means
    unknown. ``best_known``: the best-known table (see :func:`read_best_known`) whose rows
    for this file's name fill best_known and lp_bound; otherwise best_known is the header
    optimum. Raises InputError naming the file, line and number position for a truncated
    file, a token that is not a number, a bad count or numbers left over after problem K.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError.single(str(path), "the file does not exist.", "check the path.")
    toks = _Tokens(path)
    k = toks.count("the number of problems K")
    problems = []
    for idx in range(k):
        where = f"problem {idx + 1} of {k}:"
        n = toks.count(f"{where} the number of items n")
        m = toks.count(f"{where} the number of constraints m")
        opt = toks.number(f"{where} the optimal value")
        profits = toks.numbers(n, f"{where} profit")
        weights = tuple(toks.numbers(n, f"{where} constraint {i + 1} weight") for i in range(m))
        caps = toks.numbers(m, f"{where} capacity")
        optimum = opt if opt != 0 else None
        problems.append(
            MkpProblem(
                source=path.name,
                index=idx,
                profits=profits,
                weights=weights,
                capacities=caps,
                optimum=optimum,
                best_known=optimum,
            )
        )
    if toks.pos < len(toks.items):
        tok, line = toks.items[toks.pos]
        raise toks._fail(
            f"{len(toks.items) - toks.pos} number(s) left over after the {k} problems the file "
            f"announces, starting with '{tok}' (number {toks.pos + 1}).",
            line,
        )
    if best_known is not None:
        table = read_best_known(best_known)
        problems = [_with_best_known(p, table) for p in problems]
    return problems


def read_best_known(path: str | Path) -> dict[tuple[str, int], dict]:
    """The best-known table (mkcbres_best_known.csv: file, index_in_file, name, m, n,
    tightness, best_feasible_chu_beasley_1998, lp_relaxation) keyed by (file, index)."""
    path = Path(path)
    need = ("file", "index_in_file", "best_feasible_chu_beasley_1998", "lp_relaxation")
    out: dict[tuple[str, int], dict] = {}
    with path.open(newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        missing = [c for c in need if c not in (reader.fieldnames or [])]
        if missing:
            raise InputError.single(
                str(path),
                f"required column(s) {', '.join(missing)} missing.",
                "use mkcbres_best_known.csv as shipped.",
                row=1,
            )
        for lineno, row in enumerate(reader, start=2):
            try:
                key = (row["file"], int(row["index_in_file"]))
                out[key] = {
                    "name": row.get("name") or None,
                    "best_known": float(row["best_feasible_chu_beasley_1998"]),
                    "lp_bound": float(row["lp_relaxation"]),
                    "n": int(row["n"]) if row.get("n") else None,
                    "m": int(row["m"]) if row.get("m") else None,
                }
            except (TypeError, ValueError) as exc:
                raise InputError.single(
                    str(path), f"a value is not a number ({exc}).", "correct the row.", row=lineno
                ) from None
    return out


def _with_best_known(p: MkpProblem, table: dict[tuple[str, int], dict]) -> MkpProblem:
    row = table.get((p.source, p.index))
    if row is None:
        return p
    if (row["n"] is not None and row["n"] != p.n) or (row["m"] is not None and row["m"] != p.m):
        raise InputError.single(
            p.source,
            f"problem {p.index} has n={p.n}, m={p.m} but the best-known table says n={row['n']}, m={row['m']}.",
            "use the matching best-known table.",
        )
    return replace(p, best_known=row["best_known"], lp_bound=row["lp_bound"], name=row["name"])


__all__ = [
    "VALUE_SCALE",
    "MkpProblem",
    "SelectionResult",
    "greedy_selection",
    "read_best_known",
    "read_orlib_mkp",
    "selection_input",
    "selection_tables",
    "selection_value",
    "solve_selection",
]
