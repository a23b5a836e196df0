# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # What if?
# Change a budget, a rule, a scenario or an item's estimate in the cell "Your change", run all
# cells, and see the re-optimised plan beside the current recommendation: value, spend, the rules
# each keeps, NPV of MRR P10/P50 across the scenarios, the gain over doing nothing, and the items
# that move. Everything is computed by the functions the refresh's assets call
# (`models.whatif.what_if`); the current recommendation is read from the store, unchanged.

# %% tags=["parameters"]
store = ""  # path of the DuckDB store (empty: the project default, var/store.duckdb)
schema = "weitblick"  # the current recommendation
data = ""  # the workspace the recommendation was made from (empty: the demo company)
scenarios = "baseline,budget_cut"  # scenarios to compare in (comma-separated; empty: the whole library)
replications = 20  # per scenario and plan
time_limit = 10.0  # seconds for the re-optimisation
seed = 20270101  # root seed of the stress test (the same futures for every plan)

# %%
from html import escape
from pathlib import Path

import pandas as pd
from IPython.display import Markdown, display

from models.settings import settings_from_table
from models.simulation import load_library, select_scenarios
from models.whatif import what_if
from pipelines import paths
from pipelines.sources import load_inputs
from pipelines.store import read_tables

pd.set_option("styler.format.escape", "html")
pd.set_option("styler.format.na_rep", "-")

workspace = Path(data) if data else paths.demo_data_dir()
current = read_tables(Path(store) if store else paths.store_path(), "portfolio_plan", "settings", schema=schema)
inputs = load_inputs(workspace)
settings = settings_from_table(current["settings"])
backlog, teams, kpi_history, okrs = inputs.backlog, inputs.teams, inputs.kpi_history, inputs.okrs
own = workspace / "scenarios"  # a workspace's own scenarios add to or override the library
library = load_library(paths.project_root() / "scenarios", own if own.is_dir() else None)
chosen = select_scenarios(library, [n.strip() for n in scenarios.split(",") if n.strip()] or None)

# %% [markdown]
# ## Your change
# Edit freely: `settings` is a pydantic model (`settings.model_copy(update={...})`), `backlog` a
# table with one row per item (`uplift`, `confidence`, efforts in person-weeks, `mandatory`, ...),
# `chosen` the scenarios by name. The example cuts the total budget by a fifth and halves the
# estimate of the plan's most valuable item.

# %%
budget = settings.budget_total or sum(settings.budget(p) for p in range(1, settings.periods + 1))
settings = settings.model_copy(update={"budget_total": 0.8 * budget})
best = current["portfolio_plan"].sort_values("value", ascending=False)["item_id"].iloc[0]
backlog = backlog.copy()
backlog.loc[backlog["item_id"] == best, "uplift"] *= 0.5
display(
    Markdown(
        f"Changed: total budget {budget / 1e6:,.2f} → {0.8 * budget / 1e6:,.2f} M EUR; {escape(best)}'s uplift halved."
    )
)

# %%
w = what_if(
    current["portfolio_plan"],
    backlog,
    teams,
    kpi_history,
    okrs,
    settings,
    chosen,
    replications=replications,
    seed=seed,
    time_limit_s=time_limit,
)
info = w.run_info.iloc[0]
display(
    Markdown(
        f"Re-optimised: solver {info['solver']} **{info['status']}**, proven gap {info['gap']:.2%}, "
        f"{len(chosen)} scenarios x {replications} replications per plan, root seed {seed}."
    )
)

# %% [markdown]
# ## Side by side

# %%
display(
    w.comparison.style.format(
        na_rep="-",
        escape="html",
        formatter={
            "spend_eur": lambda v: f"{v / 1e6:,.2f} M",
            "value_eur": lambda v: f"{v / 1e6:,.2f} M",
            "npv_p10_median": lambda v: f"{v / 1e6:,.2f} M",
            "npv_p50_median": lambda v: f"{v / 1e6:,.2f} M",
            "worst_npv_p10": lambda v: f"{v / 1e6:,.2f} M",
            "gain_p50_median": lambda v: f"{v / 1e6:,.2f} M",
        },
    ).hide(axis="index")
)

# %% [markdown]
# ## Items in and out

# %%
labels = {p: settings.period_label(p) for p in range(1, settings.periods + 1)}
items = w.items.assign(
    start_current=[labels.get(p, "-") if pd.notna(p) else "-" for p in w.items["start_current"]],
    start_what_if=[labels.get(p, "-") if pd.notna(p) else "-" for p in w.items["start_what_if"]],
)
display(items.style.format(na_rep="-", escape="html").hide(axis="index"))
