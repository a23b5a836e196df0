"""Readers for real inputs: Jira exports, canonical CSV/Excel tables and whole input folders.

Every reader returns the canonical tables of :mod:`models.schemas`, validated, and raises
:class:`models.errors.InputError` naming file, line, column and fix when an input cannot
be used. What a reader fills in by default, ignores or drops is said in plain words in
its notes.
"""

from pipelines.sources.backlog import BacklogRead
from pipelines.sources.inputs import Inputs, backlog_file, load_inputs, read_workspace_backlog, table_path
from pipelines.sources.jira import read_jira_csv
from pipelines.sources.tables import read_backlog, read_kpis, read_okrs, read_table, read_teams
from pipelines.sources.values_sheet import values_file, write_values_template

__all__ = [
    "BacklogRead",
    "Inputs",
    "backlog_file",
    "load_inputs",
    "read_backlog",
    "read_jira_csv",
    "read_kpis",
    "read_okrs",
    "read_table",
    "read_teams",
    "read_workspace_backlog",
    "table_path",
    "values_file",
    "write_values_template",
]
