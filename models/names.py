"""Names the settings, the models and the command line share: scoring criteria, ranking
methods and plan names.

Nothing but these constants, and no imports: the command line reads them for its help
texts and option checks without loading pandas, the solver or the simulation.
"""

from __future__ import annotations

# Criteria a weighted score (settings.scoring_weights) and a planner's own formula
# (settings.scoring_formulas) may use. "effort" is the total effort in person-weeks and
# always counts against an item; "rice" and "wsjf" are the scores of models.scoring;
# "moscow" scores Must highest (it uses 5 - moscow_rank, so Must=4 ... Won't=1); "value" is
# another name for business_value; "cost_of_delay" is business_value + time_criticality +
# risk_reduction.
CRITERIA = (
    "value",
    "reach",
    "impact",
    "confidence",
    "business_value",
    "time_criticality",
    "risk_reduction",
    "uplift",
    "story_points",
    "effort",
    "rice",
    "wsjf",
    "cost_of_delay",
    "moscow",
)

# The prioritisation methods models.scoring ranks every item by (rank_<method>).
RANKED_METHODS = ("rice", "wsjf", "weighted", "moscow")

# The rankings the greedy baselines fill a plan by (models.portfolio.greedy).
RANKINGS = ("rice", "wsjf", "value_per_effort", "weighted_score")

# The plan the team has today (the workspace's roadmap.csv, models.portfolio.roadmap).
CURRENT_PLAN = "current"

# The counterfactual: no new work, only running work continues (models.portfolio.greedy.status_quo_plan).
# Every other plan's value is shown as its increment over it.
STATUS_QUO_PLAN = "status_quo"

# The plan optimised to hold up over sampled futures of the items' values (models.portfolio.robust).
ROBUST_PLAN = "robust"

# The plans a stress test can run: the optimiser's, the robust one, the greedy baselines by ranking method, the
# status quo and, when the workspace has a roadmap, the team's current one.
PLAN_NAMES: tuple[str, ...] = ("recommended", ROBUST_PLAN, *RANKINGS, STATUS_QUO_PLAN, CURRENT_PLAN)
