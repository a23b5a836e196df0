"""A Dagster instance whose runs, event logs and schedules live in PostgreSQL instead of the
SQLite files under DAGSTER_HOME (docs/operations.md).

:func:`postgres_dagster_yaml` is the dagster.yaml to put into DAGSTER_HOME: storage on
PostgreSQL through ``postgres_url``, read from an environment variable (default
``WEITBLICK_PG_URL``) so the password stays out of the file, and telemetry off as in the
dagster.yaml the project writes. :func:`postgres_url` spells such a URL.

The URL names its driver, ``postgresql+psycopg2://``: SQLAlchemy 2.1 reads a bare
``postgresql://`` (which Dagster's ``postgres_db:`` settings build by default) as psycopg 3,
which is not installed; dagster-postgres brings psycopg2 (dagster issue 33958).

``python -m pipelines.instance`` prints the dagster.yaml.
"""

from __future__ import annotations

from urllib.parse import quote

PG_URL_ENV = "WEITBLICK_PG_URL"  # the variable the dagster.yaml reads the database URL from
DRIVER = "postgresql+psycopg2"  # the SQLAlchemy dialect and driver dagster-postgres installs


def postgres_url(*, user: str, password: str, host: str, db: str, port: int = 5432) -> str:
    """``postgresql+psycopg2://user:password@host:port/db``, user and password quoted for a URL."""
    auth = quote(user, safe="") + (f":{quote(password, safe='')}" if password else "")
    return f"{DRIVER}://{auth}@{host}:{port}/{db}"


def postgres_dagster_yaml(env_var: str = PG_URL_ENV) -> str:
    """The dagster.yaml of an instance on PostgreSQL: runs, event logs and schedules in the
    database whose URL (:func:`postgres_url`) every Dagster process reads from ``env_var``."""
    return (
        "# Dagster instance on PostgreSQL (docs/operations.md). Every Dagster process (dagster dev,\n"
        f"# the daemon, weitblick) needs {env_var}=postgresql+psycopg2://USER:PASSWORD@HOST:5432/DB\n"
        "storage:\n"
        "  postgres:\n"
        "    postgres_url:\n"
        f"      env: {env_var}\n"
        "telemetry:\n"
        "  enabled: false\n"
        "nux:\n"
        "  enabled: false\n"
    )


if __name__ == "__main__":  # `python -m pipelines.instance > "$DAGSTER_HOME/dagster.yaml"`
    print(postgres_dagster_yaml(), end="")
