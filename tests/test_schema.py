"""The migrations and the models describe the same schema; timestamps round-trip as UTC."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, inspect, select, text

from aggregator.db.engine import Database
from aggregator.db.migrate import alembic_config, head_revision, modelled, require_current, upgrade
from aggregator.db.models import Base, Source
from aggregator.errors import SchemaOutOfDate
from alembic import command
from tests.helpers import OLD_ROWS_AT, old_schema_articles


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


def test_article_facts_migration_keeps_old_rows_honest_and_goes_back(empty_db_url):
    """0010 on a database with articles: no date means precision 'none'; a date stored before
    may have been a guess, so its source and precision stay unknown (NULL)."""
    engine = old_schema_articles(empty_db_url, "0009", 2)
    with engine.begin() as conn:
        conn.execute(text("UPDATE articles SET published_at = :t WHERE id = 1"),
                     {"t": OLD_ROWS_AT})
    upgrade(empty_db_url)
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT id, date_source, date_precision, extraction_path,"
                                 " language_confidence FROM articles ORDER BY id")).all()
    assert [tuple(r) for r in rows] == [(1, None, None, None, None), (2, None, "none", None, None)]
    command.downgrade(alembic_config(empty_db_url), "0009")
    with engine.connect() as conn:
        assert "date_source" not in {c["name"] for c in inspect(conn).get_columns("articles")}
        assert conn.execute(text("SELECT count(*) FROM articles")).scalar() == 2
    engine.dispose()


def test_large_text_columns_use_lz4_on_postgresql_and_go_back(pg_url):
    """0012: lz4 (a third of pglz's CPU) for the article text, HTML, revisions and search
    documents, where the server has it; the downgrade restores the server's default."""
    engine = create_engine(pg_url)
    query = text("SELECT c.relname || '.' || a.attname, a.attcompression FROM pg_attribute a "
                 "JOIN pg_class c ON c.oid = a.attrelid WHERE (c.relname, a.attname) IN "
                 "(('articles', 'text'), ('articles', 'html'), ('article_revisions', 'text'),"
                 " ('article_search', 'document'), ('articles', 'title'))")
    with engine.connect() as conn:
        if not conn.execute(text("SELECT 'lz4' = ANY(enumvals) FROM pg_settings "
                                 "WHERE name = 'default_toast_compression'")).scalar():
            pytest.skip("this PostgreSQL was built without lz4: the migration leaves pglz")
        assert dict(conn.execute(query).all()) == {
            "articles.text": "l", "articles.html": "l", "article_revisions.text": "l",
            "article_search.document": "l", "articles.title": ""}
    command.downgrade(alembic_config(pg_url), "0011")
    with engine.connect() as conn:
        assert set(dict(conn.execute(query).all()).values()) == {""}
    engine.dispose()


def test_links_of_an_article_are_found_by_the_unique_index_alone(db_url):
    """0014 dropped provenance_links' own article_id index: the unique (article_id, kind, url)
    index starts with the article, so a look-up (and the cascade of a deleted article) still
    searches an index; the downgrade brings the old index back."""
    engine = create_engine(db_url)
    lookup = "SELECT id FROM provenance_links WHERE article_id = 7"
    with engine.connect() as conn:
        names = {i["name"] for i in inspect(conn).get_indexes("provenance_links")}
        unique = inspect(conn).get_unique_constraints("provenance_links")
        assert "ix_provenance_links_article_id" not in names
        assert [c["column_names"] for c in unique] == [["article_id", "kind", "url"]]
        if engine.dialect.name == "sqlite":
            plan = " ".join(str(r[-1]) for r in conn.execute(text("EXPLAIN QUERY PLAN " + lookup)))
        else:
            conn.execute(text("SET enable_seqscan = off"))
            plan = " ".join(r[0] for r in conn.execute(text("EXPLAIN " + lookup)))
        assert "INDEX" in plan.upper() and "ix_provenance_links_article_id" not in plan
    command.downgrade(alembic_config(db_url), "0013")
    with engine.connect() as conn:
        names = {i["name"] for i in inspect(conn).get_indexes("provenance_links")}
        assert "ix_provenance_links_article_id" in names
    upgrade(db_url)
    engine.dispose()
