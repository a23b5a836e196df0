"""What the simulation's hand-computed tests share: a scenario in which effort goes exactly as planned,
and plan items of 3 pw of backend work over three months (``single_product_plan`` item tables)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from models.simulation import Scenario
from models.simulation.plan import ITEM_COLUMNS

# effort exactly as planned at the planned pace, nobody leaves: an item of 3 pw over months s..s+2
# is delivered in month s+2 and acts from month s+3
EXACT = {
    "effort_multiplier": 1.0,
    "item_effort_sigma": 0.0,
    "attrition_per_month": 0.0,
    "context_switch_loss": 0.0,
    "max_speedup": 1.0,
}
QUIET = Scenario.model_validate({"name": "quiet", "constants": EXACT})


def backend_item(item_id: str, kpi: str, uplift: float, start: int = 1, **extra) -> dict:
    """One item of product "Product": 3 pw of backend over months start..start+2, confidence unknown,
    no dependency or replacement unless ``extra`` says so."""
    return {
        "item_id": item_id,
        "product": "Product",
        "kpi": kpi,
        "uplift": uplift,
        "confidence": np.nan,
        "differentiation": "parity",
        "okr": None,
        "depends_on": [],
        "replaces": [],
        "planned_start_month": start,
        "planned_finish_month": start + 2,
        "total_effort_pw": 3.0,
        "effort_backend": 3.0,
        **extra,
    }


def item_frame(rows: list[dict]) -> pd.DataFrame:
    """Item rows as a plan's item table (``ITEM_COLUMNS`` and the backend effort)."""
    return pd.DataFrame(rows)[[*ITEM_COLUMNS, "effort_backend"]]
