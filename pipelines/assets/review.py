"""Review: the report rendered from the run's own tables, and the promotion of the run to the
current recommendation (the last asset of every refresh)."""

from collections.abc import Sequence
from datetime import UTC, datetime

import dagster as dg
import pandas as pd

from pipelines import provenance
from pipelines.promotion import promote, prune
from pipelines.report import REVIEW_TABLES, publish_review, render_review, staging_dir
from pipelines.resources import WeitblickConfig, trigger_of
from pipelines.store import run_schema

GROUP = "review"
PROMOTION = "current_recommendation"
# the tables the promotion reads for the run's provenance; every other asset is a plain dependency
PROVENANCE_TABLES = ("settings", "plan_run_info", "stress_test_run_info", "input_files")


@dg.asset(
    group_name=GROUP,
    kinds={"jupyter", "html"},
    deps=list(REVIEW_TABLES),
)
def review_report(context: dg.AssetExecutionContext, config: WeitblickConfig) -> dg.MaterializeResult:
    """The review notebook executed against this run's tables and rendered as HTML; it replaces
    reports/review.html when the run is promoted."""
    out = staging_dir(config.reports_path(), context.run_id)
    html = render_review(config.store_path(), out, schema=run_schema(context.run_id))
    return dg.MaterializeResult(metadata={"staged": dg.MetadataValue.path(str(html)), "bytes": html.stat().st_size})


def build_promotion(upstream: Sequence[dg.AssetKey]) -> dg.AssetsDefinition:
    """The asset that promotes a run: it depends on every other asset (``upstream``), so it
    runs only when all of them were materialised and no blocking check failed."""
    deps = sorted({k for k in upstream if k.path[-1] not in PROVENANCE_TABLES}, key=lambda k: k.to_user_string())

    @dg.asset(name=PROMOTION, group_name=GROUP, kinds={"duckdb"}, deps=deps)
    def current_recommendation(
        context: dg.AssetExecutionContext,
        config: WeitblickConfig,
        settings: pd.DataFrame,
        plan_run_info: pd.DataFrame,
        stress_test_run_info: pd.DataFrame,
        input_files: pd.DataFrame,
    ) -> dg.MaterializeResult:
        """This run's tables become the current recommendation, all at once, and the run joins
        the history with its provenance (pipelines/promotion.py). Runs last: a failed step or
        blocking check upstream leaves the current recommendation as it was."""
        run = context.instance.get_run_record_by_id(context.run_id)
        now = datetime.now(UTC).replace(tzinfo=None)
        started = datetime.fromtimestamp(run.start_time, UTC).replace(tzinfo=None) if run and run.start_time else now
        record = provenance.run_record(
            context.run_id,
            started,
            now,
            trigger_of(context.run.tags),
            config.data_path(),
            settings,
            plan_run_info,
            stress_test_run_info,
            input_files,
            config.run_options(),
        )
        carried = promote(config.store_path(), record, input_files)
        published = publish_review(config.reports_path(), context.run_id)
        pruned = prune(config.store_path(), config.keep_runs)
        return dg.MaterializeResult(
            metadata={
                "run_id": context.run_id,
                "trigger": record["trigger"],
                "inputs_sha256": record["inputs_sha256"],
                "carried_over": ", ".join(carried) or "none",
                "report": ", ".join(p.name for p in published) or "not rendered in this run",
                "pruned_runs": len(pruned),
            }
        )

    return current_recommendation
