"""The write path: idempotent upserts and pending entries, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import func, select

from aggregator.db.engine import Database
from aggregator.db.models import Article, FeedEntry, ProvenanceLink
from aggregator.ingest import Arrival, Ingestor, fill_from_feed
from aggregator.ledger import CrawlLedger
from aggregator.records import ArticleDraft, FetchRecord
from aggregator.records import FeedEntry as Entry
from aggregator.sources import Source
from aggregator.vocabulary import DatePrecision, DateSource

SOURCE = Source(name="rbc-ukr", title="RBC", kind="feed", url="http://127.0.0.1/rss",
                language="uk", allowed_domains=["127.0.0.1"])
NOW = datetime(2026, 11, 20, 8, 0, tzinfo=timezone.utc)


def fetch(kind: str, url: str) -> FetchRecord:
    return FetchRecord(url=url, final_url=url, status=200, fetched_at=NOW, size=10,
                       sha256="0" * 64, kind=kind)


def entries(*slugs: str) -> tuple[Entry, ...]:
    return tuple(Entry(guid=s, link=f"http://127.0.0.1/{s}", title=s.upper(), published_at=NOW)
                 for s in slugs)


def count(db: Database, model) -> int:
    with db.session() as session:
        return session.scalar(select(func.count()).select_from(model))


def test_storing_the_same_feed_and_article_twice_stores_nothing_twice(db_url):
    db = Database(db_url)
    ledger, ingestor = CrawlLedger(db, max_entry_attempts=3), Ingestor(db)
    source_id = ledger.register(SOURCE)
    assert ledger.register(SOURCE) == source_id

    new, pending = ledger.accept_entries(source_id, fetch("feed", SOURCE.url), entries("a", "b"))
    assert new == 2 and [p.entry.guid for p in pending] == ["a", "b"]
    draft = ArticleDraft(url="http://127.0.0.1/a", text="Текст статті " * 10, title="A")
    arrival = Arrival(SOURCE, source_id, [pending[0].id], pending[0].entry,
                      fetch("page", draft.url), draft)
    first = ingestor.store_article(arrival)
    again = ingestor.store_article(arrival)
    assert first.created and not again.created and first.id == again.id

    new, pending = ledger.accept_entries(source_id, fetch("feed", SOURCE.url), entries("a", "b"))
    assert new == 0 and [p.entry.guid for p in pending] == ["b"]
    assert count(db, Article) == 1 and count(db, FeedEntry) == 2
    assert count(db, ProvenanceLink) == 2  # original + feed, not duplicated
    db.dispose()


def test_entry_fails_for_good_after_max_attempts(db_url):
    db = Database(db_url)
    ledger = CrawlLedger(db, max_entry_attempts=2)
    source_id = ledger.register(SOURCE)
    _, pending = ledger.accept_entries(source_id, fetch("feed", SOURCE.url), entries("a"))
    for _ in range(2):
        ledger.page_failed(source_id, [pending[0].id], "HTTP 500")
    _, pending = ledger.accept_entries(source_id, fetch("feed", SOURCE.url), None)
    assert pending == []
    with db.session() as session:
        row = session.scalar(select(FeedEntry))
        assert (row.status, row.attempts, row.last_error) == ("failed", 2, "HTTP 500")
    db.dispose()


def test_feed_fills_only_what_the_page_left_empty():
    entry = Entry(guid="g", link="http://x", title="Feed title", published_at=NOW,
                  authors=("Feed Author",), image_url="http://x/i.jpg")
    day_only = ArticleDraft(url="http://x", text="t", title="Page title",
                            published_at=datetime(2026, 11, 19, 22, 0, tzinfo=timezone.utc),
                            date_source=DateSource.PAGE, date_precision=DatePrecision.DAY)
    merged = fill_from_feed(day_only, entry)
    assert merged.title == "Page title" and merged.authors == ("Feed Author",)
    assert (merged.published_at, merged.date_source, merged.date_precision) == (
        NOW, DateSource.FEED, DatePrecision.SECOND)
    assert merged.image_url == "http://x/i.jpg"


def test_feed_date_fills_a_page_without_one_and_says_so():
    undated = ArticleDraft(url="http://x", text="t")
    assert (undated.published_at, undated.date_source, undated.date_precision) == (
        None, None, DatePrecision.NONE)
    assert fill_from_feed(undated, None) == undated  # no date is invented
    feed = Entry(guid="g", link="http://x", published_at=NOW)
    filled = fill_from_feed(undated, feed)
    assert (filled.published_at, filled.date_source, filled.date_precision) == (
        NOW, DateSource.FEED, DatePrecision.SECOND)
    midnight_kyiv = datetime(2026, 11, 19, 22, 0, tzinfo=timezone.utc)  # a sitemap's bare day
    day = fill_from_feed(undated, Entry(guid="g", link="http://x", published_at=midnight_kyiv))
    assert (day.date_source, day.date_precision) == (DateSource.FEED, DatePrecision.DAY)
    precise = ArticleDraft(url="http://x", text="t", published_at=midnight_kyiv,
                           date_source=DateSource.STRUCTURED, date_precision=DatePrecision.SECOND)
    assert fill_from_feed(precise, feed).date_source == DateSource.STRUCTURED  # the page wins
