"""`weitblick plan` on a Jira export without value inputs stops and names `values-template`;
with the sheet that command writes, partly filled in, it plans with a value, and with
`--value-proxy priority` the other items count by their Jira priority.

The workspace is the vendored Duraspace excerpt with the demo's teams and OKRs, the demo's KPI
history renamed to its products and settings without rules naming the demo's themes or key
results. Runs the Dagster job in this process: slow.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest
from pipelines_testkit import invoke

from pipelines.paths import demo_data_dir, project_root

pytestmark = pytest.mark.slow

DURASPACE = project_root() / "tests" / "data" / "jira" / "duraspace_585_issues_excerpt_DERIVED.csv"
SETTINGS = """company: DuraSpace
start: 2027-01-01
periods: 8
period_months: 3
budget_per_period: 1200000
"""


def duraspace_workspace(folder: Path) -> Path:
    folder.mkdir(parents=True)
    shutil.copy(DURASPACE, folder / "backlog.csv")
    for name in ("teams.csv", "okrs.csv"):
        shutil.copy(demo_data_dir() / name, folder / name)
    kpis = (demo_data_dir() / "kpis.csv").read_text(encoding="utf-8")
    kpis = kpis.replace("\nIoT Platform,", "\nDuraCloud,").replace("\nCustomer Portal,", "\nDuraCloud for Research,")
    (folder / "kpis.csv").write_text(kpis, encoding="utf-8")
    (folder / "settings.yaml").write_text(SETTINGS, encoding="utf-8")
    return folder


def test_plan_without_values_stops_and_plans_once_the_sheet_is_filled_in(tmp_path):
    data = duraspace_workspace(tmp_path / "ws")
    result = invoke("plan", "--data", str(data), "--format", "json", "--no-explain")
    assert result.exit_code == 1 and result.stdout == ""
    assert "none of the 117 candidate items has a value input" in result.stderr
    assert "weitblick values-template --data" in result.stderr
    assert "Traceback" not in result.stderr

    result = invoke("values-template", "--data", str(data))
    assert result.exit_code == 0, result.stderr
    assert f"Wrote {data / 'values.csv'} and {data / 'values.xlsx'}: 117 candidate items" in result.stdout
    assert invoke("values-template", "--data", str(data)).exit_code == 1  # no overwrite without --force

    (data / "values.xlsx").unlink()
    sheet = pd.read_csv(data / "values.csv", dtype=str, keep_default_na=False)
    filled = sheet["item_id"].tolist()[:8]
    sheet.loc[:7, "kpi"] = "conversion_rate"
    sheet.loc[:7, "kpi_uplift"] = "+2%"
    sheet.to_csv(data / "values.csv", index=False)

    result = invoke("plan", "--data", str(data), "--format", "json", "--no-explain")
    assert result.exit_code == 0, result.stderr
    payload = json.loads(result.stdout)
    assert payload["status"] == "Optimal"
    assert payload["value"] > 0
    assert set(filled) <= {f["item_id"] for f in payload["funded"]}

    # the other items valued by their Jira priority, relative to the eight
    result = invoke("plan", "--data", str(data), "--format", "json", "--no-explain", "--value-proxy", "priority")
    assert result.exit_code == 0, result.stderr
    proxied = json.loads(result.stdout)
    assert proxied["value"] > payload["value"]
    # every output marks what a value rests on: the eight on their KPI, the others on the proxy
    basis = {f["item_id"]: f["value_basis"] for f in proxied["funded"]}
    assert {basis[i] for i in filled if i in basis} == {"kpi"}
    assert "proxy: priority" in set(basis.values())
