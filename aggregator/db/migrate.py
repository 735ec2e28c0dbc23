"""Schema migrations through Alembic: upgrade, and refuse to run on an out-of-date schema."""

from __future__ import annotations

from pathlib import Path

from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.pool import NullPool

from aggregator.db.search import outside_models
from aggregator.errors import SchemaOutOfDate
from alembic import command

SCRIPT_LOCATION = Path(__file__).resolve().parents[2] / "alembic"


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(SCRIPT_LOCATION))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


# PostgreSQL-only indexes the migrations make and the models do not describe (a GIN index).
MIGRATION_INDEXES = frozenset({"ix_article_signatures_bands"})


def modelled(name: str | None, type_: str, _parent) -> bool:
    """Alembic `include_name` hook: compare and autogenerate everything but the search tables
    and the migrations' own PostgreSQL indexes."""
    if type_ == "index":
        return name not in MIGRATION_INDEXES
    return not (type_ == "table" and outside_models(name))


MIGRATE_LOCK = 7_320_016  # pg_advisory_lock key: one upgrade at a time


def upgrade(database_url: str, revision: str = "head") -> None:
    """Upgrade; on PostgreSQL under a session advisory lock, so N nodes' units starting
    together (each runs `db upgrade` first) migrate once and the others wait, then find
    nothing to do."""
    if make_url(database_url).get_backend_name() != "postgresql":
        command.upgrade(alembic_config(database_url), revision)
        return
    engine = create_engine(database_url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT pg_advisory_lock(:key)"), {"key": MIGRATE_LOCK})
            conn.commit()
            try:
                command.upgrade(alembic_config(database_url), revision)
            finally:
                conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": MIGRATE_LOCK})
                conn.commit()
    finally:
        engine.dispose()


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def require_current(engine: Engine) -> None:
    """Raise SchemaOutOfDate unless the database is at the code's head revision."""
    current, head = current_revision(engine), head_revision()
    if current != head:
        raise SchemaOutOfDate(
            f"database schema is at {current or 'nothing'}, the code needs {head}: "
            "run `aggregator db upgrade`"
        )
