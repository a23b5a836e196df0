"""A team's own workspace, made from its Jira export (``weitblick init``).

A workspace is a folder with the files of ``data/demo/``: ``backlog.csv|xlsx`` (the export,
copied unchanged), ``teams.csv``, ``kpis.csv``, ``okrs.csv`` and ``settings.yaml``, plus a
README saying what to fill in next. Nothing is invented: what the export and the files the
team hands in do not say is left for the team to fill in (a teams sheet with the skills the
export names, key results the export points at), and the settings name no theme or key
result the data does not have. With its teams (and its key results, if the export names
any) given, a new workspace plans at once.
"""

from __future__ import annotations

import re
import shutil
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from models.errors import InputError
from pipelines.sources.backlog import CONTAINER_TYPES
from pipelines.sources.jira import is_jira_header, jira_raw_backlog
from pipelines.sources.rawfile import read_raw
from pipelines.sources.tables import KPI_COLUMNS, OKR_COLUMNS, TEAM_COLUMNS, read_kpis, read_okrs, read_teams
from pipelines.sources.values import is_blank, normalise_token, text
from pipelines.sources.values_sheet import write_values_template

PERIODS = 8  # quarters planned by default: two years
TEAM_HEADER = [*TEAM_COLUMNS, "velocity_sp_per_pw"]
OKR_HEADER = [*OKR_COLUMNS, "description", "product", "baseline", "weight"]
# 'Backend 60%, Frontend 40%' -> Backend, Frontend
_SPLIT_SKILL = re.compile(r"([^\d,;%]+?)\s*\d+(?:[.,]\d+)?\s*%")


@dataclass
class Workspace:
    """What ``init`` wrote: each file with where it came from, and what the team fills in next."""

    folder: Path
    files: dict[str, str] = field(default_factory=dict)
    next_steps: list[str] = field(default_factory=list)


@dataclass
class ExportSummary:
    """What a Jira export says about the company: its products, the skills it names, the
    key results it points at, whether it carries strategic themes, and how many items."""

    products: list[str]
    skills: list[str]
    key_results: list[str]
    themes: bool
    items: int


def summarise_export(path: Path) -> ExportSummary:
    """Products (custom field Product, else project name or key, of the items that are planned:
    not Initiatives and other grouping types), skills (named in Skill Split: components name
    modules as often as skills, so they are not taken for skills), key results (OKR) and items
    of a Jira export; InputError if it is none."""
    table = read_raw(path)
    if not is_jira_header(table.header):
        raise InputError.single(
            path,
            "this is not a Jira export: it has no 'Issue key' column.",
            "export the issues from Jira with 'Export CSV (all fields)' and pass that file to --jira.",
            1,
        )
    raw = jira_raw_backlog(table)
    products, skills, krs = Counter(), Counter(), Counter()
    themes = False
    for item in raw.items:
        c = item.cells
        if normalise_token(text(c.get("item_type"))) in CONTAINER_TYPES:
            continue
        product = text(c.get("product")) or text(c.get("project_name")) or text(c.get("project_key"))
        if product:
            products[product] += 1
        split = c.get("skill_split")
        if not is_blank(split):
            skills.update(s.strip().lower() for s in _SPLIT_SKILL.findall(text(split)) if s.strip())
        if not is_blank(c.get("okr")):
            krs[text(c.get("okr")).strip()] += 1
        themes = themes or not is_blank(c.get("theme"))
    return ExportSummary(sorted(products), sorted(skills), sorted(krs), themes, len(raw.items))


def current_quarter_start(today: date) -> date:
    return date(today.year, 3 * ((today.month - 1) // 3) + 1, 1)


def init_workspace(
    folder: Path,
    jira: Path,
    teams: Path | None = None,
    okrs: Path | None = None,
    kpis: Path | None = None,
    company: str | None = None,
    today: date | None = None,
) -> Workspace:
    """Make ``folder`` a workspace from the export ``jira`` and the files the team has.

    ``teams``, ``okrs`` and ``kpis`` are copied after they are read and validated (so a bad
    file is refused here, with its line and column); without ``teams`` a teams sheet lists
    the skills the export names with capacity and cost to fill in; without ``okrs`` the key
    results the export points at are listed with metric and target to fill in; without
    ``kpis`` the KPI history is empty (values then rest on the items' own inputs). Periods
    start with the quarter of ``today``. Raises InputError when ``folder`` holds files.
    """
    folder, jira = Path(folder), Path(jira)
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise InputError.single(
            folder, "the folder exists and is not empty.", "choose a new folder; init never overwrites files."
        )
    if not jira.is_file():
        raise InputError.single(jira, "file not found.", "pass the Jira export with --jira.")
    export = summarise_export(jira)
    team_table = read_teams(teams) if teams else None
    okr_table = read_okrs(okrs) if okrs else None
    if kpis:
        read_kpis(kpis)
    folder.mkdir(parents=True, exist_ok=True)
    ws = Workspace(folder)

    backlog_name = "backlog" + (".xlsx" if jira.suffix.lower() == ".xlsx" else ".csv")
    shutil.copyfile(jira, folder / backlog_name)
    ws.files[backlog_name] = f"the Jira export {jira.name}, unchanged ({export.items} rows)"

    for name, given in (("teams", teams), ("okrs", okrs), ("kpis", kpis)):
        if given:
            target = f"{name}{Path(given).suffix.lower()}"
            shutil.copyfile(given, folder / target)
            ws.files[target] = f"copied from {Path(given).name}"
    if not teams:
        rows = [f"{skill.title()} team,{skill},,,," for skill in export.skills] or [",,,,,"]
        (folder / "teams.csv").write_text(",".join(TEAM_HEADER) + "\n" + "\n".join(rows) + "\n", encoding="utf-8")
        ws.files["teams.csv"] = (
            f"a sheet to fill in: one team per skill the export's Skill Split names ({len(export.skills)})"
            if export.skills
            else "a sheet to fill in: the export names no skills (no Skill Split), so list your teams and skills"
        )
        ws.next_steps.append(
            "teams.csv: enter each team's headcount, capacity_pw (person-weeks per quarter, about headcount x 11), "
            "cost_per_pw (EUR) and velocity_sp_per_pw (story points per person-week); rename skills to match the "
            "export's Skill Split and Component/s."
        )
    if not okrs:
        rows = [f"{kr},{kr},,,,,," for kr in export.key_results]
        (folder / "okrs.csv").write_text(
            ",".join(OKR_HEADER) + "\n" + "".join(f"{row}\n" for row in rows), encoding="utf-8"
        )
        if export.key_results:
            ws.files["okrs.csv"] = f"the {len(export.key_results)} key results the export points at, to fill in"
            ws.next_steps.append(
                "okrs.csv: give each key result its objective, metric (mau, mrr, churn_rate, ...), product and "
                "target; the export's items point at them."
            )
        else:
            ws.files["okrs.csv"] = "empty: the export points at no key result"
    if not kpis:
        (folder / "kpis.csv").write_text(",".join(KPI_COLUMNS) + "\n", encoding="utf-8")
        ws.files["kpis.csv"] = "empty: add your products' monthly KPIs to anchor values on them"
        ws.next_steps.append(
            f"kpis.csv: add monthly KPIs per product ({', '.join(export.products) or 'your products'}) from your "
            "analytics and billing: mau, dau, new_users, churned_users, conversion_rate, arpu, mrr, nps, cac."
        )

    start = current_quarter_start(today or date.today())
    budget = None if team_table is None else float((team_table["capacity_pw"] * team_table["cost_per_pw"]).sum())
    name = company or (export.products[0] if len(export.products) == 1 else "Your company")
    (folder / "settings.yaml").write_text(
        _settings_text(name, start, budget, export, okr_table is not None, jira.name), encoding="utf-8"
    )
    ws.files["settings.yaml"] = f"planning settings: {PERIODS} quarters from {start:%Y-%m-%d}, commented"
    if budget is None:
        ws.next_steps.append("settings.yaml: set budget_per_period once the teams are filled in.")
    if team_table is not None:
        # the values sheet, as a workbook with drop-downs (one values file only: csv and xlsx side by side are refused)
        sheet = write_values_template(folder, formats=("xlsx",))
        ws.files["values.xlsx"] = (
            f"one row per candidate item ({len(sheet.table)}): value inputs to fill in where the export has none"
        )
        ws.next_steps.append(
            "values.xlsx: fill in what you know of each item's value (reach, impact, confidence, business value, "
            "KPI and uplift ...); empty cells keep what the export says. Items without any value input are worth 0."
        )
    else:
        ws.next_steps.append(f"once teams.csv is filled in: weitblick values-template --data {folder}")
    ws.next_steps.append(f"then: weitblick plan --data {folder}")
    (folder / "README.md").write_text(_readme_text(ws, jira.name), encoding="utf-8")
    ws.files["README.md"] = "what is here and what to fill in next"
    return ws


def _settings_text(
    company: str, start: date, budget: float | None, export: ExportSummary, has_okrs: bool, source: str
) -> str:
    budget_line = (
        f"budget_per_period: {budget:.0f}   # every team used fully (capacity_pw x cost_per_pw); set your budget"
        if budget is not None
        else "budget_per_period: 0   # set once teams.csv is filled in (capacity_pw x cost_per_pw per quarter)"
    )
    themes = (
        "# The export carries strategic themes: a balance of spend between them may be asked for, e.g.\n"
        if export.themes
        else "# The export carries no strategic themes; once items have them, a balance may be asked for, e.g.\n"
    )
    okr = (
        "# Each key result gets at least one funded item that names it:\n# okr_coverage:\n#   min_items: 1\n"
        if has_okrs and export.key_results
        else "# Once okrs.csv defines key results: okr_coverage: {min_items: 1}\n"
    )
    return (
        f"# Planning settings of {company}, written by `weitblick init` from {source}.\n"
        "# Validated by models.settings.Settings; money in EUR; periods are quarters numbered from 1.\n"
        f"company: {_yaml_text(company)}\n"
        "currency: EUR\n"
        f"start: {start:%Y-%m-%d}            # first day of period 1: the current quarter\n"
        f"periods: {PERIODS}\n"
        "period_months: 3\n"
        "discount_rate: 0.08          # annual, for net present value: use your cost of capital\n"
        f"{budget_line}\n"
        "value_horizon_months: 36     # benefits count up to this month after the plan start\n"
        "commoditisation_per_year: 0.25  # yearly value decay of differentiators as competitors catch up\n"
        f"{themes}"
        "# strategic_balance:\n#   run:  {min: 0.15, max: 0.35}\n#   grow: {min: 0.35, max: 0.60}\n"
        f"{okr}"
        "in_progress: continue        # running work continues; may_stop lets the optimiser stop it\n"
        "solver:\n  name: highs\n  time_limit_s: 30\n  gap_rel: 0.001\n"
    )


def _yaml_text(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _readme_text(ws: Workspace, source: str) -> str:
    files = "\n".join(f"| `{name}` | {what} |" for name, what in ws.files.items())
    steps = "\n".join(f"{i}. {step}" for i, step in enumerate(ws.next_steps, 1))
    return (
        f"# Weitblick workspace\n\nMade by `weitblick init` from the Jira export `{source}`.\n\n"
        f"| file | content |\n|---|---|\n{files}\n| `README.md` | this page |\n\n"
        f"## What to fill in next\n\n{steps}\n\n"
        "Every command reads this folder with `--data`, says how many notes its readers made (a default filled "
        "in, an item dropped) and lists them with `--verbose`.\n"
    )
