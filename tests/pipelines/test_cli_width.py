"""Tables readable at 100 columns: no line is wider, ids are never cut, titles wrap instead."""

from __future__ import annotations

import json
import re

import pytest
from pipelines_testkit import home_env
from typer.testing import CliRunner

from pipelines import cli, paths
from pipelines.sources import load_inputs

pytestmark = pytest.mark.slow


@pytest.fixture
def narrow(monkeypatch):
    monkeypatch.setattr(cli.out, "width", 100)


def _lines(text: str) -> list[str]:
    return text.splitlines()


def test_plan_tables_fit_100_columns_and_keep_every_id_whole(narrow):
    result = CliRunner().invoke(cli.app, ["plan", "--no-explain", "--time-limit", "1"], catch_exceptions=False)
    assert result.exit_code == 0, result.stderr[-2000:]
    assert max(len(line) for line in _lines(result.stdout)) <= 100
    assert "…" not in result.stdout
    # the plan table lists as many whole backlog ids as its title says items are funded (a split id is no id)
    funded = int(re.search(r"Recommended plan: (\d+) of \d+ candidate items funded", result.stdout).group(1))
    section = result.stdout.split("Recommended plan:", 1)[1].split("Not funded:", 1)[0]
    ids = set(load_inputs(paths.demo_data_dir()).backlog["item_id"])
    assert len(set(re.findall(r"\b[A-Z]+-\d+\b", section)) & ids) == funded


def test_status_fits_100_columns(narrow, copy_of_demo_store):
    runner = CliRunner(env=home_env(copy_of_demo_store, copy_of_demo_store / "reports"))
    table = runner.invoke(cli.app, ["status"], catch_exceptions=False)
    funded = {i["item_id"] for i in json.loads(runner.invoke(cli.app, ["status", "--format", "json"]).stdout)["funded"]}
    assert table.exit_code == 0 and max(len(line) for line in _lines(table.stdout)) <= 100
    assert funded <= set(re.findall(r"\b[A-Z]+-\d+\b", table.stdout)) and "…" not in table.stdout
