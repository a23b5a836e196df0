"""YAML input files (settings, scenarios): read, parse, and locate errors by line and key.

Shared by every YAML reader so each reports problems the same way: file, 1-based line,
dotted key and the fix.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from models.errors import InputError, InputProblem


def read_yaml_text(path: str | Path, error: type[InputError], fix_missing: str) -> str:
    """The file's text (UTF-8, BOM tolerated); a missing file is ``error`` with ``fix_missing``."""
    try:
        return Path(path).read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise error.single(path, "file not found.", fix_missing) from None


def parse_yaml_mapping(
    text: str, source: str | Path, error: type[InputError], expected: str, fix: str
) -> dict[str, Any]:
    """Parse ``text`` as a YAML mapping (empty text: ``{}``); syntax errors name their line."""
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise error.single(
            source, f"not valid YAML: {exc}", "fix the YAML syntax.", row=None if mark is None else mark.line + 1
        ) from None
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise error.single(source, f"expected {expected}.", fix)
    return raw


def line_of(text: str, loc: list) -> int | None:
    """1-based line of the YAML node at ``loc`` (mapping keys and list indices); None if unknown.

    Walks the composed node tree, so flow mappings (``{dist: uniform, ...}``) and list items
    get their own line. Parts of ``loc`` that are not keys (e.g. pydantic's union tags) are
    skipped, staying at the parent node.
    """
    if not text:
        return None
    try:
        node = yaml.compose(text)
    except yaml.YAMLError:
        return None
    line = None
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            match = next(((k, v) for k, v in node.value if k.value == str(part)), None)
            if match is None:
                continue
            line, node = match[0].start_mark.line + 1, match[1]
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
            line = node.start_mark.line + 1
    return line


# A hook for a reader's own wording of some errors: (error, key, line) -> (message, fix, key, line),
# or None to use the general wording.
Wording = Callable[[dict, str, int | None], tuple[str, str, str, int | None] | None]


KEY_LOC = "[key]"  # the part of a pydantic error location that marks a mapping's key


def validation_problems(
    exc: ValidationError,
    source: str | Path,
    text: str,
    key_of: Callable[[list], str] | None = None,
    wording: Wording | None = None,
) -> list[InputProblem]:
    """pydantic errors as InputProblems with the YAML line and the dotted key. An error in a
    mapping's key (pydantic's "[key]" location) names the key and asks to rename it."""
    key_of = key_of or (lambda loc: ".".join(str(x) for x in loc))
    problems = []
    for err in exc.errors():
        in_key = KEY_LOC in err["loc"]
        loc = [x for x in err["loc"] if x != KEY_LOC]
        key, line = key_of(loc), line_of(text, loc)
        special = wording(err, key, line) if wording else None
        if special is not None:
            msg, fix, key, line = special
        elif err["type"] == "extra_forbidden":
            msg, fix = f"unknown key '{key}'.", "remove it or correct its spelling."
        elif err["type"] == "missing":
            msg, fix = f"required key '{key}' is missing.", f"add '{loc[-1]}:'."
        else:
            text_of_error = err["msg"].removeprefix("Value error, ")
            msg = f"key '{key}': {text_of_error}."
            fix = "rename the key or remove it." if in_key else "correct the value."
        problems.append(InputProblem(str(source), msg, fix, line, key or None))
    return problems
