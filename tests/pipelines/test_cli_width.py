"""Tables readable at 100 columns: no line is wider, ids are never cut, titles wrap instead."""

from __future__ import annotations

import json
import re

import pytest
from pipelines_testkit import home_env
from typer.testing import CliRunner

from pipelines import cli

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
    payload = CliRunner().invoke(cli.app, ["plan", "--no-explain", "--time-limit", "1", "--format", "json"])
    funded = {f["item_id"] for f in json.loads(payload.stdout)["funded"]}
    shown = set(re.findall(r"\b[A-Z]+-\d+\b", result.stdout))
    assert funded <= shown  # every funded id appears whole (none split over two lines)


def test_status_fits_100_columns(narrow, copy_of_demo_store):
    runner = CliRunner(env=home_env(copy_of_demo_store, copy_of_demo_store / "reports"))
    table = runner.invoke(cli.app, ["status"], catch_exceptions=False)
    funded = {i["item_id"] for i in json.loads(runner.invoke(cli.app, ["status", "--format", "json"]).stdout)["funded"]}
    assert table.exit_code == 0 and max(len(line) for line in _lines(table.stdout)) <= 100
    assert funded <= set(re.findall(r"\b[A-Z]+-\d+\b", table.stdout)) and "…" not in table.stdout
