"""Execute the review notebook against the store and render it as HTML.

The notebook only reads the store and draws; everything it shows was computed by the assets. The notebook
itself imports this module for :data:`REVIEW_TABLES`, so the Jupyter machinery (papermill, nbconvert) is
imported only when a review is rendered, not in the notebook's kernel.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from models.errors import ReportError
from pipelines import paths

REVIEW_NOTEBOOK = "review.ipynb"
# The tables the review notebook reads: the review asset depends on exactly these.
REVIEW_TABLES = (
    "settings",
    "read_notes",
    "portfolio_plan",
    "capacity_usage",
    "budget_usage",
    "plan_run_info",
    "priority_scores",
    "stress_test_runs",
    "stress_test_summary",
    "stress_test_bands",
    "stress_test_okrs",
    "plan_explanations",
    "rule_prices",
    "efficient_frontier",
    "baseline_plans",
    "portfolio_health",
    "kpi_baselines",
    "kpi_imputations",
    "recommendation_diff",
    "recommendation_changes",
    "roadmap_check",
    "roadmap_violations",
    "roadmap_comparison",
    "business_cases",
    "kpi_history",
    "plan_plausibility",
    "backlog",
    "plan_robustness",
    "robust_comparison",
    "robust_run_info",
    "robust_items",
    "scenario_discovery",
    "discovery_limits",
    "discovery_trajectory",
    "discovery_run_info",
)


def render_review(
    store: Path, out_dir: Path, notebook: Path | None = None, timeout_s: int = 600, schema: str = paths.STORE_SCHEMA
) -> Path:
    """Run the review notebook on ``schema`` of ``store`` (default: the current recommendation);
    write the executed notebook and HTML into ``out_dir``.

    Returns the path of the HTML report. Raises papermill's PapermillExecutionError (with the
    failing cell) if the notebook fails.
    """
    import nbformat
    import papermill
    from nbconvert import HTMLExporter

    from pipelines.kernels import LocalKernelManager

    notebook = notebook or paths.notebooks_dir() / REVIEW_NOTEBOOK
    out_dir.mkdir(parents=True, exist_ok=True)
    executed = out_dir / notebook.name
    with (out_dir / KERNEL_LOG).open("ab") as log:
        manager = type("ReviewKernelManager", (LocalKernelManager,), {"kernel_log": log})
        papermill.execute_notebook(
            str(notebook),
            str(executed),
            parameters={"store": str(store), "schema": schema},
            kernel_name="python3",
            progress_bar=False,
            log_output=False,
            execution_timeout=timeout_s,
            kernel_manager_class=manager,
            cwd=str(paths.project_root()),
        )
    # a report for decision-makers: the outputs only (the code stays in the executed notebook next to it)
    exporter = HTMLExporter(exclude_input=True, exclude_input_prompt=True, exclude_output_prompt=True)
    body, _ = exporter.from_notebook_node(nbformat.read(executed, as_version=4))
    html = executed.with_suffix(".html")
    html.write_text(body, encoding="utf-8")
    return html


BROWSERS = ("chromium", "chromium-browser", "google-chrome", "chrome")  # what prints a report as PDF


def find_browser() -> str | None:
    """The first Chromium-like browser on PATH, or None."""
    return next((found for name in BROWSERS if (found := shutil.which(name))), None)


def print_pdf(html: Path, pdf: Path | None = None, timeout_s: int = 120) -> Path:
    """The HTML report printed as PDF by headless Chromium (the same rendering a board member's
    browser shows), next to it by default. ReportError when no browser is installed or it fails."""
    browser = find_browser()
    if browser is None:
        raise ReportError(
            "no Chromium found to print the report as PDF. Fix: install it (Debian/Ubuntu: apt-get install "
            f"chromium), or open {html} in a browser and print it there."
        )
    pdf = Path(pdf) if pdf else Path(html).with_suffix(".pdf")
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--no-pdf-header-footer", "--virtual-time-budget=10000"]
    done = subprocess.run(
        [browser, *flags, f"--print-to-pdf={pdf}", Path(html).resolve().as_uri()],
        capture_output=True,
        text=True,
        timeout=timeout_s,
    )
    if done.returncode != 0 or not pdf.exists():
        raise ReportError(f"{browser} could not print {html} as PDF: {done.stderr.strip()[-300:]}")
    return pdf


KERNEL_LOG = "review_kernel.log"  # the review kernel's own log, next to the report
STAGING = ".staging"  # reports/.staging/<run id>/: a refresh's report until the run is promoted


def staging_dir(reports: Path, run_id: str) -> Path:
    return Path(reports) / STAGING / run_id


def publish_review(reports: Path, run_id: str) -> list[Path]:
    """Move the report run ``run_id`` rendered (if any) from its staging folder into ``reports``
    (each file replaced atomically) and drop the staging folders of every run; returns the
    published files."""
    staged = staging_dir(reports, run_id)
    published = []
    if staged.is_dir():
        for f in sorted(staged.iterdir()):
            target = Path(reports) / f.name
            f.replace(target)
            published.append(target)
    root = Path(reports) / STAGING
    if root.is_dir():
        shutil.rmtree(root, ignore_errors=True)
    return published
