"""Shared fixtures: a loopback HTTP site, fresh databases (SQLite and PostgreSQL), config dirs."""

from __future__ import annotations

import os
import uuid

import psycopg
import pytest
from sqlalchemy.engine import make_url

from aggregator.db.migrate import upgrade
from tests.helpers import Workspace
from tests.httpsite import Site

PG_ADMIN_URL = os.environ.get(
    "AGGREGATOR_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


def _admin() -> psycopg.Connection:
    url = make_url(PG_ADMIN_URL)
    return psycopg.connect(
        host=url.host, port=url.port or 5432, user=url.username, password=url.password,
        dbname=url.database or "postgres", autocommit=True, connect_timeout=5,
    )


def _pg_url(name: str) -> str:
    return make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def pg_template():
    """A migrated database to clone: every test gets a fresh copy in milliseconds."""
    name = f"aggtest_tmpl_{uuid.uuid4().hex[:10]}"
    try:
        admin = _admin()
    except psycopg.OperationalError as exc:
        pytest.fail(f"PostgreSQL not reachable at {PG_ADMIN_URL}: {exc} "
                    "(.ci/run installs and starts it; set AGGREGATOR_TEST_POSTGRES_URL)")
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    upgrade(_pg_url(name))
    yield name
    with _admin() as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _clone(template: str):
    """A fresh database copied from the migrated template; dropped after the caller's use."""
    name = f"aggtest_{uuid.uuid4().hex[:12]}"
    with _admin() as admin:
        admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    yield _pg_url(name)
    with _admin() as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", "postgres"])
def empty_db_url(request, tmp_path, pg_template):
    """A database with no schema at all, on each kind (for migration tests)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    name = f"aggtest_{uuid.uuid4().hex[:12]}"
    with _admin() as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    yield _pg_url(name)
    with _admin() as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def pg_url(pg_template):
    yield from _clone(pg_template)


@pytest.fixture
def sqlite_url(tmp_path):
    url = f"sqlite:///{tmp_path / 'aggregator.db'}"
    upgrade(url)
    return url


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request):
    """Each test using this runs once on SQLite and once on PostgreSQL."""
    return request.getfixturevalue("sqlite_url" if request.param == "sqlite" else "pg_url")


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def module_db_url(request, tmp_path_factory):
    """Like db_url, for a module whose tests share one filled database of each kind."""
    if request.param == "postgres":
        yield from _clone(request.getfixturevalue("pg_template"))
        return
    url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'aggregator.db'}"
    upgrade(url)
    yield url


@pytest.fixture
def site():
    with Site() as running:
        yield running


@pytest.fixture
def workspace(tmp_path, db_url) -> Workspace:
    ws = Workspace(tmp_path, db_url)
    (ws.config / "sources").mkdir(parents=True)
    ws.settings()
    return ws


@pytest.fixture
def sqlite_workspace(tmp_path, sqlite_url) -> Workspace:
    ws = Workspace(tmp_path, sqlite_url)
    (ws.config / "sources").mkdir(parents=True)
    ws.settings()
    return ws


@pytest.fixture(scope="session")
def fault_report(request) -> dict[str, object]:
    """Figures the fault suite collects; printed at the end of the run (see below)."""
    return request.config.stash.setdefault(FAULT_REPORT, {})


FAULT_REPORT = pytest.StashKey[dict]()


def pytest_terminal_summary(terminalreporter, config) -> None:
    figures = config.stash.get(FAULT_REPORT, None)
    if figures:
        terminalreporter.section("fault report")
        for key, value in figures.items():
            terminalreporter.write_line(f"{key}: {value}")
