"""Loading a later step's libraries while a step leaves a core idle.

The refresh runs its steps one after the other in one process. Some steps spend most of their time in a
solver that releases Python's lock (HiGHS); the libraries a later step needs can load on the other core
meanwhile instead of after it. :func:`loading_meanwhile` waits for the loading before the step ends, so no
two steps overlap and no thread is left when the stress test forks its workers.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import dagster as dg


@contextmanager
def loading_meanwhile(load: Callable[[], object] | None) -> Iterator[None]:
    """Run ``load`` (e.g. a function that imports modules) in a thread while the block runs, and wait for it
    at the block's end. Whatever ``load`` raises is dropped: the step that needs the library imports it
    again and reports the failure there. ``None`` loads nothing."""
    if load is None:
        yield
        return

    def quietly() -> None:
        with contextlib.suppress(Exception):  # the importing step reports it
            load()

    thread = threading.Thread(target=quietly, name="weitblick-preload", daemon=True)
    thread.start()
    try:
        yield
    finally:
        thread.join()


def run_selects(context: dg.AssetExecutionContext, asset: str) -> bool:
    """Whether the running job materialises ``asset``, as far as the run's asset selection says. A run of the
    whole job carries none (None, or the empty set in process): True. So does a job built of the selected assets
    alone (``dg.materialize(..., selection=...)``), so there the answer is True as well; the refresh job run on
    a selection (the command line, the UI) is answered exactly."""
    selection = context.run.asset_selection
    return not selection or dg.AssetKey(asset) in selection
