"""Safe evaluation of user-written scoring formulas.

Planners write their own scores into ``settings.yaml``, for example::

    scoring_formulas:
      my_rice: "reach * impact * confidence / effort"
      my_wsjf: "(business_value + time_criticality + risk_reduction) / max(story_points, 1)"

:func:`parse_formula` reads such a text once, checks it against a whitelist and returns a
:class:`Formula`; :meth:`Formula.evaluate` computes it for every item at once with numpy
(arrays of equal length; plain numbers broadcast) and returns float64. Division by zero,
``log(0)`` and the like give ``inf``/``nan`` instead of raising, so the caller can test the
result with ``np.isfinite``.

Grammar (everything else is refused)::

    expr    := number                      int or float literal (not True/False, not text)
             | name                        a variable the caller allows, not starting with "_"
             | +expr | -expr | not expr
             | expr (+ | - | * | /) expr
             | expr ** number              exponent written as a number, |exponent| <= 10
             | expr (< | <= | > | >= | == | !=) expr ...   (chains allowed: a < b <= c)
             | expr and expr | expr or expr
             | expr if expr else expr
             | function(expr, ...)         positional arguments only
    function := min(a, b, ...) | max(a, b, ...)      element-wise, two or more arguments
              | abs(x) | log(x) | log10(x) | sqrt(x) | exp(x)      log is the natural log
              | clip(x, lo, hi) | where(cond, a, b)

Comparisons and ``and``/``or``/``not`` give 1.0 (true) or 0.0 (false); a condition counts
as true where it is non-zero, so ``where(cond, a, b)`` and ``a if cond else b`` pick
element-wise. Both branches are computed for every item.

Why no ``eval``: a settings file is data, and Python's ``eval``/``exec``/``compile`` would
run whatever it contains (``__import__('os').system(...)``, attribute walks from ``()`` to
any class, endless loops, huge integers). Here the text is only parsed with
:func:`ast.parse`; the tree is checked node by node against the grammar above and then
interpreted by a small walker that itself knows only those nodes. All arithmetic happens
in float64, so no formula can build huge integers, touch objects or run code.
"""

from __future__ import annotations

import ast
import difflib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from models.errors import FormulaError, ModelError

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["FUNCTIONS", "MAX_EXPONENT", "MAX_LENGTH", "Formula", "parse_formula"]

MAX_EXPONENT = 10
MAX_LENGTH = 2000  # characters; a scoring formula is a line or two

Value = np.ndarray | np.floating | float


class Function(NamedTuple):
    """A function a formula may call."""

    low: int  # minimum arguments
    high: int | None  # maximum arguments, None for "any"
    signature: str  # how error messages show a call
    apply: Callable[..., Value]


FUNCTIONS: dict[str, Function] = {
    "min": Function(2, None, "min(a, b, ...)", lambda *xs: _reduce(np.minimum, xs)),
    "max": Function(2, None, "max(a, b, ...)", lambda *xs: _reduce(np.maximum, xs)),
    "abs": Function(1, 1, "abs(x)", np.abs),
    "log": Function(1, 1, "log(x)", np.log),
    "log10": Function(1, 1, "log10(x)", np.log10),
    "sqrt": Function(1, 1, "sqrt(x)", np.sqrt),
    "exp": Function(1, 1, "exp(x)", np.exp),
    "clip": Function(3, 3, "clip(x, lo, hi)", lambda x, lo, hi: np.minimum(np.maximum(x, lo), hi)),
    "where": Function(3, 3, "where(cond, a, b)", lambda cond, a, b: np.where(_truth(cond), a, b)),
}

# Hints for functions people reach for that the grammar spells differently.
_FUNCTION_HINTS = {
    "pow": "write x ** 2 instead of pow(x, 2)",
    "ln": "log(x) is the natural logarithm",
    "if": "write 'a if cond else b' or where(cond, a, b)",
    "iif": "write where(cond, a, b)",
    "minimum": "use min(a, b)",
    "maximum": "use max(a, b)",
}

_BINARY: dict[type[ast.operator], tuple[str, Callable[[Value, Value], Value]]] = {
    ast.Add: ("+", np.add),
    ast.Sub: ("-", np.subtract),
    ast.Mult: ("*", np.multiply),
    ast.Div: ("/", np.divide),
    ast.Pow: ("**", np.power),
}

_COMPARE: dict[type[ast.cmpop], Callable[[Value, Value], Value]] = {
    ast.Lt: np.less,
    ast.LtE: np.less_equal,
    ast.Gt: np.greater,
    ast.GtE: np.greater_equal,
    ast.Eq: np.equal,
    ast.NotEq: np.not_equal,
}

_OPERATOR_NAMES = {
    ast.FloorDiv: "floor division '//'",
    ast.Mod: "modulo '%'",
    ast.MatMult: "matrix product '@'",
    ast.LShift: "bit shift '<<'",
    ast.RShift: "bit shift '>>'",
    ast.BitOr: "bitwise '|'",
    ast.BitAnd: "bitwise '&'",
    ast.BitXor: "bitwise '^' (for powers write **)",
    ast.Invert: "bitwise '~'",
    ast.Is: "'is' comparison",
    ast.IsNot: "'is not' comparison",
    ast.In: "'in' test",
    ast.NotIn: "'not in' test",
}

_NODE_NAMES = {
    ast.Attribute: "attribute access",
    ast.Subscript: "subscript (indexing)",
    ast.Slice: "slice",
    ast.Lambda: "lambda",
    ast.ListComp: "list comprehension",
    ast.SetComp: "set comprehension",
    ast.DictComp: "dict comprehension",
    ast.GeneratorExp: "generator expression",
    ast.List: "list",
    ast.Tuple: "tuple",
    ast.Set: "set",
    ast.Dict: "dict",
    ast.JoinedStr: "f-string",
    ast.FormattedValue: "f-string",
    ast.NamedExpr: "assignment expression ':='",
    ast.Starred: "starred argument",
    ast.Await: "await",
    ast.Yield: "yield",
    ast.YieldFrom: "yield from",
}


def _reduce(ufunc: np.ufunc, values: tuple[Value, ...]) -> Value:
    result = values[0]
    for value in values[1:]:
        result = ufunc(result, value)
    return result


def _truth(value: Value) -> np.ndarray:
    """Where a condition holds: non-zero (nan counts as true, as in Python)."""
    return np.not_equal(value, 0.0)


def _as_float(value: np.ndarray | np.bool_ | bool) -> Value:
    return np.asarray(value, dtype=np.float64)


def _fix(allowed: Iterable[str]) -> str:
    names = ", ".join(sorted(allowed)) or "(none)"
    functions = ", ".join(FUNCTIONS[f].signature for f in FUNCTIONS)
    return (
        f"use arithmetic on the criteria: {names}; operators + - * / and ** with a number "
        f"up to {MAX_EXPONENT} as exponent; comparisons < <= > >= == !=; "
        f"'a if cond else b'; and/or/not; functions {functions}."
    )


def _position(text: str, lineno: int | None, col_offset: int | None) -> str:
    """'column 5' (1-based, in characters) or 'line 2, column 5' for multi-line formulas.

    ``col_offset`` from :mod:`ast` counts UTF-8 bytes; it is turned into characters here.
    """
    if lineno is None or col_offset is None:
        return "an unknown position"
    lines = text.splitlines() or [""]
    line = lines[lineno - 1] if 1 <= lineno <= len(lines) else ""
    column = len(line.encode("utf-8")[:col_offset].decode("utf-8", errors="ignore")) + 1
    return f"line {lineno}, column {column}" if len(lines) > 1 else f"column {column}"


def _snippet(text: str, node: ast.AST, limit: int = 60) -> str:
    segment = ast.get_source_segment(text, node) or type(node).__name__
    segment = " ".join(segment.split())
    return segment if len(segment) <= limit else segment[: limit - 3] + "..."


class _Checker:
    """Walks a parsed formula and refuses everything outside the grammar."""

    def __init__(self, text: str, allowed: frozenset[str], where: str):
        self.text = text
        self.allowed = allowed
        self.where = where
        self.names: set[str] = set()

    # -- errors -------------------------------------------------------------------------

    def refuse(self, node: ast.AST, what: str, hint: str = "") -> FormulaError:
        at = _position(self.text, getattr(node, "lineno", None), getattr(node, "col_offset", None))
        message = f"{what} {_snippet(self.text, node)!r} at {at} is not allowed in a formula."
        if hint:
            message += f" {hint[0].upper()}{hint[1:]}."
        return FormulaError(self.where, message, _fix(self.allowed))

    # -- walk ---------------------------------------------------------------------------

    def check(self, node: ast.AST) -> None:
        if isinstance(node, ast.Constant):
            self.check_constant(node)
        elif isinstance(node, ast.Name):
            self.check_name(node)
        elif isinstance(node, ast.UnaryOp):
            if not isinstance(node.op, (ast.UAdd, ast.USub, ast.Not)):
                raise self.refuse(node, _OPERATOR_NAMES.get(type(node.op), "the operator") + " in")
            self.check(node.operand)
        elif isinstance(node, ast.BinOp):
            if type(node.op) not in _BINARY:
                raise self.refuse(node, _OPERATOR_NAMES.get(type(node.op), "the operator") + " in")
            self.check(node.left)
            if isinstance(node.op, ast.Pow):
                self.check_exponent(node, node.right)
            else:
                self.check(node.right)
        elif isinstance(node, ast.Compare):
            for op in node.ops:
                if type(op) not in _COMPARE:
                    raise self.refuse(node, _OPERATOR_NAMES.get(type(op), "the comparison") + " in")
            self.check(node.left)
            for comparator in node.comparators:
                self.check(comparator)
        elif isinstance(node, ast.BoolOp):
            for value in node.values:
                self.check(value)
        elif isinstance(node, ast.IfExp):
            self.check(node.test)
            self.check(node.body)
            self.check(node.orelse)
        elif isinstance(node, ast.Call):
            self.check_call(node)
        else:
            raise self.refuse(node, _NODE_NAMES.get(type(node), f"{type(node).__name__} expression"))

    def check_constant(self, node: ast.Constant) -> None:
        value = node.value
        if isinstance(value, bool):
            raise self.refuse(node, "the constant", "write 1 or 0 instead of True or False")
        if isinstance(value, str):
            raise self.refuse(node, "the string", "text is not a number; name a criterion instead")
        if not isinstance(value, (int, float)):
            raise self.refuse(node, "the constant", "only plain numbers such as 2 or 0.5 are allowed")
        try:
            float(value)
        except OverflowError:
            raise self.refuse(node, "the number", "it is too large for a float") from None

    def check_name(self, node: ast.Name) -> None:
        name = node.id
        if name.startswith("_"):
            raise self.refuse(node, "the name", "names starting with '_' are reserved")
        if name in self.allowed:
            self.names.add(name)
            return
        at = _position(self.text, node.lineno, node.col_offset)
        if name in FUNCTIONS:
            hint = f" '{name}' is a function; call it as {FUNCTIONS[name].signature}."
        else:
            close = difflib.get_close_matches(name, sorted(self.allowed), n=1)
            hint = f" Did you mean '{close[0]}'?" if close else ""
        raise FormulaError(self.where, f"unknown name '{name}' at {at}.{hint}", _fix(self.allowed))

    def check_exponent(self, power: ast.BinOp, node: ast.expr) -> None:
        number = node
        while isinstance(number, ast.UnaryOp) and isinstance(number.op, (ast.UAdd, ast.USub)):
            number = number.operand
        if not (
            isinstance(number, ast.Constant)
            and isinstance(number.value, (int, float))
            and not isinstance(number.value, bool)
        ):
            raise self.refuse(
                power,
                "the power",
                f"the exponent must be a number written out (e.g. x ** 2), at most {MAX_EXPONENT} in size",
            )
        self.check(node)
        if not abs(float(number.value)) <= MAX_EXPONENT:  # also refuses nan/inf
            raise self.refuse(power, "the power", f"the exponent must be at most {MAX_EXPONENT} in size")

    def check_call(self, node: ast.Call) -> None:
        func = node.func
        if not isinstance(func, ast.Name):
            self.check(func)  # names the real problem, e.g. attribute access
            raise self.refuse(node, "calling", f"only the functions {', '.join(FUNCTIONS)} can be called")
        name = func.id
        if name.startswith("_"):
            raise self.refuse(func, "the name", "names starting with '_' are reserved")
        if name not in FUNCTIONS:
            at = _position(self.text, node.lineno, node.col_offset)
            hint = _FUNCTION_HINTS.get(name)
            if hint is None:
                close = difflib.get_close_matches(name, list(FUNCTIONS), n=1)
                hint = f"did you mean {FUNCTIONS[close[0]].signature}?" if close else ""
            raise FormulaError(
                self.where,
                f"unknown function '{name}' in {_snippet(self.text, node)!r} at {at}"
                f"{'; ' + hint if hint else ''}. The functions are {', '.join(FUNCTIONS)}.",
                _fix(self.allowed),
            )
        if node.keywords:
            raise self.refuse(
                node, "keyword arguments in", f"write the arguments in order: {FUNCTIONS[name].signature}"
            )
        for arg in node.args:
            if isinstance(arg, ast.Starred):
                raise self.refuse(arg, "the starred argument")
        low, high = FUNCTIONS[name].low, FUNCTIONS[name].high
        count = len(node.args)
        if count < low or (high is not None and count > high):
            raise self.refuse(
                node, f"{name}() with {count} argument{'s' if count != 1 else ''}", f"write {FUNCTIONS[name].signature}"
            )
        for arg in node.args:
            self.check(arg)


def _evaluate(node: ast.AST, values: Mapping[str, Value]) -> Value:
    """Interprets a checked tree. Knows only the grammar's nodes, as a second line of defence."""
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and not isinstance(node.value, bool):
        return np.float64(node.value)
    if isinstance(node, ast.Name):
        return values[node.id]
    if isinstance(node, ast.UnaryOp):
        operand = _evaluate(node.operand, values)
        if isinstance(node.op, ast.USub):
            return np.negative(operand)
        if isinstance(node.op, ast.UAdd):
            return operand
        if isinstance(node.op, ast.Not):
            return _as_float(np.logical_not(_truth(operand)))
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
        return _BINARY[type(node.op)][1](_evaluate(node.left, values), _evaluate(node.right, values))
    if isinstance(node, ast.Compare) and all(type(op) in _COMPARE for op in node.ops):
        left = _evaluate(node.left, values)
        result: Value | None = None
        for op, comparator in zip(node.ops, node.comparators, strict=True):
            right = _evaluate(comparator, values)
            holds = _COMPARE[type(op)](left, right)
            result = holds if result is None else np.logical_and(result, holds)
            left = right
        return _as_float(result)
    if isinstance(node, ast.BoolOp):
        truths = [_truth(_evaluate(v, values)) for v in node.values]
        combine = np.logical_and if isinstance(node.op, ast.And) else np.logical_or
        return _as_float(_reduce(combine, tuple(truths)))
    if isinstance(node, ast.IfExp):
        test = _truth(_evaluate(node.test, values))
        return np.where(test, _evaluate(node.body, values), _evaluate(node.orelse, values))
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id in FUNCTIONS
        and not node.keywords
    ):
        args = [_evaluate(a, values) for a in node.args]
        return FUNCTIONS[node.func.id].apply(*args)
    raise ModelError(f"cannot evaluate {type(node).__name__} in a formula; parse it with parse_formula first.")


@dataclass(frozen=True)
class Formula:
    """A checked scoring formula. Build it with :func:`parse_formula`, not directly."""

    text: str
    names: tuple[str, ...]  # sorted variable names the formula uses
    where: str = field(default="formula", compare=False)
    tree: ast.Expression = field(repr=False, compare=False, kw_only=True)  # checked by parse_formula

    def evaluate(self, variables: Mapping[str, np.ndarray | pd.Series | float]) -> np.ndarray:
        """The formula for every item: float64, shaped like the array inputs.

        Arrays (or Series, taken by position, not aligned on the index) must all have the
        same shape; plain numbers broadcast. With only numbers the result is 0-dimensional.
        Division by zero and the like give inf/nan without raising; check ``np.isfinite``.
        """
        missing = [name for name in self.names if name not in variables]
        if missing:
            raise FormulaError(
                self.where,
                f"the formula {self.text!r} needs values for {', '.join(missing)}.",
                f"pass every name it uses: {', '.join(self.names)}.",
            )
        values: dict[str, Value] = {}
        shapes: dict[str, tuple[int, ...]] = {}
        for name in self.names:
            raw = variables[name]
            try:
                array = (
                    raw.to_numpy(dtype=np.float64) if hasattr(raw, "to_numpy") else np.asarray(raw, dtype=np.float64)
                )
            except (TypeError, ValueError) as exc:
                raise FormulaError(
                    self.where, f"'{name}' is not numeric ({exc}).", "pass numbers for every criterion."
                ) from None
            if array.ndim:
                shapes[name] = array.shape
                values[name] = array
            else:
                values[name] = np.float64(array)
        shape = next(iter(shapes.values()), ())
        if any(s != shape for s in shapes.values()):
            listed = ", ".join(f"{n} {s[0] if len(s) == 1 else s}" for n, s in shapes.items())
            raise FormulaError(
                self.where,
                f"the inputs of {self.text!r} differ in length ({listed}).",
                "pass one value per item for every criterion, or a single number.",
            )
        with np.errstate(all="ignore"):
            try:
                result = _evaluate(self.tree.body, values)
            except RecursionError:
                raise FormulaError(
                    self.where, "the formula is nested too deeply to evaluate.", "simplify it."
                ) from None
        return np.array(np.broadcast_to(np.asarray(result, dtype=np.float64), shape), dtype=np.float64)


def _check(text: str, allowed: frozenset[str], where: str) -> tuple[ast.Expression, tuple[str, ...]]:
    if not isinstance(text, str):
        raise FormulaError(where, f"a formula must be text, got {type(text).__name__} {text!r}.", _fix(allowed))
    source = text.strip()
    if not source:
        raise FormulaError(where, "the formula is empty.", _fix(allowed))
    if len(source) > MAX_LENGTH:
        raise FormulaError(
            where,
            f"the formula has {len(source)} characters, more than {MAX_LENGTH}.",
            "shorten it, e.g. by precomputing a criterion.",
        )
    try:
        tree = ast.parse(source, mode="eval")
    except SyntaxError as exc:
        lines = source.splitlines()
        lineno = exc.lineno or 1
        at = f"column {exc.offset}" if exc.offset else "the end"
        if len(lines) > 1:
            at = f"line {lineno}, {at}"
        shown = source if len(source) <= 80 else source[:77] + "..."
        raise FormulaError(where, f"cannot read the formula {shown!r}: {exc.msg} at {at}.", _fix(allowed)) from None
    except (ValueError, RecursionError, MemoryError) as exc:
        raise FormulaError(where, f"cannot read the formula: {exc}.", _fix(allowed)) from None
    checker = _Checker(source, allowed, where)
    try:
        checker.check(tree.body)
    except RecursionError:
        raise FormulaError(where, "the formula is nested too deeply.", "simplify it.") from None
    return tree, tuple(sorted(checker.names))


def parse_formula(text: str, allowed_names: Iterable[str], where: str = "formula") -> Formula:
    """Checks a formula against the grammar (see the module docstring) and the allowed names.

    ``where`` says where the text came from (e.g. ``"settings.yaml scoring_formulas.my_score"``)
    and starts every error message. Raises :class:`~models.errors.FormulaError` (a ModelError)
    naming the offending construct and its position (``problem``) and how to fix it (``fix``).
    """
    tree, names = _check(text, frozenset(allowed_names), where)
    return Formula(text=text, names=names, where=where, tree=tree)
