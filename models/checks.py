"""Integrity checks on the canonical inputs, shared by the asset checks, the optimiser and tests.

Each function returns a list of plain-language problems (empty = fine), so callers decide
whether a problem blocks a refresh or only warns.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

import networkx as nx
import pandas as pd

from models.schemas import effort_columns, skills_of

if TYPE_CHECKING:
    from models.settings import Settings


def duplicate_ids(backlog: pd.DataFrame) -> list[str]:
    dup = backlog.loc[backlog["item_id"].duplicated(keep=False), "item_id"]
    return [f"item id {i} appears {int((backlog['item_id'] == i).sum())} times" for i in sorted(set(dup))]


def unresolved_dependencies(backlog: pd.DataFrame) -> list[str]:
    known = set(backlog["item_id"])
    problems = []
    for item, deps in zip(backlog["item_id"], backlog["depends_on"], strict=True):
        for d in deps:
            if d not in known:
                problems.append(f"{item} depends on {d}, which is not in the backlog")
    return problems


def dependency_graph(backlog: pd.DataFrame) -> nx.DiGraph:
    """Edges predecessor -> successor."""
    g = nx.DiGraph()
    g.add_nodes_from(backlog["item_id"])
    for item, deps in zip(backlog["item_id"], backlog["depends_on"], strict=True):
        for d in deps:
            g.add_edge(d, item)
    return g


def find_cycles(edges: list[tuple[str, str]]) -> list[list[str]]:
    """One cycle per strongly connected group of items, each as a closed path [A, B, ..., A]
    following the edges (predecessor -> successor: 'A is needed by B'), sorted. Self-loops count."""
    g = nx.DiGraph()
    g.add_edges_from(edges)
    cycles = []
    for comp in nx.strongly_connected_components(g):
        nodes = sorted(comp)
        if len(nodes) == 1 and not g.has_edge(nodes[0], nodes[0]):
            continue
        cyc = nx.find_cycle(g.subgraph(nodes), source=nodes[0])
        cycles.append([cyc[0][0]] + [v for _, v in cyc])
    return sorted(cycles)


def dependency_cycles(backlog: pd.DataFrame) -> list[str]:
    """Each cycle named in order, e.g. 'IOT-3 -> IOT-7 -> IOT-3' (predecessor first)."""
    return [" -> ".join(c) for c in find_cycles(list(dependency_graph(backlog).edges))]


def nonpositive_capacity(teams: pd.DataFrame) -> list[str]:
    bad = teams[teams["capacity_pw"] <= 0]
    return [
        f"team {t} ({s}) has capacity {c} person-weeks per period"
        for t, s, c in zip(bad["team"], bad["skill"], bad["capacity_pw"], strict=True)
    ]


def skills_without_capacity(backlog: pd.DataFrame, teams: pd.DataFrame) -> list[str]:
    have = set(teams.loc[teams["capacity_pw"] > 0, "skill"])
    out = []
    for skill, col in zip(skills_of(backlog), effort_columns(backlog), strict=True):
        demand = float(backlog[col].sum())
        if demand > 0 and skill not in have:
            out.append(f"the backlog needs {demand:.1f} {skill} person-weeks but no team has that skill")
    return out


def unknown_okr_refs(backlog: pd.DataFrame, okrs: pd.DataFrame) -> list[tuple[str, str]]:
    """(item_id, okr) of every backlog item whose ``okr`` is not a key result of ``okrs``, in backlog order."""
    known = set(okrs["key_result"])
    refs = backlog.dropna(subset=["okr"])
    return [(i, k) for i, k in zip(refs["item_id"], refs["okr"], strict=True) if k and k not in known]


def unknown_okrs(backlog: pd.DataFrame, okrs: pd.DataFrame) -> list[str]:
    return [f"{i} points at key result {k}, which okrs.csv does not define" for i, k in unknown_okr_refs(backlog, okrs)]


MAX_FILLED_GAP = 3  # longest run of missing months the KPI baselines may fill in


class MonthRun(NamedTuple):
    """Consecutive months without a KPI row between two observed months of a product."""

    product: str
    first: pd.Period  # first missing month
    last: pd.Period  # last missing month
    length: int  # months in the run


def missing_month_runs(kpi_history: pd.DataFrame) -> list[MonthRun]:
    """Every run of missing months between a product's first and last month, by product and month."""
    runs = []
    for product, g in kpi_history.groupby("product", sort=True):
        months = pd.to_datetime(g["month"]).dt.to_period("M").drop_duplicates().sort_values()
        for a, b in zip(months.iloc[:-1], months.iloc[1:], strict=True):
            if (b - a).n > 1:
                runs.append(MonthRun(product, a + 1, b - 1, (b - a).n - 1))
    return runs


def kpi_history_gaps(kpi_history: pd.DataFrame, min_months: int = 3, max_gap: int = MAX_FILLED_GAP) -> list[str]:
    """Products with fewer than ``min_months`` months, or a run of more than ``max_gap``
    missing months (shorter gaps are interpolated by the KPI baselines and reported there;
    a longer one would invent the trend)."""
    runs = missing_month_runs(kpi_history)
    problems = []
    for product, g in kpi_history.groupby("product", sort=True):
        if len(g) < min_months:
            problems.append(f"{product} has only {len(g)} months of KPIs ({min_months} or more needed)")
            continue
        problems += [
            f"{product} misses {r.length} months in a row between {r.first - 1} and {r.last + 1} "
            f"(at most {max_gap} are filled in); add the missing months to the KPI file"
            for r in runs
            if r.product == product and r.length > max_gap
        ]
    return problems


def duplicate_key_results(okrs: pd.DataFrame) -> list[str]:
    dup = sorted(set(okrs.loc[okrs["key_result"].duplicated(), "key_result"]))
    return [f"key result {k} appears more than once" for k in dup]


def products_without_kpi_history(backlog: pd.DataFrame, kpi_history: pd.DataFrame) -> list[str]:
    """Products of the backlog's candidate items (not Done) without a row of KPI history: their
    items' value cannot be anchored on KPIs (valuation falls back to its proxy)."""
    candidates = backlog.loc[backlog["status_category"] != "Done", "product"]
    return sorted(set(candidates.astype(str)) - set(kpi_history["product"].astype(str)))


def negative_budgets(settings: Settings) -> list[str]:
    """Periods whose budget is below 0."""
    return [f"period {p} has a negative budget" for p in range(1, settings.periods + 1) if settings.budget(p) < 0]


def blocking_input_checks(
    backlog: pd.DataFrame, teams: pd.DataFrame, kpi_history: pd.DataFrame, okrs: pd.DataFrame, settings: Settings
) -> list[tuple[str, str, list[str]]]:
    """Every blocking check of the refresh's inputs that reads the tables (pipelines/assets/inputs.py
    declares one asset check per entry, under the same name): (check name, table, problems), in the
    order a run that reads the tables directly applies them (``weitblick plan --no-explain``)."""
    return [
        ("teams_capacity_positive", "teams", nonpositive_capacity(teams)),
        ("backlog_ids_unique", "backlog", duplicate_ids(backlog)),
        ("backlog_dependencies_resolve", "backlog", unresolved_dependencies(backlog)),
        ("backlog_no_cycles", "backlog", dependency_cycles(backlog)),
        ("backlog_skills_staffed", "backlog", skills_without_capacity(backlog, teams)),
        ("backlog_okrs_known", "backlog", unknown_okrs(backlog, okrs)),
        ("kpi_history_complete", "kpi_history", kpi_history_gaps(kpi_history)),
        ("okrs_unique", "okrs", duplicate_key_results(okrs)),
        ("settings_valid", "settings", negative_budgets(settings)),
    ]
