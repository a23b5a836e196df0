"""The `weitblick` command as a user runs it, on the demo data and on bad data.

One subprocess smoke test runs the README's `plan` command as a user types it (the `demo`
command runs once per session, see conftest.py); the other commands run in-process
through Typer's CliRunner, with the same arguments and the same output.
"""

from __future__ import annotations

import json
import re
import shutil

import pytest
from pipelines_testkit import invoke, run_weitblick

from pipelines import paths

pytestmark = pytest.mark.slow


def test_plan_json_on_the_demo_folder():
    # the README's command, in a subprocess as a user types it
    proc = run_weitblick("plan", "--data", "data/demo", "--time-limit", "30", "--format", "json", "--no-explain")
    assert proc.returncode == 0, proc.stderr
    payload = json.loads(proc.stdout)  # stdout is exactly one JSON object
    assert {"status", "gap", "value", "funded"} <= set(payload)
    assert payload["status"] in {"Optimal", "TimeLimit"}
    assert payload["value"] > 0 and 0 <= payload["gap"] < 0.05
    funded = payload["funded"]
    assert funded and all({"item_id", "start", "finish"} <= set(f) for f in funded)
    assert all(1 <= f["start"] <= f["finish"] <= 8 for f in funded)
    assert payload["not_funded"] and all({"item_id", "reason"} <= set(r) for r in payload["not_funded"])
    # what the readers filled in or dropped is said, on stderr (stdout stays one JSON object)
    assert re.search(
        r"Read \S*data/demo with \d+ notes, \d+ of them filling in, dropping or renaming data", proc.stderr
    )


def test_plan_reports_bad_input_with_file_line_and_column(tmp_path):
    bad = tmp_path / "data"
    shutil.copytree(paths.demo_data_dir(), bad)
    lines = (bad / "teams.csv").read_text(encoding="utf-8").splitlines()
    header = lines[0].split(",")
    row = lines[2].split(",")
    row[header.index("capacity_pw")] = "lots"
    lines[2] = ",".join(row)
    (bad / "teams.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = invoke("plan", "--data", str(bad), "--format", "json")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert "teams.csv" in result.stderr and "line 3" in result.stderr and "capacity_pw" in result.stderr


def test_plan_explains_mandatory_items_that_cannot_fit(tmp_path):
    data = tmp_path / "data"
    shutil.copytree(paths.demo_data_dir(), data)
    settings = (data / "settings.yaml").read_text(encoding="utf-8").splitlines()
    settings = [
        (
            "budget_per_period: 50000"
            if line.startswith("budget_per_period:")
            else "budget_total: 400000"
            if line.startswith("budget_total:")
            else line
        )
        for line in settings
    ]
    (data / "settings.yaml").write_text("\n".join(settings) + "\n", encoding="utf-8")
    result = invoke("plan", "--data", str(data), "--format", "json")
    assert result.exit_code == 1 and result.stdout == ""
    assert "The mandatory and in-progress items cannot be planned" in result.stderr
    assert "budget of Q1 2027 is 50,000 EUR" in result.stderr
    assert "Traceback" not in result.stderr and "Stack Trace" not in result.stderr


def test_explain_says_why_an_item_is_out_and_what_it_would_take():
    # the README's command
    result = invoke("explain", "IOT-387", "--data", "data/demo", "--time-limit", "10")
    assert result.exit_code == 0, result.stderr[-3000:]
    assert "IOT-387 is funded" in result.stdout or "IOT-387 is not funded" in result.stdout
    assert "Forced " in result.stdout and "LP estimate" in result.stdout
    unknown = invoke("explain", "NOPE-1", "--data", "data/demo", "--time-limit", "5")
    assert unknown.exit_code == 1 and "NOPE-1 is not a candidate" in unknown.stderr


def test_frontier_prints_value_per_budget():
    result = invoke("frontier", "--data", "data/demo", "--time-limit", "5", "--points", "3", "--format", "json")
    assert result.exit_code == 0, result.stderr[-3000:]
    rows = json.loads(result.stdout)
    shares = [r["budget_share"] for r in rows]
    assert shares == sorted(shares) and 1.0 in shares
    assert {"budget_eur", "value_eur", "status", "gap", "marginal_value"} <= set(rows[0])


def test_scores_show_every_method_their_agreement_and_stability():
    result = invoke(
        "scores",
        "--data",
        "data/demo",
        "--method",
        "rice",
        "--top",
        "5",
        "--draws",
        "50",
        "--format",
        "json",
        "--verbose",
    )
    assert result.exit_code == 0, result.stderr[-3000:]
    # every note of the readers is listed: here the Jira link to an id the export does not have
    assert "notes, " in result.stderr and "renaming data:" in result.stderr
    assert "backlog.csv: 1 dependencies point at items that are not in the file: dropped" in result.stderr
    assert "IOT-382->SEC-14" in result.stderr
    payload = json.loads(result.stdout)
    assert [r["rank_rice"] for r in payload["top"]] == [1, 2, 3, 4, 5]
    assert {(a["method_a"], a["method_b"]) for a in payload["agreement"]} >= {("rice", "wsjf"), ("wsjf", "weighted")}
    assert all(0 <= s["p_top_k"] <= 1 and s["draws"] == 50 for s in payload["stability"])
    bad = invoke("scores", "--method", "gut")
    assert bad.exit_code == 2 and "use one of rice, wsjf, weighted, moscow" in bad.stderr


def test_health_shows_capital_tied_against_value_and_what_was_imputed():
    result = invoke("health", "--data", "data/demo", "--time-limit", "5", "--format", "json")  # the README's command
    assert result.exit_code == 0, result.stderr[-3000:]
    payload = json.loads(result.stdout)
    rows = {(r["level"], r["name"]): r for r in payload["health"]}
    base = {b["product"]: b for b in payload["kpi_baselines"]}
    for product, b in base.items():
        r = rows[("product", product)]
        assert r["contribution_eur_per_year"] == pytest.approx(
            b["mrr"] * 12 * b["gross_margin"] - r["run_cost_eur_per_year"]
        )
        assert r["capital_tied_eur_per_year"] == pytest.approx(
            r["run_cost_eur_per_year"] + r["investment_eur_per_year"]
        )
        assert ("run cost not covered" in r["flags"]) == (r["contribution_eur_per_year"] < 0 <= r["planned_npv_eur"])
    # the demo's Field Service App earns less than it costs to run (settings.yaml: 75,000 EUR a month), and
    # its funded items, realised as the evidence says, do not earn their cost either
    field = rows[("product", "Field Service App")]
    assert field["contribution_eur_per_year"] < 0 and field["planned_npv_eur"] < 0
    assert "capital tied without value" in field["flags"]
    themes = [r for r in payload["health"] if r["level"] == "theme"]
    assert sum(t["share_of_investment"] for t in themes) == pytest.approx(1.0)
    reasons = {(i["product"], i["month"][:7], i["reason"].split(":")[0]) for i in payload["kpi_imputations"]}
    assert {
        ("Customer Portal", "2025-03", "missing month"),
        ("Field Service App", "2025-09", "missing value"),
        ("IoT Platform", "2025-06", "outlier"),
    } <= reasons


@pytest.mark.parametrize(
    ("argv", "code", "said"),
    [
        (["weitblick", "--help"], 0, "Usage"),
        (["weitblick", "no-such-command"], 2, "No such command"),
        (["weitblick", "plan", "--no-explain", "--data", "EMPTY"], 1, "settings.yaml"),  # a folder without inputs
    ],
)
def test_the_command_exits_quickly_with_its_code_after_the_exit_handlers_ran(argv, code, said, tmp_path):
    # main() skips the interpreter's teardown: the exit handlers must still run and the output be complete
    import subprocess
    import sys

    argv = [str(tmp_path) if a == "EMPTY" else a for a in argv]
    script = (
        "import atexit, sys\n"
        "from pipelines import cli\n"
        "atexit.register(lambda: print('exit handler ran', file=sys.stderr))\n"
        f"sys.argv = {argv!r}\n"
        "cli.main()\n"
        "print('not reached', file=sys.stderr)\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == code, done.stderr
    assert said in done.stdout + done.stderr
    assert "exit handler ran" in done.stderr and "not reached" not in done.stderr
