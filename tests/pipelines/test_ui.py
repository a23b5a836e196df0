"""`make ui` serves the asset graph: start `dagster dev` on loopback, ask its GraphQL API, stop it."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from pipelines import paths
from pipelines.definitions import build_definitions
from pipelines.store import write_dagster_yaml

pytestmark = pytest.mark.slow

QUERY = "{ assetNodes { assetKey { path } groupName } }"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _ask(port: int, query: str, field: str):
    req = urllib.request.Request(
        f"http://127.0.0.1:{port}/graphql",
        data=json.dumps({"query": query}).encode(),
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(req, timeout=5) as resp:
            return json.load(resp)["data"][field]
    except (OSError, KeyError, TypeError, ValueError):
        return None


def _asset_nodes(port: int) -> list[dict] | None:
    return _ask(port, QUERY, "assetNodes")


def test_dagster_dev_serves_the_asset_graph(tmp_path):
    port = _free_port()
    dagster = Path(sys.executable).parent / "dagster"
    write_dagster_yaml(tmp_path)  # as `make ui` has `make home` write it
    env = {**os.environ, "DAGSTER_HOME": str(tmp_path)}
    # its own process group: `dagster dev` starts the webserver and daemon as children
    proc = subprocess.Popen(
        [str(dagster), "dev", "-m", "pipelines.definitions", "-h", "127.0.0.1", "-p", str(port)],
        cwd=paths.project_root(),
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        nodes = None
        deadline = time.monotonic() + 180
        while nodes is None and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(2)
            nodes = _asset_nodes(port)
        assert nodes is not None, "the UI did not answer within 180 s"
        served = {"/".join(n["assetKey"]["path"]): n["groupName"] for n in nodes}
        graph = build_definitions().get_repository_def().asset_graph
        expected = {k.to_user_string(): graph.get(k).group_name for k in graph.get_all_asset_keys()}
        assert served == expected
        # a first visit is not greeted by Dagster's "Join the community" dialog (nor asked about telemetry)
        assert _ask(port, "{ shouldShowNux }", "shouldShowNux") is False
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
            killed = False
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
            killed = True
    # `make ui` stops on SIGTERM (as from a service manager), not only when killed ...
    assert not killed, "dagster dev did not stop within 30 s of SIGTERM"
    # ... and takes its webserver with it: nothing answers on the port any more
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=5).close()
