"""The input files whose content defines a run, with their content hashes.

:func:`input_files` lists a workspace's tables and settings (``.csv``, ``.xlsx``, ``.yaml``,
``.yml`` directly in its folder), the workspace's own scenarios and the scenario library, each
with the SHA-256 of its content; :func:`fingerprint` condenses such a listing into one hash.
Two runs over the same fingerprint read the same bytes. Used for provenance and by the sensor
that starts a refresh when an input changes (:mod:`pipelines.sensors`); modification times
are never looked at, so touching or copying a file does not count as a change.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pandas as pd

from models.errors import InputError

WORKSPACE_SUFFIXES = (".csv", ".xlsx", ".yaml", ".yml")  # tables, workbooks, settings
SCENARIO_SUFFIXES = (".yaml", ".yml")
ROLES = ("workspace", "workspace scenario", "library scenario")  # the order of the listing
COLUMNS = ["role", "file", "path", "sha256", "bytes"]
CHUNK_BYTES = 1 << 20  # files are hashed 1 MiB at a time, so a large workbook never sits in memory


def file_sha256(path: Path) -> str:
    """Hex SHA-256 of the file's content, read in chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(CHUNK_BYTES):
            digest.update(chunk)
    return digest.hexdigest()


def _is_input(path: Path, suffixes: tuple[str, ...]) -> bool:
    # "~$name.xlsx" is the lock file Excel writes next to an open workbook; dot files are editors' and systems'
    name = path.name
    return path.is_file() and path.suffix.lower() in suffixes and not name.startswith(("~$", "."))


def _folder(folder: Path, what: str, fix: str) -> Path:
    if not folder.is_dir():
        raise InputError.single(folder, f"{what} not found (or not a folder).", fix)
    return folder


def input_files(data_dir: str | Path, library: str | Path, workspace_scenarios: str | Path | None) -> pd.DataFrame:
    """One row per input file: role (``workspace``, ``workspace scenario``, ``library scenario``),
    file (name within its folder), path (absolute), sha256 (hex of the content) and bytes (size),
    sorted by role in that order, then by file.

    Workspace files are the regular files directly in ``data_dir`` ending in .csv, .xlsx, .yaml or
    .yml (a README, a generator script or the ``scenarios/`` subfolder are not); scenario files are
    the *.yaml/*.yml of ``workspace_scenarios`` (None: the workspace has none) and ``library``.
    Excel's lock files (``~$…``) and hidden files are left out. InputError if ``data_dir``, the
    library or a given ``workspace_scenarios`` is not a folder.
    """
    data_dir = _folder(Path(data_dir), "data folder", "check the path of the workspace (data_dir, WEITBLICK_DATA).")
    folders: list[tuple[str, Path, tuple[str, ...]]] = [("workspace", data_dir, WORKSPACE_SUFFIXES)]
    if workspace_scenarios is not None:
        folder = _folder(
            Path(workspace_scenarios),
            "workspace scenario folder",
            "check the path (workspace_scenarios_dir), or leave it out to run the library only.",
        )
        folders.append(("workspace scenario", folder, SCENARIO_SUFFIXES))
    library = _folder(Path(library), "scenario library folder", "check the path (scenarios_dir).")
    folders.append(("library scenario", library, SCENARIO_SUFFIXES))
    rows = [
        {
            "role": role,
            "file": path.name,
            "path": str(path.resolve()),
            "sha256": file_sha256(path),
            "bytes": path.stat().st_size,
        }
        for role, folder, suffixes in folders
        for path in sorted(folder.iterdir())
        if _is_input(path, suffixes)
    ]
    table = pd.DataFrame(rows, columns=COLUMNS)
    order = table["role"].map({role: i for i, role in enumerate(ROLES)})
    return (
        table.assign(_order=order)
        .sort_values(["_order", "file"], kind="stable")
        .drop(columns="_order")
        .reset_index(drop=True)
        .astype({"bytes": "int64"})
    )


def fingerprint(files: pd.DataFrame) -> str:
    """Hex SHA-256 over the (role, file, sha256) rows of an :func:`input_files` listing: the same
    for the same contents under the same names, whatever the order of the rows, the paths of the
    folders or the files' modification times; another for any changed, added or removed file."""
    digest = hashlib.sha256()
    for role, file, sha in sorted(zip(files["role"], files["file"], files["sha256"], strict=True)):
        digest.update(f"{role}\0{file}\0{sha}\n".encode())
    return digest.hexdigest()
