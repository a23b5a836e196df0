"""Cell parsers: numbers in English and German notation, shares, changes, durations, dates."""

from __future__ import annotations

from datetime import datetime

import pytest
from hypothesis import given, strategies as st

from pipelines.sources.values import (
    parse_datetime,
    parse_duration_seconds,
    parse_fraction,
    parse_number,
    parse_relative_change,
    split_list,
)


@pytest.mark.parametrize(
    ("cell", "decimal_comma", "expected"),
    [
        ("3.5", False, 3.5),
        ("3,5", False, 3.5),  # a lone decimal comma is unambiguous
        ("3,5", True, 3.5),
        ("1.234,5", True, 1234.5),  # German thousands
        ("1.234,5", False, 1234.5),
        ("1.234", True, 1234.0),  # in a German file the dot groups thousands
        ("1.234", False, 1.234),
        ("1,234.5", False, 1234.5),
        ("3,500", False, 3500.0),  # English thousands
        ("3,500", True, 3.5),  # German decimal comma
        ("€ 4.500", True, 4500.0),
        ("4500 EUR", False, 4500.0),
        ("4.500 €", False, 4500.0),  # the euro sign after the number is German notation
        ("€4,500", False, 4500.0),
        ("-12", False, -12.0),
        ("(300)", False, -300.0),  # accounting negative
        (7, False, 7.0),  # Excel cell
    ],
)
def test_parse_number(cell, decimal_comma, expected):
    assert parse_number(cell, decimal_comma) == pytest.approx(expected)


@pytest.mark.parametrize("cell", ["abc", "", "1,234,567", "--3", "nan"])
def test_parse_number_refuses(cell):
    with pytest.raises(ValueError):
        parse_number(cell, decimal_comma=True)


@given(st.decimals(min_value=0, max_value=10**7, places=2, allow_nan=False))
def test_german_and_english_notation_read_the_same(value):
    english = f"{value:,.2f}"  # 1,234,567.89
    german = english.replace(",", "X").replace(".", ",").replace("X", ".")  # 1.234.567,89
    assert parse_number(english) == pytest.approx(float(value))
    assert parse_number(german, decimal_comma=True) == pytest.approx(float(value))


@pytest.mark.parametrize(
    ("cell", "expected"),
    [("80%", 0.8), ("80 %", 0.8), ("0.8", 0.8), ("80", 0.8), ("100%", 1.0), ("0", 0.0), ("12,5%", 0.125)],
)
def test_parse_fraction(cell, expected):
    assert parse_fraction(cell) == pytest.approx(expected)


@pytest.mark.parametrize("cell", ["150%", "-5%", "abc"])
def test_parse_fraction_refuses(cell):
    with pytest.raises(ValueError):
        parse_fraction(cell)


@pytest.mark.parametrize(
    ("cell", "expected"), [("+3%", 0.03), ("-5 %", -0.05), ("0.03", 0.03), ("+2,5%", 0.025), ("-0.1", -0.1)]
)
def test_parse_relative_change(cell, expected):
    assert parse_relative_change(cell) == pytest.approx(expected)


def test_relative_change_refuses_a_bare_three():
    with pytest.raises(ValueError, match="100 %"):
        parse_relative_change("3")


@pytest.mark.parametrize(
    ("cell", "seconds"),
    [
        ("144000", 144000.0),  # Jira exports seconds
        ("1w", 40 * 3600.0),
        ("1w 2d 4h 30m", (40 + 16 + 4.5) * 3600.0),
        ("3h", 3 * 3600.0),
    ],
)
def test_parse_duration(cell, seconds):
    assert parse_duration_seconds(cell) == pytest.approx(seconds)


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("11/May/24 03:26 PM", datetime(2024, 5, 11, 15, 26)),
        ("06/Jan/14 6:22 AM", datetime(2014, 1, 6, 6, 22)),
        ("11/May/2024 03:26 PM", datetime(2024, 5, 11, 15, 26)),
        ("29/Mar/12", datetime(2012, 3, 29)),
        ("11/Mai/24 15:26", datetime(2024, 5, 11, 15, 26)),  # German month abbreviation
        ("03/Okt/27", datetime(2027, 10, 3)),
        ("2027-06-30", datetime(2027, 6, 30)),
        ("2027-06-30T17:00:00+02:00", datetime(2027, 6, 30, 17)),
        ("30.06.2027", datetime(2027, 6, 30)),
        ("30.06.2027 17:00", datetime(2027, 6, 30, 17)),
    ],
)
def test_parse_datetime(cell, expected):
    assert parse_datetime(cell) == expected


@pytest.mark.parametrize("cell", ["31/Foo/27", "2027-13-01", "soon"])
def test_parse_datetime_refuses(cell):
    with pytest.raises(ValueError):
        parse_datetime(cell)


def test_split_list():
    assert split_list("IOT-1, IOT-2;IOT-3") == ["IOT-1", "IOT-2", "IOT-3"]
    assert split_list("['IOT-1', 'IOT-2']") == ["IOT-1", "IOT-2"]
    assert split_list("IOT-1 IOT-2", on_space=True) == ["IOT-1", "IOT-2"]
    assert split_list("Service Infrastructure, UI") == ["Service Infrastructure", "UI"]
