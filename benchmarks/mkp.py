"""Solve OR-Library multidimensional knapsack problems with the portfolio optimiser.

Each problem goes through the optimiser's selection-only mode
(models.portfolio.selection: prepare_input -> build_model -> solve, HiGHS) and is compared
with the best-known value (mknap1: the optimum in the file; mknapcb1-9: the Chu-Beasley
value in mkcbres_best_known.csv next to the file) and with a greedy by profit / sum of
normalised weights. Prints one JSON object per problem and a summary line:
  {"benchmark": "mkp", "file": ..., "problem": 0, "value": ..., "gap_to_best": ..., ...}
  {"benchmark": "mkp_summary", "problems": 30, "mean_gap_to_best": ..., ...}
Fractions throughout (0.0005 = 0.05 %).

    .venv/bin/python benchmarks/mkp.py --file ../shared/validation/mkp/mknap1.txt --time-limit 10
    .venv/bin/python benchmarks/mkp.py --file ../shared/validation/mkp/mknapcb4.txt --problems 0-29 \
        --time-limit 10 [--highs-option mip_heuristic_effort=0.3] [--warm-start]
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from _common import emit, parse_option

from models.portfolio.selection import (
    BEST_KNOWN_CSV,
    greedy_selection,
    read_orlib_mkp,
    selection_value,
    solve_selection,
)


def parse_problems(text: str | None, count: int) -> list[int]:
    """'0,1,2' or '0-29' (or a mix, '0-4,10'); all problems when empty."""
    if not text:
        return list(range(count))
    out: list[int] = []
    for part in text.split(","):
        part = part.strip()
        if "-" in part:
            a, b = part.split("-", 1)
            out.extend(range(int(a), int(b) + 1))
        elif part:
            out.append(int(part))
    bad = [i for i in out if not 0 <= i < count]
    if bad:
        raise SystemExit(f"--problems: {bad} out of range; the file has problems 0-{count - 1}")
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--file", type=Path, required=True, help="OR-Library MKP file (mknap1.txt, mknapcbN.txt)")
    ap.add_argument("--problems", default=None, help="indices, e.g. 0,1,2 or 0-29 (default: all)")
    ap.add_argument("--time-limit", type=float, default=10.0, help="seconds per problem")
    ap.add_argument("--gap-rel", type=float, default=0.0, help="relative gap target (0 = prove optimality)")
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument(
        "--best-known",
        type=Path,
        default=None,
        help=f"best-known table (default: {BEST_KNOWN_CSV} next to --file, when present)",
    )
    ap.add_argument(
        "--highs-option",
        type=parse_option,
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="extra HiGHS option (repeatable), e.g. mip_heuristic_effort=0.3",
    )
    ap.add_argument("--warm-start", action="store_true", help="start HiGHS from the greedy selection")
    args = ap.parse_args()

    wall0 = time.perf_counter()
    best_csv = args.best_known
    if best_csv is None and (args.file.parent / BEST_KNOWN_CSV).is_file():
        best_csv = args.file.parent / BEST_KNOWN_CSV
    problems = read_orlib_mkp(args.file, best_known=best_csv)
    options = dict(args.highs_option)

    chosen = parse_problems(args.problems, len(problems))
    gaps: list[float] = []
    n_optimal = 0
    for idx in chosen:
        p = problems[idx]
        r = solve_selection(
            p.profits,
            p.weights,
            p.capacities,
            time_limit_s=args.time_limit,
            gap_rel=args.gap_rel,
            threads=args.threads,
            solver_options=options or None,
            warm_start=args.warm_start,
        )
        greedy = selection_value(p.profits, greedy_selection(p.profits, p.weights, p.capacities))
        gap_to_best = None if not p.best_known else (p.best_known - r.value) / p.best_known
        if gap_to_best is not None:
            gaps.append(gap_to_best)
        n_optimal += r.status == "Optimal"
        emit(
            "mkp",
            file=args.file.name,
            problem=idx,
            name=p.name,
            items=p.n,
            constraints=p.m,
            formulation="weitblick",
            solver=r.solver,
            status=r.status,
            gap=r.gap,
            build_s=round(r.build_s, 3),
            solve_s=round(r.time_s, 3),
            time_limit_s=args.time_limit,
            value=r.value,
            best_bound=r.best_bound,
            best_known=p.best_known,
            lp_bound=p.lp_bound,
            gap_to_best=gap_to_best,
            greedy_value=greedy,
            uplift_vs_greedy=(r.value - greedy) / greedy if greedy else None,
        )
    emit(
        "mkp_summary",
        file=args.file.name,
        problems=len(chosen),
        time_limit_s=args.time_limit,
        options=options,
        warm_start=args.warm_start,
        mean_gap_to_best=statistics.fmean(gaps) if gaps else None,
        max_gap_to_best=max(gaps) if gaps else None,
        n_optimal_status=n_optimal,
        wall_s=round(time.perf_counter() - wall0, 3),
    )


if __name__ == "__main__":
    main()
