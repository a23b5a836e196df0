"""The README shows commands a user can type: every ``weitblick`` command in it exists and takes
the options shown (each command's ``--help``, in this process)."""

from __future__ import annotations

import re
import shlex

import pytest
from pipelines_testkit import invoke

from pipelines import paths


def _readme_commands() -> list[list[str]]:
    text = (paths.project_root() / "README.md").read_text(encoding="utf-8")
    lines = [m.group(1) for m in re.finditer(r"^\.venv/bin/weitblick (.+?)(?:\s+#.*)?$", text, flags=re.MULTILINE)]
    return [shlex.split(line) for line in lines]


def test_the_readme_shows_the_weekly_commands():
    shown = {args[0] for args in _readme_commands()}
    assert {"init", "plan", "refresh", "status", "history", "diff", "compare", "stress-test"} <= shown


@pytest.mark.parametrize("args", _readme_commands(), ids=lambda a: " ".join(a[:2]))
def test_each_readme_command_takes_the_options_it_shows(args):
    result = invoke(args[0], "--help")
    assert result.exit_code == 0, result.stderr
    options = [a for a in args[1:] if a.startswith("--")]
    missing = [o for o in options if o not in result.stdout]
    assert missing == [], f"weitblick {args[0]} has no {missing}"
