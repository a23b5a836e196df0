"""YAML inputs report problems by file, line and key, the same way for every reader."""

from __future__ import annotations

import pytest

from models.errors import InputError
from models.settings import load_settings
from models.yamlfile import line_of

SETTINGS = """\
company: Test GmbH
start: 2027-01-01
periods: 2
budget_per_period: [100, 200]
strategic_balance:
  run: {min: 0.5, max: 0.2}
solver:
  time_limit_s: -1
"""


def test_line_of_walks_nested_and_flow_mappings_and_lists():
    assert line_of(SETTINGS, ["periods"]) == 3
    assert line_of(SETTINGS, ["budget_per_period", 1]) == 4
    assert line_of(SETTINGS, ["strategic_balance", "run", "max"]) == 6
    assert line_of(SETTINGS, ["solver", "time_limit_s"]) == 8
    assert line_of(SETTINGS, ["solver", "missing_key"]) == 7  # stays at the parent
    assert line_of("a: [", ["a"]) is None  # broken YAML has no lines to give


def test_settings_problems_name_file_line_and_key(tmp_path):
    path = tmp_path / "settings.yaml"
    path.write_text(SETTINGS, encoding="utf-8")
    with pytest.raises(InputError) as info:
        load_settings(path)
    found = {(p.row, p.column) for p in info.value.problems}
    assert (6, "strategic_balance.run") in found  # min above max
    assert (8, "solver.time_limit_s") in found  # must be > 0
    assert all(p.file == str(path) for p in info.value.problems)


def test_settings_file_errors(tmp_path):
    with pytest.raises(InputError, match=r"settings.yaml: file not found"):
        load_settings(tmp_path / "settings.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("company: x\nstart: [\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"bad.yaml, line \d+: not valid YAML"):
        load_settings(bad)
    listed = tmp_path / "list.yaml"
    listed.write_text("- a\n- b\n", encoding="utf-8")
    with pytest.raises(InputError, match="expected a mapping of settings"):
        load_settings(listed)
