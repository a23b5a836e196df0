"""One line per stage while a refresh runs, for the command line.

A Dagster logger (``progress``, in every Definitions; the CLI switches it on through its run
config) that turns the run's events into one line per stage: reading, valuing, solving (then
the solver's status, gap and value), explaining, the frontier, the stress test (plans x
scenarios x replications, then its wall time), the review and the promotion, each with the
time since the run started. Lines go to ``write`` (the CLI's stderr console), so stdout stays
for tables and JSON.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

import dagster as dg

# step key -> what the stage does, printed when the step starts
STAGES = {
    "input_files": "reading the workspace",
    "business_cases": "valuing the items (business cases, value by start)",
    "optimised_plan": "solving the plan",
    "plan_reasons": "explaining the decisions and pricing each rule",
    "efficient_frontier": "the value of more or less budget (efficient frontier)",
    "baseline_plans": "greedy baselines (RICE, WSJF, value per effort, weighted score) and the status quo",
    "robust_plan": "optimising the robust plan over sampled futures and comparing it on held-out ones",
    "stress_test": "stress test",
    "scenario_discovery": "what breaks the plan (futures over every driver of the library, PRIM)",
    "plan_plausibility": "checking the plans' KPI paths against the history",
    "recommendation_diff": "what changed since the current recommendation",
    "review_report": "rendering the review",
    "current_recommendation": "promoting the run to the current recommendation",
}


def _meta(event, key: str):
    value = event.event_specific_data.materialization.metadata.get(key)
    return getattr(value, "value", value)


class ProgressHandler(logging.Handler):
    """Writes a line for each stage's start, the plan's result and the stress test's size."""

    def __init__(self, write: Callable[[str], None]):
        super().__init__(level=logging.DEBUG)
        self.write = write
        self.t0 = time.monotonic()

    def line(self, text: str) -> None:
        self.write(f"[{time.monotonic() - self.t0:6.1f} s] {text}")

    def emit(self, record: logging.LogRecord) -> None:
        meta = getattr(record, "dagster_meta", None)
        event = meta.get("dagster_event") if isinstance(meta, dict) else None
        if event is None:
            return
        kind = event.event_type_value
        try:
            if kind == "STEP_START" and event.step_key in STAGES:
                self.line(STAGES[event.step_key] + " ...")
            elif kind == "ASSET_MATERIALIZATION":
                key = event.event_specific_data.materialization.asset_key.to_user_string()
                if key == "portfolio_plan":
                    self.line(
                        f"plan: {_meta(event, 'status')}, proven gap {_meta(event, 'gap'):.2%}, "
                        f"{_meta(event, 'funded')} of {_meta(event, 'candidates')} items, expected value "
                        f"{_meta(event, 'value_eur'):,.0f} EUR, solved in {_meta(event, 'solve_s'):.1f} s"
                    )
                elif key == "stress_test_runs":
                    self.line(
                        f"stress test: {_meta(event, 'runs')} runs ({_meta(event, 'plans')}) in "
                        f"{_meta(event, 'wall_s'):.1f} s on {_meta(event, 'workers')} workers"
                    )
        except Exception:  # a progress line must never break a run
            return


def progress_logger(write: Callable[[str], None] | None = None) -> dg.LoggerDefinition:
    """The ``progress`` logger; ``write`` receives each line (default: print to stderr)."""

    def _default(text: str) -> None:
        import sys

        print(text, file=sys.stderr, flush=True)

    @dg.logger(description="One line per stage of a refresh (the weitblick command line switches it on).")
    def progress(_init_context) -> logging.Logger:
        log = logging.Logger("weitblick.progress", level=logging.DEBUG)
        log.addHandler(ProgressHandler(write or _default))
        return log

    return progress
