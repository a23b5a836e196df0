"""`make lab` opens the paired .py notebooks as notebooks: JupyterLab, started with the
project's settings overrides as the Makefile starts it, has jupytext as the default viewer of
Python files and asks no news questions."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from pipelines import paths

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _settings_dir() -> str:
    """The --LabApp.app_settings_dir of the Makefile's lab target, as a path."""
    makefile = (paths.project_root() / "Makefile").read_text(encoding="utf-8")
    found = re.search(r"--LabApp\.app_settings_dir=\$\(CURDIR\)/(\S+)", makefile)
    assert found, "make lab no longer passes the settings overrides"
    return str(paths.project_root() / found.group(1))


def test_lab_opens_python_files_as_notebooks():
    port, token = _free_port(), "weitblick-test"
    lab = Path(sys.executable).parent / "jupyter"
    proc = subprocess.Popen(
        [str(lab), "lab", "--notebook-dir=notebooks", "--ip=127.0.0.1", f"--port={port}", "--no-browser",
         "--allow-root", f"--ServerApp.token={token}", f"--LabApp.app_settings_dir={_settings_dir()}"],
        cwd=paths.project_root(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )  # fmt: skip
    try:

        def setting(plugin: str) -> dict:
            url = f"http://127.0.0.1:{port}/lab/api/settings/{plugin}?token={token}"
            with urllib.request.urlopen(url, timeout=5) as r:
                return json.load(r)["schema"]["properties"]

        deadline = time.monotonic() + 60
        while True:
            try:
                docmanager = setting("@jupyterlab/docmanager-extension:plugin")
                break
            except OSError:
                assert time.monotonic() < deadline and proc.poll() is None, "JupyterLab did not start"
                time.sleep(0.5)
        assert docmanager["defaultViewers"]["default"] == {"python": "Jupytext Notebook"}
        news = setting("@jupyterlab/apputils-extension:notification")
        assert news["fetchNews"]["default"] == "false" and news["checkForUpdates"]["default"] is False
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
