"""Selection-only mode of the optimiser on 0/1 multidimensional knapsacks: a hand-solved
instance, the seven proven optima of OR-Library mknap1 (tests/data/mkp/PROVENANCE.md),
the OR-Library parser's errors, and the first Chu-Beasley problem where
../shared/validation/mkp is present."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from models.errors import InputError, ModelError
from models.portfolio import build_model
from models.portfolio.selection import (
    greedy_selection,
    read_orlib_mkp,
    selection_input,
    selection_tables,
    solve_selection,
)
from models.schemas import Backlog, Teams, validate
from pipelines.paths import project_root

MKNAP1 = project_root() / "tests" / "data" / "mkp" / "mknap1.txt"
SHARED = project_root().parent / "shared" / "validation" / "mkp"
MKNAP1_OPTIMA = [3800, 8706.1, 4015, 6120, 12400, 10618, 16537]


def fits(weights, capacities, chosen) -> bool:
    return all(sum(row[j] for j in chosen) <= c + 1e-9 for row, c in zip(weights, capacities, strict=True))


# Four items, two dimensions, capacities (8, 6):
#   item  profit  weight dim1  weight dim2
#   A     10      5            1
#   B      7      4            3
#   C      6      3            4
#   D      4      1            2
PROFITS = [10, 7, 6, 4]
WEIGHTS = [[5, 4, 3, 1], [1, 3, 4, 2]]
CAPACITIES = [8, 6]


def test_tiny_knapsack_solved_by_hand():
    """Pairs: A+B weighs (9, 4), over 8 in dim1; B+C (7, 7), over 6 in dim2; A+C (8, 5)
    fits, 16; A+D (6, 3) 14; B+D (5, 5) 11; C+D (4, 6) 10. Every triple is over (A+C+D
    (9, 7), A+B+D (10, 6), B+C+D (8, 9)) and a single item is worth at most 10. Optimum:
    A+C = 16.

    The greedy by profit / (w1/8 + w2/6) ranks A 12.6, D 8.7, B 7.0, C 5.8: it takes A, then
    D (left (2, 3)); B and C no longer fit: 14.
    """
    res = solve_selection(PROFITS, WEIGHTS, CAPACITIES, time_limit_s=10)
    assert res.status == "Optimal" and res.gap == 0.0
    assert res.value == 16 and res.chosen == (0, 2)
    assert res.best_bound == 16
    assert greedy_selection(PROFITS, WEIGHTS, CAPACITIES) == [0, 3]
    # the hand enumeration, by brute force
    best = max(
        sum(PROFITS[j] for j in s)
        for r in range(5)
        for s in itertools.combinations(range(4), r)
        if fits(WEIGHTS, CAPACITIES, s)
    )
    assert best == 16


def test_selection_inputs_are_canonical_and_have_no_budget_rows():
    backlog, teams, _values, settings = selection_tables(PROFITS, WEIGHTS, CAPACITIES, item_ids=list("ABCD"))
    validate(backlog, Backlog, "mkp backlog")
    validate(teams, Teams, "mkp teams")
    assert settings.periods == 1 and settings.budget(1) == 0.0
    inp = selection_input(PROFITS, WEIGHTS, CAPACITIES, item_ids=list("ABCD"))
    assert inp.skills == ["dim1", "dim2"]
    assert inp.capacity_of("dim1", 1) == 8 and inp.effort("C", "dim2") == 4
    model = build_model(inp)
    assert "budget" not in model.constraints  # cost 0: add_budget writes no row
    assert sorted(model.constraints) == ["cap", "one_start"]
    assert len(model.x) == 4


def test_highs_options_and_greedy_warm_start_reach_the_same_optimum():
    res = solve_selection(
        PROFITS,
        WEIGHTS,
        CAPACITIES,
        time_limit_s=10,
        solver_options={"mip_heuristic_effort": "0.3", "presolve": "off"},
        warm_start=True,
    )
    assert res.status == "Optimal" and res.value == 16 and res.chosen == (0, 2)
    assert "mip_heuristic_effort=0.3" in res.solver and "greedy warm start" in res.solver
    with pytest.raises(ModelError, match="HiGHS has no option 'no_such_option'"):
        solve_selection(PROFITS, WEIGHTS, CAPACITIES, solver_options={"no_such_option": 1})


def test_inconsistent_instance_is_refused():
    with pytest.raises(ModelError, match="weights row 1 has 3 entries but there are 4 profits"):
        solve_selection(PROFITS, [WEIGHTS[0], [1, 3, 4]], CAPACITIES)


def test_all_seven_mknap1_optima_are_reached():
    problems = read_orlib_mkp(MKNAP1)
    assert [(p.n, p.m) for p in problems] == [(6, 10), (10, 10), (15, 10), (20, 10), (28, 10), (39, 5), (50, 5)]
    assert [p.optimum for p in problems] == MKNAP1_OPTIMA
    for p in problems:
        res = solve_selection(p.profits, p.weights, p.capacities, time_limit_s=10)
        assert res.status == "Optimal", (p.index, res)
        assert res.value == p.optimum, (p.index, res.value, p.optimum)
        assert fits(p.weights, p.capacities, res.chosen)
        assert res.best_bound >= res.value


def test_first_problem_of_the_file_as_read():
    p = read_orlib_mkp(MKNAP1)[0]
    assert p.profits == (100, 600, 1200, 2400, 500, 2000)
    assert p.weights[0] == (8, 12, 13, 64, 22, 41) and p.weights[-1] == (3, 2, 4, 8, 8, 4)
    assert p.capacities == (80, 96, 20, 36, 44, 48, 10, 18, 22, 24)


def _write_truncated(tmp_path: Path) -> Path:
    tokens = MKNAP1.read_text().split()
    path = tmp_path / "mknap1_truncated.txt"
    path.write_text(" ".join(tokens[:-3]) + "\n")
    return path


def test_parser_names_the_file_of_a_truncated_problem(tmp_path):
    path = _write_truncated(tmp_path)
    with pytest.raises(InputError) as exc:
        read_orlib_mkp(path)
    text = str(exc.value)
    assert "mknap1_truncated.txt" in text
    assert "the file ends early" in text and "problem 7 of 7" in text and "capacity 3 of 5" in text


def test_parser_names_a_token_that_is_not_a_number(tmp_path):
    path = tmp_path / "bad.txt"
    path.write_text("1\n2 1 0\n5 x7\n1 1\n2\n")
    with pytest.raises(InputError) as exc:
        read_orlib_mkp(path)
    text = str(exc.value)
    assert "bad.txt, line 3" in text and "'x7' (number 6 in the file, problem 1 of 1: profit 2 of 2)" in text


def test_parser_rejects_numbers_left_over(tmp_path):
    path = tmp_path / "extra.txt"
    path.write_text("1\n2 1 0\n5 7\n1 1\n2\n9\n")
    with pytest.raises(InputError, match=r"extra.txt, line 6: 1 number\(s\) left over after the 1 problems"):
        read_orlib_mkp(path)


@pytest.mark.skipif(
    not (SHARED / "mknapcb1.txt").exists(),
    reason="../shared/validation/mkp (OR-Library mknapcb1.txt) is not next to this clone",
)
def test_first_chu_beasley_problem_within_one_percent():
    """mknapcb1 problem 0 (5.100-00: 100 items, 5 constraints): best known 24381, LP bound
    24585.90 (mkcbres_best_known.csv). The best-known value is a GA result, not proven here,
    so the check is: a feasible selection, at most the LP bound, within 1 % of best known."""
    p = read_orlib_mkp(SHARED / "mknapcb1.txt", best_known=SHARED / "mkcbres_best_known.csv")[0]
    assert (p.n, p.m, p.name, p.best_known) == (100, 5, "5.100-00", 24381)
    assert p.optimum is None  # the file's header says 0: unknown
    res = solve_selection(p.profits, p.weights, p.capacities, time_limit_s=5)
    assert res.status in ("Optimal", "TimeLimit")
    assert fits(p.weights, p.capacities, res.chosen)
    assert res.value <= p.lp_bound
    assert res.value >= 0.99 * p.best_known
    assert res.best_bound <= p.lp_bound + 1e-6
