"""The migrations and the models describe the same schema; timestamps round-trip as UTC."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, select

from aggregator.db.engine import Database
from aggregator.db.migrate import head_revision, require_current
from aggregator.db.models import Base, Source
from aggregator.db.search import modelled
from aggregator.errors import SchemaOutOfDate


def test_migrated_database_matches_the_models(db_url):
    engine = create_engine(db_url)
    with engine.connect() as conn:
        # The search tables (FTS5 / tsvector) are the migration's own, outside the models.
        context = MigrationContext.configure(conn, opts={"include_name": modelled})
        diff = compare_metadata(context, Base.metadata)
    engine.dispose()
    assert diff == []


def test_timestamps_come_back_aware_and_in_utc(db_url):
    db = Database(db_url)
    kyiv = datetime(2026, 11, 20, 9, 15, tzinfo=timezone(timedelta(hours=2)))
    with db.session() as session:
        session.add(Source(name="s", title="S", kind="feed", url="http://x", language="uk",
                           created_at=kyiv, updated_at=kyiv))
    with db.session() as session:
        stored = session.scalar(select(Source.created_at))
    db.dispose()
    assert stored == kyiv and stored.tzinfo is not None and stored.utcoffset() == timedelta(0)


def test_naive_datetimes_are_refused(sqlite_url):
    db = Database(sqlite_url)
    with pytest.raises(Exception, match="naive datetime"):
        with db.session() as session:
            session.add(Source(name="s", title="S", kind="feed", url="http://x", language="uk",
                               created_at=datetime(2026, 1, 1), updated_at=datetime(2026, 1, 1)))
    db.dispose()


def test_an_unmigrated_database_is_refused(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path / 'empty.db'}")
    with pytest.raises(SchemaOutOfDate, match=f"needs {head_revision()}"):
        require_current(engine)
    engine.dispose()
