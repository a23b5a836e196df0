"""The input checks behind the blocking asset checks, on hand-made tables."""

from __future__ import annotations

import pandas as pd

from models import checks


def _backlog(rows):
    return pd.DataFrame(rows, columns=["item_id", "depends_on", "okr", "effort_backend", "effort_data"])


def test_dependency_problems_are_named():
    b = _backlog([["A", [], None, 1.0, 0.0], ["B", ["A", "Z"], None, 1.0, 0.0], ["A", [], None, 1.0, 0.0]])
    assert checks.duplicate_ids(b) == ["item id A appears 2 times"]
    assert checks.unresolved_dependencies(b) == ["B depends on Z, which is not in the backlog"]


def test_cycles_are_named_in_order():
    b = _backlog([["A", ["C"], None, 1, 0], ["B", ["A"], None, 1, 0], ["C", ["B"], None, 1, 0], ["D", [], None, 1, 0]])
    (cycle,) = checks.dependency_cycles(b)
    names = cycle.split(" -> ")
    assert names[0] == names[-1] and sorted(names[:-1]) == ["A", "B", "C"]
    # the cycle follows predecessor -> successor edges: A -> B -> C -> A
    assert cycle in {"A -> B -> C -> A", "B -> C -> A -> B", "C -> A -> B -> C"}
    assert checks.dependency_cycles(b[b["item_id"] != "C"].assign(depends_on=[[], ["A"], []])) == []


def test_capacity_and_skill_coverage():
    teams = pd.DataFrame({"team": ["T1", "T2"], "skill": ["backend", "data"], "capacity_pw": [10.0, 0.0]})
    b = _backlog([["A", [], None, 2.0, 3.5]])
    assert checks.nonpositive_capacity(teams) == ["team T2 (data) has capacity 0.0 person-weeks per period"]
    assert checks.skills_without_capacity(b, teams) == [
        "the backlog needs 3.5 data person-weeks but no team has that skill"
    ]


def test_unknown_okrs_and_duplicate_key_results():
    b = _backlog([["A", [], "KR-1", 1, 0], ["B", [], "KR-9", 1, 0], ["C", [], None, 1, 0]])
    okrs = pd.DataFrame({"key_result": ["KR-1", "KR-2", "KR-2"]})
    assert checks.unknown_okrs(b, okrs) == ["B points at key result KR-9, which okrs.csv does not define"]
    assert checks.duplicate_key_results(okrs) == ["key result KR-2 appears more than once"]


def test_kpi_history_gaps():
    months = pd.to_datetime(
        ["2026-01-01", "2026-02-01", "2026-04-01", "2026-01-01", "2026-02-01", "2025-01-01", "2025-06-01", "2025-07-01"]
    )
    kpis = pd.DataFrame({"product": ["P", "P", "P", "Q", "Q", "R", "R", "R"], "month": months})
    # P misses one month: the baselines fill it in; R misses four in a row: too many to invent
    assert checks.kpi_history_gaps(kpis) == [
        "Q has only 2 months of KPIs (3 or more needed)",
        "R misses 4 months in a row between 2025-01 and 2025-06 (at most 3 are filled in); "
        "add the missing months to the KPI file",
    ]
