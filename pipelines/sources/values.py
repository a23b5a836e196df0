"""Cell parsers shared by the readers, and a collector of input problems.

Every parser takes one cell (a ``str`` from CSV or a Python value from Excel) and either
returns the value in canonical units or raises ``ValueError`` with a short reason; the
readers turn that into an :class:`~models.errors.InputProblem` naming file, line and column.

Numbers: ``3.5``, ``3,5`` (decimal comma), ``1.234,5`` (German thousands), ``1,234.5``,
``€ 4.500``. Fractions: ``80%``, ``80 %``, ``0.8``. Dates: Jira's ``11/May/24 03:26 PM``
(also 4-digit years, 24-hour times, German month abbreviations such as ``Mai``/``Okt``),
ISO ``2024-05-11`` (with or without time), German ``11.05.2024``.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Iterable
from datetime import date, datetime

from models.errors import InputError, InputProblem


class Info(str):
    """A reader's note that only says how a file was read (its format, what was kept, how
    estimates convert): it fills in, drops or renames nothing, so strict reading lets it pass.
    Every other note changes or drops data and is an error under ``strict``."""


def refuse_changes(rows: list[tuple[str, str, str, str]]) -> None:
    """Strict reading: every note that changes or drops data (not an Info) is an error of its file."""
    changes = [
        InputProblem(
            file,
            f"{note} (strict reading: nothing is filled in, dropped or renamed)",
            "mend the file, or read without --strict (settings: strict: false).",
        )
        for _, file, note, kind in rows
        if kind == "change"
    ]
    if changes:
        raise InputError(changes)


def is_blank(value: object) -> bool:
    """True for None, NaN and empty/whitespace strings."""
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return isinstance(value, str) and not value.strip()


def text(value: object) -> str:
    """A cell as stripped text; whole floats from Excel lose their '.0' (10001.0 -> '10001')."""
    if is_blank(value):
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    return str(value).strip()


_NUMBER_JUNK = re.compile(r"[\s\u00a0\u202f'€$£]|EUR|eur", re.UNICODE)
_DE_THOUSANDS = re.compile(r"^[+-]?\d{1,3}(\.\d{3})+(,\d+)?$")
_EN_THOUSANDS = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d+)?$")
_COMMA_DECIMAL = re.compile(r"^[+-]?\d*,\d+$")


def parse_number(value: object, decimal_comma: bool = False) -> float:
    """Parse a number cell. ``decimal_comma`` says the file writes 3,5 for three and a half."""
    if isinstance(value, bool):
        raise ValueError("not a number")
    if isinstance(value, (int, float)):
        if isinstance(value, float) and math.isnan(value):
            raise ValueError("empty")
        return float(value)
    raw = text(value)
    if re.search(r"\d\s*(€|EUR)\s*$", raw):  # '4.500 €': the euro sign after the number is German style
        decimal_comma = True
    s = _NUMBER_JUNK.sub("", raw)
    if not s:
        raise ValueError("empty")
    if s.startswith("(") and s.endswith(")"):  # accounting negative
        s = "-" + s[1:-1]
    if _DE_THOUSANDS.match(s) and (decimal_comma or "," in s):
        s = s.replace(".", "").replace(",", ".")
    elif _EN_THOUSANDS.match(s) and not decimal_comma:
        s = s.replace(",", "")
    elif _COMMA_DECIMAL.match(s):
        s = s.replace(",", ".")
    elif _EN_THOUSANDS.match(s) and decimal_comma:
        raise ValueError("ambiguous number (thousands or decimal comma?)")
    try:
        number = float(s)
    except ValueError:
        raise ValueError("not a number") from None
    if math.isnan(number) or math.isinf(number):
        raise ValueError("not a finite number")
    return number


def parse_percent_or_number(value: object, decimal_comma: bool = False) -> tuple[float, bool]:
    """Parse ``'80%'`` -> (80.0, True) or ``'0.8'`` -> (0.8, False)."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return parse_number(value), False
    s = text(value)
    has_percent = s.endswith("%")
    if has_percent:
        s = s[:-1]
    return parse_number(s, decimal_comma), has_percent


def parse_fraction(value: object, decimal_comma: bool = False) -> float:
    """A share in [0, 1]: ``80%`` or ``0.8`` -> 0.8. Bare numbers above 1 are read as percent."""
    number, percent = parse_percent_or_number(value, decimal_comma)
    if percent or number > 1:
        number /= 100.0
    if number < 0 or number > 1:
        raise ValueError("must be between 0 % and 100 %")
    return number


def parse_relative_change(value: object, decimal_comma: bool = False) -> float:
    """A relative change: ``+3%`` or ``0.03`` -> 0.03; ``-5 %`` -> -0.05.

    A bare number beyond ±1 (e.g. ``3``) is refused: it would mean +300 %.
    """
    number, percent = parse_percent_or_number(value, decimal_comma)
    if percent:
        return number / 100.0
    if abs(number) > 1:
        raise ValueError("reads as more than ±100 %")
    return number


_DURATION_PART = re.compile(r"(\d+(?:[.,]\d+)?)\s*([wdhm])", re.IGNORECASE)
SECONDS_PER_PERSON_WEEK = 40 * 3600  # Jira time tracking default: 8 h days, 5 day weeks


def parse_duration_seconds(value: object, decimal_comma: bool = False) -> float:
    """Jira time tracking: seconds (``144000``) or text (``1w 2d 4h 30m``; 8 h days, 5 d weeks)."""
    s = text(value)
    parts = _DURATION_PART.findall(s)
    if parts and _DURATION_PART.sub("", s).strip() == "":
        unit = {"w": 5 * 8 * 3600, "d": 8 * 3600, "h": 3600, "m": 60}
        return sum(float(n.replace(",", ".")) * unit[u.lower()] for n, u in parts)
    return parse_number(value, decimal_comma)


_GERMAN_MONTHS = {
    "jän": "Jan",
    "jan": "Jan",
    "feb": "Feb",
    "mär": "Mar",
    "mrz": "Mar",
    "apr": "Apr",
    "mai": "May",
    "jun": "Jun",
    "jul": "Jul",
    "aug": "Aug",
    "sep": "Sep",
    "okt": "Oct",
    "nov": "Nov",
    "dez": "Dec",
}
_MONTH_TOKEN = re.compile(r"(?<=/)([A-Za-zÄÖÜäöü]{3,4})\.?(?=/)")
_DATE_FORMATS = (
    "%d/%b/%y %I:%M %p",
    "%d/%b/%Y %I:%M %p",
    "%d/%b/%y %H:%M",
    "%d/%b/%Y %H:%M",
    "%d/%b/%y",
    "%d/%b/%Y",
    "%d.%m.%Y %H:%M",
    "%d.%m.%Y %H:%M:%S",
    "%d.%m.%Y",
    "%d.%m.%y %H:%M",
    "%d.%m.%y",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%d",
)


def parse_datetime(value: object) -> datetime:
    """Parse a date/time cell (see module docstring for the accepted forms)."""
    if isinstance(value, datetime):
        return value
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day)
    s = " ".join(text(value).split())
    if not s:
        raise ValueError("empty")
    s = _MONTH_TOKEN.sub(lambda m: _GERMAN_MONTHS.get(m.group(1).lower()[:3], m.group(1)), s)
    s = re.sub(r"\b(am|pm)\b", lambda m: m.group(1).upper(), s, flags=re.IGNORECASE)
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(s, fmt)
        except ValueError:
            continue
    try:
        parsed = datetime.fromisoformat(s)
    except ValueError:
        raise ValueError("not a date") from None
    return parsed.replace(tzinfo=None)


def split_list(value: object, on_space: bool = False) -> list[str]:
    """Split a list cell (``'A, B'``, ``'A;B'``, ``"['A', 'B']"``) into stripped items.

    ``on_space`` also splits at blanks (for ids such as ``'IOT-1 IOT-2'``).
    """
    if isinstance(value, (list, tuple)):
        return [text(v) for v in value if not is_blank(v)]
    s = text(value).strip("[]")
    pattern = r"[,;\n]|\s+" if on_space else r"[,;\n]"
    return [p.strip().strip("'\"").strip() for p in re.split(pattern, s) if p.strip().strip("'\"").strip()]


def normalise_token(value: object) -> str:
    """Lower-case letters and digits only: ``'Churn Rate'`` -> ``'churnrate'``."""
    return re.sub(r"[^0-9a-zäöüß]", "", text(value).lower())


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """``" Did you mean 'x'?"`` for the closest choice (case-insensitive), else ``""``."""
    choices = list(choices)
    lowered = {c.lower(): c for c in choices}
    match = difflib.get_close_matches(word.lower(), list(lowered), n=1, cutoff=0.6)
    return f" Did you mean '{lowered[match[0]]}'?" if match else ""


class Problems:
    """Collects input problems for one file and raises them together (at most ``limit``)."""

    def __init__(self, source: str, limit: int = 50):
        self.source = source
        self.limit = limit
        self.items: list[InputProblem] = []
        self.dropped = 0

    def add(
        self, message: str, fix: str = "", row: int | None = None, column: str | None = None, source: str | None = None
    ) -> None:
        if len(self.items) >= self.limit:
            self.dropped += 1
            return
        self.items.append(InputProblem(source or self.source, message, fix, row, column))

    def __len__(self) -> int:
        return len(self.items) + self.dropped

    def raise_if_any(self) -> None:
        if not self.items:
            return
        problems = list(self.items)
        if self.dropped:
            problems.append(
                InputProblem(
                    self.source,
                    f"{self.dropped} more problems not listed.",
                    "fix the ones above and read the file again.",
                )
            )
        raise InputError(problems)
