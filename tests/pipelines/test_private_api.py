"""The few Dagster names the store takes from outside Dagster's public API are still where
pipelines/_dagster_private.py imports them, still shaped as the store uses them, and are
imported nowhere else."""

from __future__ import annotations

import importlib
import re
from importlib.metadata import version

import pytest

from pipelines import paths

# what pipelines/_dagster_private.py imports, from where (kept here too, so this test reports
# a moved name even when that module no longer imports)
EXPECTED = {
    "DbTypeHandler": "dagster._core.storage.db_io_manager",
    "TableSlice": "dagster._core.storage.db_io_manager",
    "DuckDbClient": "dagster_duckdb.io_manager",
}
VERSIONS = f"dagster {version('dagster')}, dagster-duckdb {version('dagster-duckdb')}"


@pytest.mark.parametrize(("name", "module"), EXPECTED.items())
def test_private_dagster_name_is_still_there(name, module):
    try:
        found = getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError) as exc:
        pytest.fail(
            f"{VERSIONS}: {module}.{name} is gone ({exc}); find where this version keeps {name} "
            "and update pipelines/_dagster_private.py",
            pytrace=False,
        )
    from pipelines import _dagster_private

    assert _dagster_private.PRIVATE_NAMES == EXPECTED
    assert getattr(_dagster_private, name) is found


def test_private_dagster_names_keep_the_shape_the_store_uses():
    from pipelines._dagster_private import DbTypeHandler, DuckDbClient, TableSlice

    abstract = getattr(DbTypeHandler, "__abstractmethods__", frozenset())
    assert {"handle_output", "load_input", "supported_types"} <= abstract, f"{VERSIONS}: DbTypeHandler changed"
    assert {"table", "schema", "partition_dimensions"} <= set(TableSlice._fields), f"{VERSIONS}: TableSlice changed"
    select = DuckDbClient.get_select_statement(TableSlice(table="t", schema="s", partition_dimensions=[]))
    assert re.fullmatch(r"SELECT \* FROM s\.t", select.strip(), flags=re.IGNORECASE), select


def test_only_the_private_module_imports_outside_the_public_api():
    root = paths.project_root()
    private = re.compile(r"^\s*(from|import)\s+(dagster\._|dagster_duckdb\.io_manager\b)", re.MULTILINE)
    offenders = [
        str(f.relative_to(root))
        for folder in ("models", "pipelines", "notebooks", "benchmarks")
        if (root / folder).exists()
        for f in sorted((root / folder).rglob("*.py"))
        if f.name != "_dagster_private.py" and private.search(f.read_text(encoding="utf-8"))
    ]
    assert offenders == [], "import these names from pipelines._dagster_private instead"
