"""Engine and sessions: one place that knows SQLite's pragmas and PostgreSQL's pool."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import Session, sessionmaker


def redact(url: str) -> str:
    """The URL with any password masked, for logs and status output."""
    return re.sub(r"(://[^:/@]+:)[^@]+@", r"\1***@", url)


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def _sqlite_read_only(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA query_only=ON")
    cursor.close()


def make_engine(url: str, read_only: bool = False) -> Engine:
    """Create the engine; for SQLite, create its directory and switch on WAL and foreign keys.
    `read_only` makes the database itself refuse writes on every connection (the web view)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 10})
        event.listen(engine, "connect", _sqlite_pragmas)
        if read_only:
            event.listen(engine, "connect", _sqlite_read_only)
        return engine
    options = {"options": "-c default_transaction_read_only=on"} if read_only else {}
    return create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=5,
                         connect_args=options)


class Database:
    """The engine plus a session factory; `session()` is one transaction."""

    def __init__(self, url: str, read_only: bool = False):
        self.url = url
        self.engine = make_engine(url, read_only)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @contextmanager
    def session(self) -> Iterator[Session]:
        with self._sessions.begin() as session:
            yield session

    def ping(self) -> bool:
        try:
            with self.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            return True
        except Exception:  # noqa: BLE001 - any failure means "not answering"
            return False

    def dispose(self) -> None:
        self.engine.dispose()
