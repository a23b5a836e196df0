"""Inputs: read the user's files into the canonical tables, and guard them with blocking checks."""

from collections.abc import Mapping
from pathlib import Path

import dagster as dg
import pandas as pd

from models import checks
from models.settings import load_settings, settings_from_table, settings_table
from pipelines.resources import WeitblickConfig
from pipelines.sources import backlog_file, read_kpis, read_okrs, read_teams, read_workspace_backlog, table_path
from pipelines.sources.files import fingerprint, input_files as list_input_files
from pipelines.sources.inputs import SETTINGS_FILE, TABLE_FILES, kpi_history_notes
from pipelines.sources.values import Info, refuse_changes

GROUP = "inputs"
READ_NOTES_KEY = "read_notes"  # metadata of an input asset: {"file": ..., "notes": [...]}


def notes_in(metadata: Mapping[str, object]) -> list[tuple[str, str, bool]]:
    """(file, note, only informational) for each note an input asset recorded in its
    materialisation ``metadata`` (see :func:`_reader_metadata`); [] when it recorded none."""
    entry = metadata.get(READ_NOTES_KEY)
    if entry is None:
        return []
    notes = entry.value["notes"]
    info = entry.value.get("info") or [False] * len(notes)
    return [(entry.value["file"], n, i) for n, i in zip(notes, info, strict=True)]


def _reader_metadata(path: Path, notes: list[str]) -> dict[str, dg.MetadataValue]:
    """What a reader assumed or could not map: a markdown list for the UI and the notes with
    their file for the command line (``read_notes``)."""
    return {
        "reader_notes": dg.MetadataValue.md("\n".join(f"- {n}" for n in notes) or "none"),
        READ_NOTES_KEY: dg.MetadataValue.json(
            {"file": str(path), "notes": list(notes), "info": [isinstance(n, Info) for n in notes]}
        ),
    }


@dg.asset(group_name=GROUP, kinds={"python", "duckdb"})
def input_files(config: WeitblickConfig) -> dg.Output[pd.DataFrame]:
    """Every input file of the run (workspace tables and settings, workspace and library
    scenarios) with its sha256: the provenance of the run, recorded in its history."""
    files = list_input_files(config.data_path(), *config.scenario_folders())
    return dg.Output(
        files,
        metadata={"files": len(files), "fingerprint": fingerprint(files), "bytes": int(files["bytes"].sum())},
    )


@dg.asset(group_name=GROUP, kinds={"python", "duckdb"})
def settings(config: WeitblickConfig) -> dg.Output[pd.DataFrame]:
    """Planning settings (settings.yaml) as a one-row table with the full JSON."""
    path = config.data_path() / SETTINGS_FILE
    s = load_settings(path)
    return dg.Output(
        settings_table(s, str(path)),
        metadata={"company": s.company, "periods": s.periods, "start": str(s.start), "source": str(path)},
    )


@dg.asset(group_name=GROUP, kinds={"python", "duckdb"})
def teams(config: WeitblickConfig) -> dg.Output[pd.DataFrame]:
    """Teams with skill, capacity (person-weeks per period), cost and velocity."""
    path = table_path(config.data_path(), "teams")
    df = read_teams(path)
    return dg.Output(
        df,
        metadata={
            "teams": len(df),
            "capacity_pw_per_period": float(df["capacity_pw"].sum()),
            "source": str(path),
            **_reader_metadata(path, df.attrs.get("notes", [])),
        },
    )


@dg.asset(group_name=GROUP, kinds={"python", "duckdb"})
def backlog(config: WeitblickConfig, teams: pd.DataFrame, settings: pd.DataFrame) -> dg.Output[pd.DataFrame]:
    """The backlog (Jira export or canonical table, plus the values sheet) as items with efforts in person-weeks."""
    path = backlog_file(config.data_path())
    read = read_workspace_backlog(
        config.data_path(), teams, settings_from_table(settings), value_proxy=config.value_proxy or None
    )
    df = read.backlog
    return dg.Output(
        df,
        metadata={
            "items": len(df),
            "mandatory": int(df["mandatory"].sum()),
            "source": str(path),
            **_reader_metadata(path, read.notes),
        },
    )


@dg.asset(group_name=GROUP, kinds={"python", "duckdb"})
def kpi_history(config: WeitblickConfig) -> dg.Output[pd.DataFrame]:
    """Monthly KPIs per product (MAU, DAU, users, conversion, ARPU, MRR, NPS, CAC)."""
    path = table_path(config.data_path(), "kpis")
    df = read_kpis(path)
    return dg.Output(
        df,
        metadata={
            "products": df["product"].nunique(),
            "months": df["month"].nunique(),
            "source": str(path),
            **_reader_metadata(path, df.attrs.get("notes", [])),
        },
    )


INPUT_TABLES = ("teams", "backlog", "kpi_history", "okrs", "current_roadmap")  # the assets whose readers make notes


# A table for the review (report and notebook), not an input of its own: no blocking check.
@dg.asset(group_name="review", kinds={"python", "duckdb"}, deps=["teams", "okrs", "current_roadmap"])
def read_notes(
    context: dg.AssetExecutionContext,
    config: WeitblickConfig,
    settings: pd.DataFrame,
    backlog: pd.DataFrame,
    kpi_history: pd.DataFrame,
) -> dg.Output[pd.DataFrame]:
    """Every note the readers made (a default filled in, an item or link dropped, a column not used), one row each;
    under strict reading (--strict or settings strict) a note that changes the data stops the run."""
    rows = []
    for key in INPUT_TABLES:
        event = context.instance.get_latest_materialization_event(dg.AssetKey(key))
        recorded = notes_in(event.asset_materialization.metadata) if event and event.asset_materialization else []
        rows += [(key, file, n, "info" if i else "change") for file, n, i in recorded]
    kpi_file = table_path(config.data_path(), "kpis")
    across = kpi_history_notes(backlog, kpi_history)
    rows += [("kpi_history", str(kpi_file), n, "change") for n in across]
    if config.strict or settings_from_table(settings).strict:
        refuse_changes(rows)
    df = pd.DataFrame(rows, columns=["asset", "file", "note", "kind"])
    df["file"] = df["file"].map(lambda f: Path(f).name)
    return dg.Output(df, metadata={"notes": len(df), **_reader_metadata(kpi_file, across)})


@dg.asset(group_name=GROUP, kinds={"python", "duckdb"})
def okrs(config: WeitblickConfig) -> dg.Output[pd.DataFrame]:
    """Objectives and key results the backlog items contribute to."""
    path = table_path(config.data_path(), "okrs")
    df = read_okrs(path)
    return dg.Output(
        df,
        metadata={
            "key_results": len(df),
            "source": str(path),
            **_reader_metadata(path, df.attrs.get("notes", [])),
        },
    )


def _result(problems: list[str], what: str) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(
        passed=not problems,
        description=f"{len(problems)} {what}" if problems else f"no {what}",
        metadata={"problems": dg.MetadataValue.md("\n".join(f"- {p}" for p in problems[:50]) or "none")},
    )


@dg.asset_check(asset=backlog, blocking=True)
def backlog_ids_unique(backlog: pd.DataFrame) -> dg.AssetCheckResult:
    """Every item id appears once."""
    return _result(checks.duplicate_ids(backlog), "duplicate item ids")


@dg.asset_check(asset=backlog, blocking=True)
def backlog_dependencies_resolve(backlog: pd.DataFrame) -> dg.AssetCheckResult:
    """Every dependency points at an item in the backlog."""
    return _result(checks.unresolved_dependencies(backlog), "unresolved dependencies")


@dg.asset_check(asset=backlog, blocking=True)
def backlog_no_cycles(backlog: pd.DataFrame) -> dg.AssetCheckResult:
    """The dependency graph has no cycles."""
    return _result(checks.dependency_cycles(backlog), "dependency cycles")


@dg.asset_check(asset=backlog, blocking=True, additional_ins={"teams": dg.AssetIn("teams")})
def backlog_skills_staffed(backlog: pd.DataFrame, teams: pd.DataFrame) -> dg.AssetCheckResult:
    """Every skill the backlog needs has a team with capacity."""
    return _result(checks.skills_without_capacity(backlog, teams), "skills without a team")


@dg.asset_check(asset=backlog, blocking=True, additional_ins={"okrs": dg.AssetIn("okrs")})
def backlog_okrs_known(backlog: pd.DataFrame, okrs: pd.DataFrame) -> dg.AssetCheckResult:
    """Every OKR an item points at is defined in okrs.csv."""
    return _result(checks.unknown_okrs(backlog, okrs), "unknown key results")


@dg.asset_check(asset=input_files, blocking=True)
def input_files_complete(input_files: pd.DataFrame) -> dg.AssetCheckResult:
    """The workspace holds settings.yaml and each table (backlog, teams, kpis, okrs) as .csv or
    .xlsx, and the library at least one scenario: the files the run's provenance lists."""
    names = set(input_files.loc[input_files["role"] == "workspace", "file"])
    missing = [SETTINGS_FILE] if SETTINGS_FILE not in names else []
    missing += [f"{t}.csv (or .xlsx)" for t in TABLE_FILES if not {f"{t}.csv", f"{t}.xlsx"} & names]
    if not input_files["role"].str.contains("scenario").any():
        missing.append("a scenario file (scenarios/*.yaml)")
    return _result(missing, "missing input files")


@dg.asset_check(asset=teams, blocking=True)
def teams_capacity_positive(teams: pd.DataFrame) -> dg.AssetCheckResult:
    """Every team has capacity > 0."""
    return _result(checks.nonpositive_capacity(teams), "teams without capacity")


@dg.asset_check(asset=kpi_history, blocking=True)
def kpi_history_complete(kpi_history: pd.DataFrame) -> dg.AssetCheckResult:
    """At least 3 months per product and no run of more than 3 missing months (shorter gaps are imputed)."""
    return _result(checks.kpi_history_gaps(kpi_history), "KPI history gaps")


@dg.asset_check(asset=okrs, blocking=True)
def okrs_unique(okrs: pd.DataFrame) -> dg.AssetCheckResult:
    """Every key result id appears once."""
    return _result(checks.duplicate_key_results(okrs), "duplicate key results")


@dg.asset_check(asset=settings, blocking=True)
def settings_valid(settings: pd.DataFrame) -> dg.AssetCheckResult:
    """The settings parse and every period has a budget >= 0."""
    return _result(checks.negative_budgets(settings_from_table(settings)), "settings problems")
