"""Helpers of the end-to-end tests: run `weitblick` as a user does (a subprocess) or in this
process (Typer's CliRunner), with its state under a home of its own."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from pipelines import paths

WEITBLICK = str(Path(sys.executable).parent / "weitblick")
# Effort of the session's refresh: short solver limits; the plan reports its gap honestly either way.
DEMO_REPLICATIONS = 4
DEMO_ARGS = (
    "--replications",
    str(DEMO_REPLICATIONS),
    "--time-limit",
    "6",
    "--explain-time-limit",
    "0.25",
    "--robust-futures",
    "12",
    "--discovery-futures",
    "60",
)


def home_env(home: Path, reports: Path) -> dict[str, str]:
    """The environment of a command that keeps its state under ``home``."""
    return {
        **os.environ,
        "WEITBLICK_HOME": str(home),
        "WEITBLICK_REPORTS": str(reports),
        "DAGSTER_HOME": str(paths.dagster_home(home)),
    }


def run_weitblick(*args: str, env: dict[str, str] | None = None, timeout: int = 900) -> subprocess.CompletedProcess:
    """``weitblick ARGS`` in a subprocess from the project root, output captured as text."""
    return subprocess.run(
        [WEITBLICK, *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env or dict(os.environ),
        cwd=paths.project_root(),
    )


def invoke(*args: str):
    """``weitblick ARGS`` in this process (Typer's CliRunner), stdout and stderr apart. An
    exception that is not a clean exit fails the test with its traceback."""
    from typer.testing import CliRunner

    from pipelines.cli import app

    return CliRunner().invoke(app, list(args), catch_exceptions=False)


# A second company made from the demo: other product, skill and team names, other budgets.
OTHER_PRODUCTS = {"IoT Platform": "Sensor Cloud", "Customer Portal": "Service Hub", "Field Service App": "Crew App"}
OTHER_SKILLS = {
    "backend": "services",
    "frontend": "webui",
    "mobile": "apps",
    "data": "analytics",
    "ux": "design",
    "qa": "testing",
}
OTHER_TEAMS = {
    "Core Services": "Kernteam",
    "Web Experience": "Oberflaeche",
    "Mobile": "Appteam",
    "Data & Analytics": "Datenteam",
}


def other_company(folder: Path) -> Path:
    """The demo workspace with every product, skill and team renamed, a name in `company`, and
    budgets a tenth higher: a company whose names the library scenarios cannot know."""
    folder.mkdir(parents=True)
    for src in paths.demo_data_dir().iterdir():
        if src.suffix not in {".csv", ".yaml"}:
            continue
        text = src.read_text(encoding="utf-8")
        for old, new in OTHER_PRODUCTS.items():
            text = text.replace(old, new)
        for old, new in OTHER_SKILLS.items():
            # skills stand lower-case in teams.csv and capitalised in the backlog's Skill Split
            for o, n in ((old, new), (old.capitalize(), new.capitalize()), (old.upper(), new.upper())):
                text = re.sub(rf"\b{re.escape(o)}\b", n, text)
        if src.name == "teams.csv":
            for old, new in OTHER_TEAMS.items():
                text = re.sub(rf"^{re.escape(old)},", f"{new},", text, flags=re.MULTILINE)
        if src.name == "settings.yaml":
            text = text.replace("company: Keller Industrie-Software GmbH", "company: Nordwind Systeme AG")
            text = re.sub(
                r"^budget_per_period: \[(.*)\]$",
                lambda m: (
                    "budget_per_period: [" + ", ".join(str(int(int(b) * 1.1)) for b in m.group(1).split(", ")) + "]"
                ),
                text,
                flags=re.MULTILINE,
            )
            text = re.sub(
                r"^budget_total: (\d+)",
                lambda m: f"budget_total: {int(int(m.group(1)) * 1.1)}",
                text,
                flags=re.MULTILINE,
            )
        (folder / src.name).write_text(text, encoding="utf-8")
    return folder
