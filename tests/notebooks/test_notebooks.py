"""Notebooks are committed as jupytext pairs without outputs (the review is executed by the
``review_report`` asset, see tests/pipelines/test_refresh.py; the what-if notebook by
tests/pipelines/test_what_if.py)."""

from __future__ import annotations

import jupytext
import nbformat
import pytest

from pipelines import paths

NOTEBOOKS = sorted(paths.notebooks_dir().glob("*.ipynb"))


def test_there_are_the_review_and_the_what_if_notebooks():
    assert [p.name for p in NOTEBOOKS] == ["review.ipynb", "what_if.ipynb"]


@pytest.mark.parametrize("ipynb", NOTEBOOKS, ids=lambda p: p.name)
def test_pair_in_sync_and_without_outputs(ipynb):
    nb = nbformat.read(ipynb, as_version=4)
    script = jupytext.read(ipynb.with_suffix(".py"))
    code = lambda n: [(c.cell_type, c.source.strip()) for c in n.cells]  # noqa: E731
    assert code(nb) == code(script), "run `make notebooks` to re-sync the pair"
    assert all(not c.get("outputs") and c.get("execution_count") is None for c in nb.cells if c.cell_type == "code")
    params = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(params) == 1 and "store" in params[0].source
