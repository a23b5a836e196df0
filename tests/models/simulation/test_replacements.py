"""Items that replace (supersede or cannibalise) another item's KPI effect: the plan's replacement
edges and the model's effects, every expected number computed by hand in the comments."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from simkit import QUIET, backend_item

from models.simulation import build_plan, run, single_product_plan
from models.simulation.effects import superseded
from models.simulation.plan import ITEM_COLUMNS


def item(item_id: str, kpi: str, uplift: float, start: int, replaces: list[str] | None = None, **extra) -> dict:
    """3 pw of backend over months start..start+2 (delivered in month start+2)."""
    return backend_item(item_id, kpi, uplift, start, replaces=replaces or [], **extra)


def plan_of(rows: list[dict], months: int = 9, drop_replaces: bool = False):
    table = pd.DataFrame(rows)[[*ITEM_COLUMNS, "effort_backend"]]
    if drop_replaces:
        table = table.drop(columns="replaces")
    return single_product_plan(
        items=table,
        capacity_pw_per_month={"backend": 100.0},
        users=1000,
        market_potential=5000,
        bass_p=0.0,
        bass_q=0.0,
        conversion_rate=0.1,
        months=months,
    )


def factors(plan, kpi: str = "conversion_rate", base: float = 0.1) -> list[float]:
    return (run(plan, QUIET, seed=0)[kpi] / base).tolist()


# --------------------------------------------------------------------------- the plan's edges


def test_plan_arrays_keep_replacements_of_the_same_product_and_kpi_in_the_plan():
    plan = plan_of(
        [
            item("A", "conversion_rate", 0.1, 1),
            item("B", "conversion_rate", 0.2, 4, ["A", "X-9"]),  # X-9 is not in the plan: ignored
            item("C", "arpu", 0.1, 4, ["A"]),  # another KPI: no edge
            item("D", "conversion_rate", 0.1, 4, ["D"]),  # itself: no edge
            item("E", "conversion_rate", 0.1, 4, ["A"], product="Other"),  # another product: no edge
        ]
    )
    arrays = plan.arrays
    assert arrays.replace_new.tolist() == [1] and arrays.replace_old.tolist() == [0]  # B replaces A


def test_hand_built_items_without_the_column_have_no_replacements():
    plan = plan_of([item("A", "conversion_rate", 0.1, 1), item("B", "conversion_rate", 0.2, 4)], drop_replaces=True)
    assert plan.arrays.replace_new.size == 0 and plan.arrays.replace_old.size == 0
    assert factors(plan) == pytest.approx([1.0] * 3 + [1.1] * 3 + [1.32] * 3)


def test_build_plan_carries_replaces_and_defaults_to_empty(
    sim_decisions, sim_backlog, sim_teams, sim_kpi_history, sim_settings
):
    # F (IoT arpu) replaces A (IoT conversion: another KPI) and Z (not in the backlog's plan)
    backlog = sim_backlog.assign(replaces=[[], [], [], [], [], ["A", "Z"]])
    decisions = sim_decisions.assign(funded=True, start_period=pd.array([1] * 6, dtype="Int64"))
    decisions["finish_period"] = pd.array([1] * 6, dtype="Int64")
    plan = build_plan("p", decisions, backlog, sim_teams, sim_kpi_history, sim_settings)
    assert plan.items.set_index("item_id")["replaces"].to_dict() == {
        "A": [],
        "B": [],
        "C": [],
        "D": [],
        "E": [],
        "F": ["A", "Z"],
    }
    assert plan.arrays.replace_new.size == 0  # across KPIs: no effect
    # F moved to IoT conversion and replacing A: one edge F -> A
    same_kpi = backlog.assign(
        kpi=["conversion_rate" if i == "F" else k for i, k in zip(backlog["item_id"], backlog["kpi"], strict=True)],
        replaces=[["A"] if i == "F" else [] for i in backlog["item_id"]],
    )
    plan = build_plan("q", decisions, same_kpi, sim_teams, sim_kpi_history, sim_settings)
    position = {i: k for k, i in enumerate(plan.arrays.item_ids)}
    assert plan.arrays.replace_new.tolist() == [position["F"]]
    assert plan.arrays.replace_old.tolist() == [position["A"]]
    without = build_plan("r", decisions, sim_backlog, sim_teams, sim_kpi_history, sim_settings)
    assert without.items["replaces"].tolist() == [[]] * 6


# --------------------------------------------------------------------------- in the model


def test_replacing_item_ends_the_replaced_items_effect_from_the_month_after_its_delivery():
    # A +10 % conversion delivered in month 3 (acts from 4); B +20 % replacing A delivered in month 6
    # (acts from 7): 1.1 in months 4-6, then 1.2 alone (not 1.1 x 1.2 = 1.32)
    rows = [item("A", "conversion_rate", 0.1, 1), item("B", "conversion_rate", 0.2, 4, ["A"])]
    assert factors(plan_of(rows)) == pytest.approx([1.0] * 3 + [1.1] * 3 + [1.2] * 3)
    # without the link both act: 1.32 from month 7
    rows[1]["replaces"] = []
    assert factors(plan_of(rows)) == pytest.approx([1.0] * 3 + [1.1] * 3 + [1.32] * 3)


def test_a_replacement_across_kpis_has_no_effect():
    # B moves arpu and names A (conversion): A's +10 % conversion acts on; B's +20 % arpu acts from month 7
    rows = [item("A", "conversion_rate", 0.1, 1), item("B", "arpu", 0.2, 4, ["A"])]
    s = run(plan_of(rows), QUIET, seed=0)
    assert (s["conversion_rate"] / 0.1).tolist() == pytest.approx([1.0] * 3 + [1.1] * 6)
    assert s["arpu"].tolist() == pytest.approx([1.0] * 6 + [1.2] * 3)  # base arpu 1


def test_an_item_delivered_after_its_replacer_never_acts():
    # B (replacing A) delivered in month 3, A in month 6: A is superseded before it could act
    rows = [item("A", "conversion_rate", 0.1, 4), item("B", "conversion_rate", 0.2, 1, ["A"])]
    assert factors(plan_of(rows)) == pytest.approx([1.0] * 3 + [1.2] * 6)


def test_replacement_chain_and_additive_kpis():
    # nps adds 100 x w points: A +0.1 (10 points) from month 4, B +0.3 replacing A from month 7,
    # C +0.05 replacing B from month 10 (items of months 1-3, 4-6, 7-9): 10, 30, then 5 points
    rows = [
        item("A", "nps", 0.1, 1),
        item("B", "nps", 0.3, 4, ["A"]),
        item("C", "nps", 0.05, 7, ["B"]),
    ]
    nps = run(plan_of(rows, months=12), QUIET, seed=0)["nps_proxy"].tolist()
    assert nps == pytest.approx([0.0] * 3 + [10.0] * 3 + [30.0] * 3 + [5.0] * 3)


def test_superseded_is_one_lookup_per_edge():
    live = np.array([True, True, False, True])
    # 1 replaces 0 (1 live: 0 superseded), 2 replaces 3 (2 not live: 3 acts), 3 replaces 2 (2 not live anyway)
    out = superseded(live, np.array([1, 2, 3]), np.array([0, 3, 2]))
    assert out.tolist() == [True, False, True, False]
    assert superseded(live, np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)).tolist() == [False] * 4
