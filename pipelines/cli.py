"""The ``weitblick`` command: run the chain on the demo company or on your own folder.

    weitblick demo                      materialise everything on data/demo, print the plan,
                                        the stress test, and write reports/review.html
    weitblick plan --data DIR           run inputs -> valuation -> optimisation on DIR
                   [--time-limit S] [--format table|json]
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import sys
import tempfile
from pathlib import Path
from typing import Annotated

import dagster as dg
import pandas as pd
import typer
from rich.console import Console
from rich.table import Table

from models.settings import settings_from_table
from pipelines import paths
from pipelines.definitions import build_definitions
from pipelines.store import read_tables

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="Weitblick: what to fund and when, whether the plan survives, what changed.")
# Plans are wide tables: outside a terminal (pipes, CI logs) do not squeeze them into 80 columns.
out = Console(width=None if sys.stdout.isatty() else 150)
err = Console(stderr=True, width=None if sys.stderr.isatty() else 150)

PLAN_ASSETS = ["portfolio_plan", "capacity_usage", "budget_usage", "plan_run_info"]
# Dagster's own log (with stack traces) stays out of the terminal; failures are reported by _fail.
QUIET = {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}




def _failures(result: dg.ExecuteInProcessResult) -> list[str]:
    """Plain messages of failed steps and failed blocking checks."""
    msgs = []
    for event in result.all_events:
        if event.is_step_failure and event.step_failure_data:
            error = event.step_failure_data.error
            cause = error.cause if error and error.cause else error
            text = cause.message.strip() if cause else "failed"
            if cause and cause.cls_name:  # "models.errors.InputError: ..." -> "..."
                text = re.sub(rf"^[\w.]*{re.escape(cause.cls_name)}: ", "", text)
            msgs.append(f"{event.step_key}: {text}")
        elif event.event_type_value == "ASSET_CHECK_EVALUATION":
            data = event.event_specific_data
            if not data.passed:
                meta = {k: getattr(v, "value", v) for k, v in (data.metadata or {}).items()}
                detail = meta.get("problems") or meta.get("violations") or data.description or ""
                msgs.append(f"check {data.check_name} on {data.asset_key.to_user_string()} failed:\n{detail}")
    return msgs


def _execute(defs: dg.Definitions, instance: dg.DagsterInstance, selection: list[str] | None = None):
    job = defs.resolve_job_def("refresh")
    keys = [dg.AssetKey(k) for k in selection] if selection else None
    # Dagster writes progress to stdout in places; keep stdout for our own output (JSON must stay clean).
    with contextlib.redirect_stdout(sys.stderr):
        return job.execute_in_process(instance=instance, run_config=QUIET, raise_on_error=False,
                                      asset_selection=keys)


def _fail(result, store_kept: bool) -> None:
    err.print("[bold red]The refresh failed; the last good results in the store are kept.[/]" if store_kept
              else "[bold red]No plan: the run stopped.[/]")
    for msg in _failures(result) or ["unknown failure (see the Dagster UI: make ui)"]:
        err.print(msg, markup=False, highlight=False)
    raise typer.Exit(code=1)


def _plan_table(tables: dict[str, pd.DataFrame]) -> Table:
    s = settings_from_table(tables["settings"])
    plan = tables["portfolio_plan"]
    funded = plan[plan["funded"]].sort_values(["start_period", "value"], ascending=[True, False])
    t = Table(title=f"Recommended plan: {len(funded)} of {len(plan)} candidate items funded")
    for col in ("start", "finish", "item", "title", "product", "theme", "value EUR", "cost EUR"):
        t.add_column(col, justify="right" if "EUR" in col else "left", no_wrap=True,
                     max_width=48 if col == "title" else None, overflow="ellipsis")
    for _, r in funded.iterrows():
        t.add_row(s.period_label(int(r["start_period"])), s.period_label(int(r["finish_period"])),
                  r["item_id"], str(r["title"]), str(r["product"]), str(r["theme"]),
                  f"{r['value']:,.0f}", f"{r['cost']:,.0f}")
    return t


def _left_out_table(tables: dict[str, pd.DataFrame], top: int = 10) -> Table:
    plan = tables["portfolio_plan"]
    left = plan[~plan["funded"]].sort_values("best_value_eur", ascending=False).head(top)
    t = Table(title=f"Not funded: the {len(left)} most valuable of {int((~plan['funded']).sum())} items")
    for col in ("item", "title", "best value EUR", "cost EUR", "why not"):
        t.add_column(col, justify="right" if "EUR" in col else "left", no_wrap=True,
                     max_width=48 if col in ("title", "why not") else None, overflow="ellipsis")
    for _, r in left.iterrows():
        t.add_row(r["item_id"], str(r["title"]), f"{r['best_value_eur']:,.0f}", f"{r['item_cost_eur']:,.0f}",
                  str(r["reason"]))
    return t


def _capacity_table(tables: dict[str, pd.DataFrame]) -> Table:
    s = settings_from_table(tables["settings"])
    cap = tables["capacity_usage"]
    wide = cap.pivot(index="skill", columns="period", values="utilisation").sort_index()
    t = Table(title="Capacity use (share of person-weeks per period)")
    t.add_column("skill")
    for p in wide.columns:
        t.add_column(s.period_label(int(p)), justify="right")
    for skill, row in wide.iterrows():
        t.add_row(skill, *[f"{v:.0%}" for v in row])
    return t


def _run_info_line(info: pd.Series) -> str:
    return (f"solver {info['solver']}: status [bold]{info['status']}[/], proven gap {float(info['gap']):.2%}, "
            f"value {float(info['objective']):,.0f} EUR, {float(info['time_s']):.1f} s")


def _stress_table(summary: pd.DataFrame) -> Table:
    t = Table(title="Stress test of the plan: NPV of MRR over the horizon (EUR) across replications")
    for col in ("plan", "scenario", "runs", "NPV P10", "NPV P50", "NPV P90", "on time", "mean slip (months)"):
        t.add_column(col, justify="left" if col in ("plan", "scenario") else "right")
    for _, r in summary.iterrows():
        t.add_row(str(r["plan"]), str(r["scenario"]), str(int(r["runs"])), f"{r['npv_p10']:,.0f}",
                  f"{r['npv_p50']:,.0f}", f"{r['npv_p90']:,.0f}", f"{r['on_time_share_mean']:.0%}",
                  f"{r['mean_slip_months_mean']:.1f}")
    return t


@app.command()
def demo(
    replications: Annotated[int | None, typer.Option(help="Replications per scenario (default: each scenario's own).")] = None,
) -> None:
    """Materialise every asset on the embedded demo company and print the recommendation."""
    home = paths.weitblick_home()
    dagster_home = paths.dagster_home(home)
    dagster_home.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("DAGSTER_HOME", str(dagster_home))
    defs = build_definitions(home, replications=replications)
    with dg.DagsterInstance.from_config(str(dagster_home)) as instance:
        err.print(f"Refreshing the demo company into {paths.store_path(home)} ...")
        result = _execute(defs, instance)
    if not result.success:
        _fail(result, store_kept=True)
    tables = read_tables(paths.store_path(home), "settings", "portfolio_plan", "capacity_usage",
                         "plan_run_info", "stress_test_summary")
    s = settings_from_table(tables["settings"])
    out.print(f"[bold]{s.company}[/]: plan for {s.period_label(1)} - {s.period_label(s.periods)}")
    out.print(_run_info_line(tables["plan_run_info"].iloc[0]))
    out.print(_plan_table(tables))
    out.print(_left_out_table(tables))
    out.print(_capacity_table(tables))
    out.print(_stress_table(tables["stress_test_summary"]))
    out.print(f"Review report: {paths.reports_dir() / 'review.html'}")


@app.command()
def plan(
    data: Annotated[Path, typer.Option(help="Folder with backlog.csv|xlsx, teams.csv, kpis.csv, okrs.csv, settings.yaml.",
                                       exists=True, file_okay=False, resolve_path=True)],
    time_limit: Annotated[float | None, typer.Option("--time-limit", help="Solver time limit in seconds.")] = None,
    format: Annotated[str, typer.Option("--format", help="table or json")] = "table",
) -> None:
    """Run inputs -> valuation -> optimisation on a folder and print the plan."""
    if format not in ("table", "json"):
        raise typer.BadParameter("use table or json", param_hint="--format")
    with tempfile.TemporaryDirectory(prefix="weitblick-plan-") as tmp:
        home = Path(tmp)
        defs = build_definitions(home, data_dir=str(data), time_limit_s=time_limit)
        with dg.DagsterInstance.ephemeral() as instance:
            result = _execute(defs, instance, selection=[
                "settings", "teams", "backlog", "kpi_history", "okrs", "business_cases", "value_by_start",
                *PLAN_ASSETS])
        if not result.success:
            _fail(result, store_kept=False)
        tables = read_tables(paths.store_path(home), "settings", *PLAN_ASSETS)
    info = tables["plan_run_info"].iloc[0]
    if format == "json":
        plan_df = tables["portfolio_plan"]
        funded = plan_df[plan_df["funded"]].sort_values(["start_period", "item_id"])
        payload = {
            "status": str(info["status"]), "gap": float(info["gap"]), "value": float(info["objective"]),
            "solver": str(info["solver"]), "time_s": float(info["time_s"]),
            "funded": [{"item_id": r.item_id, "start": int(r.start_period), "finish": int(r.finish_period)}
                       for r in funded.itertuples()],
            "not_funded": sorted(plan_df.loc[~plan_df["funded"], "item_id"].tolist()),
        }
        sys.stdout.write(json.dumps(payload) + "\n")
        return
    out.print(_run_info_line(info))
    out.print(_plan_table(tables))
    out.print(_left_out_table(tables))
    out.print(_capacity_table(tables))


if __name__ == "__main__":
    app()
