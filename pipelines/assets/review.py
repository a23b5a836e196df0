"""Review: the executed review notebook, rendered to HTML for the strategy team."""


import dagster as dg

from pipelines.report import render_review
from pipelines.resources import WeitblickConfig

GROUP = "review"


@dg.asset(
    group_name=GROUP,
    kinds={"jupyter", "html"},
    deps=["portfolio_plan", "capacity_usage", "budget_usage", "plan_run_info",
          "stress_test_summary", "stress_test_runs", "stress_test_bands", "priority_scores", "business_cases",
          "plan_explanations", "rule_prices", "efficient_frontier", "baseline_plans"],
)
def review_report(config: WeitblickConfig) -> dg.MaterializeResult:
    """The review notebook executed against the store and rendered as HTML under reports/."""
    html = render_review(config.store_path(), config.reports_path())
    return dg.MaterializeResult(metadata={"path": dg.MetadataValue.path(str(html)),
                                          "bytes": html.stat().st_size})
