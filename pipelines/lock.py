"""One refresh at a time per home: an exclusive lock on ``<home>/refresh.lock``.

The lock is an advisory ``flock`` on the file, taken without waiting. The operating system
drops it when the process that holds it ends, however it ends, so a refresh killed with
``kill -9`` never blocks the next one. The file itself stays and says who held it last
(run id, process id, host, start time): a second refresh that finds the lock taken names
the refresh that runs and the fix.

The refresh takes the lock when its store is opened for writing (the IO manager's
``yield_for_execution`` in :mod:`pipelines.resources`) and holds it until the run ends: the
refresh job runs in one process (the in-process executor), so one lock covers every step.
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from models.errors import StoreError


def holder(lock: Path) -> dict:
    """What the lock file says about its last holder ({} if unreadable)."""
    try:
        return json.loads(Path(lock).read_text(encoding="utf-8") or "{}")
    except (OSError, ValueError):
        return {}


@contextmanager
def refresh_lock(lock: Path, run_id: str, trigger: str = "") -> Iterator[dict]:
    """Hold the exclusive lock of a home for ``run_id``; StoreError if another process holds it."""
    lock = Path(lock)
    lock.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            h = holder(lock)
            who = (
                f"run {h.get('run_id', '?')} (process {h.get('pid', '?')} on {h.get('host', '?')}, "
                f"started {h.get('started', '?')})"
                if h
                else "another process"
            )
            raise StoreError(
                f"another refresh is writing into {lock.parent}: {who}. Fix: wait until it has finished "
                "('weitblick status' shows its result), or stop it (Runs in the Dagster UI, or end that process), "
                "then refresh again."
            ) from None
        me = {
            "run_id": run_id,
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "started": datetime.now(UTC).isoformat(timespec="seconds"),
            "trigger": trigger,
        }
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(me).encode(), 0)
        yield me
    finally:
        os.close(fd)  # closing the descriptor releases the flock
