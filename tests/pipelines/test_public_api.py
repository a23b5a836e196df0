"""The project uses Dagster through its public API only: no module imports from ``dagster._``
or from the private modules of Dagster's libraries, so an upgrade cannot break it silently."""

from __future__ import annotations

import re

from pipelines import paths


def test_nothing_imports_dagster_internals():
    root = paths.project_root()
    private = re.compile(r"^\s*(from|import)\s+(dagster\._|dagster_\w+\.\w*io_manager\b)", re.MULTILINE)
    offenders = [
        str(f.relative_to(root))
        for folder in ("models", "pipelines", "notebooks", "benchmarks")
        if (root / folder).exists()
        for f in sorted((root / folder).rglob("*.py"))
        if private.search(f.read_text(encoding="utf-8"))
    ]
    assert offenders == [], "use Dagster's public API (dagster, dagster_duckdb) instead"
