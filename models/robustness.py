"""Robustness of plans over many futures: expected value, tail, regret, satisficing, and whether
the metrics agree on the ranking.

The stress test runs every plan through the same futures (scenario x replication, common random
numbers: :func:`models.simulation.replication_seed`), so plans can be compared future by future,
as Robust Decision Making does (Lempert, Popper & Bankes, *Shaping the Next One Hundred Years*,
RAND 2003; the MORDM re-evaluation of Kasprzyk et al., Environmental Modelling & Software 42,
2013). Per plan, over all its futures (``runs``: plan, scenario, replication, npv_eur,
okr_met_share, on_time_share):

* ``npv_mean``, ``npv_p10``, ``npv_worst``: expected NPV of MRR, its 10 % quantile, its minimum;
* ``regret_mean``, ``regret_max``: regret of a future is the best NPV any plan reaches in that
  future minus this plan's (Savage's minimax regret, 1951), >= 0;
* ``satisficing``: the share of futures that meet every floor (:class:`Floors`): NPV at least the
  status quo's in the same future plus ``npv_gain`` (or at least ``npv`` EUR when given), the share
  of OKRs met at least ``okr_met_share``, the on-time share at least ``on_time_share`` (a NaN share,
  e.g. a plan without key results, meets its floor: nothing was promised);
* ``rank_<metric>``: the plan's rank by each metric (1 = best).

:func:`ranking_agreement` gives Kendall's tau between every pair of metric rankings: 1 when two
metrics order the plans alike, -1 when they reverse them - a tau well below 1 says the choice of
plan depends on what the team fears. Units: EUR, shares 0..1.
"""

from __future__ import annotations

from itertools import combinations

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field
from scipy.stats import kendalltau

from models.names import STATUS_QUO_PLAN

FUTURE = ["scenario", "replication"]
METRICS = {  # metric -> higher is better
    "npv_mean": True,
    "npv_p10": True,
    "npv_worst": True,
    "regret_mean": False,
    "regret_max": False,
    "satisficing": True,
}
ROBUSTNESS_COLUMNS = ["plan", "futures", *METRICS, *(f"rank_{m}" for m in METRICS)]


class Floors(BaseModel):
    """What a future must bring for the plan to count as good enough in it (satisficing)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    npv: float | None = Field(
        None, description="NPV of MRR (EUR) a future must reach; None: the status quo's NPV in it plus npv_gain"
    )
    npv_gain: float = Field(0.0, description="EUR above the status quo's NPV in the same future (when npv is None)")
    okr_met_share: float = Field(
        0.25, ge=0, le=1, description="weighted share of key results met (judgement: at least a quarter)"
    )
    on_time_share: float = Field(
        0.25,
        ge=0,
        le=1,
        description="share of items delivered by their planned finish (judgement: at least a quarter; real "
        "projects slip, the estimate-overrun scenario calibrates by how much)",
    )


def regrets(runs: pd.DataFrame) -> pd.Series:
    """Per run: the best NPV of any plan in the same future (scenario, replication) minus this run's."""
    best = runs.groupby(FUTURE)["npv_eur"].transform("max")
    return (best - runs["npv_eur"]).rename("regret_eur")


def meets_floors(runs: pd.DataFrame, floors: Floors, reference: str = STATUS_QUO_PLAN) -> pd.Series:
    """Per run: whether it meets every floor. Without ``floors.npv`` the NPV floor is the
    ``reference`` plan's NPV in the same future plus ``npv_gain``; a future without a reference
    run then fails (there is nothing to compare with), so run the status quo too."""
    if floors.npv is not None:
        npv_ok = runs["npv_eur"] >= floors.npv
    else:
        ref = runs.loc[runs["plan"] == reference].set_index(FUTURE)["npv_eur"]
        ref = ref[~ref.index.duplicated()]
        floor = ref.reindex(pd.MultiIndex.from_frame(runs[FUTURE])).to_numpy(dtype=float) + floors.npv_gain
        npv_ok = pd.Series(runs["npv_eur"].to_numpy(dtype=float) >= floor, index=runs.index)  # NaN floor: False
    okr = runs["okr_met_share"].astype(float)
    on_time = runs["on_time_share"].astype(float)
    okr_ok = okr.isna() | (okr >= floors.okr_met_share - 1e-12)
    time_ok = on_time.isna() | (on_time >= floors.on_time_share - 1e-12)
    return (npv_ok & okr_ok & time_ok).rename("meets_floors")


def plan_robustness(runs: pd.DataFrame, floors: Floors | None = None, reference: str = STATUS_QUO_PLAN) -> pd.DataFrame:
    """One row per plan (``ROBUSTNESS_COLUMNS``, plans in the order they first appear): the metrics of
    the module docstring over all futures of ``runs`` and the plan's rank by each."""
    floors = floors or Floors()
    r = runs.assign(regret_eur=regrets(runs), ok=meets_floors(runs, floors, reference))
    g = r.groupby("plan", sort=False)
    out = pd.DataFrame(
        {
            "futures": g.size(),
            "npv_mean": g["npv_eur"].mean(),
            "npv_p10": g["npv_eur"].quantile(0.1),
            "npv_worst": g["npv_eur"].min(),
            "regret_mean": g["regret_eur"].mean(),
            "regret_max": g["regret_eur"].max(),
            "satisficing": g["ok"].mean(),
        }
    )
    for metric, higher in METRICS.items():
        out[f"rank_{metric}"] = out[metric].rank(ascending=not higher, method="min").astype("int64")
    return out.reset_index()[ROBUSTNESS_COLUMNS]


def ranking_agreement(robustness: pd.DataFrame) -> pd.DataFrame:
    """Kendall's tau (tau-b, ties allowed) between the plans' rankings by every pair of metrics:
    metric_a, metric_b, tau (NaN with fewer than two plans or a metric that ties every plan)."""
    rows = []
    for a, b in combinations(METRICS, 2):
        if len(robustness) < 2:
            tau = float("nan")
        else:
            tau = float(kendalltau(robustness[f"rank_{a}"], robustness[f"rank_{b}"]).statistic)
        rows.append({"metric_a": a, "metric_b": b, "tau": tau if np.isfinite(tau) else float("nan")})
    return pd.DataFrame(rows, columns=["metric_a", "metric_b", "tau"])
