"""PostgreSQL's shared near-duplicate index: each signature row carries its LSH band keys
(migration 0013), a revision replaces them, older signatures get them at start, and the
migration moves the keys of the former band table both ways."""

from __future__ import annotations

from sqlalchemy import create_engine, func, inspect, select, text, update

from aggregator.db.migrate import alembic_config, upgrade
from aggregator.db.models import Article, ArticleSignature
from aggregator.dedup import band_keys, fingerprint
from aggregator.ingest import Ingestor
from alembic import command
from tests.helpers import old_schema_articles
from tests.test_batch_store import Desk, _text


def _bands(desk: Desk, article_id: int) -> list[int] | None:
    with desk.db.session() as session:
        return session.scalar(select(ArticleSignature.bands)
                              .where(ArticleSignature.article_id == article_id))


def _story(desk: Desk, article_id: int) -> int:
    with desk.db.session() as session:
        return session.scalar(select(Article.story_id).where(Article.id == article_id))


def test_a_revision_replaces_the_band_keys_in_the_signature_row(pg_url):
    desk = Desk(pg_url, ("rbc", "unian", "korr"))
    first, second = _text(1), _text(2)
    [a] = desk.ingestor.store_articles([desk.arrival("rbc", "a", first)])
    assert sorted(_bands(desk, a.id)) == sorted(set(band_keys(fingerprint(first))))

    [revised] = desk.ingestor.store_articles([desk.arrival("rbc", "a", second)])
    assert revised.id == a.id and revised.revised
    assert sorted(_bands(desk, a.id)) == sorted(set(band_keys(fingerprint(second))))

    # A near copy of the new text finds the article through its new keys; one of the old
    # text finds nothing any more (the old keys are gone) and starts a story of its own.
    [copy_new] = desk.ingestor.store_articles(
        [desk.arrival("unian", "b", second + " " + _text(3, sentences=1))])
    [copy_old] = desk.ingestor.store_articles(
        [desk.arrival("korr", "c", first + " " + _text(4, sentences=1))])
    assert copy_new.story_id == _story(desk, a.id)
    assert copy_old.story_id != _story(desk, a.id)
    desk.db.dispose()


def test_short_texts_have_no_band_keys_and_sqlite_stores_none(db_url):
    desk = Desk(db_url, ("rbc",))
    [short] = desk.ingestor.store_articles([desk.arrival("rbc", "s", "Коротко.")])
    [long] = desk.ingestor.store_articles([desk.arrival("rbc", "l", _text(5))])
    assert _bands(desk, short.id) is None
    shared = desk.db.engine.dialect.name == "postgresql"
    assert (_bands(desk, long.id) is not None) == shared
    with desk.db.session() as session:  # SQL NULL, not a JSON null
        assert session.scalar(select(func.count()).select_from(ArticleSignature)
                              .where(ArticleSignature.bands.is_(None))) == (1 if shared else 2)
    desk.db.dispose()


def test_signatures_without_band_keys_get_them_at_start(pg_url):
    desk = Desk(pg_url, ("rbc", "unian"))
    original = _text(6)
    [a] = desk.ingestor.store_articles([desk.arrival("rbc", "a", original)])
    with desk.db.session() as session:
        session.execute(update(ArticleSignature).values(bands=None))

    restarted = Ingestor(desk.db)  # load_index bands what lacks keys
    assert sorted(_bands(desk, a.id)) == sorted(set(band_keys(fingerprint(original))))
    desk.ingestor = restarted
    [copy] = desk.ingestor.store_articles(
        [desk.arrival("unian", "b", original + " " + _text(7, sentences=1))])
    assert copy.story_id == a.story_id
    desk.db.dispose()


def test_the_migration_moves_the_band_table_into_the_signatures_and_back(empty_db_url):
    engine = old_schema_articles(empty_db_url, "0012", 2)
    postgres = engine.dialect.name == "postgresql"
    with engine.begin() as conn:
        for aid in (1, 2):
            conn.execute(text("INSERT INTO article_signatures (article_id, minhash, shingles)"
                              " VALUES (:i, :m, 40)"), {"i": aid, "m": b"\0" * 512})
        if postgres:
            for key in (-5, 7, 3):
                conn.execute(text("INSERT INTO article_bands (key, article_id) VALUES (:k, 1)"),
                             {"k": key})
    engine.dispose()

    upgrade(empty_db_url)
    engine = create_engine(empty_db_url)
    assert "article_bands" not in inspect(engine).get_table_names()
    with engine.connect() as conn:
        moved = dict(conn.execute(text("SELECT article_id, bands FROM article_signatures")).all())
    assert moved == ({1: [-5, 3, 7], 2: None} if postgres else {1: None, 2: None})
    engine.dispose()

    command.downgrade(alembic_config(empty_db_url), "0012")
    engine = create_engine(empty_db_url)
    assert "bands" not in {c["name"] for c in inspect(engine).get_columns("article_signatures")}
    with engine.connect() as conn:
        back = conn.execute(text("SELECT key, article_id FROM article_bands ORDER BY key")).all()
    assert [tuple(r) for r in back] == ([(-5, 1), (3, 1), (7, 1)] if postgres else [])
    engine.dispose()
