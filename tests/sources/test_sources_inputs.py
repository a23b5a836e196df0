"""load_inputs: the whole folder, cross-file checks, missing and ambiguous files."""

from __future__ import annotations

import shutil

import pytest

from models.errors import InputError
from pipelines.paths import demo_data_dir
from pipelines.sources import Inputs, backlog_file, load_inputs

DEMO_FILES = ("backlog.csv", "teams.csv", "kpis.csv", "okrs.csv", "settings.yaml")


def copy_demo(target):
    for name in DEMO_FILES:
        shutil.copy(demo_data_dir() / name, target / name)
    return target


def test_demo_folder_loads():
    inputs = load_inputs(demo_data_dir())
    assert isinstance(inputs, Inputs)
    assert (len(inputs.backlog), len(inputs.teams), len(inputs.kpi_history), len(inputs.okrs)) == (
        140,
        6,
        107,
        10,
    )  # kpis: one month missing (an export gap)
    assert any("read as a Jira export" in n for n in inputs.notes)


def test_unknown_okr_in_the_backlog(tmp_path):
    copy_demo(tmp_path)
    okrs = (tmp_path / "okrs.csv").read_text(encoding="utf-8").replace("KR-4.2,", "KR-4.9,")
    (tmp_path / "okrs.csv").write_text(okrs, encoding="utf-8")
    with pytest.raises(InputError) as err:
        load_inputs(tmp_path)
    problem = err.value.problems[0]
    assert problem.file.endswith("backlog.csv") and problem.column == "okr"
    assert "'KR-4.2', which is not in okrs" in problem.message and "KR-4.9" in problem.fix


def test_missing_and_ambiguous_files(tmp_path):
    copy_demo(tmp_path)
    (tmp_path / "kpis.csv").unlink()
    with pytest.raises(InputError, match=r"kpis.csv: file not found. Fix: put kpis.csv \(or kpis.xlsx\)"):
        load_inputs(tmp_path)
    copy_demo(tmp_path)
    (tmp_path / "teams.xlsx").write_bytes(b"")
    with pytest.raises(InputError, match=r"both teams.csv and teams.xlsx exist"):
        load_inputs(tmp_path)


def test_bad_settings_name_the_key(tmp_path):
    copy_demo(tmp_path)
    text = (tmp_path / "settings.yaml").read_text(encoding="utf-8").replace("periods: 8", "periodz: 8")
    (tmp_path / "settings.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(InputError, match=r"settings.yaml, line \d+, column 'periodz': unknown key"):
        load_inputs(tmp_path)


def test_backlog_file_accepts_csv_or_xlsx(tmp_path):
    (tmp_path / "backlog.xlsx").write_bytes(b"")
    assert backlog_file(tmp_path) == tmp_path / "backlog.xlsx"
    assert backlog_file(demo_data_dir()) == demo_data_dir() / "backlog.csv"
