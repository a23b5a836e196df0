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
# # Weitblick review
# What the last refresh recommends, what it uses, and whether it survives the scenarios.
# Everything here is read from the store that the Dagster assets wrote; this notebook computes
# nothing of its own beyond arranging tables for plots.

# %% tags=["parameters"]
store = ""  # path of the DuckDB store (empty: the project default, var/store.duckdb)
schema = "weitblick"  # the current recommendation; a refresh renders its own run's schema before promoting it

# %%
from html import escape
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
from IPython.display import Markdown, display

from models.portfolio.robust import robust_summary
from models.realisation import estimates_to_test
from models.settings import settings_from_table
from models.simulation import compare_plans
from models.valuation import clean_kpi_history
from pipelines import paths
from pipelines.report import REVIEW_TABLES
from pipelines.store import read_tables

# every table shows text from the inputs (titles, names) as text, never as HTML, and a missing number as a
# dash: the options hold for tables without a format of their own; each .format() says so again
pd.set_option("styler.format.escape", "html")
pd.set_option("styler.format.na_rep", "-")

store_path = Path(store) if store else paths.store_path()
t = read_tables(store_path, *REVIEW_TABLES, schema=schema)
s = settings_from_table(t["settings"])
info = t["plan_run_info"].iloc[0]
plan = t["portfolio_plan"]
funded = plan[plan["funded"]].copy()
display(
    Markdown(
        f"**{escape(s.company)}** — plan for {s.period_label(1)} to {s.period_label(s.periods)}.  \n"
        f"Solver {info['solver']}: **{info['status']}**, proven gap {info['gap']:.2%}, "
        f"expected value {info['objective']:,.0f} EUR; {len(funded)} of {len(plan)} candidate items funded."
    )
)

# %% [markdown]
# ## Summary


# %%
def eur(v: float) -> str:
    """Money for the board: 1.2 M EUR, 850 k EUR."""
    if pd.isna(v):
        return "-"
    return f"{v / 1e6:,.1f} M EUR" if abs(v) >= 1e6 else f"{v / 1e3:,.0f} k EUR"


cases_all = t["business_cases"].set_index("item_id")
summary_runs = t["stress_test_summary"]
rec_runs = summary_runs.loc[summary_runs["plan"] == "recommended"].set_index("scenario")
spend_all = float(funded["cost"].sum())
expected_all = float(cases_all.loc[funded["item_id"], "pv_benefit_eur"].sum())
estimated_all = float(cases_all.loc[funded["item_id"], "pv_benefit_estimated_eur"].sum())
first = funded.loc[funded["start_period"] == funded["start_period"].min()].sort_values("value", ascending=False)
top = funded.sort_values("value", ascending=False).head(5)
left_top = plan.loc[~plan["funded"]].sort_values("best_value_eur", ascending=False).head(3)
prices = t["rule_prices"].sort_values("price_eur", ascending=False)
prices = prices.loc[prices["price_eur"] > 0.005 * max(float(info["objective"]), 1.0)].head(3)
flagged_rec = t["plan_plausibility"].query("plan == 'recommended' and flagged")
lines = [
    f"- **Fund {len(funded)} of {len(plan)} items** from {s.period_label(int(funded['start_period'].min()))} to "
    f"{s.period_label(int(funded['finish_period'].max()))}, for {eur(spend_all)} of planned work; "
    f"{len(first)} start in {s.period_label(int(funded['start_period'].min()))}, led by "
    + ", ".join(f"{escape(r.item_id)} ({escape(str(r.title))})" for r in first.head(3).itertuples())
    + ".",
    f"- **Value:** the funded items' own estimates add up to {eur(estimated_all)}; realised as the evidence on "
    f"product ideas says, {eur(expected_all)} is expected ({expected_all / spend_all:,.2f} per EUR spent)."
    if spend_all and estimated_all
    else "- **Value:** the funded items carry no estimated benefit.",
]
if s.plausibility.scenario in rec_runs.index:
    r = rec_runs.loc[s.plausibility.scenario]
    if r["npv_increment_p50"] == r["npv_increment_p50"]:
        lines.append(
            f"- **Against doing nothing** (the status quo, {escape(s.plausibility.scenario)} scenario): the plan adds "
            f"{eur(r['npv_increment_p50'])} of MRR's NPV over {s.months} months in the median future, "
            f"{eur(r['npv_increment_p10'])} in the worst of ten, {eur(r['npv_increment_p90'])} in the best of ten."
        )
worst = rec_runs["npv_p10"].idxmin() if len(rec_runs) else None
if worst is not None:
    lines.append(
        f"- **Risk:** across {len(rec_runs)} scenarios the plan's NPV of MRR has a median P50 of "
        f"{eur(rec_runs['npv_p50'].median())}; the hardest scenario is {escape(str(worst))} "
        f"(P10 {eur(rec_runs.loc[worst, 'npv_p10'])}, P50 {eur(rec_runs.loc[worst, 'npv_p50'])})."
    )
lines.append(
    "- **Biggest decisions:** in - "
    + "; ".join(
        f"{escape(r.item_id)} {escape(str(r.title))} ({s.period_label(int(r.start_period))}, {eur(r.value)})"
        for r in top.itertuples()
    )
    + ". Out - "
    + "; ".join(f"{escape(r.item_id)} {escape(str(r.title))} ({escape(str(r.reason))})" for r in left_top.itertuples())
    + "."
)
if len(prices):
    lines.append(
        "- **Rules that cost most:** "
        + "; ".join(f"{escape(str(r.description))} {eur(r.price_eur)}" for r in prices.itertuples())
        + " of expected value."
    )
failing = t["scenario_discovery"].query("plan == 'recommended' and box >= 1")
if len(failing):
    lines.append(f"- **When it fails:** {escape(failing['sentence'].iloc[0])}")
robust_run = t["robust_run_info"].iloc[0]
holds_up = not t["robust_comparison"].empty
if holds_up:
    gain, price = robust_run["p10_gain_eur"], robust_run["price_of_robustness_eur"]
    lines.append(
        f"- **Holding up:** a plan optimised for the bad futures {'raises' if gain >= 0 else 'lowers'} the P10 "
        f"value by {eur(abs(gain))} "
        + (f"for {eur(price)} of expected value" if price > 0 else "at no cost in expected value")
        + " (held-out futures, below)."
    )
if flagged_rec.empty:
    lines.append("- **Believable:** the plan's median MRR path stays within what the history has shown (below).")
else:
    lines.append(
        f"- **Check before deciding:** the plan's median MRR path grows faster than the history makes believable in "
        f"{len(flagged_rec)} product-years; the estimates behind it are named below."
    )
diff_rows = t["recommendation_changes"]
if len(diff_rows):
    plan_level = diff_rows.loc[diff_rows["scope"] == "plan"].set_index("metric")
    moved_n = len(t["recommendation_diff"])
    since = pd.Timestamp(diff_rows["against_finished_at"].iloc[0])
    if "plan value" in plan_level.index:
        pv = plan_level.loc["plan value"]
        lines.append(
            f"- **Since {since:%Y-%m-%d}:** expected value {eur(pv['before'])} → {eur(pv['after'])}; "
            f"{moved_n} items changed (next section)."
        )
decide = ["whether the rules above are worth their price"] if len(prices) else []
if holds_up:
    decide.append("whether holding up better is worth its price (the borderline items below)")
bets = estimates_to_test(cases_all.reset_index(), funded["item_id"])
if len(bets):
    decide.append(
        "which estimates to test first (largest estimates least likely to work): "
        + ", ".join(
            f"{escape(str(i))} (estimated {eur(r.pv_benefit_estimated_eur)}, works {r.p_works:.0%} of the time)"
            for i, r in bets.set_index("item_id").iterrows()
        )
    )
lines.append("- **For the team to decide:** " + "; ".join(decide) + ".")
display(Markdown("\n".join(lines)))

# %%
# What changed since the recommendation this run replaces (recommendation_diff, recommendation_changes)
changes, moved = t["recommendation_changes"], t["recommendation_diff"]


def _label(p):
    return "-" if pd.isna(p) else s.period_label(int(p))


if changes.empty:
    display(
        Markdown(
            "## What changed\nThis is the first recommendation in this store: the next refresh is compared with it."
        )
    )
else:
    since, against = pd.Timestamp(changes["against_finished_at"].iloc[0]), changes["against_run"].iloc[0]
    total = changes.loc[changes["scope"] == "plan"].set_index("metric")
    lines = [f"## What changed since {since:%Y-%m-%d %H:%M} UTC (run {against[:8]})"]
    for metric in ("plan value", "funded items"):
        if metric in total.index:
            r = total.loc[metric]
            lines.append(f"- {metric}: {r['before']:,.0f} → {r['after']:,.0f} ({r['change']:+,.0f} {r['unit']})")
    npv = changes.loc[changes["metric"].str.startswith("NPV") & (changes["change"].abs() > 0)]
    for r in npv.itertuples():
        lines.append(f"- {r.metric} ({r.scope}): {r.before:,.0f} → {r.after:,.0f} ({r.change:+,.0f} {r.unit})")
    kpis = changes.loc[changes["metric"].str.startswith("baseline") & (changes["change"].abs() > 0)]
    lines += [f"- {r.metric} of {escape(r.scope)}: {r.before:,.4g} → {r.after:,.4g}" for r in kpis.itertuples()]
    counts = moved["change"].value_counts()
    lines.append(
        "- items: " + (", ".join(f"{n} {k}" for k, n in counts.items()) if len(counts) else "no decision changed")
    )
    display(Markdown("\n".join(lines)))
    if len(moved):
        display(
            pd.DataFrame(
                {
                    "item": moved["item_id"],
                    "title": moved["title"],
                    "change": moved["change"],
                    "start": [
                        f"{_label(a)} → {_label(b)}"
                        for a, b in zip(moved["start_before"], moved["start_after"], strict=True)
                    ],
                    "value (EUR)": [
                        f"{(a if a == a else 0):,.0f} → {(b if b == b else 0):,.0f}"
                        for a, b in zip(moved["value_before_eur"], moved["value_after_eur"], strict=True)
                    ],
                    "why": ["; ".join(c) for c in moved["causes"]],
                }
            ).style.hide(axis="index")
        )

# %% [markdown]
# ## The recommended plan
# One bar per funded item from its start to its finish quarter, coloured by product; Must-haves
# are outlined in black and marked with a star, and an arrow runs from each funded item to the
# funded items that wait for it.

# %%
funded = funded.sort_values(["product", "start_period", "item_id"])
products = sorted(funded["product"].unique())
colours = dict(zip(products, plt.cm.tab10.colors, strict=False))
row_of = {item: y for y, item in enumerate(funded["item_id"])}
fig, ax = plt.subplots(figsize=(12, max(4, 0.22 * len(funded))))
for y, r in enumerate(funded.itertuples()):
    must = bool(r.mandatory)
    ax.barh(
        y,
        r.finish_period - r.start_period + 1,
        left=r.start_period - 0.5,
        color=colours[r.product],
        edgecolor="black" if must else "white",
        linewidth=1.2 if must else 0.5,
    )
waits = t["backlog"].set_index("item_id")["depends_on"]
for item, y in row_of.items():
    deps = waits.get(item)
    for d in [] if deps is None else list(deps):
        if d in row_of:  # the predecessor's finish to this item's start
            a = funded.set_index("item_id").loc[d]
            b = funded.set_index("item_id").loc[item]
            ax.annotate(
                "",
                xy=(b["start_period"] - 0.5, y),
                xytext=(a["finish_period"] + 0.5, row_of[d]),
                arrowprops={"arrowstyle": "->", "color": "grey", "lw": 0.7},
            )
labels = [
    f"{'★ ' if m else ''}{i}  {str(title)[:42]}"
    for i, title, m in zip(funded["item_id"], funded["title"], funded["mandatory"], strict=True)
]
ax.set_yticks(range(len(funded)), labels, fontsize=6)
ax.set_xticks(range(1, s.periods + 1), [s.period_label(p) for p in range(1, s.periods + 1)], rotation=45)
ax.set_xlim(0.5, s.periods + 0.5)
ax.invert_yaxis()
ax.legend(
    handles=[plt.Rectangle((0, 0), 1, 1, color=colours[p]) for p in products]
    + [plt.Rectangle((0, 0), 1, 1, facecolor="white", edgecolor="black")],
    labels=[*products, "★ Must-have"],
    loc="upper center",
    bbox_to_anchor=(0.5, -0.06),
    ncol=len(products) + 1,
    fontsize=8,
)
ax.set_title("Funded items by quarter (arrows: waits for)")
plt.tight_layout()
plt.show()

# %%
table = funded.sort_values(["start_period", "value"], ascending=[True, False])
display(
    pd.DataFrame(
        {
            "start": [s.period_label(int(p)) for p in table["start_period"]],
            "finish": [s.period_label(int(p)) for p in table["finish_period"]],
            "item": table["item_id"],
            "title": table["title"],
            "product": table["product"],
            "theme": table["theme"],
            "Must-have": ["yes" if m else "" for m in table["mandatory"]],
            "expected value": [f"{v / 1e3:,.0f} k EUR" for v in table["value"]],
            "cost": [f"{v / 1e3:,.0f} k EUR" for v in table["cost"]],
            "why": table["reason"],
        }
    )
    .style.format(na_rep="-", escape="html")
    .hide(axis="index")
)

# %% [markdown]
# ## Worth it? The plan against doing nothing
# An uplift in the backlog is a hypothesis. The values above count what the evidence says such
# estimates realise on average (most product ideas do not move their metric: about a third work at
# Microsoft, 10-20 % at Bing and Google; Kohavi & Thomke 2017), by each item's stated confidence.
# The status quo continues the running work only; its KPIs follow the history's trend. Each plan's
# gain is its NPV minus the status quo's in the same simulated futures.

# %%
cases = t["business_cases"].set_index("item_id")
ids = funded["item_id"]
estimated = float(cases.loc[ids, "pv_benefit_estimated_eur"].sum())
expected = float(cases.loc[ids, "pv_benefit_eur"].sum())
spend = float(funded["cost"].sum())
inc = t["stress_test_summary"]
rec = inc.loc[inc["plan"] == "recommended"].set_index("scenario")
sq_scenario = s.plausibility.scenario
lines = [
    f"- The funded items' own estimates add up to **{estimated / 1e6:,.1f} M EUR** of discounted benefit "
    f"over {s.value_horizon_months} months; realised as the evidence says, **{expected / 1e6:,.1f} M EUR** "
    f"is expected ({expected / estimated:.0%} of the estimates)."
    if estimated
    else "- The funded items carry no estimated benefit.",
    f"- Planned spend: **{spend / 1e6:,.1f} M EUR**; expected benefit per EUR spent: **{expected / spend:,.2f}**."
    if spend
    else "- Nothing is spent.",
]
if sq_scenario in rec.index and rec.loc[sq_scenario, "npv_increment_p50"] == rec.loc[sq_scenario, "npv_increment_p50"]:
    r = rec.loc[sq_scenario]
    lines.append(
        f"- In the {escape(sq_scenario)} scenario the plan adds **{r['npv_increment_p50'] / 1e6:,.1f} M EUR** of NPV "
        f"(MRR over {s.months} months) to the status quo in the median future, between "
        f"{r['npv_increment_p10'] / 1e6:,.1f} M (P10) and {r['npv_increment_p90'] / 1e6:,.1f} M EUR (P90)."
    )
display(Markdown("\n".join(lines)))
gain = inc.loc[
    inc["plan"] != "status_quo", ["plan", "scenario", "npv_increment_p10", "npv_increment_p50", "npv_increment_p90"]
]
display(
    gain.pivot_table(index="plan", columns="scenario", values="npv_increment_p50", sort=False)
    .div(1e6)
    .style.format(na_rep="-", escape="html", formatter="{:,.2f}")
    .set_caption("Gain over the status quo, NPV P50 in M EUR, per scenario")
)

# %%
# Is the path believable? The P50 MRR path of the recommended plan and of the status quo against the history
plaus = t["plan_plausibility"]
# the history as the KPI baselines use it: gaps filled and outliers replaced (models.valuation)
hist = clean_kpi_history(t["kpi_history"])[0].groupby("month")["mrr"].sum()
bands_all = t["stress_test_bands"].query("scenario == @sq_scenario")
fig, ax = plt.subplots(figsize=(10, 4))
ax.plot(hist.index, hist / 1e3, color="black", label="history")
for name, colour in (("recommended", "tab:blue"), ("status_quo", "tab:grey")):
    b = bands_all[bands_all["plan"] == name]
    if len(b):
        months = [pd.Timestamp(s.start) + pd.DateOffset(months=int(m) - 1) for m in b["month"]]
        ax.plot(months, b["mrr_p50"] / 1e3, color=colour, label=f"{name} (P50)")
        ax.fill_between(months, b["mrr_p10"] / 1e3, b["mrr_p90"] / 1e3, color=colour, alpha=0.15)
ax.set_ylabel("MRR, kEUR per month (all products)")
ax.set_ylim(bottom=0)
ax.legend(fontsize=8)
ax.set_title(f"MRR: history, and the plans' paths in the {sq_scenario} scenario")
plt.tight_layout()
plt.show()
flagged = plaus.loc[plaus["flagged"] & (plaus["plan"] == "recommended")]
if flagged.empty:
    display(
        Markdown(
            "The recommended plan's median path stays within what the history makes believable: no plan year grows "
            f"beyond max({s.plausibility.max_growth_factor:g} x the best year on record, the best year + "
            f"{s.plausibility.min_headroom:.0%} points)."
        )
    )
else:
    display(
        Markdown(
            "**Implausible:** the recommended plan's median path grows faster than the history makes believable. "
            "Check these estimates before taking the plan to the board:\n"
            + "\n".join(
                f"- {escape(r.product)}, plan year {r.plan_year}: {r.implied_growth:.0%} against at most "
                f"{r.limit:.0%} (best year on record {r.best_growth_on_record:.0%}); "
                f"most of it from {escape(r.top_items)}"
                for r in flagged.itertuples()
            )
        )
    )
display(
    plaus.loc[
        plaus["plan"].isin(["recommended", "status_quo"]),
        ["plan", "product", "plan_year", "implied_growth", "best_growth_on_record", "limit", "flagged"],
    ]
    .style.format(
        na_rep="-",
        escape="html",
        formatter={"implied_growth": "{:.0%}", "best_growth_on_record": "{:.0%}", "limit": "{:.0%}"},
    )
    .hide(axis="index")
)

# %% [markdown]
# ## Capacity and budget
# Share of each skill's person-weeks the plan uses per period (a value of 100 % binds), and spend
# against the budget.

# %%
cap = t["capacity_usage"].pivot(index="skill", columns="period", values="utilisation").sort_index()
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(13, 3.8), gridspec_kw={"width_ratios": [3, 2]})
im = ax1.imshow(cap.values, vmin=0, vmax=1, cmap="YlOrRd", aspect="auto")
ax1.set_yticks(range(len(cap.index)), cap.index)
ax1.set_xticks(range(len(cap.columns)), [s.period_label(int(p)) for p in cap.columns], rotation=45)
for (i, j), v in pd.DataFrame(cap.values).stack().items():
    ax1.text(j, i, f"{v:.0%}", ha="center", va="center", fontsize=7)
ax1.set_title("Capacity utilisation")
fig.colorbar(im, ax=ax1, fraction=0.03)
budget = t["budget_usage"]
ax2.bar(budget["period"], budget["budget_eur"] / 1e3, color="lightgrey", label="budget")
ax2.bar(budget["period"], budget["spend_eur"] / 1e3, width=0.5, color="tab:blue", label="planned spend")
ax2.set_xticks(budget["period"], [s.period_label(int(p)) for p in budget["period"]], rotation=45)
ax2.set_ylabel("kEUR")
ax2.legend(fontsize=8)
ax2.set_title("Budget")
plt.tight_layout()
plt.show()

# %% [markdown]
# ## Left out
# The most valuable items the plan does not fund: their best expected value, their cost, why
# they are out and what it would take to fund them, with their rank by each scoring method
# (where the optimiser and a ranking disagree, capacity, budget and the rules decided).


# %%
scores = t["priority_scores"].set_index("item_id")
takes = t["plan_explanations"].set_index("item_id")
left = plan.loc[~plan["funded"]].sort_values(["best_value_eur", "item_id"], ascending=[False, True]).head(15)
rank_cols = [c for c in scores.columns if c.startswith("rank_")]
display(
    pd.DataFrame(
        {
            "item": left["item_id"],
            "title": left["title"],
            "best expected value": [eur(v) for v in left["best_value_eur"]],
            "cost": [eur(v) for v in left["item_cost_eur"]],
            "why not": left["reason"],
            "what it would take": [takes["what_it_takes"].get(i, "") for i in left["item_id"]],
            **{c.replace("rank_", "rank by "): [scores[c].get(i) for i in left["item_id"]] for c in rank_cols},
        }
    )
    .style.format(na_rep="-", escape="html", precision=0)
    .hide(axis="index")
)

# %% [markdown]
# ## Why this plan
# What each rule the team set costs (the plan re-solved without it), the optimised plan against
# greedy rankings and the status quo under the same rules, the value of more budget, and the
# items that were re-solved with their decision forced the other way. Where a re-solve stopped at
# its time limit, the range is what the solver proved.

# %%
prices = t["rule_prices"].sort_values("price_eur", ascending=False)
display(
    Markdown(
        "\n".join(
            f"- **{escape(str(r.description))}** cost {eur(r.price_eur)} of expected value"
            + ("" if r.status == "Optimal" else f" (proven {eur(r.price_low_eur)} to {eur(r.price_high_eur)})")
            for r in prices.itertuples()
        )
    )
)
base = t["baseline_plans"]
display(
    pd.DataFrame(
        {
            "plan": base["method"],
            "expected value": [eur(v) for v in base["value_eur"]],
            "funded": base["n_funded"],
            "keeps every rule": [
                "yes" if ok else f"no: {len([v for v in str(why).split('; ') if v])} rules broken"
                for ok, why in zip(base["valid"], base["violations"], strict=True)
            ],
            "optimised plan's gain": [f"{u:+.0%}" if u == u else "-" for u in base["uplift"]],
        }
    )
    .style.format(na_rep="-", escape="html")
    .hide(axis="index")
)
frontier = t["efficient_frontier"].dropna(subset=["value_eur"])
fig, ax = plt.subplots(figsize=(6, 3.5))
ax.plot(frontier["budget_eur"] / 1e6, frontier["value_eur"] / 1e6, marker="o")
ax.axvline(frontier.loc[frontier["budget_share"] == 1.0, "budget_eur"].squeeze() / 1e6, color="grey", ls=":")
ax.set_xlabel("budget, M EUR")
ax.set_ylabel("plan's expected value, M EUR")
ax.set_title("Efficient frontier (dotted: today's budget)")
plt.tight_layout()
plt.show()
resolved = t["plan_explanations"].loc[lambda d: d["resolved"]]
display(
    pd.DataFrame(
        {
            "item": resolved["item_id"],
            "decision": ["in" if f else "out" for f in resolved["funded"]],
            "forced": resolved["forced"],
            "value lost if forced": [eur(v) for v in resolved["loss_eur"]],
            "proven range": [
                f"{eur(a)} to {eur(b)}"
                for a, b in zip(resolved["loss_low_eur"], resolved["loss_high_eur"], strict=True)
            ],
            "re-solve": resolved["resolve_status"],
            "what it would take": resolved["what_it_takes"],
        }
    )
    .style.format(na_rep="-", escape="html")
    .hide(axis="index")
)

# %% [markdown]
# ## The team's current roadmap
# The workspace's `roadmap.csv`, valued with the optimiser's values and checked against every
# rule; the items only one of the two plans funds, and why. The stress test below runs it as the
# plan "current".

# %%
road, broken, only = t["roadmap_check"], t["roadmap_violations"], t["roadmap_comparison"]
if road.empty:
    display(Markdown("No roadmap in the workspace (`roadmap.csv`): nothing to compare the recommendation with."))
else:
    r = road.iloc[0]
    display(
        Markdown(
            f"The current roadmap funds {r['n_funded']} items worth {r['value_eur']:,.0f} EUR; the recommended plan "
            f"{info['n_funded']} items worth {info['value_eur']:,.0f} EUR. "
            + (f"It breaks {len(broken)} rules:" if len(broken) else "It keeps every rule.")
        )
    )
    if len(broken):
        display(broken[["rule", "where", "period_label", "amount", "unit", "message"]].style.hide(axis="index"))
    if len(only):
        display(only[["item_id", "title", "change", "reason"]].style.hide(axis="index"))

# %% [markdown]
# ## Portfolio health
# Which products pay into the strategy, and where is capital bound without creating value?
# Capital tied is run cost plus planned investment; value created is contribution (MRR x margin
# minus run cost) plus the value of the funded items, both per year. Below: the flags with
# their reasons, the growth/share matrix, the unit economics the business cases start from and
# every KPI value that was filled in or replaced.

# %%
health = t["portfolio_health"]
money = dict.fromkeys(
    ["capital_tied_eur_per_year", "value_created_eur_per_year", "investment_eur_per_year", "planned_npv_eur"], "{:,.0f}"
)
display(
    health[
        [
            "level",
            "name",
            "capital_tied_eur_per_year",
            "value_created_eur_per_year",
            "value_per_eur_tied",
            "share_of_investment",
            "target_share_min",
            "target_share_max",
            "matrix",
            "flags",
            "reasons",
        ]
    ]
    .style.format(
        na_rep="-",
        escape="html",
        formatter={
            **money,
            "value_per_eur_tied": "{:.2f}",
            "share_of_investment": "{:.0%}",
            "target_share_min": "{:.0%}",
            "target_share_max": "{:.0%}",
        },
    )
    .hide(axis="index")
)
products = health[health["level"] == "product"]
fig, ax = plt.subplots(figsize=(6, 4))
ax.scatter(
    products["share_of_mrr"], products["mrr_growth_per_year"], s=products["capital_tied_eur_per_year"] / 2e4, alpha=0.5
)
for _, r in products.iterrows():
    ax.annotate(f"{r['name']} ({r['matrix']})", (r["share_of_mrr"], r["mrr_growth_per_year"]), fontsize=8)
ax.axvline(1 / len(products), color="grey", ls=":")
ax.axhline(s.economics.high_growth_per_year, color="grey", ls=":")
ax.set_xlabel("share of portfolio MRR")
ax.set_ylabel("MRR growth per year")
ax.set_title("Growth/share matrix (bubble: capital tied)")
plt.tight_layout()
plt.show()
display(
    t["kpi_baselines"][
        [
            "product",
            "mau",
            "stickiness",
            "churn_rate",
            "retention_m12",
            "arpu",
            "mrr",
            "mrr_growth_per_year",
            "clv_eur",
            "cac_payback_months",
            "imputation_note",
        ]
    ]
    .style.format(na_rep="-", escape="html", precision=3, thousands=",")
    .hide(axis="index")
)
display(
    t["kpi_imputations"]
    .style.format(na_rep="-", escape="html", formatter={"observed": "{:,.4g}", "used": "{:,.4g}"})
    .hide(axis="index")
)

# %% [markdown]
# ## Stress test
# The recommended plan and the greedy baselines in every scenario of the library, many times
# over (the same seeds for every plan). First each plan across all scenarios; then the
# recommended plan per scenario: the spread of NPV across replications, the MRR path (median
# with the P10-P90 band, all products together) and the chance of meeting each key result.

# %%
summary = t["stress_test_summary"]
display(
    compare_plans(summary)
    .rename(
        columns={
            "npv_p50_median": "NPV P50 (median over scenarios)",
            "npv_increment_p50_median": "gain over status quo",
            "worst_npv_p10": "worst NPV P10",
            "worst_scenario": "worst scenario",
            "on_time_share": "on time",
            "okr_met_share": "OKRs met",
        }
    )
    .style.format(
        na_rep="-",
        escape="html",
        formatter={
            "NPV P50 (median over scenarios)": eur,
            "gain over status quo": eur,
            "worst NPV P10": eur,
            "on time": "{:.0%}",
            "OKRs met": "{:.0%}",
        },
    )
    .hide(axis="index")
)
rec = summary[summary["plan"] == "recommended"]
display(
    pd.DataFrame(
        {
            "scenario": rec["scenario"],
            "runs": rec["runs"],
            "NPV P10": [eur(v) for v in rec["npv_p10"]],
            "NPV P50": [eur(v) for v in rec["npv_p50"]],
            "NPV P90": [eur(v) for v in rec["npv_p90"]],
            "gain over status quo P50": [eur(v) for v in rec["npv_increment_p50"]],
            "MRR per month at the end, P50": [eur(v) for v in rec["final_mrr_p50"]],
            "on time": [f"{v:.0%}" if v == v else "-" for v in rec["on_time_share_mean"]],
            "mean slip": [f"{v:.1f} months" if v == v else "-" for v in rec["mean_slip_months_mean"]],
            "OKRs met": [f"{v:.0%}" if v == v else "-" for v in rec["okr_met_share_mean"]],
        }
    )
    .style.format(na_rep="-", escape="html")
    .hide(axis="index")
)
robust = t["plan_robustness"]
display(
    pd.DataFrame(
        {
            "plan": robust["plan"],
            "expected NPV": [eur(v) for v in robust["npv_mean"]],
            "NPV P10": [eur(v) for v in robust["npv_p10"]],
            "worst NPV": [eur(v) for v in robust["npv_worst"]],
            "mean regret": [eur(v) for v in robust["regret_mean"]],
            "max regret": [eur(v) for v in robust["regret_max"]],
            "futures good enough": [f"{v:.0%}" for v in robust["satisficing"]],
        }
    )
    .style.format(na_rep="-", escape="html")
    .set_caption(
        "Each plan over every future (regret: the best plan's NPV in that future minus this plan's; good enough: "
        + (
            f"NPV at least {eur(s.satisficing.npv)}"
            if s.satisficing.npv is not None
            else f"NPV at least the status quo's + {eur(s.satisficing.npv_gain)}"
        )
        + f", key results met {s.satisficing.okr_met_share:.0%}, items on time {s.satisficing.on_time_share:.0%})"
    )
    .hide(axis="index")
)
runs = t["stress_test_runs"].query("plan == 'recommended'")
bands = t["stress_test_bands"].query("plan == 'recommended'")
scenarios = sorted(runs["scenario"].unique())
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(13, 4))
ax1.boxplot([runs.loc[runs["scenario"] == sc, "npv_eur"] / 1e6 for sc in scenarios], tick_labels=scenarios)
ax1.tick_params(axis="x", labelrotation=60, labelsize=8)
ax1.set_ylabel("NPV of MRR, MEUR")
ax1.set_title("Recommended plan: NPV across replications")
for sc in scenarios:
    b = bands[bands["scenario"] == sc]
    ax2.plot(b["month"], b["mrr_p50"] / 1e3, label=sc)
    ax2.fill_between(b["month"], b["mrr_p10"] / 1e3, b["mrr_p90"] / 1e3, alpha=0.15)
ax2.set_xlabel("month of the plan")
ax2.set_ylabel("MRR, kEUR")
ax2.legend(fontsize=7)
ax2.set_title("MRR, median and P10-P90")
plt.tight_layout()
plt.show()
okrs = t["stress_test_okrs"].query("plan == 'recommended'")
okrs = okrs.assign(  # the targets as a reader writes them, not as raw floats
    target=[("-" if v != v else f"{v:,.0f}" if abs(v) >= 100 else f"{v:.4g}") for v in okrs["target"]]
)
display(
    okrs.pivot_table(index=["key_result", "target"], columns="scenario", values="chance_met", sort=False)
    .style.format(na_rep="-", escape="html", formatter="{:.0%}")
    .set_caption("Chance of meeting each key result by its deadline, per scenario (recommended plan)")
)

# %% [markdown]
# ## Holding up: a plan optimised for the bad futures
# The recommended plan maximises the expected value. The robust plan is optimised over sampled futures
# of the items' values (each idea may work, do nothing or harm; each product's market may move) for
# the bad ones, with every rule of the plan, and both are compared on other futures they were not
# optimised on. Items every good plan funds are core; items only some fund are the real decisions.

# %%
comparison, robust_info = t["robust_comparison"], t["robust_run_info"]
if comparison.empty:
    display(Markdown("The robust plan was not optimised in this run (settings.robust.enabled is false)."))
else:
    display(Markdown(escape(robust_summary(comparison, robust_info.iloc[0]))))
    sim = t["plan_robustness"].set_index("plan")
    if {"recommended", "robust"} <= set(sim.index):
        rec_p10, rob_p10 = sim.at["recommended", "npv_p10"], sim.at["robust", "npv_p10"]
        display(
            Markdown(
                f"In the stress test's {int(sim.at['robust', 'futures'])} simulated futures (company MRR, "
                f"delivery and market included) its NPV P10 is {eur(rob_p10)} against {eur(rec_p10)} for the "
                f"recommended plan ({'higher' if rob_p10 >= rec_p10 else 'lower'}), its expected NPV "
                f"{eur(sim.at['robust', 'npv_mean'])} against {eur(sim.at['recommended', 'npv_mean'])}. "
                "The futures it is optimised on vary the items' values (whether each idea works, each "
                "product's market), not delivery or competition: where the two disagree, the simulation "
                "has the wider view."
            )
        )
    display(
        pd.DataFrame(
            {
                "plan": comparison["plan"],
                "mean": [eur(v) for v in comparison["value_mean"]],
                "P10": [eur(v) for v in comparison["value_p10"]],
                "P50": [eur(v) for v in comparison["value_p50"]],
                f"mean of the worst {robust_info.iloc[0]['alpha']:.0%}": [eur(v) for v in comparison["value_cvar"]],
                "worst": [eur(v) for v in comparison["value_worst"]],
                "items": comparison["items"],
                "cost": [eur(v) for v in comparison["cost_eur"]],
            }
        )
        .style.format(na_rep="-", escape="html")
        .set_caption(f"Discounted value of the plans' items in {int(comparison['futures'].iloc[0])} held-out futures")
        .hide(axis="index")
    )
    classes = t["robust_items"]
    counts = classes["class"].value_counts()
    display(
        Markdown(
            f"Over the good plans ({escape(str(robust_info.iloc[0]['good_plans']))}): "
            f"**{int(counts.get('core', 0))} core** items (in every one), **{int(counts.get('borderline', 0))} "
            f"borderline** (in some), {int(counts.get('exterior', 0))} exterior (in none). The borderline items, "
            "by expected value:"
        )
    )
    border = classes.loc[classes["class"] == "borderline"]
    display(
        pd.DataFrame(
            {
                "item": border["item_id"],
                "title": border["title"],
                "product": border["product"],
                "funded by": border["in_plans"],
                "expected value": [eur(v) for v in border["expected_value_eur"]],
                "cost": [eur(v) for v in border["cost_eur"]],
            }
        )
        .style.format(na_rep="-", escape="html")
        .hide(axis="index")
    )

# %% [markdown]
# ## When this plan fails
# Every uncertain driver of the scenario library (effort overruns, attrition, demand, competitors,
# budget cuts, regulation, ...) sampled at once over its whole range, the plan run through each
# future beside the status quo, and the few drivers and ranges that hold most of the futures where
# it falls short (PRIM scenario discovery, as in EMA Workbench).

# %%
discovery, discovery_info = t["scenario_discovery"], t["discovery_run_info"].iloc[0]
display(
    Markdown(
        f"{int(discovery_info['futures']):,} futures over {int(discovery_info['drivers'])} drivers of the scenario "
        f"library and the plan's realised value (Latin hypercube, seed {int(discovery_info['seed'])}); a future "
        "counts as a miss when the plan falls short of its "
        f"{escape(str(discovery_info['failure']))} floor"
        + (
            f" (an NPV of {eur(discovery_info['npv_floor_eur'])}, {escape(str(discovery_info['npv_floor']))}).\n\n"
            if discovery_info["npv_floor_eur"] == discovery_info["npv_floor_eur"]
            else f" ({escape(str(discovery_info['npv_floor']))}).\n\n"
        )
        + "\n".join(f"- {escape(x)}" for x in discovery["sentence"])
    )
)
steps = t["discovery_trajectory"].query("plan == 'recommended'")
if len(steps):
    fig, ax = plt.subplots(figsize=(6, 3.6))
    points = ax.scatter(steps["coverage"], steps["density"], c=steps["restricted"], cmap="viridis", s=18)
    chosen = steps.loc[steps["chosen"].astype(bool)]
    ax.scatter(chosen["coverage"], chosen["density"], s=120, facecolors="none", edgecolors="red", label="box 1")
    ax.set_xlabel("coverage: share of the misses inside the box")
    ax.set_ylabel("density: share of misses in the box")
    ax.set_title("Recommended plan: PRIM's peeling trade-off")
    fig.colorbar(points, ax=ax, label="drivers restricted")
    ax.legend(fontsize=8)
    plt.tight_layout()
    plt.show()
limits = t["discovery_limits"]
if len(limits):
    display(
        pd.DataFrame(
            {
                "plan": limits["plan"],
                "box": limits["box"],
                "driver": limits["label"],
                "from": [f"{v:.3g}" if v == v else "-" for v in limits["lower"]],
                "to": [f"{v:.3g}" if v == v else "-" for v in limits["upper"]],
            }
        )
        .style.format(na_rep="-", escape="html")
        .set_caption("The ranges of each box (a dash: not limited on that side)")
        .hide(axis="index")
    )

# %% [markdown]
# ## Appendix: what the readers noted
# Everything the readers filled in by default, dropped, or read under another name ("change"),
# and how they read each file ("info"), file by file: the plan rests on these assumptions as
# much as on the data.

# %%
notes = t["read_notes"]
if notes.empty:
    display(Markdown("The readers made no notes."))
else:
    display(notes[["file", "kind", "note"]].style.hide(axis="index"))
