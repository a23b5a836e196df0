"""Loading a later step's libraries while a step leaves a core idle.

The refresh runs its steps one after the other in one process. The robust plan's step spends most of its
time in HiGHS, which releases Python's lock, with one core to spare once its held-out futures are drawn:
scenario discovery's libraries (:func:`discovery_libraries`) load there meanwhile instead of in the next
step (:func:`models.portfolio.robust.robust_plan` takes them as its ``meanwhile``, and waits for them before
its step ends, so no two steps overlap and no thread is left when the stress test forks its workers).
"""

import dagster as dg

from models.robustness import EMA_ANALYSES, ema_analysis


def discovery_libraries() -> None:
    """Import scenario discovery's analysis libraries (EMA Workbench: 1.5-2.5 s)."""
    for name in EMA_ANALYSES:
        ema_analysis(name)


def run_selects(context: dg.AssetExecutionContext, asset: str) -> bool:
    """Whether the running job materialises ``asset``, as far as the run's asset selection says. A run of the
    whole job carries none (None, or the empty set in process): True. So does a job built of the selected assets
    alone (``dg.materialize(..., selection=...)``), so there the answer is True as well; the refresh job run on
    a selection (the command line, the UI) is answered exactly."""
    selection = context.run.asset_selection
    return not selection or dg.AssetKey(asset) in selection
