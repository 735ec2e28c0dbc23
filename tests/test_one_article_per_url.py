"""One article per canonical URL (issue 13, item 8): a second source's sighting of a stored
article adds provenance links to it, never a second row; the schema enforces it and the
migration merges the rows an older database already holds. SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.exc import IntegrityError

from aggregator.db import batch, store
from aggregator.db.engine import Database
from aggregator.db.migrate import upgrade
from aggregator.db.models import Article, FeedEntry, ProvenanceLink, Source, Story
from aggregator.dedup import fingerprint
from aggregator.ingest import Arrival, Ingestor
from aggregator.ledger import CrawlLedger
from aggregator.records import ArticleDraft, FetchRecord
from aggregator.records import FeedEntry as Entry
from aggregator.sources import Source as SourceConfig
from aggregator.urls import url_key

NOW = datetime(2026, 11, 20, 8, 0, tzinfo=timezone.utc)
URL = "https://www.rbc.ua/ukr/news/bridge-1700000001.html"
TEXT = "Новий міст через Дніпро відкрили для руху. " * 12


def source(name: str, feed: str) -> SourceConfig:
    return SourceConfig(name=name, title=name.upper(), kind="feed", url=feed, language="uk",
                        allowed_domains=["rbc.ua"])


RBC = source("rbc-ukr", "https://www.rbc.ua/static/rss/all.ukr.rss.xml")
TOP = source("rbc-top", "https://www.rbc.ua/static/rss/top.ukr.rss.xml")


def fetch(url: str, kind: str = "page") -> FetchRecord:
    return FetchRecord(url, url, 200, NOW, 10, "0" * 64, kind)


def links(db: Database) -> set[tuple]:
    with db.session() as session:
        return set(session.execute(select(ProvenanceLink.kind, ProvenanceLink.url,
                                          ProvenanceLink.label, Source.name)
                                   .join(Source, Source.id == ProvenanceLink.source_id)).all())


def count(db: Database, model) -> int:
    with db.session() as session:
        return session.scalar(select(func.count()).select_from(model))


def test_a_second_feed_listing_a_stored_url_adds_a_sighting_not_a_row(db_url):
    db = Database(db_url)
    ledger, ingestor = CrawlLedger(db), Ingestor(db)
    rbc, top = ledger.register(RBC), ledger.register(TOP)
    _, pending = ledger.accept_entries(rbc, fetch(RBC.url, "feed"), (Entry("g1", URL),))
    ingestor.store_article(Arrival(RBC, rbc, [pending[0].id], pending[0].entry, fetch(URL),
                                   ArticleDraft(url=URL, text=TEXT, title="Міст")))
    tracked = URL + "?utm_source=top&utm_medium=rss"
    new, pending = ledger.accept_entries(top, fetch(TOP.url, "feed"), (Entry("t1", tracked),))
    assert (new, pending) == (0, [])  # nothing to fetch: the article is stored
    assert count(db, Article) == 1
    assert {("feed", TOP.url, "t1", "rbc-top"), ("listed_as", tracked, "rbc-top", "rbc-top"),
            ("feed", RBC.url, "g1", "rbc-ukr")} <= links(db)
    with db.session() as session:
        entry = session.scalar(select(FeedEntry).where(FeedEntry.guid == "t1"))
        assert (entry.status, entry.article_id) == ("stored", session.scalar(select(Article.id)))
    db.dispose()


def test_a_page_whose_canonical_is_stored_by_another_source_joins_it(db_url):
    """The URL as listed does not give it away (another path); the page's canonical does."""
    db = Database(db_url)
    ledger, ingestor = CrawlLedger(db), Ingestor(db)
    rbc, top = ledger.register(RBC), ledger.register(TOP)
    first = ingestor.store_article(Arrival(RBC, rbc, [], Entry("g1", URL), fetch(URL),
                                           ArticleDraft(url=URL, text=TEXT, title="Міст")))
    amp = "https://www.rbc.ua/ukr/top/bridge-1700000001.html"
    _, pending = ledger.accept_entries(top, fetch(TOP.url, "feed"), (Entry("t1", amp),))
    assert len(pending) == 1  # fetched, then recognised by its rel=canonical
    draft = ArticleDraft(url=amp, text=TEXT + " Оновлено.", title="Інший заголовок",
                         canonical_url=URL)
    again = ingestor.store_article(Arrival(TOP, top, [pending[0].id], pending[0].entry,
                                           fetch(amp), draft))
    assert (again.id, again.created) == (first.id, False)
    with db.session() as session:
        assert session.scalar(select(Article.title)) == "Міст"  # the first source's text stays
        assert session.scalar(select(FeedEntry.status).where(FeedEntry.guid == "t1")) == "stored"
    assert ("listed_as", amp, "rbc-top", "rbc-top") in links(db)
    assert count(db, Article) == 1
    db.dispose()


def test_the_schema_refuses_a_second_row_for_a_canonical_url(db_url):
    """The last guard, whatever the code above it does (two nodes storing at once)."""
    db = Database(db_url)
    ledger = CrawlLedger(db)
    with db.session() as session:
        for name, sid in (("rbc", ledger.register(RBC)), ("top", ledger.register(TOP))):
            row = {"source_id": sid, "fetch_id": store.add_fetch(session, sid, fetch(URL)),
                   "url": f"{URL}?from={name}", "canonical_url": URL,
                   "canonical_key": url_key(URL), "text": TEXT,
                   "content_hash": fingerprint(TEXT).content_hash, "fetched_at": NOW}
            if name == "rbc":
                batch.insert_articles(session, [row])
            else:
                with pytest.raises(IntegrityError):
                    batch.insert_articles(session, [row])
    db.dispose()


def test_the_migration_merges_rows_an_older_database_holds(empty_db_url):
    upgrade(empty_db_url, "0006")
    engine = create_engine(empty_db_url)
    t = NOW.replace(tzinfo=None)
    with engine.begin() as conn:
        run = lambda sql, **p: conn.execute(text(sql), {"t": t, **p})  # noqa: E731
        for sid, name in ((1, "rbc-ukr"), (2, "rbc-top")):
            run("INSERT INTO sources (id, name, title, kind, url, language, enabled, created_at,"
                " updated_at, consecutive_failures) VALUES (:i, :n, :n, 'feed', :u, 'uk', "
                "true, :t, :t, 0)", i=sid, n=name, u=f"https://www.rbc.ua/{name}.xml")
        run("INSERT INTO fetches (id, source_id, kind, url, final_url, status, fetched_at, size,"
            " sha256) VALUES (1, 1, 'page', 'u', 'u', 200, :t, 1, 'x')")
        run("INSERT INTO stories (id, primary_article_id, created_at, updated_at) "
            "VALUES (1, NULL, :t, :t)")
        for aid, sid, url in ((1, 1, URL), (2, 2, URL + "?utm_source=x")):
            run("INSERT INTO articles (id, source_id, fetch_id, url, canonical_url, guid, text,"
                " content_hash, fetched_at, first_seen_at, last_seen_at, story_id, match_kind,"
                " authors, categories, tags) VALUES (:i, :s, 1, :u, :c, :g, 't', 'h', :t, :t,"
                " :t, 1, 'first', '[]', '[]', '[]')",
                i=aid, s=sid, u=url, c=URL, g=f"g{aid}")
            run("INSERT INTO provenance_links (article_id, kind, url, label, created_at) "
                "VALUES (:i, 'original', :u, 'RBC', :t)", i=aid, u=url)
            run("INSERT INTO feed_entries (source_id, fetch_id, guid, link, first_seen_at, "
                "last_seen_at, status, attempts, article_id, authors, categories) VALUES "
                "(:s, 1, :g, :u, :t, :t, 'stored', 0, :i, '[]', '[]')",
                s=sid, g=f"g{aid}", u=url, i=aid)
        run("UPDATE stories SET primary_article_id = 2 WHERE id = 1")
    upgrade(empty_db_url)
    db = Database(empty_db_url)
    with db.session() as session:
        assert session.scalars(select(Article.id)).all() == [1]
        assert set(session.scalars(select(FeedEntry.article_id))) == {1}
        assert session.scalar(select(Story.primary_article_id)) == 1
    assert {("feed", "https://www.rbc.ua/rbc-top.xml", "g2", "rbc-top"),
            ("listed_as", URL + "?utm_source=x", "rbc-top", "rbc-top"),
            ("original", URL, "RBC", "rbc-ukr")} == links(db)
    db.dispose()
    engine.dispose()
