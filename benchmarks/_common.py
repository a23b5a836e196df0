"""What the benchmark scripts share: one JSON line per measurement and the parsing of
``--highs-option KEY=VALUE``."""

from __future__ import annotations

import argparse
import json


def emit(benchmark: str, **row) -> None:
    """Print one measurement as a JSON object on one line: {"benchmark": ..., **row}."""
    print(json.dumps({"benchmark": benchmark, **row}), flush=True)


def parse_option(text: str) -> tuple[str, object]:
    """KEY=VALUE of a --highs-option, the value read as a number or true/false where it is
    one (for the JSON output; the solver converts each value to the option's own type)."""
    if "=" not in text:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    k, v = (s.strip() for s in text.split("=", 1))
    for conv in (int, float):
        try:
            return k, conv(v)
        except ValueError:
            pass
    if v.lower() in ("true", "false"):
        return k, v.lower() == "true"
    return k, v
