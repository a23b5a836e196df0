"""Review: the report rendered from the run's own tables, and the promotion of the run to the
current recommendation (the last asset of every refresh)."""

from collections.abc import Sequence
from datetime import UTC, datetime

import dagster as dg
import pandas as pd

from models import diff
from pipelines import provenance
from pipelines.promotion import DIFF_TABLES, current_run, promote, prune, run_tables
from pipelines.report import REVIEW_TABLES, publish_review, render_review, staging_dir
from pipelines.resources import WeitblickConfig, trigger_of
from pipelines.store import run_schema

GROUP = "review"
PROMOTION = "current_recommendation"
# the tables the promotion reads for the run's provenance; every other asset is a plain dependency
PROVENANCE_TABLES = ("settings", "plan_run_info", "stress_test_run_info", "input_files")


@dg.multi_asset(
    outs={
        "recommendation_diff": dg.AssetOut(
            group_name=GROUP,
            kinds={"python", "duckdb"},
            description="Items added to or removed from the plan, moved, or with another value or cost than in the "
            "current recommendation, each with the causes found in the two runs' inputs.",
        ),
        "recommendation_changes": dg.AssetOut(
            group_name=GROUP,
            kinds={"python", "duckdb"},
            description="Plan value, cost, funded items, solver gap, NPV P10/P50 per scenario and KPI baselines: "
            "this run against the current recommendation.",
        ),
    },
)
def recommendation_diff(
    config: WeitblickConfig,
    backlog: pd.DataFrame,
    teams: pd.DataFrame,
    settings: pd.DataFrame,
    kpi_baselines: pd.DataFrame,
    portfolio_plan: pd.DataFrame,
    plan_run_info: pd.DataFrame,
    business_cases: pd.DataFrame,
    stress_test_summary: pd.DataFrame,
):
    """What changed since the current recommendation (models/diff.py); empty on the first run.
    Every row names the run compared against and when it was promoted."""
    after = {
        "backlog": backlog,
        "teams": teams,
        "settings": settings,
        "kpi_baselines": kpi_baselines,
        "portfolio_plan": portfolio_plan,
        "plan_run_info": plan_run_info,
        "business_cases": business_cases,
        "stress_test_summary": stress_test_summary,
    }
    store = config.store_path()
    against = current_run(store) if store.exists() else None
    if against is None:
        items = pd.DataFrame(columns=diff.ITEM_CHANGE_COLUMNS)
        runs = pd.DataFrame(columns=diff.RUN_CHANGE_COLUMNS)
        since = {"against_run": None, "against_finished_at": pd.NaT}
    else:
        before = run_tables(store, against, *DIFF_TABLES)
        items, runs = diff.item_changes(before, after), diff.run_changes(before, after)
        since = {"against_run": against["run_id"], "against_finished_at": against["finished_at"]}
    items = items.assign(**since)
    runs = runs.assign(**since)
    meta = {"against_run": since["against_run"] or "none (first run)"}
    counts = items["change"].value_counts().to_dict() if len(items) else {}
    yield dg.Output(items, "recommendation_diff", metadata={**meta, **{k: int(v) for k, v in counts.items()}})
    yield dg.Output(runs, "recommendation_changes", metadata=meta)


@dg.asset(
    group_name=GROUP,
    kinds={"jupyter", "html"},
    deps=list(REVIEW_TABLES),
)
def review_report(context: dg.AssetExecutionContext, config: WeitblickConfig) -> dg.MaterializeResult:
    """The review notebook executed against this run's tables and rendered as HTML; it replaces
    reports/review.html when the run is promoted."""
    out = staging_dir(config.reports_path(), context.run.run_id)
    html = render_review(config.store_path(), out, schema=run_schema(context.run.run_id))
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
        run = context.instance.get_run_record_by_id(context.run.run_id)
        now = datetime.now(UTC).replace(tzinfo=None)
        started = datetime.fromtimestamp(run.start_time, UTC).replace(tzinfo=None) if run and run.start_time else now
        record = provenance.run_record(
            context.run.run_id,
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
        published = publish_review(config.reports_path(), context.run.run_id)
        pruned = prune(config.store_path(), config.keep_runs)
        return dg.MaterializeResult(
            metadata={
                "run_id": context.run.run_id,
                "trigger": record["trigger"],
                "inputs_sha256": record["inputs_sha256"],
                "carried_over": ", ".join(carried) or "none",
                "report": ", ".join(p.name for p in published) or "not rendered in this run",
                "pruned_runs": len(pruned),
            }
        )

    return current_recommendation
