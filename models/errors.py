"""One exception hierarchy for the workbench.

Every error a user can cause names where it happened (file, row/line, column) and how
to fix it, so a planner can mend the input without reading a traceback.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


class WeitblickError(Exception):
    """Base class of every error raised by Weitblick."""


@dataclass
class InputProblem:
    """One thing wrong with one input, located as precisely as the source allows."""

    file: str
    message: str
    fix: str = ""
    row: int | None = None  # 1-based line in the file (header is line 1) or row number
    column: str | None = None

    def __str__(self) -> str:
        where = self.file
        if self.row is not None:
            where += f", line {self.row}"
        if self.column is not None:
            where += f", column '{self.column}'"
        text = f"{where}: {self.message}"
        if self.fix:
            text += f" Fix: {self.fix}"
        return text


class InputError(WeitblickError):
    """An input file cannot be used as it is. Carries every problem found, not just the first."""

    def __init__(self, problems: list[InputProblem] | InputProblem):
        self.problems = [problems] if isinstance(problems, InputProblem) else list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))

    @classmethod
    def single(
        cls,
        file: str | Path,
        message: str,
        fix: str = "",
        row: int | None = None,
        column: str | None = None,
    ) -> InputError:
        return cls(InputProblem(str(file), message, fix, row, column))


class ScenarioError(InputError):
    """A scenario file is invalid (unknown key, segment or distribution, bad value)."""


class ModelError(WeitblickError):
    """A model was asked something it cannot answer (e.g. inconsistent inputs)."""


class FormulaError(ModelError):
    """A scoring formula cannot be used: ``problem`` says what and where in its text, ``fix``
    how to mend it; ``where`` names the formula (e.g. settings scoring_formulas.my_score)."""

    def __init__(self, where: str, problem: str, fix: str = ""):
        self.where, self.problem, self.fix = where, problem, fix
        super().__init__(f"{where}: {problem}" + (f" Fix: {fix}" if fix else ""))

    def __reduce__(self):  # pickled with its parts (worker processes), not its message
        return type(self), (self.where, self.problem, self.fix)


class SolverError(ModelError):
    """The solver returned no usable plan (infeasible, unbounded, error, or no solution in time)."""

    def __init__(self, message: str, status: str):
        self.status = status
        super().__init__(message)


class StoreError(WeitblickError):
    """The store (the DuckDB file and Dagster instance under WEITBLICK_HOME) cannot be used:
    missing, not a folder or file where one is expected, locked by another program, or
    without the table asked for."""


class ReportError(WeitblickError):
    """A report cannot be made (e.g. no browser to print it as PDF); the message says how to fix it."""
