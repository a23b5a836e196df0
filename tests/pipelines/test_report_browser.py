"""The review report as a board member's browser shows it (headless Chromium from the
distribution's packages): it loads without console messages, shows no code cell, no
"Traceback", "Warning" or "nan", and text from the inputs, even when it is HTML, appears as text
and never runs. A screenshot is kept as reports/review_browser.png."""

from __future__ import annotations

import json
import re
import shutil
import subprocess

import duckdb
import pytest

from pipelines import paths
from pipelines.promotion import current_run
from pipelines.report import render_review

pytestmark = pytest.mark.slow

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "chrome")
COMPANY = "Acme <script>document.body.dataset.xss = 'company'</script> GmbH"
TITLE = "<img src=x onerror=\"document.body.dataset.xss = 'title'\">"


def _browser() -> str:
    for name in BROWSERS:
        if found := shutil.which(name):
            return found
    pytest.skip("no Chromium found (apt-get install chromium): the report's browser test needs one")


def _chromium(browser: str, *args: str) -> subprocess.CompletedProcess:
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--enable-logging=stderr", "--v=0"]
    return subprocess.run([browser, *flags, *args], capture_output=True, text=True, timeout=120)


def _inject(store) -> None:
    """A company name and item titles that are HTML, written into the current run's tables."""
    schema = current_run(store)["schema_name"]
    with duckdb.connect(str(store)) as con:
        settings_json = json.loads(con.execute(f"select settings_json from {schema}.settings").fetchone()[0])
        settings_json["company"] = COMPANY
        con.execute(
            f"update {schema}.settings set company = ?, settings_json = ?", [COMPANY, json.dumps(settings_json)]
        )
        con.execute(f"update {schema}.portfolio_plan set title = ?", [TITLE])


def test_the_report_reads_as_a_document_and_shows_input_as_text(copy_of_demo_store, tmp_path):
    browser = _browser()
    store = paths.store_path(copy_of_demo_store)
    _inject(store)
    html = render_review(store, tmp_path / "reports")
    page = f"file://{html}"

    dom = _chromium(browser, "--virtual-time-budget=10000", "--dump-dom", page)
    assert dom.returncode == 0, dom.stderr[-2000:]
    console = [line for line in dom.stderr.splitlines() if ":CONSOLE" in line]
    assert console == [], console[:5]
    # nothing from the inputs ran: neither the company's <script> nor the titles' onerror
    assert "data-xss" not in dom.stdout
    # ... and both appear as text
    assert "&lt;script&gt;document.body.dataset.xss" in dom.stdout
    assert "&lt;img src=x onerror=" in dom.stdout
    # a document: no code cell, no traceback, no warning box, no nan
    assert 'class="highlight' not in dom.stdout and "import pandas" not in dom.stdout
    text = re.sub(r"<[^>]+>", " ", re.sub(r"(?s)<(script|style)[^>]*>.*?</\1>", " ", dom.stdout))
    for word in ("Traceback", "Warning", "nan", "NaN"):
        assert not re.search(rf"\b{word}\b", text), word

    shot = paths.project_root() / "reports" / "review_browser.png"
    shot.parent.mkdir(exist_ok=True)
    taken = _chromium(browser, "--window-size=1400,2400", f"--screenshot={shot}", page)
    assert taken.returncode == 0 and shot.stat().st_size > 10_000, taken.stderr[-2000:]


def test_report_prints_the_review_as_pdf(demo_run):
    """`weitblick report --pdf` prints the current review as PDF next to it, with Chromium."""
    _browser()
    from pipelines_testkit import home_env, run_weitblick

    proc = run_weitblick("report", "--pdf", env=home_env(demo_run.home, demo_run.reports))
    assert proc.returncode == 0, proc.stderr
    html, pdf = (demo_run.reports / "review.html"), (demo_run.reports / "review.pdf")
    assert proc.stdout.split() == [str(html), str(pdf)]
    head = pdf.read_bytes()
    assert head.startswith(b"%PDF") and len(head) > 50_000  # pages with the charts, not an empty document


def test_report_without_a_browser_says_how_to_get_one(demo_run, monkeypatch):
    from models.errors import ReportError
    from pipelines import report

    monkeypatch.setattr(report, "BROWSERS", ("no-such-browser",))
    with pytest.raises(ReportError, match="apt-get install chromium"):
        report.print_pdf(demo_run.reports / "review.html")
