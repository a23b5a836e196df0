"""Hypothesis profiles of the test suite.

``ci`` runs every property test at its full size; ``dev``, the default outside CI, runs a
fifth of the examples for the inner loop of development. The ``CI`` variable chooses (CI
services set it; ``.ci/run`` sets ``CI=1``), ``HYPOTHESIS_PROFILE=ci|dev`` overrides.
Property tests with a size of their own write ``max_examples=examples(N)``, N their CI size.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

FULL_EXAMPLES = 100  # Hypothesis's own default, for property tests without a size of their own
DEV_SHARE = 0.2
MIN_EXAMPLES = 5

PROFILE = os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if os.environ.get("CI") else "dev")


def examples(full: int) -> int:
    """The number of examples of a property test whose CI size is ``full`` under this profile."""
    return full if PROFILE == "ci" else max(MIN_EXAMPLES, round(full * DEV_SHARE))


# Solver-backed properties take tens of milliseconds an example: no per-example deadline.
_common = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("ci", max_examples=FULL_EXAMPLES, print_blob=True, **_common)
settings.register_profile("dev", max_examples=examples(FULL_EXAMPLES), **_common)
settings.load_profile(PROFILE)
