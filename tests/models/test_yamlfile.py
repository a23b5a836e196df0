"""YAML inputs report problems by file, line and key, the same way for every reader."""

from __future__ import annotations

import pytest

from models.errors import InputError, ModelError
from models.settings import load_settings, settings_from_table, settings_table
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


def test_a_scoring_formula_is_checked_when_the_settings_load(tmp_path):
    # plan reads the settings but never scores: the formula must be refused here, at its line
    path = tmp_path / "settings.yaml"
    path.write_text(
        "start: 2027-01-01\n"
        "budget_per_period: 100\n"
        "scoring_formulas:\n"
        '  mine: "reach * impact / effort"\n'
        '  typo: "reech * impact"\n'
        "  evil: \"__import__('os')\"\n",
        encoding="utf-8",
    )
    with pytest.raises(InputError) as info:
        load_settings(path)
    by_key = {p.column: p for p in info.value.problems}
    assert set(by_key) == {"scoring_formulas.typo", "scoring_formulas.evil"}
    typo = by_key["scoring_formulas.typo"]
    assert (typo.file, typo.row) == (str(path), 5)
    assert typo.message == "key 'scoring_formulas.typo': unknown name 'reech' at column 1. Did you mean 'reach'?"
    assert typo.fix.startswith("use arithmetic on the criteria: business_value, ")
    assert (
        by_key["scoring_formulas.evil"].row == 6
        and "Names starting with '_'" in by_key["scoring_formulas.evil"].message
    )
    text = str(info.value)
    assert text.count("Fix: ") == 2  # one fix per problem, not the formula's and the general one
    path.write_text(path.read_text(encoding="utf-8").rsplit("  typo", 1)[0], encoding="utf-8")
    assert load_settings(path).scoring_formulas == {"mine": "reach * impact / effort"}


def test_an_unknown_scoring_weight_is_refused_at_its_key_when_the_settings_load(tmp_path):
    path = tmp_path / "settings.yaml"
    path.write_text(
        "start: 2027-01-01\nbudget_per_period: 100\nscoring_weights:\n  value: 0.5\n  efort: 0.5\n",
        encoding="utf-8",
    )
    with pytest.raises(InputError) as info:
        load_settings(path)
    (problem,) = info.value.problems
    assert (problem.row, problem.column) == (5, "scoring_weights.efort")
    assert problem.message.startswith("key 'scoring_weights.efort': unknown criterion 'efort'; the criteria are value,")
    assert problem.fix == "rename the key or remove it."


def test_stored_settings_that_do_not_validate_are_a_model_error(tmp_path):
    path = tmp_path / "settings.yaml"
    path.write_text("start: 2027-01-01\nbudget_per_period: 100\n", encoding="utf-8")
    table = settings_table(load_settings(path), str(path))
    assert settings_from_table(table).budget(1) == 100
    with pytest.raises(ModelError, match="one-row settings table"):
        settings_from_table(table.iloc[0:0])
    # a store written before formulas were checked
    old = table.assign(
        settings_json=table["settings_json"].str.replace('"scoring_formulas":{}', '"scoring_formulas":{"x":"y"}')
    )
    with pytest.raises(
        ModelError,
        match=r"(?s)settings.yaml, column 'scoring_formulas.x': key .*unknown name 'y'.*Then refresh the store",
    ):
        settings_from_table(old)
