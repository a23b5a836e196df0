"""The ``weitblick`` command: run the chain on the demo company or on your own folder.

weitblick demo                      materialise everything on data/demo, print the plan,
                                    the stress test, and write reports/review.html
weitblick plan --data DIR           run inputs -> valuation -> optimisation on DIR and
               [--time-limit S]     print the plan with its reasons and the price of each rule
               [--format table|json] [--no-explain]
weitblick explain ITEM [--data DIR] why is ITEM in or out, and what would it take?
weitblick frontier [--data DIR]     best plan value for a range of budgets
weitblick scores [--method M] [--top K] [--data DIR]
                                    every prioritisation method side by side, how far they
                                    agree, and how stable each top-K is
weitblick health [--data DIR]       capital tied against value created per product and
                                    theme, flags, growth/share matrix, unit economics
weitblick stress-test [--data DIR] [--scenarios a,b] [--replications N] [--plans p,q]
               [--workers N] [--dask-address tcp://...] [--format table|json]
                                    the recommended plan and the greedy baselines through
                                    the scenario library: NPV, MRR, slip, chance per OKR

Every error a user can cause (a WeitblickError) ends a command with one message on stderr
and exit code 1, never a traceback: one handler does that for every command (_Commands).
The command line starts fast: dagster, pandas, the solver and the simulation are imported
inside the functions that use them, never at the top of this module.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import sys
import tempfile
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich import box
from rich.console import Console
from rich.table import Table as RichTable
from typer.core import TyperGroup

from models.errors import ModelError, StoreError, WeitblickError
from models.names import PLAN_NAMES, RANKED_METHODS, ROBUST_PLAN
from pipelines import paths

# Before numpy loads (nothing above imports it): no OpenBLAS thread pool (numpy's and scipy's would each
# start one), so the process stays single-threaded and the stress test's workers fork safely and fast
# (models.simulation.runner._pool_context).
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

if TYPE_CHECKING:
    import dagster as dg
    import pandas as pd

    from models.settings import Settings


class _Commands(TyperGroup):
    """The commands, with the one handler of project errors: a WeitblickError raised anywhere
    in a command ends it with its message on stderr and exit code 1."""

    def invoke(self, ctx: typer.Context):
        try:
            return super().invoke(ctx)
        except WeitblickError as exc:
            err.print(str(exc), markup=False, highlight=False, soft_wrap=True)
            raise typer.Exit(code=1) from None


app = typer.Typer(
    cls=_Commands,
    add_completion=False,
    no_args_is_help=True,
    help="Weitblick: what to fund and when, whether the plan survives, what changed.",
)


# Plans are wide tables: outside a terminal (pipes, CI logs) do not squeeze them into 80 columns.
class Table(RichTable):
    """A table that fits the terminal without cutting what must stay whole. Before it is drawn, a
    column whose cells are all whole (single words of at most ``WORD`` characters, such as ids,
    amounts and themes, or short phrases of at most ``SHORT``, such as quarters) never wraps and is
    never cut; every other column (titles, reasons, names) wraps at word boundaries and keeps at
    least ``TEXT`` characters. At 100 columns an id stays ``IOT-129`` and a title takes more lines."""

    WORD, SHORT, TEXT = 24, 10, 10

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("box", box.SIMPLE_HEAD)  # no vertical rules: the width goes to the content
        kwargs.setdefault("collapse_padding", True)
        kwargs.setdefault("pad_edge", False)
        super().__init__(*args, **kwargs)

    def __rich_console__(self, console, options):
        for column in self.columns:
            cells = [str(c) for c in column._cells]
            if all(len(c) <= self.SHORT or (" " not in c.strip() and len(c) <= self.WORD) for c in cells):
                column.no_wrap, column.overflow, column.max_width = True, "fold", None
                column.min_width = max([len(c) for c in cells] + [min(len(str(column.header)), self.SHORT)])
            else:
                column.no_wrap, column.overflow = False, "fold"
                column.min_width = min(self.TEXT, max([len(c) for c in cells] + [1]))
        yield from super().__rich_console__(console, options)


out = Console(width=None if sys.stdout.isatty() else 150)
err = Console(stderr=True, width=None if sys.stderr.isatty() else 150)

PLAN_ASSETS = ["portfolio_plan", "capacity_usage", "budget_usage", "plan_run_info"]
INPUT_ASSETS = [
    "settings",
    "teams",
    "backlog",
    "kpi_history",
    "okrs",
    "read_notes",
    "business_cases",
    "value_by_start",
]
REASON_ASSETS = ["plan_explanations", "rule_prices"]
DataOption = Annotated[
    Path,
    typer.Option(
        help="Folder with backlog.csv|xlsx, teams.csv, kpis.csv, okrs.csv, settings.yaml (default: the demo company).",
        exists=True,
        file_okay=False,
        resolve_path=True,
    ),
]
TimeLimitOption = Annotated[float | None, typer.Option("--time-limit", help="Solver time limit in seconds.")]


class OutputFormat(StrEnum):
    table = "table"
    json = "json"


FormatOption = Annotated[OutputFormat, typer.Option("--format", help="table or json")]
StrictOption = Annotated[
    bool,
    typer.Option(
        "--strict", help="A note that fills in, drops or renames data is an error (as settings strict: true)."
    ),
]
VerboseOption = Annotated[
    bool, typer.Option("--verbose", help="List every note of the readers (defaults filled, rows dropped, aliases).")
]

# Dagster's own log (with stack traces) stays out of the terminal; failures are reported by _fail;
# the progress logger prints one line per stage on stderr (pipelines/progress.py).
QUIET = {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}, "progress": {}}}


def _missing(value) -> bool:
    """NaN, None or NA, as pandas sees it (imported when a table is drawn, not at start-up)."""
    import pandas as pd

    return bool(pd.isna(value))


def _settings(tables: dict[str, pd.DataFrame]) -> Settings:
    from models.settings import settings_from_table

    return settings_from_table(tables["settings"])


def _failures(result: dg.ExecuteInProcessResult) -> list[str]:
    """Plain messages of failed steps and failed blocking checks."""
    msgs = []

    def plain(error) -> str:
        cause = error.cause if error and error.cause else error
        text = cause.message.strip() if cause else "failed"
        if cause and cause.cls_name:  # "models.errors.InputError: ..." -> "..."
            text = re.sub(rf"^[\w.]*{re.escape(cause.cls_name)}: ", "", text)
        return text

    for event in result.all_events:
        if event.is_step_failure and event.step_failure_data:
            msgs.append(f"{event.step_key}: {plain(event.step_failure_data.error)}")
        elif event.event_type_value == "RESOURCE_INIT_FAILURE" and getattr(event.event_specific_data, "error", None):
            msgs.append(plain(event.event_specific_data.error))  # e.g. the home's refresh lock is taken
        elif event.event_type_value == "ASSET_CHECK_EVALUATION":
            data = event.event_specific_data
            if not data.passed:
                meta = {k: getattr(v, "value", v) for k, v in (data.metadata or {}).items()}
                detail = meta.get("problems") or meta.get("violations") or data.description or ""
                msgs.append(f"check {data.check_name} on {data.asset_key.to_user_string()} failed:\n{detail}")
    return msgs


def _reader_notes(result: dg.ExecuteInProcessResult) -> list[tuple[str, str, bool]]:
    """(file, note, only informational) for every note the readers of this run made, in the
    order they read; a note that is not informational fills in, drops or renames data."""
    from pipelines.assets.inputs import notes_in

    return [
        (Path(file).name, note, info)
        for event in result.get_asset_materialization_events()
        for file, note, info in notes_in(event.materialization.metadata)
    ]


def _say_what_was_read(result: dg.ExecuteInProcessResult, workspace: Path, verbose: bool) -> None:
    """One line on stderr: the workspace read and how many notes its readers made (each note
    with --verbose), so nothing a reader filled in, dropped or mapped goes unseen."""
    notes = _reader_notes(result)
    if notes or result.success:
        _say_notes(notes, workspace, verbose)


def _say_notes(notes: list[tuple[str, str, bool]], workspace: Path, verbose: bool) -> None:
    """:func:`_say_what_was_read` from the notes themselves: (file, note, only informational)."""
    if not notes:
        err.print(f"Read {workspace}: no notes.", markup=False, highlight=False, soft_wrap=True)
        return
    changes = sum(not info for _, _, info in notes)
    hint = ":" if verbose else " (--verbose lists them; --strict refuses those that change the data)."
    err.print(
        f"Read {workspace} with {len(notes)} notes, {changes} of them filling in, dropping or renaming data{hint}",
        markup=False,
        highlight=False,
        soft_wrap=True,
    )
    if verbose:
        for file, note, info in notes:
            line = note if note.startswith(f"{file}:") else f"{file}: {note}"
            err.print(f"  {'' if info else '* '}{line}", markup=False, highlight=False, soft_wrap=True)


def _execute(defs: dg.Definitions, instance: dg.DagsterInstance, selection: list[str] | None = None):
    import dagster as dg

    from pipelines.resources import TRIGGER_TAG

    job = defs.resolve_job_def("refresh")
    keys = [dg.AssetKey(k) for k in selection] if selection else None
    # Dagster writes progress to stdout in places; keep stdout for our own output (JSON must stay clean).
    with contextlib.redirect_stdout(sys.stderr):
        return job.execute_in_process(
            instance=instance,
            run_config=QUIET,
            raise_on_error=False,
            asset_selection=keys,
            tags={TRIGGER_TAG: "command"},
        )


def _fail(result, store: Path | None = None) -> None:
    """End the command after a failed run; for a refresh (``store``), say truthfully what the
    current recommendation now is: the run before, untouched, or none."""
    if store is None:
        err.print("[bold red]The run stopped:[/]")
    else:
        from pipelines.promotion import current_run

        current = current_run(store) if store.exists() else None
        kept = (
            f"the current recommendation is unchanged: run {current['run_id'][:8]} of {_when(current['finished_at'])}"
            if current is not None
            else "nothing was promoted; there is no current recommendation yet"
        )
        err.print(f"[bold red]The refresh failed; {kept}.[/]")
    for msg in _failures(result) or ["unknown failure (see the Dagster UI: make ui)"]:
        err.print(msg, markup=False, highlight=False, soft_wrap=True)
    raise typer.Exit(code=1)


def _when(ts) -> str:
    """A stored UTC timestamp as the user reads it: 2026-12-05 06:00 UTC."""
    import pandas as pd

    return "unknown time" if ts is None or pd.isna(ts) else f"{pd.Timestamp(ts):%Y-%m-%d %H:%M} UTC"


def _value_basis(tables: dict[str, pd.DataFrame]) -> dict[str, str]:
    """Item -> what its value rests on (kpi, fallback: wsjf, proxy: priority, none: ...), when
    the business cases were read."""
    cases = tables.get("business_cases")
    return {} if cases is None else dict(zip(cases["item_id"], cases["value_basis"], strict=True))


def _plan_table(tables: dict[str, pd.DataFrame]) -> Table:
    s = _settings(tables)
    plan = tables["portfolio_plan"]
    funded = plan[plan["funded"]].sort_values(["start_period", "value"], ascending=[True, False])
    basis = _value_basis(tables)
    t = Table(title=f"Recommended plan: {len(funded)} of {len(plan)} candidate items funded")
    columns = ("start", "finish", "item", "title", "product", "theme", "value EUR", "cost EUR")
    # the title gives way when the terminal is narrow: quarters, ids and money are never cut
    keep = {"start": 7, "finish": 7, "item": 10, "value EUR": 11, "cost EUR": 10, "value basis": 11}
    for col in (*columns, "value basis") if basis else columns:
        t.add_column(
            col,
            justify="right" if "EUR" in col else "left",
            no_wrap=True,
            min_width=keep.get(col),
            max_width=48 if col == "title" else None,
            overflow="ellipsis",
        )
    for _, r in funded.iterrows():
        t.add_row(
            s.period_label(int(r["start_period"])),
            s.period_label(int(r["finish_period"])),
            r["item_id"],
            str(r["title"]),
            str(r["product"]),
            str(r["theme"]),
            f"{r['value']:,.0f}",
            f"{r['cost']:,.0f}",
            *([basis.get(r["item_id"], "")] if basis else []),
        )
    return t


def _left_out_table(tables: dict[str, pd.DataFrame], top: int = 10) -> Table:
    plan = tables["portfolio_plan"]
    left = plan[~plan["funded"]].sort_values("best_value_eur", ascending=False).head(top)
    expl = tables.get("plan_explanations")
    takes = expl.set_index("item_id") if expl is not None else None
    t = Table(title=f"Not funded: the {len(left)} most valuable of {int((~plan['funded']).sum())} items")
    cols = ["item", "title", "best value EUR", "cost EUR", "why not"]
    if takes is not None:
        cols += ["what it would take", "value lost if forced in (LP est.) EUR"]
    for col in cols:
        t.add_column(
            col,
            justify="right" if "EUR" in col else "left",
            no_wrap=col != "what it would take",
            max_width=48 if col in ("title", "why not") else (70 if col == "what it would take" else None),
            overflow="ellipsis" if col != "what it would take" else "fold",
        )
    for _, r in left.iterrows():
        row = [
            r["item_id"],
            str(r["title"]),
            f"{r['best_value_eur']:,.0f}",
            f"{r['item_cost_eur']:,.0f}",
            str(r["reason"]),
        ]
        if takes is not None:
            e = takes.loc[r["item_id"]]
            row += [str(e["what_it_takes"]), "-" if _missing(e["lp_loss_eur"]) else f"{e['lp_loss_eur']:,.0f}"]
        t.add_row(*row)
    return t


def _loss_text(lo: float, mid: float, hi: float) -> str:
    if _missing(mid):
        return "-"
    if abs(hi - lo) <= 1e-6 * max(1.0, abs(mid)):
        return f"{mid:,.0f}"
    return f"{mid:,.0f} (proven {lo:,.0f} .. {hi:,.0f})"


def _rule_table(prices: pd.DataFrame) -> Table:
    t = Table(title="Price of each rule: value given up because of it (plan re-solved without the rule)")
    for col in ("rule", "rows", "price EUR", "re-solve status"):
        t.add_column(col, justify="right" if col in ("rows", "price EUR") else "left")
    for _, r in prices.iterrows():
        t.add_row(
            str(r["description"]),
            str(int(r["rows"])),
            _loss_text(r["price_low_eur"], r["price_eur"], r["price_high_eur"]),
            str(r["status"]),
        )
    return t


def _resolved_table(expl: pd.DataFrame) -> Table:
    rows = expl.loc[expl["resolved"].astype(bool)]
    t = Table(title="Re-solved: value lost if the decision were forced the other way (Must-haves and near misses)")
    for col in ("item", "now", "forced", "value lost EUR", "status", "note"):
        t.add_column(col, justify="right" if "EUR" in col else "left", overflow="fold")
    for _, r in rows.iterrows():
        t.add_row(
            r["item_id"],
            "funded" if r["funded"] else "out",
            str(r["forced"]),
            _loss_text(r["loss_low_eur"], r["loss_eur"], r["loss_high_eur"]),
            str(r["resolve_status"]),
            str(r["note"]),
        )
    return t


def _capacity_table(tables: dict[str, pd.DataFrame]) -> Table:
    s = _settings(tables)
    cap = tables["capacity_usage"]
    wide = cap.pivot(index="skill", columns="period", values="utilisation").sort_index()
    price = cap.pivot(index="skill", columns="period", values="shadow_price_eur_per_pw")
    t = Table(title="Capacity use (share of person-weeks per period); in brackets: EUR one more person-week would add")
    t.add_column("skill")
    for p in wide.columns:
        t.add_column(s.period_label(int(p)), justify="right")
    for skill, row in wide.iterrows():
        cells = []
        for p, v in row.items():
            extra = price.at[skill, p]
            cells.append(f"{v:.0%}" + (f" ({extra:,.0f})" if extra and extra > 0.5 else ""))
        t.add_row(skill, *cells)
    return t


def _run_info_line(info: pd.Series) -> str:
    return (
        f"solver {info['solver']}: status [bold]{info['status']}[/], proven gap {float(info['gap']):.2%}, "
        f"expected value {float(info['value_eur']):,.0f} EUR, {float(info['time_s']):.1f} s"
    )


def _baseline_table(summary: pd.DataFrame) -> Table:
    t = Table(
        title="Against greedy ranking (filled earliest-first under the same capacity and budget) and the status quo "
        "(no new work)"
    )
    for col in ("ranked by", "value EUR", "funded", "keeps every rule", "optimised plan's uplift"):
        t.add_column(col, justify="left" if col in ("ranked by", "keeps every rule") else "right")
    for _, r in summary.iterrows():
        broken = [v for v in str(r["violations"]).split("; ") if v]
        if r["valid"]:
            keeps = "yes"
        elif r["method"] == "status_quo":  # a yardstick: say how much it leaves undone, not every rule
            keeps = f"no: {len(broken)} rules broken, e.g. {broken[0]}" if broken else "no"
        else:
            keeps = "no: " + "; ".join(broken)
        t.add_row(str(r["method"]), f"{r['value_eur']:,.0f}", str(int(r["n_funded"])), keeps, f"{r['uplift']:+.1%}")
    return t


def _plan_robustness_table(summary: pd.DataFrame) -> Table:
    """Each candidate plan across the whole scenario library: typical and worst outcomes."""
    from models.simulation import compare_plans

    t = Table(
        title="Candidate plans across every scenario: NPV of MRR (EUR), median over scenarios and the worst P10, "
        "and the median gain over the status quo"
    )
    for col in (
        "plan",
        "scenarios",
        "NPV P50 (median)",
        "gain over status quo",
        "worst NPV P10",
        "worst scenario",
        "on time",
        "OKRs met",
    ):
        t.add_column(col, justify="left" if col in ("plan", "worst scenario") else "right")
    for _, r in compare_plans(summary).iterrows():
        t.add_row(
            str(r["plan"]),
            str(r["scenarios"]),
            _money(r["npv_p50_median"]),
            _money(r.get("npv_increment_p50_median")),
            _money(r["worst_npv_p10"]),
            str(r["worst_scenario"]),
            _pct(r["on_time_share"]),
            _pct(r["okr_met_share"]),
        )
    return t


@app.command()
def init(
    folder: Annotated[Path, typer.Argument(help="New folder for the workspace (created; must be empty).")],
    jira: Annotated[
        Path, typer.Option(help="Jira 'Export CSV (all fields)' (.csv or .xlsx).", exists=True, dir_okay=False)
    ],
    teams: Annotated[
        Path | None, typer.Option(help="Teams table to copy (see data/demo/teams.csv).", exists=True, dir_okay=False)
    ] = None,
    okrs: Annotated[
        Path | None, typer.Option(help="Objectives and key results to copy.", exists=True, dir_okay=False)
    ] = None,
    kpis: Annotated[
        Path | None, typer.Option(help="Monthly KPIs per product to copy.", exists=True, dir_okay=False)
    ] = None,
    company: Annotated[str | None, typer.Option(help="Company name for the settings and the report.")] = None,
) -> None:
    """Make a workspace from a Jira export: the files of data/demo/, commented settings, and what to fill in."""
    from pipelines.workspace import init_workspace

    ws = init_workspace(folder, jira, teams=teams, okrs=okrs, kpis=kpis, company=company)
    t = Table(title=f"Workspace {ws.folder}")
    for col in ("file", "content"):
        t.add_column(col, overflow="fold")
    for name, what in ws.files.items():
        t.add_row(name, what)
    out.print(t)
    out.print("[bold]Next:[/]")
    for i, step in enumerate(ws.next_steps, 1):
        out.print(f"{i}. {step}", markup=False, highlight=False, soft_wrap=True)


ValueProxyOption = Annotated[
    str,
    typer.Option(
        "--value-proxy",
        help="Value items without value inputs by their Jira priority (priority), relative to items valued on a "
        "KPI; default: settings valuation.proxy.",
    ),
]


def _check_proxy(value_proxy: str) -> None:
    if value_proxy not in ("", "none", "priority"):
        raise typer.BadParameter(f"unknown proxy {value_proxy!r}: use priority or none", param_hint="--value-proxy")


def _period(s: Settings, period) -> str:
    """A period as the planner labels it (Q1 2027), "-" when there is none."""
    import pandas as pd

    return "-" if period is None or pd.isna(period) else s.period_label(int(period))


ReplicationsOption = Annotated[
    int | None, typer.Option(help="Replications per scenario (default: each scenario's own).")
]
ExplainTimeLimitOption = Annotated[
    float | None, typer.Option("--explain-time-limit", help="Time limit of each explanation re-solve in seconds.")
]
DiscoveryFuturesOption = Annotated[
    int | None,
    typer.Option(
        "--discovery-futures",
        min=10,
        help="Futures of the open exploration of what breaks the plan (default: settings.discovery.futures).",
    ),
]
RobustFuturesOption = Annotated[
    int | None,
    typer.Option(
        "--robust-futures",
        min=0,
        help="Futures the robust plan is optimised over (default: settings.robust.futures; 0: no robust plan).",
    ),
]


def _refresh(
    data: Path | None,
    replications: int | None,
    time_limit: float | None,
    explain_time_limit: float | None,
    verbose: bool,
    strict: bool = False,
    value_proxy: str = "",
    robust_futures: int | None = None,
    discovery_futures: int | None = None,
) -> None:
    """The refresh job on ``data`` (default: the demo company) into WEITBLICK_HOME, promoted to
    the current recommendation only if every step and blocking check passes; prints the result."""
    from pipelines.store import prepare_home, read_tables

    home = paths.weitblick_home()
    dagster_home = prepare_home(home)  # a home that cannot hold a store is refused before Dagster loads
    os.environ.setdefault("DAGSTER_HOME", str(dagster_home))

    import dagster as dg

    from pipelines.definitions import build_definitions

    workspace = data or paths.demo_data_dir()
    defs = build_definitions(
        home,
        data_dir=str(data) if data else "",
        replications=replications,
        time_limit_s=time_limit,
        explain_time_limit_s=explain_time_limit,
        strict=strict,
        value_proxy=value_proxy,
        robust_futures=robust_futures,
        discovery_futures=discovery_futures,
    )
    with dg.DagsterInstance.from_config(str(dagster_home)) as instance:
        err.print(f"Refreshing {workspace} into {paths.store_path(home)} ...")
        result = _execute(defs, instance)
    _say_what_was_read(result, workspace, verbose)
    if not result.success:
        _fail(result, store=paths.store_path(home))
    tables = read_tables(
        paths.store_path(home),
        "settings",
        "portfolio_plan",
        "capacity_usage",
        "plan_run_info",
        "stress_test_summary",
        "stress_test_run_info",
        "plan_explanations",
        "rule_prices",
        "baseline_plans",
        "plan_plausibility",
        "robust_comparison",
        "robust_run_info",
        "scenario_discovery",
    )
    s = _settings(tables)
    out.print(f"[bold]{s.company}[/]: plan for {s.period_label(1)} - {s.period_label(s.periods)}")
    out.print(_run_info_line(tables["plan_run_info"].iloc[0]))
    out.print(_plan_table(tables))
    out.print(_left_out_table(tables))
    out.print(_capacity_table(tables))
    out.print(_rule_table(tables["rule_prices"]))
    out.print(_baseline_table(tables["baseline_plans"]))
    summary = tables["stress_test_summary"]
    out.print(
        _stress_summary_table(summary.loc[summary["plan"] == "recommended"], tables["stress_test_run_info"].iloc[0])
    )
    out.print(_plan_robustness_table(summary))
    _print_robust(tables["robust_comparison"], tables["robust_run_info"])
    for sentence in tables["scenario_discovery"].query("plan == 'recommended'")["sentence"]:
        out.print(f"When it fails: {sentence}", soft_wrap=True)
    _print_plausibility(tables["plan_plausibility"])
    out.print(f"Promoted run {result.run_id[:8]} to the current recommendation ('weitblick status', 'weitblick diff').")
    out.print(f"Review report: {paths.reports_dir() / 'review.html'}")


@app.command()
def demo(
    replications: ReplicationsOption = None,
    time_limit: TimeLimitOption = None,
    explain_time_limit: ExplainTimeLimitOption = None,
    robust_futures: RobustFuturesOption = None,
    discovery_futures: DiscoveryFuturesOption = None,
    verbose: VerboseOption = False,
) -> None:
    """Refresh the embedded demo company (every asset) and print the recommendation."""
    _refresh(
        None,
        replications,
        time_limit,
        explain_time_limit,
        verbose,
        robust_futures=robust_futures,
        discovery_futures=discovery_futures,
    )


@app.command()
def refresh(
    data: DataOption = None,
    replications: ReplicationsOption = None,
    time_limit: TimeLimitOption = None,
    explain_time_limit: ExplainTimeLimitOption = None,
    robust_futures: RobustFuturesOption = None,
    discovery_futures: DiscoveryFuturesOption = None,
    verbose: VerboseOption = False,
    strict: StrictOption = False,
    value_proxy: ValueProxyOption = "",
) -> None:
    """Refresh a workspace into WEITBLICK_HOME (the weekly job, headless: for cron or CI).

    The run becomes the current recommendation only when every step and blocking check passed;
    a failed, stopped or killed refresh leaves the current one as it was."""
    _check_proxy(value_proxy)
    _refresh(
        data,
        replications,
        time_limit,
        explain_time_limit,
        verbose,
        strict,
        value_proxy,
        robust_futures,
        discovery_futures,
    )


def _materialise(
    data: Path | None, selection: list[str], read: list[str], home: Path, verbose: bool = False, **config
) -> dict[str, pd.DataFrame]:
    """Materialise ``selection`` on ``data`` (default: the demo company) into a store under
    ``home`` (an ephemeral instance), say what was read (:func:`_say_what_was_read`) and return
    the ``read`` tables; a failed run ends the command with the planner's message."""
    import dagster as dg

    from pipelines.definitions import build_definitions
    from pipelines.store import read_tables, run_schema

    defs = build_definitions(home, data_dir=str(data) if data else "", **config)
    with dg.DagsterInstance.ephemeral() as instance:
        result = _execute(defs, instance, selection=selection)
    _say_what_was_read(result, data or paths.demo_data_dir(), verbose)
    if not result.success:
        _fail(result)
    return read_tables(paths.store_path(home), *read, schema=run_schema(result.run_id))


def _run_plan(
    data: Path | None,
    time_limit: float | None,
    assets: list[str],
    home: Path,
    verbose: bool = False,
    read: tuple[str, ...] = (),
    **config,
) -> dict[str, pd.DataFrame]:
    """Materialise inputs, valuation, the plan and ``assets`` on ``data`` into a store under
    ``home``; returns settings, the plan tables, ``assets`` and ``read`` (input tables)."""
    return _materialise(
        data,
        [*INPUT_ASSETS, *PLAN_ASSETS, *assets],
        ["settings", *PLAN_ASSETS, *assets, *read],
        home,
        verbose,
        time_limit_s=time_limit,
        **config,
    )


@app.command()
def plan(
    data: DataOption = None,
    time_limit: TimeLimitOption = None,
    format: FormatOption = OutputFormat.table,
    verbose: VerboseOption = False,
    strict: StrictOption = False,
    explain: Annotated[bool, typer.Option(help="Also explain the decisions and price each rule (re-solves).")] = True,
    value_proxy: ValueProxyOption = "",
) -> None:
    """Run inputs -> valuation -> optimisation on a folder and print the plan with its reasons."""
    _check_proxy(value_proxy)
    if explain:
        with tempfile.TemporaryDirectory(prefix="weitblick-plan-") as tmp:
            tables = _run_plan(
                data,
                time_limit,
                ["business_cases", *REASON_ASSETS],
                Path(tmp),
                verbose,
                strict=strict,
                value_proxy=value_proxy,
            )
    else:  # no store needed: the readers, checks and model functions the assets call, without Dagster
        from pipelines.direct import plan_directly

        workspace = data or paths.demo_data_dir()
        err.print(f"Planning {workspace} ...", markup=False, highlight=False, soft_wrap=True)
        direct = plan_directly(workspace, time_limit, strict=strict, value_proxy=value_proxy)
        _say_notes(direct.notes, workspace, verbose)
        tables = direct.tables
    info = tables["plan_run_info"].iloc[0]
    if format == "json":
        plan_df = tables["portfolio_plan"]
        funded = plan_df[plan_df["funded"]].sort_values(["start_period", "item_id"])
        basis = _value_basis(tables)
        payload = {
            "status": str(info["status"]),
            "gap": float(info["gap"]),
            "value": float(info["value_eur"]),
            "objective": float(info["objective"]),
            "best_bound": float(info["best_bound"]),
            "solver": str(info["solver"]),
            "time_s": float(info["time_s"]),
            "funded": [
                {
                    "item_id": r.item_id,
                    "start": int(r.start_period),
                    "finish": int(r.finish_period),
                    "reason": r.reason,
                    "value_basis": basis[r.item_id],
                }
                for r in funded.itertuples()
            ],
            "not_funded": [
                {"item_id": r.item_id, "reason": r.reason}
                for r in plan_df[~plan_df["funded"]].sort_values("item_id").itertuples()
            ],
        }
        if explain:
            payload["rule_prices"] = json.loads(tables["rule_prices"].to_json(orient="records"))
            payload["explanations"] = json.loads(tables["plan_explanations"].to_json(orient="records"))
        sys.stdout.write(json.dumps(payload) + "\n")
        return
    out.print(_run_info_line(info))
    out.print(_plan_table(tables))
    out.print(_left_out_table(tables))
    out.print(_capacity_table(tables))
    if explain:
        out.print(_rule_table(tables["rule_prices"]))
        out.print(_resolved_table(tables["plan_explanations"]))


@app.command()
def explain(
    item: Annotated[str, typer.Argument(help="Item id, e.g. IOT-129.")],
    data: DataOption = None,
    time_limit: TimeLimitOption = None,
    verbose: VerboseOption = False,
    strict: StrictOption = False,
) -> None:
    """Why is ITEM in or out of the plan, and what would it take to change that?"""
    from models import portfolio
    from models.portfolio.explain import check_candidate
    from pipelines.sources import load_inputs

    # the inputs read by the refresh's readers, without Dagster: an unknown or Done item is refused before any solve
    check_candidate(load_inputs(data or paths.demo_data_dir()).backlog, item)
    with tempfile.TemporaryDirectory(prefix="weitblick-explain-") as tmp:
        home = Path(tmp)
        tables = _run_plan(
            data, time_limit, [], home, verbose, read=("backlog", "teams", "value_by_start"), strict=strict
        )
    s = _settings(tables)
    result = portfolio.result_from_tables(*(tables[k] for k in PLAN_ASSETS))
    e = portfolio.explain_one(tables["backlog"], tables["teams"], tables["value_by_start"], s, result, item)
    info = tables["plan_run_info"].iloc[0]
    out.print(_run_info_line(info))
    if e["funded"]:
        out.print(f"[bold]{item}[/] is funded, starting {s.period_label(int(e['start_period']))}: {e['reason']}.")
        out.print(
            f"Forced out, the plan would lose {_loss_text(e['loss_low_eur'], e['loss_eur'], e['loss_high_eur'])} "
            f"EUR (re-solve status {e['resolve_status'] or 'not re-solved'}; LP estimate {e['lp_loss_eur']:,.0f} EUR)."
        )
    else:
        out.print(f"[bold]{item}[/] is not funded: {e['reason']}.")
        out.print(f"What it would take: {e['what_it_takes']}.")
        out.print(
            f"Forced in, the plan would lose {_loss_text(e['loss_low_eur'], e['loss_eur'], e['loss_high_eur'])} "
            f"EUR (re-solve status {e['resolve_status']}; LP estimate {e['lp_loss_eur']:,.0f} EUR)."
        )
    if e["note"]:
        out.print(e["note"], markup=False)


@app.command()
def frontier(
    data: DataOption = None,
    time_limit: TimeLimitOption = None,
    points: Annotated[
        int | None, typer.Option(help="Budget levels (default settings.explain.frontier_points).", min=2, max=50)
    ] = None,
    format: FormatOption = OutputFormat.table,
    verbose: VerboseOption = False,
    strict: StrictOption = False,
) -> None:
    """Best plan value for a range of budgets (every period's budget scaled alike)."""
    with tempfile.TemporaryDirectory(prefix="weitblick-frontier-") as tmp:
        tables = _run_plan(
            data, time_limit, ["efficient_frontier"], Path(tmp), verbose, strict=strict, frontier_points=points
        )
    df = tables["efficient_frontier"]
    if format == "json":
        sys.stdout.write(df.to_json(orient="records") + "\n")
        return
    t = Table(title="Efficient frontier: best plan value per budget")
    for col in ("budget share", "budget EUR", "value EUR", "funded", "status", "gap", "EUR per extra EUR"):
        t.add_column(col, justify="left" if col == "status" else "right")
    for _, r in df.iterrows():
        t.add_row(
            f"{r['budget_share']:.0%}",
            f"{r['budget_eur']:,.0f}",
            "-" if _missing(r["value_eur"]) else f"{r['value_eur']:,.0f}",
            str(int(r["n_funded"])),
            str(r["status"]),
            "-" if _missing(r["gap"]) else f"{r['gap']:.2%}",
            "-" if _missing(r["marginal_value"]) else f"{r['marginal_value']:.2f}",
        )
    out.print(t)


@app.command()
def scores(
    data: DataOption = None,
    method: Annotated[str, typer.Option(help="Rank by this method: rice, wsjf, weighted or moscow.")] = "wsjf",
    top: Annotated[int, typer.Option(help="How many items to show (and the k of 'stays in the top k').", min=1)] = 10,
    draws: Annotated[int, typer.Option(help="Monte Carlo draws of the rank stability.", min=1)] = 300,
    format: FormatOption = OutputFormat.table,
    verbose: VerboseOption = False,
    strict: StrictOption = False,
) -> None:
    """RICE, WSJF, weighted score and MoSCoW side by side, their agreement and rank stability."""
    if method not in RANKED_METHODS:
        raise typer.BadParameter(f"use one of {', '.join(RANKED_METHODS)}", param_hint="--method")
    assets = ["priority_scores", "rank_agreement", "rank_stability"]
    with tempfile.TemporaryDirectory(prefix="weitblick-scores-") as tmp:
        tables = _materialise(
            data,
            ["settings", "teams", "okrs", "backlog", "kpi_history", "read_notes", *assets],
            assets,
            Path(tmp),
            verbose,
            strict=strict,
            stability_draws=draws,
            rank_top_k=top,
        )
    ps, agreement, stability = (tables[a] for a in assets)
    shown = ps.sort_values(f"rank_{method}").head(top)
    if format == "json":
        payload = {
            "method": method,
            "top": json.loads(shown.to_json(orient="records")),
            "agreement": json.loads(agreement.to_json(orient="records")),
            "stability": json.loads(stability.loc[stability["base_rank"] <= top].to_json(orient="records")),
        }
        sys.stdout.write(json.dumps(payload) + "\n")
        return
    p_top = stability.pivot(index="item_id", columns="method", values="p_top_k")
    t = Table(
        title=f"Top {top} by {method}: ranks under every method; chance to stay in the top {top} "
        f"when estimates and weights vary ({draws} draws)"
    )
    for col in ("item", "title", "RICE", "WSJF", "weighted", "MoSCoW", "quadrant", f"P(top {top}) {method}"):
        t.add_column(
            col,
            justify="left" if col in ("item", "title", "quadrant") else "right",
            no_wrap=True,
            max_width=40 if col == "title" else None,
            overflow="ellipsis",
        )
    for _, r in shown.iterrows():
        p = p_top.at[r["item_id"], method] if method in p_top.columns else float("nan")
        t.add_row(
            r["item_id"],
            str(r["title"]),
            str(int(r["rank_rice"])),
            str(int(r["rank_wsjf"])),
            str(int(r["rank_weighted"])),
            str(int(r["rank_moscow"])),
            str(r["quadrant"]),
            "-" if _missing(p) else f"{p:.0%}",
        )
    out.print(t)
    a = Table(title=f"Agreement between methods: Spearman rank correlation and top-{top} overlap")
    for col in ("methods", "Spearman", f"top-{top} overlap"):
        a.add_column(col, justify="left" if col == "methods" else "right")
    for _, r in agreement.iterrows():
        a.add_row(f"{r['method_a']} vs {r['method_b']}", f"{r['spearman']:+.2f}", f"{r['top_k_overlap']:.0%}")
    out.print(a)


@app.command()
def health(
    data: DataOption = None,
    time_limit: TimeLimitOption = None,
    format: FormatOption = OutputFormat.table,
    verbose: VerboseOption = False,
    strict: StrictOption = False,
) -> None:
    """Where capital is tied up and whether it creates value: per product and theme, with flags."""
    assets = ["kpi_baselines", "kpi_imputations", "portfolio_health"]
    with tempfile.TemporaryDirectory(prefix="weitblick-health-") as tmp:
        tables = _run_plan(data, time_limit, assets, Path(tmp), verbose, strict=strict)
    h, base, imputed = tables["portfolio_health"], tables["kpi_baselines"], tables["kpi_imputations"]
    if format == "json":
        payload = {
            name: json.loads(df.to_json(orient="records", date_format="iso"))
            for name, df in (("health", h), ("kpi_baselines", base), ("kpi_imputations", imputed))
        }
        sys.stdout.write(json.dumps(payload) + "\n")
        return
    out.print(_health_table(h, "product", "Products: capital tied against value created (EUR a year)"))
    out.print(_health_table(h, "theme", "Themes: planned spend against the strategic balance"))
    u = Table(title="Unit economics per product (KPI baselines: last 3 months, growth over 12)")
    filled = imputed.groupby("product").size()
    for col in ("product", "MRR", "growth/yr", "churn/mo", "CLV", "CAC payback", "imputed"):
        u.add_column(col, justify="left" if col in ("product", "imputed") else "right")
    for _, r in base.iterrows():
        u.add_row(
            r["product"],
            f"{r['mrr']:,.0f}",
            _pct(r["mrr_growth_per_year"]),
            _pct(r["churn_rate"], 1),
            "-" if _missing(r["clv_eur"]) else f"{r['clv_eur']:,.0f}",
            "-" if _missing(r["cac_payback_months"]) else f"{r['cac_payback_months']:.1f} mo",
            str(filled.get(r["product"], 0)),
        )
    out.print(u)
    total = h.loc[h["level"] == "portfolio"]
    if len(total) and total["reasons"].iloc[0]:
        out.print(f"[bold]{total['reasons'].iloc[0]}[/bold]")


def _money(v: float) -> str:
    """EUR in k or M with the sign, e.g. "-1.2 M", "850 k", "-" when missing."""
    if _missing(v):
        return "-"
    v = float(v)
    if abs(v) >= 1e6:
        return f"{v / 1e6:,.1f} M"
    if abs(v) >= 1e3:
        return f"{v / 1e3:,.0f} k"
    return f"{v:,.0f}"


def _pct(v: float, digits: int = 0) -> str:
    return "-" if _missing(v) else f"{v:.{digits}%}"


def _health_table(h: pd.DataFrame, level: str, title: str) -> Table:
    rows = h.loc[h["level"] == level]
    t = Table(title=title)
    cols = (
        ("name", "capital tied", "value created", "per EUR", "matrix", "flags")
        if level == "product"
        else ("name", "planned spend", "share", "target", "planned NPV", "flags")
    )
    for col in cols:
        t.add_column(col, justify="left" if col in ("name", "matrix", "flags", "target") else "right", overflow="fold")
    for _, r in rows.iterrows():
        flags = f"{r['flags']}: {r['reasons']}" if r["flags"] else ""
        if level == "product":
            t.add_row(
                r["name"],
                f"{r['capital_tied_eur_per_year']:,.0f}",
                f"{r['value_created_eur_per_year']:,.0f}",
                f"{r['value_per_eur_tied']:.2f}",
                r["matrix"],
                flags,
            )
        else:
            target = (
                "-" if _missing(r["target_share_min"]) else f"{r['target_share_min']:.0%}-{r['target_share_max']:.0%}"
            )
            t.add_row(
                r["name"],
                f"{r['investment_eur_per_year']:,.0f}/yr",
                _pct(r["share_of_investment"]),
                target,
                f"{r['planned_npv_eur']:,.0f}",
                flags,
            )
    return t


ROBUST_ASSETS = ["business_cases", "robust_decisions", "robust_comparison", "robust_items", "robust_run_info"]
STRESS_ASSETS = [
    *ROBUST_ASSETS,  # the robust plan runs as the plan "robust" (skipped with robust_futures=0)
    "baseline_plans",
    "baseline_decisions",
    "current_roadmap",  # the team's roadmap runs as the plan "current" when the workspace has one
    "roadmap_decisions",
    "roadmap_check",
    "roadmap_violations",
    "scenario_library",
    "stress_test_runs",
    "stress_test_series",
    "stress_test_okr_runs",
    "stress_test_run_info",
    "stress_test_summary",
    "stress_test_okrs",
    "plan_plausibility",
]


def _robust_table(comparison: pd.DataFrame) -> Table:
    t = Table(title="Plans on held-out futures of the items' values (EUR)")
    for col in ("plan", "mean", "P10", "P50", "CVaR", "worst", "items", "cost"):
        t.add_column(col, justify="left" if col == "plan" else "right")
    for _, r in comparison.iterrows():
        t.add_row(
            str(r["plan"]),
            _money(r["value_mean"]),
            _money(r["value_p10"]),
            _money(r["value_p50"]),
            _money(r["value_cvar"]),
            _money(r["value_worst"]),
            str(int(r["items"])),
            _money(r["cost_eur"]),
        )
    return t


def _print_robust(comparison: pd.DataFrame | None, info: pd.DataFrame | None) -> None:
    """The robust plan's line (nothing when it was not optimised)."""
    if comparison is None or comparison.empty or info is None or info.empty:
        return
    from models.portfolio.robust import robust_summary

    out.print(robust_summary(comparison, info.iloc[0]), soft_wrap=True)


def _print_plausibility(table: pd.DataFrame) -> None:
    """The plausibility check in words: a warning per plan year beyond what the history makes
    believable (the recommended plan first), or one line saying the recommended path is within it."""
    from models.plausibility import implausible

    if table is None or table.empty:
        return
    flagged = implausible(table, "recommended") + [p for p in implausible(table) if not p.startswith("recommended:")]
    for line in flagged:
        out.print(f"[yellow]Implausible[/] {line}", soft_wrap=True)
    rec = table.loc[table["plan"] == "recommended"]
    if not rec.empty and not rec["flagged"].any():
        top = rec.loc[rec["product"] != "all products"].sort_values("implied_growth").iloc[-1]
        out.print(
            f"Plausible: the recommended plan's P50 MRR grows at most {top['implied_growth']:.0%} a year "
            f"({top['product']}, plan year {int(top['plan_year'])}), within {top['limit']:.0%} "
            f"(its best year on record: {top['best_growth_on_record']:.0%}).",
            soft_wrap=True,
        )


def _names(value: str | None) -> list[str] | None:
    """``a, b`` -> ["a", "b"]; None or blank -> None (all)."""
    names = [n.strip() for n in (value or "").split(",") if n.strip()]
    return names or None


def _stress_summary_table(summary: pd.DataFrame, info: pd.Series) -> Table:
    t = Table(
        title=f"Stress test: NPV of MRR over the horizon (EUR) across replications, and each plan's gain over "
        f"the status quo in the same runs - {int(info['runs'])} runs on {int(info['workers'])} worker(s) "
        f"({info['backend']}) in {float(info['wall_s']):.1f} s, root seed {int(info['root_seed'])}"
    )
    for col in (
        "plan",
        "scenario",
        "runs",
        "NPV P10",
        "NPV P50",
        "NPV P90",
        "gain P10",
        "gain P50",
        "gain P90",
        "final MRR P50",
        "on time",
        "mean slip (months)",
        "OKRs met (weighted)",
    ):
        t.add_column(col, justify="left" if col in ("plan", "scenario") else "right")
    for _, r in summary.iterrows():
        t.add_row(
            str(r["plan"]),
            str(r["scenario"]),
            str(int(r["runs"])),
            _money(r["npv_p10"]),
            _money(r["npv_p50"]),
            _money(r["npv_p90"]),
            _money(r.get("npv_increment_p10")),
            _money(r.get("npv_increment_p50")),
            _money(r.get("npv_increment_p90")),
            _money(r["final_mrr_p50"]),
            _pct(r["on_time_share_mean"]),
            "-" if _missing(r["mean_slip_months_mean"]) else f"{r['mean_slip_months_mean']:.1f}",
            _pct(r["okr_met_share_mean"]),
        )
    return t


def _okr_chance_table(okrs: pd.DataFrame) -> Table:
    wide = okrs.pivot_table(index=["plan", "key_result", "target"], columns="scenario", values="chance_met", sort=False)
    t = Table(title="Chance of meeting each key result's target, per scenario")
    for col in ("plan", "key result", "target", *wide.columns):
        t.add_column(str(col), justify="left" if col in ("plan", "key result") else "right")
    for (plan_name, kr, target), row in wide.iterrows():
        t.add_row(
            str(plan_name),
            str(kr),
            f"{target:,.0f}" if abs(target) >= 1000 else f"{target:.4g}",
            *(_pct(v) for v in row),
        )
    return t


@app.command("stress-test")
def stress_test(
    data: DataOption = None,
    scenarios: Annotated[
        str | None,
        typer.Option(
            help="Comma-separated scenario names, e.g. baseline,budget_cut (default: every file in scenarios/)."
        ),
    ] = None,
    replications: Annotated[
        int | None, typer.Option(help="Replications per scenario (default: each scenario's own).", min=1)
    ] = None,
    plans: Annotated[
        str | None, typer.Option(help=f"Comma-separated plans out of {', '.join(PLAN_NAMES)} (default: all).")
    ] = None,
    workers: Annotated[
        int | None, typer.Option(help="Local processes (default: every core; 1: serial).", min=1)
    ] = None,
    dask_address: Annotated[
        str, typer.Option("--dask-address", help="Run on this Dask scheduler instead, e.g. tcp://10.0.0.5:8786.")
    ] = "",
    seed: Annotated[
        int | None, typer.Option(help="Root seed of the replications (default: the configured one).")
    ] = None,
    scenarios_dir: Annotated[
        Path | None,
        typer.Option(
            "--scenarios-dir",
            help="Scenario files that add to or override the library (default: the workspace's scenarios/).",
            exists=True,
            file_okay=False,
            resolve_path=True,
        ),
    ] = None,
    time_limit: TimeLimitOption = None,
    format: FormatOption = OutputFormat.table,
    verbose: VerboseOption = False,
    strict: StrictOption = False,
) -> None:
    """Run the recommended plan, the greedy baselines and the status quo through the scenarios, many times over."""
    unknown = [p for p in _names(plans) or [] if p not in PLAN_NAMES]
    if unknown:
        raise typer.BadParameter(
            f"unknown plans {', '.join(unknown)}: use {', '.join(PLAN_NAMES)}", param_hint="--plans"
        )
    from models.simulation import load_library, select_scenarios
    from pipelines.resources import WeitblickConfig

    # the library and the workspace's own scenarios, as the refresh will read them
    folders = WeitblickConfig(
        data_dir=str(data or ""), workspace_scenarios_dir=str(scenarios_dir or "")
    ).scenario_folders()
    # before the plan is computed: a broken scenario file is the handler's message (exit 1) ...
    library = load_library(*folders)
    try:  # ... and an unknown scenario name a usage error (exit 2)
        select_scenarios(library, _names(scenarios))
    except ModelError as exc:
        raise typer.BadParameter(str(exc), param_hint="--scenarios") from None
    config = {
        "replications": replications,
        "workers": workers,
        "dask_address": dask_address,
        "stress_test_plans": _names(plans),
        "stress_test_scenarios": _names(scenarios),
        "workspace_scenarios_dir": str(scenarios_dir or ""),
    }
    if _names(plans) and ROBUST_PLAN not in _names(plans):
        config["robust_futures"] = 0  # not asked for: not optimised
    if seed is not None:
        config["seed"] = seed
    with tempfile.TemporaryDirectory(prefix="weitblick-stress-") as tmp:
        tables = _run_plan(data, time_limit, STRESS_ASSETS, Path(tmp), verbose, strict=strict, **config)
    summary, okrs = tables["stress_test_summary"], tables["stress_test_okrs"]
    info = tables["stress_test_run_info"].iloc[0]
    plausible = tables["plan_plausibility"]
    if format == "json":
        from models.plausibility import implausible

        payload = {
            **json.loads(tables["stress_test_run_info"].to_json(orient="records"))[0],
            "plans": list(dict.fromkeys(summary["plan"])),
            "scenarios": list(dict.fromkeys(summary["scenario"])),
            "summary": json.loads(summary.to_json(orient="records")),
            "okrs": json.loads(okrs.to_json(orient="records")),
            "plausibility": json.loads(plausible.to_json(orient="records", date_format="iso")),
            "implausible": implausible(plausible),
        }
        sys.stdout.write(json.dumps(payload) + "\n")
        return
    out.print(_stress_summary_table(summary, info))
    if len(okrs):
        out.print(_okr_chance_table(okrs))
    _print_plausibility(plausible)


def _current(store: Path):
    """The history row of the current recommendation; StoreError with the fix when there is none."""
    from pipelines.promotion import current_run

    run = current_run(store) if store.exists() else None
    if run is None:
        raise StoreError(
            f"no current recommendation in {store}. "
            "Fix: run 'weitblick refresh --data DIR' (or 'weitblick demo') first."
        )
    return run


def _jsonable(v):
    import pandas as pd

    if isinstance(v, dict):
        return {k: _jsonable(x) for k, x in v.items()}
    if isinstance(v, list | tuple):
        return [_jsonable(x) for x in v]
    if hasattr(v, "tolist"):
        return _jsonable(v.tolist())
    if isinstance(v, pd.Timestamp):
        return v.isoformat()
    if v is None or (isinstance(v, float) and v != v):
        return None
    return v.item() if hasattr(v, "item") else v


@app.command()
def status(format: FormatOption = OutputFormat.table) -> None:
    """The current recommendation in WEITBLICK_HOME: its run, time, solver status, gap, value
    and the funded items with start and finish."""
    from pipelines.store import read_tables

    store = paths.store_path()
    run = _current(store)
    tables = read_tables(store, "settings", "portfolio_plan", "plan_run_info")
    s = _settings(tables)
    info = tables["plan_run_info"].iloc[0]
    plan_df = tables["portfolio_plan"]
    funded = plan_df[plan_df["funded"]].sort_values(["start_period", "item_id"])
    items = [
        {
            "item_id": r.item_id,
            "title": r.title,
            "product": r.product,
            "start": int(r.start_period),
            "finish": int(r.finish_period),
            "start_label": s.period_label(int(r.start_period)),
            "finish_label": s.period_label(int(r.finish_period)),
            "mandatory": bool(r.mandatory),
        }
        for r in funded.itertuples()
    ]
    payload = {
        "run_id": run["run_id"],
        "started_at": run["started_at"],
        "finished_at": run["finished_at"],
        "trigger": run["trigger"],
        "company": s.company,
        "data_dir": run["data_dir"],
        "solver": str(info["solver"]),
        "status": str(info["status"]),
        "gap": float(info["gap"]),
        "value_eur": float(info["value_eur"]),
        "cost_eur": float(info["cost_eur"]),
        "n_funded": len(items),
        "funded": items,
    }
    if format == "json":
        sys.stdout.write(json.dumps(_jsonable(payload)) + "\n")
        return
    out.print(
        f"[bold]{s.company}[/]: current recommendation from run {run['run_id'][:8]} "
        f"({run['trigger']}, {_when(run['finished_at'])}), workspace {run['data_dir']}"
    )
    out.print(_run_info_line(info))
    t = Table(title=f"Funded: {len(items)} items")
    for col in ("item", "title", "product", "start", "finish", "must"):
        t.add_column(col, overflow="fold", no_wrap=col == "item")
    for i in items:
        t.add_row(
            i["item_id"], i["title"], i["product"], i["start_label"], i["finish_label"], "yes" if i["mandatory"] else ""
        )
    out.print(t)


def _robustness_table(table: pd.DataFrame, agreement: pd.DataFrame) -> Table:
    futures = int(table["futures"].max()) if len(table) else 0
    taus = agreement["tau"].dropna()
    t = Table(
        title=f"Robustness over {futures} futures per plan (NPV of MRR; regret: the best plan's NPV in the same "
        f"future minus this plan's; satisficing: futures meeting every floor). Kendall's tau between the "
        f"metrics' rankings: {taus.min():+.2f} .. {taus.max():+.2f}"
        if len(taus)
        else "Robustness"
    )
    for col in ("plan", "expected NPV", "NPV P10", "worst NPV", "mean regret", "max regret", "satisficing"):
        t.add_column(col, justify="left" if col == "plan" else "right")
    for _, r in table.iterrows():
        t.add_row(
            str(r["plan"]),
            _money(r["npv_mean"]),
            _money(r["npv_p10"]),
            _money(r["npv_worst"]),
            _money(r["regret_mean"]),
            _money(r["regret_max"]),
            _pct(r["satisficing"]),
        )
    return t


@app.command()
def robustness(
    data: DataOption = None,
    scenarios: Annotated[
        str | None, typer.Option(help="Comma-separated scenario names (default: every file in scenarios/).")
    ] = None,
    replications: Annotated[
        int | None, typer.Option(help="Replications per scenario (default: each scenario's own).", min=1)
    ] = None,
    time_limit: TimeLimitOption = None,
    format: FormatOption = OutputFormat.table,
    verbose: VerboseOption = False,
) -> None:
    """How each plan holds up across every future: expected NPV, P10, worst case, regret, satisficing."""
    from models.robustness import ranking_agreement

    with tempfile.TemporaryDirectory(prefix="weitblick-robustness-") as tmp:
        tables = _run_plan(
            data,
            time_limit,
            [*STRESS_ASSETS, "plan_robustness"],
            Path(tmp),
            verbose,
            replications=replications,
            stress_test_scenarios=_names(scenarios),
        )
    table = tables["plan_robustness"]
    agreement = ranking_agreement(table)
    if format == "json":
        payload = {
            "robustness": json.loads(table.to_json(orient="records")),
            "kendall_tau": json.loads(agreement.to_json(orient="records")),
        }
        sys.stdout.write(json.dumps(payload) + "\n")
        return
    out.print(_robustness_table(table, agreement))


@app.command()
def robust(
    data: DataOption = None,
    futures: Annotated[
        int | None, typer.Option(help="Futures the plan is optimised over (default: settings.robust.futures).", min=1)
    ] = None,
    time_limit: TimeLimitOption = None,
    format: FormatOption = OutputFormat.table,
    verbose: VerboseOption = False,
) -> None:
    """A plan optimised to hold up over sampled futures of the items' values, against the recommended one."""
    with tempfile.TemporaryDirectory(prefix="weitblick-robust-") as tmp:
        tables = _run_plan(data, time_limit, ROBUST_ASSETS, Path(tmp), verbose, robust_futures=futures)
    comparison, info, items = tables["robust_comparison"], tables["robust_run_info"], tables["robust_items"]
    if comparison.empty:
        raise ModelError(
            "the robust plan is switched off (settings.robust.enabled: false). Fix: set it to true in settings.yaml."
        )
    decisions = tables["robust_decisions"]
    if format == "json":
        funded = decisions.loc[decisions["funded"].astype(bool)]
        payload = {
            **json.loads(info.to_json(orient="records"))[0],
            "comparison": json.loads(comparison.to_json(orient="records")),
            "funded": json.loads(
                funded[["item_id", "title", "start_period", "finish_period"]].to_json(orient="records")
            ),
            "items": json.loads(items.to_json(orient="records")),
        }
        sys.stdout.write(json.dumps(payload) + "\n")
        return
    from models.portfolio.robust import robust_summary

    out.print(_robust_table(comparison))
    out.print(robust_summary(comparison, info.iloc[0]), soft_wrap=True)
    counts = items["class"].value_counts()
    out.print(
        f"Over the good plans ({info.iloc[0]['good_plans']}): {int(counts.get('core', 0))} items are core (in every "
        f"one), {int(counts.get('borderline', 0))} borderline (in some), {int(counts.get('exterior', 0))} exterior "
        "(in none).",
        soft_wrap=True,
    )
    t = Table(title="Borderline items: where the plans differ")
    for col in ("item", "title", "product", "in plans", "expected value", "cost"):
        t.add_column(col, overflow="fold", no_wrap=col == "item")
    for _, r in items.loc[items["class"] == "borderline"].iterrows():
        t.add_row(
            r["item_id"],
            r["title"],
            r["product"],
            r["in_plans"],
            _money(r["expected_value_eur"]),
            _money(r["cost_eur"]),
        )
    out.print(t)


DISCOVERY_ASSETS = [
    *STRESS_ASSETS[: STRESS_ASSETS.index("stress_test_runs")],  # the plans and the scenario library
    "scenario_discovery",
    "discovery_limits",
    "discovery_futures",
    "discovery_drivers",
    "discovery_trajectory",
    "discovery_run_info",
]


@app.command()
def discover(
    data: DataOption = None,
    futures: Annotated[
        int | None,
        typer.Option(help="Futures sampled by Latin hypercube (default: settings.discovery.futures).", min=10),
    ] = None,
    plans: Annotated[
        str | None,
        typer.Option(
            help=f"Comma-separated plans to explore out of {', '.join(PLAN_NAMES)} (default: settings.discovery."
            "plans); the status quo runs too, as the NPV floor."
        ),
    ] = None,
    time_limit: TimeLimitOption = None,
    format: FormatOption = OutputFormat.table,
    verbose: VerboseOption = False,
) -> None:
    """What breaks the plan: every driver of the scenario library sampled at once, and the few drivers
    and ranges where the plan misses its floors (PRIM scenario discovery)."""
    names = _names(plans)
    unknown = [p for p in names or [] if p not in PLAN_NAMES]
    if unknown:
        raise typer.BadParameter(
            f"unknown plans {', '.join(unknown)}: use {', '.join(PLAN_NAMES)}", param_hint="--plans"
        )
    config = {"discovery_futures": futures, "discovery_plans": names}
    if names is None:  # the workspace's settings say which plans to explore
        from models.settings import load_settings

        names = load_settings((data or paths.demo_data_dir()) / "settings.yaml").discovery.plans
    if ROBUST_PLAN not in names:
        config["robust_futures"] = 0  # not explored: not optimised
    with tempfile.TemporaryDirectory(prefix="weitblick-discover-") as tmp:
        tables = _run_plan(data, time_limit, DISCOVERY_ASSETS, Path(tmp), verbose, **config)
    boxes, limits, info = tables["scenario_discovery"], tables["discovery_limits"], tables["discovery_run_info"]
    drivers = tables["discovery_drivers"]
    if format == "json":
        payload = {
            **json.loads(info.to_json(orient="records"))[0],
            "sentences": list(boxes["sentence"]),
            "boxes": json.loads(boxes.to_json(orient="records")),
            "limits": json.loads(limits.to_json(orient="records")),
            "drivers": json.loads(drivers.to_json(orient="records")),
        }
        sys.stdout.write(json.dumps(payload) + "\n")
        return
    i = info.iloc[0]
    out.print(
        f"{int(i['futures']):,} futures over {int(i['drivers'])} drivers of the scenario library and the plan's "
        f"realised value (Latin hypercube, seed {int(i['seed'])}); a future counts as failed when the plan misses "
        f"its {i['failure']} floor"
        + (
            f" (NPV below {_money(i['npv_floor_eur'])} EUR, {i['npv_floor']})."
            if not _missing(i["npv_floor_eur"])
            else f" (NPV below {i['npv_floor']})."
        ),
        soft_wrap=True,
    )
    for sentence in boxes["sentence"]:
        out.print(f"- {sentence}", soft_wrap=True)
    scores = [c for c in drivers.columns if c.startswith("score_")]
    if scores:
        t = Table(title="Drivers by how well they tell failures apart (feature score)")
        for col in ("driver", "range", "score"):
            t.add_column(col, overflow="fold", justify="right" if col == "score" else "left")
        for _, r in drivers.sort_values(scores[0], ascending=False).head(8).iterrows():
            t.add_row(str(r["label"]), f"{r['low']:.3g} .. {r['high']:.3g} {r['unit']}", f"{r[scores[0]]:.2f}")
        out.print(t)


@app.command()
def report(
    pdf: Annotated[
        bool, typer.Option("--pdf", help="Also print the report as PDF next to it (headless Chromium).")
    ] = False,
) -> None:
    """Where the current recommendation's review report is; with --pdf, print it as PDF too."""
    from pipelines.report import print_pdf

    html = paths.reports_dir() / "review.html"
    if not html.exists():
        raise StoreError(
            f"no review report in {html.parent}. Fix: run 'weitblick refresh --data DIR' (or 'weitblick demo')."
        )
    out.print(str(html), soft_wrap=True)
    if pdf:
        out.print(str(print_pdf(html)), soft_wrap=True)


@app.command()
def history(format: FormatOption = OutputFormat.table) -> None:
    """Every promoted run in WEITBLICK_HOME, oldest first: when, what started it, its inputs'
    fingerprint, the code and solver behind it, and its result."""
    from pipelines.promotion import history as runs_of, input_files_of

    store = paths.store_path()
    runs = runs_of(store)
    if format == "json":
        rows = []
        for r in runs.to_dict("records"):
            r["current"] = r["run_id"] == runs["run_id"].iloc[-1]
            r["input_files"] = input_files_of(store, r["run_id"]).to_dict("records")
            rows.append(r)
        sys.stdout.write(json.dumps(_jsonable(rows)) + "\n")
        return
    if runs.empty:
        out.print(f"No promoted run in {store} yet: 'weitblick refresh --data DIR' makes the first.")
        return
    t = Table(title=f"Promoted runs in {store}")
    for col in ("run", "finished", "trigger", "company", "inputs", "code", "solver", "gap", "value EUR", "funded"):
        t.add_column(col, overflow="fold", no_wrap=col in ("run", "inputs"))
    for r in runs.itertuples():
        current = r.Index == len(runs) - 1
        code = r.code_version + (
            f" @{r.git_commit[:8]}{'+' if r.git_commit.endswith('dirty') else ''}" if r.git_commit else ""
        )
        t.add_row(
            r.run_id[:8] + (" *" if current else ""),
            _when(r.finished_at),
            r.trigger,
            r.company,
            r.inputs_sha256[:12],
            code,
            r.solver_status,
            _pct(r.gap, 2),
            f"{r.value_eur:,.0f}",
            str(r.n_funded),
        )
    out.print(t)
    out.print("* the current recommendation")


@app.command()
def diff(
    against: Annotated[
        str,
        typer.Option(
            help="Run id (or its first characters, see 'weitblick history') to compare the current with; "
            "default: the run before it."
        ),
    ] = "",
    format: FormatOption = OutputFormat.table,
) -> None:
    """What changed between a promoted run and the current recommendation: items added,
    removed, moved or revalued with their causes, and the plan's value, NPV and KPI baselines."""
    from models import diff as changes
    from pipelines.promotion import DIFF_TABLES, find_run, history, run_tables

    store = paths.store_path()
    current = _current(store)
    if against:
        before_run = find_run(store, against)
    else:
        runs = history(store)
        if len(runs) < 2:
            raise StoreError(
                f"only one promoted run in {store}: nothing to compare yet. Fix: refresh again after the inputs "
                "changed, or name a run with --against."
            )
        before_run = runs.iloc[-2]
    before = run_tables(store, before_run, *DIFF_TABLES)
    after = run_tables(store, current, *DIFF_TABLES)
    items, runs_delta = changes.item_changes(before, after), changes.run_changes(before, after)
    s = _settings(after)
    head = {
        "before": {"run_id": before_run["run_id"], "finished_at": before_run["finished_at"]},
        "after": {"run_id": current["run_id"], "finished_at": current["finished_at"]},
    }
    if format == "json":
        payload = {
            **head,
            "items": items.to_dict("records"),
            "run": runs_delta.to_dict("records"),
            "inputs": changes.input_changes(before, after).to_dict("records"),
        }
        sys.stdout.write(json.dumps(_jsonable(payload)) + "\n")
        return
    out.print(
        f"[bold]What changed since {_when(before_run['finished_at'])}[/] (run {before_run['run_id'][:8]} -> "
        f"current run {current['run_id'][:8]} of {_when(current['finished_at'])})"
    )
    t = Table(title="The plan")
    for col in ("metric", "scope", "before", "after", "change", "unit"):
        t.add_column(col, justify="right" if col in ("before", "after", "change") else "left", overflow="fold")
    shown = runs_delta.loc[(runs_delta["change"].abs() > 0) | (runs_delta["scope"] == "plan")]
    for r in shown.itertuples():
        fmt = "{:,.4g}" if r.unit not in ("EUR", "items") else "{:,.0f}"
        t.add_row(
            r.metric, str(r.scope), *(("-" if v != v else fmt.format(v)) for v in (r.before, r.after, r.change)), r.unit
        )
    out.print(t)
    if items.empty:
        out.print("No item's decision, value or cost changed.")
        return
    t = Table(title=f"Items whose decision changed: {len(items)}")
    for col in ("item", "change", "start", "value EUR", "why"):
        t.add_column(col, overflow="fold", no_wrap=col == "item")

    for r in items.itertuples():
        value = " -> ".join("-" if v != v else f"{v:,.0f}" for v in (r.value_before_eur, r.value_after_eur))
        start = f"{_period(s, r.start_before)} -> {_period(s, r.start_after)}"
        t.add_row(r.item_id, r.change, start, value, "; ".join(r.causes))
    out.print(t)


ROADMAP_ASSETS = ["roadmap_comparison"]  # with the roadmap's own assets, which the stress test reads (STRESS_ASSETS)


@app.command()
def compare(
    data: DataOption = None,
    scenarios: Annotated[
        str | None, typer.Option(help="Comma-separated scenario names (default: the whole library).")
    ] = None,
    replications: Annotated[
        int | None, typer.Option(help="Replications per scenario (default: each scenario's own).", min=1)
    ] = None,
    roadmap_from: Annotated[
        str,
        typer.Option(
            "--roadmap-from",
            help="auto (roadmap.csv, else the export's fix versions dated by releases.csv), file, fix_version "
            "(release dates from releases.csv) or sprint (dates or quarters in the sprint names).",
        ),
    ] = "auto",
    time_limit: TimeLimitOption = None,
    format: FormatOption = OutputFormat.table,
    verbose: VerboseOption = False,
    strict: StrictOption = False,
) -> None:
    """The team's current roadmap (roadmap.csv in the workspace) against the recommended plan:
    value, NPV P10/P50/P90, chance per OKR, capacity overload per skill and quarter, and the
    items only one of them funds, with the reason."""
    from models.names import CURRENT_PLAN
    from pipelines.sources import load_inputs
    from pipelines.sources.roadmap import ROADMAP_NAME, SOURCES, read_workspace_roadmap

    if roadmap_from not in SOURCES:
        raise typer.BadParameter(f"use one of {', '.join(SOURCES)}", param_hint="--roadmap-from")
    workspace = data or paths.demo_data_dir()
    inputs = load_inputs(workspace)  # refused before any solve: no roadmap, or one the reader cannot use
    if read_workspace_roadmap(workspace, inputs.backlog, inputs.settings, roadmap_from).roadmap.empty:
        raise StoreError(
            f"no roadmap in {workspace}: there is nothing to compare the recommendation with. Fix: put "
            f"{ROADMAP_NAME}.csv (columns item_id, start such as 2027-Q1, optional finish) into {workspace}."
        )
    plans = ["recommended", CURRENT_PLAN]
    with tempfile.TemporaryDirectory(prefix="weitblick-compare-") as tmp:
        tables = _run_plan(
            data,
            time_limit,
            [*ROADMAP_ASSETS, *STRESS_ASSETS],
            Path(tmp),
            verbose,
            strict=strict,
            replications=replications,
            stress_test_plans=plans,
            stress_test_scenarios=_names(scenarios),
            roadmap_source=roadmap_from,
            robust_futures=0,  # not among the plans compared
        )
    s = _settings(tables)
    info, road = tables["plan_run_info"].iloc[0], tables["roadmap_check"].iloc[0]
    broken, only = tables["roadmap_violations"], tables["roadmap_comparison"]
    summary = tables["stress_test_summary"].set_index(["plan", "scenario"])
    okrs = tables["stress_test_okrs"]
    overload = broken.loc[broken["rule"] == "capacity"]
    value = {
        "recommended": {
            "value_eur": float(info["value_eur"]),
            "cost_eur": float(info["cost_eur"]),
            "n_funded": int(info["n_funded"]),
            "valid": True,
            "violations": 0,
        },
        CURRENT_PLAN: {
            "value_eur": float(road["value_eur"]),
            "cost_eur": float(road["cost_eur"]),
            "n_funded": int(road["n_funded"]),
            "valid": bool(road["valid"]),
            "violations": len(broken),
        },
    }
    if format == "json":
        payload = {
            "plans": value,
            "stress_test": summary.reset_index()[["plan", "scenario", "npv_p10", "npv_p50", "npv_p90"]].to_dict(
                "records"
            ),
            "okrs": okrs[["plan", "scenario", "key_result", "chance_met"]].to_dict("records"),
            "violations": broken.to_dict("records"),
            "capacity_overload": overload[["where", "period_label", "amount", "unit"]]
            .rename(columns={"where": "skill", "period_label": "period"})
            .to_dict("records"),
            "only_one_funds": only.to_dict("records"),
        }
        sys.stdout.write(json.dumps(_jsonable(payload)) + "\n")
        return
    out.print(f"[bold]{s.company}[/]: the current roadmap against the recommended plan")
    out.print(_run_info_line(info))
    t = Table(title="Value and risk (NPV in EUR, over the scenarios run)")
    for col in ("plan", "value EUR", "cost EUR", "funded", "rules broken", "NPV P10", "NPV P50", "NPV P90"):
        t.add_column(col, justify="left" if col == "plan" else "right")
    for name in plans:
        v = value[name]
        npv = summary.xs(name, level="plan") if name in summary.index.get_level_values("plan") else None
        cells = ["-"] * 3 if npv is None else [f"{npv[c].median():,.0f}" for c in ("npv_p10", "npv_p50", "npv_p90")]
        t.add_row(
            name, f"{v['value_eur']:,.0f}", f"{v['cost_eur']:,.0f}", str(v["n_funded"]), str(v["violations"]), *cells
        )
    out.print(t)
    out.print("NPV: the median over the scenarios of each scenario's P10, P50 and P90.")
    if len(okrs):
        chance = okrs.groupby(["key_result", "plan"])["chance_met"].mean().unstack("plan")
        t = Table(title="Chance to meet each key result (mean over the scenarios)")
        t.add_column("key result", no_wrap=True)
        for name in plans:
            t.add_column(name, justify="right")
        for kr, row in chance.iterrows():
            t.add_row(str(kr), *(_pct(row.get(name)) for name in plans))
        out.print(t)
    if len(overload):
        t = Table(title="Capacity overload of the current roadmap")
        for col in ("skill", "quarter", "over by", "detail"):
            t.add_column(col, overflow="fold")
        for r in overload.itertuples():
            t.add_row(str(r.where), str(r.period_label), f"{r.amount:,.1f} {r.unit}", r.message)
        out.print(t)
    other = broken.loc[broken["rule"] != "capacity"]
    if len(other):
        t = Table(title="Other rules the current roadmap breaks")
        for col in ("rule", "where", "detail"):
            t.add_column(col, overflow="fold")
        for r in other.itertuples():
            t.add_row(str(r.rule), str(r.where), r.message)
        out.print(t)
    if len(only):
        t = Table(title="Items only one of them funds")
        for col in ("item", "title", "funded by", "start", "why"):
            t.add_column(col, overflow="fold", no_wrap=col == "item")

        for r in only.itertuples():
            start = r.recommended_start if r.change == "recommended only" else r.current_start
            t.add_row(r.item_id, r.title, r.change.removesuffix(" only"), _period(s, start), r.reason)
        out.print(t)
    else:
        out.print("Both plans fund the same items.")


@app.command("values-template")
def values_template(
    data: Annotated[
        Path,
        typer.Option(help="The workspace to write the sheet into.", exists=True, file_okay=False, resolve_path=True),
    ],
    force: Annotated[
        bool, typer.Option("--force", help="Replace an existing values file (its values are lost).")
    ] = False,
) -> None:
    """Write DIR/values.csv and DIR/values.xlsx: one row per candidate item, a column per value input to fill in."""
    from pipelines.sources import write_values_template

    written = write_values_template(data, force=force)
    for note in written.notes:
        err.print(note, markup=False, highlight=False, soft_wrap=True)
    out.print(
        f"Wrote {written.paths[0]} and {written.paths[1]}: {len(written.table)} candidate items. Fill in one of "
        "them (the workbook has drop-downs and a notes sheet) and delete the other; empty cells keep what the "
        "backlog says.",
        markup=False,
        highlight=False,
        soft_wrap=True,
    )


def main() -> None:
    """The ``weitblick`` command: :data:`app`, then a quick exit. Once a command has finished and its output is
    flushed, the interpreter's teardown is skipped: it frees the whole heap (solver models, tables, Dagster's
    definitions) one object at a time, 1.3 s after the demo's refresh, and nothing waits on it. Exit handlers run
    first (pools, loggers); the store, the instance and every file are closed by then."""
    import atexit
    import logging

    try:
        app()
        code = 0
    except SystemExit as exc:  # how Typer ends every command
        code = exc.code
    if code is not None and not isinstance(code, int):  # a message instead of a number, as sys.exit does
        print(code, file=sys.stderr)
        code = 1
    atexit._run_exitfuncs()  # the exit handlers, as a normal exit runs them (tests/pipelines/test_cli.py)
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code or 0)


if __name__ == "__main__":
    main()
