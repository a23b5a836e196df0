"""The sensor that refreshes the recommendation when an input file changes.

``workspace_changed`` (built by :func:`build_workspace_sensor` for the ``refresh`` job) hashes the
workspace's input files (:func:`pipelines.sources.files.input_files`) every
``MINIMUM_INTERVAL_SECONDS`` and compares them with the hashes of its last run request, kept in its
cursor. A new, changed or removed file requests one run; touching a file without changing its
content requests none. Dagster stores the cursor in its instance (under DAGSTER_HOME), so a restart
of the daemon or the UI neither forgets the last state nor re-runs an unchanged workspace.

The run key names the change: the fingerprint (:func:`pipelines.sources.files.fingerprint`) of
the files before and after it. Dagster launches one run per run key and sensor, so a tick evaluated
twice never requests the same change twice, while undoing an edit (A -> B -> A) is a change of its
own and refreshes again: the recommendation always belongs to the files as they are.
"""

from __future__ import annotations

import json

import dagster as dg
import pandas as pd

from models.errors import InputError
from pipelines.resources import WeitblickConfig
from pipelines.sources.files import fingerprint, input_files

SENSOR_NAME = "workspace_changed"
MINIMUM_INTERVAL_SECONDS = 60
TRIGGER_TAG = "weitblick/trigger"
CHANGED_TAG = "weitblick/changed"
TAG_NAMES = 5  # files named in the changed tag before "and N more"


def file_key(role: str, file: str) -> str:
    """The cursor's key of one input file: ``<role>/<file>``."""
    return f"{role}/{file}"


def file_hashes(files: pd.DataFrame) -> dict[str, str]:
    """``{"<role>/<file>": sha256}`` of an :func:`input_files` listing: the sensor's cursor."""
    return {file_key(r, f): h for r, f, h in zip(files["role"], files["file"], files["sha256"], strict=True)}


def cursor_hashes(cursor: str | None) -> dict[str, str] | None:
    """The file hashes a cursor holds; None for no cursor (first evaluation) or one this module did
    not write (then every file counts as new)."""
    if not cursor:
        return None
    try:
        hashes = json.loads(cursor)
    except json.JSONDecodeError:
        return None
    if not isinstance(hashes, dict) or not all(isinstance(v, str) for v in hashes.values()):
        return None
    return hashes


def changes(before: dict[str, str], now: dict[str, str]) -> dict[str, list[str]]:
    """The keys that are ``new``, ``changed`` (other content) or ``removed`` between two cursors,
    each sorted; empty lists when nothing changed."""
    return {
        "new": sorted(now.keys() - before.keys()),
        "changed": sorted(k for k in now.keys() & before.keys() if now[k] != before[k]),
        "removed": sorted(before.keys() - now.keys()),
    }


def _label(key: str) -> str:
    role, _, file = key.partition("/")
    return file if role == "workspace" else f"{file} ({role})"


def describe_changes(found: dict[str, list[str]], limit: int = TAG_NAMES) -> str:
    """A short line naming what changed, e.g. ``changed: teams.csv; removed: old.yaml (workspace
    scenario)``; at most ``limit`` files by name, the rest counted."""
    parts, named = [], 0
    for kind in ("changed", "new", "removed"):
        keys = found[kind]
        if not keys:
            continue
        shown = [_label(k) for k in keys[: max(limit - named, 0)]]
        named += len(shown)
        rest = len(keys) - len(shown)
        if not shown:
            text = f"{rest} file" + ("s" if rest > 1 else "")
        else:
            text = ", ".join(shown) + (f" and {rest} more" if rest else "")
        parts.append(f"{kind}: {text}")
    return "; ".join(parts)


def _fingerprint_of(hashes: dict[str, str] | None) -> str:
    """The fingerprint of the files a cursor holds ("none" without a cursor)."""
    if hashes is None:
        return "none"
    rows = [(*key.split("/", 1), sha) for key, sha in hashes.items()]
    return fingerprint(pd.DataFrame(rows, columns=["role", "file", "sha256"]))


def build_workspace_sensor(job: dg.UnresolvedAssetJobDefinition | dg.JobDefinition) -> dg.SensorDefinition:
    """The ``workspace_changed`` sensor, requesting runs of ``job`` (the ``refresh`` job); it reads
    the workspace and scenario folders from the ``config`` resource. Running by default."""

    @dg.sensor(
        name=SENSOR_NAME,
        job=job,
        minimum_interval_seconds=MINIMUM_INTERVAL_SECONDS,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description=(
            "Refreshes when an input file changes: the workspace's tables and settings (.csv, .xlsx, .yaml "
            "in its folder), its own scenarios and the scenario library, compared by content hash (SHA-256), "
            f"not by modification time; checked every {MINIMUM_INTERVAL_SECONDS} s."
        ),
    )
    def workspace_changed(context: dg.SensorEvaluationContext, config: WeitblickConfig):
        try:
            files = input_files(config.data_path(), *config.scenario_folders())
        except InputError as exc:
            return dg.SkipReason(f"cannot read the workspace: {exc}")
        now = file_hashes(files)
        before = cursor_hashes(context.cursor)
        new = fingerprint(files)
        # keyed on the change (from -> to), so going back to earlier inputs (A -> B -> A) refreshes again,
        # while a tick evaluated twice never requests the same change twice
        run_key = f"{_fingerprint_of(before)[:16]}->{new}"
        if before is None:
            changed = f"first check: all {len(now)} input files"
        else:
            found = changes(before, now)
            if not any(found.values()):
                return dg.SkipReason(
                    f"no input file changed since the last requested refresh "
                    f"({len(now)} files, fingerprint {new[:12]})."
                )
            changed = describe_changes(found)
        context.log.info(f"input files changed ({changed}): requesting a refresh")
        return dg.SensorResult(
            run_requests=[dg.RunRequest(run_key=run_key, tags={TRIGGER_TAG: "sensor", CHANGED_TAG: changed})],
            cursor=json.dumps(now, sort_keys=True),
        )

    return workspace_changed
