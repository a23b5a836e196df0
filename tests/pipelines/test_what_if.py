"""The what-if notebook, executed on the demo's current recommendation as an analyst runs it, and
the item comparison it shows, by hand."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path

import nbformat
import pandas as pd
import papermill

from models.whatif import changed_items
from pipelines import paths
from pipelines.kernels import LocalKernelManager


def _text(nb) -> str:
    """Every output of an executed notebook as text (markdown, HTML tables, streams)."""
    parts = []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            parts.append(str(data.get("text/markdown", "")) + str(data.get("text/html", "")) + str(out.get("text", "")))
    return "\n".join(parts)


def test_what_if_notebook_replans_a_budget_cut_beside_the_current_recommendation(demo_run, tmp_path):
    """Its example change cuts the total budget by a fifth: the re-optimised plan keeps every rule,
    the current recommendation breaks the smaller budget, and both are stress-tested beside the
    status quo."""
    out = tmp_path / "what_if.ipynb"
    papermill.execute_notebook(
        str(paths.notebooks_dir() / "what_if.ipynb"),
        str(out),
        parameters={"store": str(demo_run.store), "scenarios": "baseline", "replications": 3, "time_limit": 3.0},
        kernel_name="python3",
        progress_bar=False,
        kernel_manager_class=LocalKernelManager,
        cwd=str(paths.project_root()),
    )
    text = _text(nbformat.read(out, as_version=4))
    assert "Traceback" not in text and "Error" not in text
    assert "total budget 8.60 → 6.88 M EUR" in text
    tables = [t for t in _html_tables(out) if "plan" in t.columns]
    comparison = tables[0].set_index("plan")
    assert list(comparison.index) == ["current recommendation", "what if", "status quo"]
    assert comparison.loc["what if", "keeps_every_rule"] == "True"  # table cells are text
    assert "total budget exceeded" in str(comparison.loc["current recommendation", "rules_broken"])
    spend = comparison["spend_eur"].str.replace(" M", "").astype(float)
    assert spend["what if"] <= 6.88 + 0.005 < spend["current recommendation"]


class _Tables(HTMLParser):
    """The tables of an HTML text as lists of rows of cell texts (the standard library's parser)."""

    def __init__(self):
        super().__init__()
        self.tables, self._cell = [], None

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self.tables.append([])
        elif tag == "tr" and self.tables:
            self.tables[-1].append([])
        elif tag in ("td", "th"):
            self._cell = ""

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None and self.tables and self.tables[-1]:
            self.tables[-1][-1].append(self._cell.strip())
            self._cell = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell += data


def _html_tables(executed: Path) -> list[pd.DataFrame]:
    """Every HTML table the executed notebook shows, with its first row as the header."""
    nb = nbformat.read(executed, as_version=4)
    parser = _Tables()
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            parser.feed(str(out.get("data", {}).get("text/html", "")))
    return [pd.DataFrame(rows[1:], columns=rows[0]) for rows in parser.tables if rows and rows[0]]


def test_changed_items_by_hand():
    current = pd.DataFrame(
        {
            "item_id": ["A", "B", "C"],
            "title": ["a", "b", "c"],
            "funded": [True, True, False],
            "start_period": [1, 2, None],
        }
    )
    changed = pd.DataFrame(
        {
            "item_id": ["A", "B", "C"],
            "title": ["a", "b", "c"],
            "funded": [True, False, True],
            "start_period": [3, None, 1],
        }
    )
    t = changed_items(current, changed)
    assert t[["item_id", "change"]].values.tolist() == [["C", "added"], ["B", "dropped"], ["A", "moved"]]
    assert t.set_index("item_id").loc["A", "start_what_if"] == 3
