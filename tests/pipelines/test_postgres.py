"""A Dagster instance on PostgreSQL (pipelines/instance.py, docs/operations.md): a refresh run
through a dagster.yaml with ``postgres_url`` is recorded in a real PostgreSQL server, started
here from the distribution's binaries; the ``postgres_db:`` settings without a driver fail
under SQLAlchemy 2.1, as the docs say."""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import pytest

from pipelines import paths
from pipelines.instance import PG_URL_ENV, postgres_dagster_yaml, postgres_url

INSTALL = "PostgreSQL server binaries (initdb, pg_ctl) not installed: apt-get install postgresql"
SERVER_USERS = ("postgres", "nobody")  # initdb refuses root: as root, the server runs as one of these


def _server_bin() -> Path | None:
    """The folder of initdb and pg_ctl: on PATH, else Debian's /usr/lib/postgresql/<version>/bin (newest)."""
    found = [shutil.which(tool) for tool in ("initdb", "pg_ctl")]
    if all(found):
        return Path(found[0]).resolve().parent
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda d: int(Path(d).parent.name), reverse=True)
    return next((Path(d) for d in versions if (Path(d) / "initdb").exists() and (Path(d) / "pg_ctl").exists()), None)


def _as_server_user() -> tuple[list[str], str | None]:
    """The command prefix that runs the server's programs, and that user (None: this one)."""
    if os.geteuid() != 0:
        return [], None
    runuser = shutil.which("runuser")
    for user in SERVER_USERS:
        try:
            pwd.getpwnam(user)
        except KeyError:
            continue
        if runuser:
            return [runuser, "-u", user, "--"], user
    pytest.skip(f"running as root, and initdb refuses root: needs runuser and one of the users {SERVER_USERS}")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass(frozen=True)
class Server:
    port: int
    user: str = "weitblick"
    password: str = "s3cret/with:odd@chars"  # quoted in the URL by postgres_url
    db: str = "dagster"
    host: str = "127.0.0.1"

    @property
    def url(self) -> str:
        return postgres_url(user=self.user, password=self.password, host=self.host, port=self.port, db=self.db)

    def connect(self, db: str | None = None):
        import psycopg2

        return psycopg2.connect(
            host=self.host, port=self.port, user=self.user, password=self.password, dbname=db or self.db
        )


@pytest.fixture
def postgres() -> Iterator[Server]:
    """A PostgreSQL server on a free loopback port, data and socket in a temporary folder, with
    a password-protected user and an empty database; stopped and removed afterwards."""
    bindir = _server_bin()
    if bindir is None:
        pytest.skip(INSTALL)
    prefix, user = _as_server_user()
    # not under pytest's tmp_path: its parents are private to root, and the server user must enter
    root = Path(tempfile.mkdtemp(prefix="weitblick-pg-"))
    root.chmod(0o755)
    if user:
        shutil.chown(root, user)
    data, log, pwfile = root / "data", root / "server.log", root / "pwfile"
    server = Server(port=_free_port())
    pwfile.write_text(server.password + "\n", encoding="utf-8")
    if user:
        shutil.chown(pwfile, user)

    def run(tool: str, *args: str) -> None:
        proc = subprocess.run(
            [*prefix, str(bindir / tool), *args], capture_output=True, text=True, timeout=120, cwd=root
        )
        assert proc.returncode == 0, f"{tool} failed:\n{proc.stdout}\n{proc.stderr}"

    started = False
    try:
        run(
            "initdb",
            *("-D", str(data), "-U", server.user, f"--pwfile={pwfile}", "--auth=scram-sha-256"),
            *("--encoding=UTF8", "--no-locale", "--no-sync"),
        )
        options = f"-p {server.port} -k {root} -c listen_addresses={server.host} -c fsync=off"
        started = True
        run("pg_ctl", "-D", str(data), "-l", str(log), "-o", options, "-w", "-t", "60", "start")
        admin = server.connect("postgres")
        admin.autocommit = True  # CREATE DATABASE runs outside a transaction (so no `with admin`)
        try:
            with admin.cursor() as cur:
                cur.execute(f"create database {server.db}")
        finally:
            admin.close()
        yield server
    finally:
        if started:
            subprocess.run(
                [*prefix, str(bindir / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"],
                capture_output=True,
                timeout=120,
                cwd=root,
            )
        shutil.rmtree(root, ignore_errors=True)


def _home_with(tmp_path: Path, name: str, dagster_yaml: str) -> Path:
    """A WEITBLICK_HOME whose Dagster instance folder holds ``dagster_yaml``; returns the folder."""
    instance = paths.dagster_home(tmp_path / name)
    instance.mkdir(parents=True)
    (instance / "dagster.yaml").write_text(dagster_yaml, encoding="utf-8")
    return instance


@pytest.mark.slow
def test_a_refresh_through_a_postgres_instance_is_recorded_in_the_database(postgres, tmp_path, monkeypatch):
    from dagster_postgres import PostgresRunStorage

    from pipelines.definitions import build_definitions

    monkeypatch.setenv(PG_URL_ENV, postgres.url)
    instance_dir = _home_with(tmp_path, "home", postgres_dagster_yaml())
    assert postgres.password not in (instance_dir / "dagster.yaml").read_text(encoding="utf-8")
    defs = build_definitions(home=instance_dir.parent)
    with dg.DagsterInstance.from_config(str(instance_dir)) as instance:
        assert isinstance(instance.run_storage, PostgresRunStorage)
        assert instance.get_settings("telemetry") == {"enabled": False}
        assert instance.get_settings("nux") == {"enabled": False}
        result = defs.resolve_job_def("refresh").execute_in_process(
            instance=instance, asset_selection=[dg.AssetKey("settings"), dg.AssetKey("teams")]
        )
    assert result.success

    # in the database itself ...
    con = postgres.connect()
    try:
        with con.cursor() as cur:
            cur.execute("select run_id, status from runs")
            assert cur.fetchall() == [(result.run_id, "SUCCESS")]
            cur.execute("select distinct asset_key from event_logs where dagster_event_type = 'ASSET_MATERIALIZATION'")
            keys = sorted(dg.AssetKey.from_db_string(k).to_user_string() for (k,) in cur.fetchall())
        assert keys == ["settings", "teams"]
    finally:
        con.close()

    # ... and read back by a fresh instance, here configured through postgres_db with the driver named
    monkeypatch.setenv("WEITBLICK_PG_PASSWORD", postgres.password)
    by_settings = _home_with(
        tmp_path,
        "other",
        "storage:\n  postgres:\n    postgres_db:\n"
        f"      username: {postgres.user}\n      password: {{env: WEITBLICK_PG_PASSWORD}}\n"
        f"      hostname: {postgres.host}\n      port: {postgres.port}\n      db_name: {postgres.db}\n"
        "      scheme: postgresql+psycopg2\n",
    )
    with dg.DagsterInstance.from_config(str(by_settings)) as fresh:
        (run,) = fresh.get_runs()
        assert (run.run_id, run.status) == (result.run_id, dg.DagsterRunStatus.SUCCESS)
        event = fresh.get_latest_materialization_event(dg.AssetKey("settings"))
        assert event is not None and event.run_id == result.run_id


def test_the_postgres_db_settings_without_a_driver_need_psycopg3_under_sqlalchemy_2_1(tmp_path):
    """The pitfall docs/operations.md warns of: SQLAlchemy 2.1 reads the bare postgresql:// that
    Dagster builds from postgres_db: as psycopg 3, which dagster-postgres does not install. When
    this test fails, the pitfall is gone: update the docs (and this test)."""
    instance_dir = _home_with(
        tmp_path,
        "home",
        "storage:\n  postgres:\n    postgres_db:\n      username: weitblick\n      password: x\n"
        "      hostname: 127.0.0.1\n      port: 1\n      db_name: dagster\n",
    )
    with pytest.raises(ModuleNotFoundError, match="No module named 'psycopg'"):
        dg.DagsterInstance.from_config(str(instance_dir))  # fails loading the driver, before connecting


def test_postgres_url_names_the_driver_and_quotes_the_credentials():
    url = postgres_url(user="plan ner", password="p@ss:w/rd", host="db.example", port=6543, db="dagster")
    assert url == "postgresql+psycopg2://plan%20ner:p%40ss%3Aw%2Frd@db.example:6543/dagster"
    assert postgres_url(user="u", password="", host="h", db="d") == "postgresql+psycopg2://u@h:5432/d"


def test_the_docs_show_the_dagster_yaml_the_project_gives():
    docs = (paths.project_root() / "docs" / "operations.md").read_text(encoding="utf-8")
    assert postgres_dagster_yaml() in docs
