"""What if? Re-plan a changed company and set it beside the current recommendation.

An analyst changes a scenario, a budget, a rule or an item's estimate (in the what-if notebook,
``notebooks/what_if.py``) and :func:`what_if` runs the refresh's own steps on the changed tables -
business cases, value by start, the optimiser, the status quo, the stress test - with the current
recommendation's plan carried over unchanged, so both plans meet the same changed world in the
same simulated futures (common random numbers):

* ``comparison``: one row per plan ("current recommendation", "what if", "status quo"): funded
  items, planned spend (EUR), expected value under the changed inputs (EUR), whether it keeps every
  rule of the changed settings (and which it breaks), NPV of MRR P10/P50 (median over the
  scenarios), the worst scenario's P10 and the median gain over the status quo;
* ``items``: the items the two plans fund differently: added, dropped or moved (start periods);
* ``summary``: the stress test per plan and scenario (:func:`models.simulation.summarise_runs`).

Money in EUR, periods as in the settings. Nothing here reads or writes the store.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pandas as pd

from models import portfolio
from models.portfolio.explain import plan_starts
from models.portfolio.greedy import status_quo_plan
from models.portfolio.results import decisions_table, independent_check
from models.settings import Settings
from models.simulation import candidate_plans, compare_plans, stress_test, summarise_runs
from models.simulation.scenario import Scenario
from models.valuation import business_cases, value_by_start

CURRENT, CHANGED, STATUS_QUO = "current recommendation", "what if", "status quo"
COMPARISON_COLUMNS = [
    "plan",
    "funded",
    "spend_eur",
    "value_eur",
    "keeps_every_rule",
    "rules_broken",
    "npv_p10_median",
    "npv_p50_median",
    "worst_npv_p10",
    "worst_scenario",
    "gain_p50_median",
]


@dataclass(frozen=True)
class WhatIf:
    """The changed plan beside the current one (see the module docstring)."""

    plan: pd.DataFrame  # decisions of the re-optimised plan
    run_info: pd.DataFrame  # its solver status, gap, time
    comparison: pd.DataFrame  # COMPARISON_COLUMNS, one row per plan
    items: pd.DataFrame  # item_id, title, change, start_current, start_what_if
    summary: pd.DataFrame  # stress test per plan and scenario


def what_if(
    current: pd.DataFrame,
    backlog: pd.DataFrame,
    teams: pd.DataFrame,
    kpi_history: pd.DataFrame,
    okrs: pd.DataFrame | None,
    settings: Settings,
    scenarios: Mapping[str, Scenario],
    replications: int,
    seed: int,
    time_limit_s: float | None = None,
) -> WhatIf:
    """Re-plan the changed tables and stress-test the changed plan, the current one (``current``, the
    stored portfolio_plan, unchanged) and the status quo through ``scenarios``, ``replications``
    times each, from the root ``seed``. Raises ModelError when the current plan funds items the
    changed backlog no longer has (the message names them)."""
    cases = business_cases(backlog, teams, kpi_history, settings)
    values = value_by_start(backlog, cases, settings)
    result = portfolio.optimise(backlog, teams, values, settings, time_limit_s=time_limit_s)
    inp = portfolio.prepare_input(backlog, teams, values, settings)
    _, status_quo = status_quo_plan(inp)
    decisions = {CURRENT: current, CHANGED: result.decisions, STATUS_QUO: status_quo}
    plans = candidate_plans(
        {k: v.assign(funded=v["funded"].astype(bool)) for k, v in decisions.items()},
        backlog,
        teams,
        kpi_history,
        settings,
        okrs,
    )
    runs = stress_test(plans, scenarios, replications=replications, seed=seed, progress=False).runs
    # the status quo under its stress-test name, so the gains are measured against it
    runs = runs.assign(plan=runs["plan"].replace({STATUS_QUO: "status_quo"}))
    summary = summarise_runs(runs)
    summary["plan"] = summary["plan"].replace({"status_quo": STATUS_QUO})
    robust = compare_plans(summary).set_index("plan")
    p10 = summary.groupby("plan", sort=False)["npv_p10"].median()
    known = _known(inp)
    rows = []
    for name, d in decisions.items():
        # the plan's items at their starts, where the changed inputs still value them there
        starts = {i: t for i, t in plan_starts(d).items() if (i, t) in known}
        broken = independent_check(decisions_table(inp, starts), inp)
        r = robust.loc[name]
        rows.append(
            {
                "plan": name,
                "funded": len(starts),
                "spend_eur": float(sum(float(inp.items.at[i, "cost_eur"]) for i in starts)),
                "value_eur": inp.plan_value(starts),
                "keeps_every_rule": not broken,
                "rules_broken": "; ".join(broken),
                "npv_p10_median": float(p10.loc[name]),
                "npv_p50_median": float(r["npv_p50_median"]),
                "worst_npv_p10": float(r["worst_npv_p10"]),
                "worst_scenario": str(r["worst_scenario"]),
                "gain_p50_median": float(r["npv_increment_p50_median"]),
            }
        )
    return WhatIf(
        plan=result.decisions,
        run_info=result.run_info,
        comparison=pd.DataFrame(rows, columns=COMPARISON_COLUMNS),
        items=changed_items(current, result.decisions),
        summary=summary,
    )


def _known(inp: portfolio.PortfolioInput) -> set[tuple[str, int]]:
    """The (item, start) pairs that have a value under the changed inputs."""
    return set(zip(inp.values["item_id"].astype(str), inp.values["start_period"].astype(int), strict=True))


def changed_items(current: pd.DataFrame, changed: pd.DataFrame) -> pd.DataFrame:
    """The items two decisions tables fund differently: item_id, title, change ("added", "dropped",
    "moved"), start_current and start_what_if (nullable), in that order of change, then item."""
    a, b = plan_starts(current), plan_starts(changed)
    titles = {
        **dict(zip(current["item_id"].astype(str), current.get("title", current["item_id"]).astype(str), strict=True)),
        **dict(zip(changed["item_id"].astype(str), changed.get("title", changed["item_id"]).astype(str), strict=True)),
    }
    rows = []
    for item in sorted(set(a) | set(b)):
        if a.get(item) == b.get(item):
            continue
        change = "added" if item not in a else "dropped" if item not in b else "moved"
        rows.append((item, titles.get(item, ""), change, a.get(item), b.get(item)))
    out = pd.DataFrame(rows, columns=["item_id", "title", "change", "start_current", "start_what_if"])
    for col in ("start_current", "start_what_if"):
        out[col] = out[col].astype("Int64")
    order = {"added": 0, "dropped": 1, "moved": 2}
    return out.sort_values(["change", "item_id"], key=lambda c: c.map(order) if c.name == "change" else c).reset_index(
        drop=True
    )
