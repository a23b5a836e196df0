"""Tests for models.formula: known answers on small arrays, and refusal of anything but the
formula grammar (each refusal checks the ModelError names the problem and the fix)."""

from __future__ import annotations

import pickle
import warnings

import numpy as np
import pandas as pd
import pytest

from models.errors import FormulaError, ModelError
from models.formula import Formula, parse_formula

WHERE = "settings.yaml scoring_formulas.my_score"
NAMES = (
    "reach",
    "impact",
    "confidence",
    "effort",
    "business_value",
    "time_criticality",
    "risk_reduction",
    "story_points",
    "a",
    "b",
    "x",
    "y",
)


def _parse(text: str) -> Formula:
    return parse_formula(text, NAMES, where=WHERE)


def test_rice_formula_equals_direct_arithmetic():
    reach = np.array([1000.0, 500.0, 100.0])
    impact = np.array([2.0, 1.0, 1.0])
    confidence = np.array([0.8, 0.5, 1.0])
    effort = np.array([6.0, 6.0, 2.0])
    f = _parse("reach * impact * confidence / effort")
    assert f.names == ("confidence", "effort", "impact", "reach")
    assert f.text == "reach * impact * confidence / effort"
    got = f.evaluate({"reach": reach, "impact": impact, "confidence": confidence, "effort": effort})
    assert got.dtype == np.float64
    # 1000 x 2 x 0.8 / 6 = 266.67; 500 x 1 x 0.5 / 6 = 41.67; 100 x 1 x 1 / 2 = 50
    np.testing.assert_allclose(got, reach * impact * confidence / effort)
    np.testing.assert_allclose(got, [1600 / 6, 250 / 6, 50.0])


def test_wsjf_formula_with_series_and_max():
    backlog = pd.DataFrame(
        {"business_value": [8, 5], "time_criticality": [5, 3], "risk_reduction": [2, 1], "story_points": [5, 0]},
        index=["S1", "S2"],
    )
    f = _parse("(business_value + time_criticality + risk_reduction) / max(story_points, 1)")
    got = f.evaluate({c: backlog[c] for c in backlog.columns})
    # S1: 15 / 5 = 3; S2: 9 / max(0, 1) = 9
    np.testing.assert_allclose(got, [3.0, 9.0])


def test_precedence_and_unary_minus():
    a = np.array([2.0, 3.0])
    b = np.array([4.0, 5.0])
    np.testing.assert_allclose(_parse("a + b * 2").evaluate({"a": a, "b": b}), a + b * 2)
    np.testing.assert_allclose(_parse("(a + b) * 2").evaluate({"a": a, "b": b}), (a + b) * 2)
    # ** binds tighter than unary minus: -a ** 2 = -(a ** 2)
    np.testing.assert_allclose(_parse("-a ** 2").evaluate({"a": a}), [-4.0, -9.0])
    np.testing.assert_allclose(_parse("(-a) ** 2").evaluate({"a": a}), [4.0, 9.0])
    np.testing.assert_allclose(_parse("a ** -1 - -b").evaluate({"a": a, "b": b}), 1 / a + b)
    np.testing.assert_allclose(_parse("a - b / 2 / 2").evaluate({"a": a, "b": b}), a - b / 4)


def test_conditional_comparisons_and_where():
    a = np.array([1.0, 5.0, 10.0])
    b = np.array([2.0, 2.0, 2.0])
    np.testing.assert_allclose(_parse("a * 2 if a > 3 else 0").evaluate({"a": a}), [0.0, 10.0, 20.0])
    np.testing.assert_allclose(_parse("where(a >= 5, a, b)").evaluate({"a": a, "b": b}), [2.0, 5.0, 10.0])
    # chained comparison and boolean operators give 1.0 / 0.0
    np.testing.assert_allclose(_parse("1 < a < 10").evaluate({"a": a}), [0.0, 1.0, 0.0])
    np.testing.assert_allclose(_parse("a > 1 and a != 10").evaluate({"a": a}), [0.0, 1.0, 0.0])
    np.testing.assert_allclose(_parse("a == 1 or not b").evaluate({"a": a, "b": b}), [1.0, 0.0, 0.0])


def test_min_max_clip_log_and_friends():
    a = np.array([1.0, 4.0, 100.0])
    b = np.array([3.0, 3.0, 3.0])
    np.testing.assert_allclose(_parse("min(a, b, 50)").evaluate({"a": a, "b": b}), [1.0, 3.0, 3.0])
    np.testing.assert_allclose(_parse("max(a, b)").evaluate({"a": a, "b": b}), [3.0, 4.0, 100.0])
    np.testing.assert_allclose(_parse("clip(a, 2, 10)").evaluate({"a": a}), [2.0, 4.0, 10.0])
    np.testing.assert_allclose(_parse("log(a)").evaluate({"a": a}), np.log(a))
    np.testing.assert_allclose(_parse("log10(a)").evaluate({"a": a}), [0.0, np.log10(4), 2.0])
    np.testing.assert_allclose(_parse("sqrt(a) + abs(-a) + exp(0)").evaluate({"a": a}), np.sqrt(a) + a + 1)


def test_scalars_broadcast():
    f = _parse("reach * impact * confidence / effort")
    got = f.evaluate({"reach": np.array([100.0, 200.0]), "impact": 2, "confidence": 0.5, "effort": 4.0})
    np.testing.assert_allclose(got, [25.0, 50.0])
    assert got.shape == (2,)
    only_numbers = f.evaluate({"reach": 100, "impact": 2, "confidence": 0.5, "effort": 4})
    assert only_numbers.dtype == np.float64 and float(only_numbers) == 25.0


def test_division_by_zero_gives_inf_without_raising():
    f = _parse("reach / effort")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # not even a RuntimeWarning escapes
        got = f.evaluate({"reach": np.array([10.0, 0.0, 5.0]), "effort": np.array([0.0, 0.0, 1.0])})
        scalar = f.evaluate({"reach": 1.0, "effort": 0.0})
        log0 = _parse("log(a)").evaluate({"a": 0.0})
    assert got[0] == np.inf and np.isnan(got[1]) and got[2] == 5.0
    assert np.isfinite(got).tolist() == [False, False, True]
    assert scalar == np.inf and log0 == -np.inf


def test_evaluate_checks_inputs():
    f = _parse("a * b")
    with pytest.raises(ModelError, match="needs values for b"):
        f.evaluate({"a": np.ones(2)})
    with pytest.raises(ModelError, match=r"differ in length \(a 3, b 2\)"):
        f.evaluate({"a": np.ones(3), "b": np.ones(2)})


def _refused(text: str) -> str:
    with pytest.raises(ModelError) as info:
        _parse(text)
    message = str(info.value)
    assert message.startswith(WHERE + ":")
    return message


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("__import__('os').system('ls')", "attribute access \"__import__('os').system\""),
        ("().__class__", "attribute access '().__class__' at column 1"),
        ("open('x')", "unknown function 'open'"),
        ("[x for x in y]", "list comprehension"),
        ("lambda: 1", "lambda"),
        ("a.b", "attribute access 'a.b' at column 1"),
        ("a[0]", "subscript"),
        ("'str'", "string"),
        ("reach + 'str'", "column 9"),
        ("f'{a}'", "f-string"),
        ("2 ** 1000", "exponent must be at most 10"),
        ("x ** y", "exponent must be a number"),
        ("max(a, b=1)", "keyword arguments"),
        ("max(*a)", "starred argument"),
        ("pow(a, 2)", "unknown function 'pow'"),
        ("_secret + 1", "Names starting with '_' are reserved"),
        ("(y := 1)", "':='"),
        ("True * a", "Write 1 or 0"),
        ("a // b", "floor division"),
        ("clip(a, 1)", "clip(x, lo, hi)"),
    ],
)
def test_refuses_code(text, expected):
    message = _refused(text)
    assert expected in message
    assert "Fix: use arithmetic on the criteria: " in message
    assert "reach" in message and "min(a, b, ...)" in message


def test_power_hint_for_pow():
    assert "write x ** 2" in _refused("pow(a, 2)")


def test_unknown_name_suggests_the_closest():
    message = _refused("reech * impact")
    assert "unknown name 'reech' at column 1" in message
    assert "Did you mean 'reach'?" in message
    assert "business_value, confidence, effort, impact, reach" in message


def test_syntax_error_with_position():
    message = _refused("reach * (impact")
    assert "cannot read the formula" in message and "column 9" in message
    assert "column 3" in _refused("a b")
    assert "empty" in _refused("   ")


def test_multi_line_position():
    assert "line 2, column 3" in _refused("(a +\n  b.c)")


def test_a_refusal_carries_its_problem_and_fix_apart():
    # settings.yaml reports the problem at its key and line, and the fix once
    with pytest.raises(FormulaError) as info:
        _parse("reech * impact")
    exc = info.value
    assert isinstance(exc, ModelError) and exc.where == WHERE
    assert exc.problem == "unknown name 'reech' at column 1. Did you mean 'reach'?"
    assert exc.fix.startswith("use arithmetic on the criteria: ")
    assert str(exc) == f"{WHERE}: {exc.problem} Fix: {exc.fix}"
    # a worker process sends it back whole
    again = pickle.loads(pickle.dumps(exc))
    assert (type(again), str(again), again.problem) == (FormulaError, str(exc), exc.problem)
