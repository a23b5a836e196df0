"""The realisation model (models/realisation.py) on the demo backlog, next to the cited figures.

Draws every backlog item's realisation factor R for ``--replications`` replications with
``draws_for`` (common random numbers: the per-item hash the simulation is meant to use) and
prints JSON lines:

* ``realisation_shares``: the simulated shares of item-replications with a positive, no and a
  negative realised effect (overall and per confidence level), the closed-form shares, and the
  published figures (Microsoft: about a third each; Bing and Google: 10-20 % positive);
* ``realisation_factor``: per confidence level and pooled: E[R] in closed form, the mean of the
  draws, P10/P50/P90 by the quantile function and of the draws;
* ``realisation_totals``: per KPI the estimated total uplift (sum of the backlog's uplifts), the
  expected realised total (sum of uplift x E[R]) and the simulated total's mean, P10, P50, P90.

    .venv/bin/python benchmarks/realisation.py --replications 2000 --seed 0
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from _common import emit

from models.realisation import RealisationSettings, draws_for, expected_factor, factor_quantiles, shares
from pipelines.sources import load_inputs

CITED = {
    "microsoft_positive_null_negative": [1 / 3, 1 / 3, 1 / 3],  # Kohavi et al. 2009; Kohavi & Thomke, HBR 2017
    "bing_google_positive": [0.10, 0.20],  # Kohavi & Thomke, HBR 2017
}
Q = (0.1, 0.5, 0.9)


def _split(r: np.ndarray) -> dict[str, float]:
    return {"positive": float((r > 0).mean()), "null": float((r == 0).mean()), "negative": float((r < 0).mean())}


def _r(x: float | np.ndarray, n: int = 4):
    return np.round(np.asarray(x, dtype=float), n).tolist()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default="data/demo", help="workspace folder (default the demo company)")
    ap.add_argument("--replications", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=0, help="root seed of draws_for")
    args = ap.parse_args()

    s = RealisationSettings()
    backlog = load_inputs(args.data).backlog
    ids = backlog["item_id"].astype(str).tolist()
    conf = backlog["confidence"].to_numpy(dtype=float)

    started = time.perf_counter()
    r = draws_for(ids, conf, s, seed=args.seed, replication=range(args.replications))  # replications x items
    wall = time.perf_counter() - started

    p_pos, p_null, p_neg = shares(conf, s)
    levels = sorted(set(conf[np.isfinite(conf)].tolist()))
    emit(
        "realisation_shares",
        data=args.data,
        items=len(ids),
        replications=args.replications,
        simulated=_r(list(_split(r).values())),
        closed_form=_r([p_pos.mean(), p_null.mean(), p_neg.mean()]),
        by_confidence={
            f"{c:g}": {"items": int((conf == c).sum()), "simulated": _r(list(_split(r[:, conf == c]).values()))}
            for c in levels
        },
        cited=CITED,
        draws_per_s=round(r.size / wall),
        wall_s=round(wall, 3),
    )

    e = expected_factor(conf, s)
    for c in [*levels, "all"]:
        cols = np.ones(len(ids), dtype=bool) if c == "all" else conf == c
        row = {"confidence": c if c == "all" else float(c), "items": int(cols.sum())}
        row["expected_factor"] = _r(e[cols].mean())
        row["mean_of_draws"] = _r(r[:, cols].mean())
        if c != "all":  # the quantiles of one item's mixture (pooled items are a different mixture)
            row["quantiles"] = _r(factor_quantiles(c, s, Q)[0])
        row["quantiles_of_draws"] = _r(np.quantile(r[:, cols], Q))
        emit("realisation_factor", q=list(Q), **row)

    for kpi, group in backlog.groupby("kpi", sort=True):
        uplift = group["uplift"].to_numpy(dtype=float)
        if not np.any(uplift):
            continue
        cols = backlog.index.get_indexer(group.index)
        totals = r[:, cols] @ uplift  # per replication: sum of uplift x R over the KPI's items
        estimated = float(uplift.sum())
        expected = float(uplift @ e[cols])
        emit(
            "realisation_totals",
            kpi=kpi,
            unit="EUR per month" if kpi == "cost" else "sum of relative uplifts",
            items=len(group),
            estimated_total=_r(estimated),
            expected_total=_r(expected),
            expected_over_estimated=_r(expected / estimated),
            simulated_mean=_r(totals.mean()),
            simulated_quantiles=_r(np.quantile(totals, Q)),
        )


if __name__ == "__main__":
    main()
