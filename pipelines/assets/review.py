"""Review: the executed review notebook, rendered to HTML for the strategy team."""

import dagster as dg

from pipelines.report import REVIEW_TABLES, render_review
from pipelines.resources import WeitblickConfig

GROUP = "review"


@dg.asset(
    group_name=GROUP,
    kinds={"jupyter", "html"},
    deps=list(REVIEW_TABLES),
)
def review_report(config: WeitblickConfig) -> dg.MaterializeResult:
    """The review notebook executed against the store and rendered as HTML under reports/."""
    html = render_review(config.store_path(), config.reports_path())
    return dg.MaterializeResult(metadata={"path": dg.MetadataValue.path(str(html)), "bytes": html.stat().st_size})
