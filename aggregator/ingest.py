"""The one place that knows the order of the stages for a feed and for one article.

feed: record fetch -> record entries -> choose what to fetch
article: fill gaps from the feed -> canonical URL -> content hash -> store with provenance
"""

from __future__ import annotations

import dataclasses
import logging

from aggregator import records
from aggregator.db import store
from aggregator.db.engine import Database
from aggregator.dedup import content_hash
from aggregator.sources import Source
from aggregator.urls import choose_canonical

log = logging.getLogger(__name__)


def fill_from_feed(draft: records.ArticleDraft, entry: records.FeedEntry | None) -> records.ArticleDraft:
    """The page wins; the feed fills what the page left empty (or only dated to the day)."""
    if entry is None:
        return draft
    published = draft.published_at
    if entry.published_at and (published is None or draft.date_is_approximate):
        published = entry.published_at
    return dataclasses.replace(
        draft,
        title=draft.title or entry.title,
        authors=draft.authors or entry.authors,
        published_at=published,
        date_is_approximate=draft.date_is_approximate and published == draft.published_at,
        updated_at=draft.updated_at or entry.updated_at,
        description=draft.description or (entry.summary or None),
        image_url=draft.image_url or entry.image_url,
        categories=draft.categories or entry.categories,
    )


def provenance_links(
    source: Source, draft: records.ArticleDraft, canonical: str, entry: records.FeedEntry | None
) -> list[tuple[str, str, str | None]]:
    """(kind, url, label) for where the article came from and what it points to."""
    links: list[tuple[str, str, str | None]] = [
        ("original", draft.url, draft.sitename or source.title),
        ("feed", source.url, entry.guid if entry else None),
    ]
    if entry and entry.link != draft.url:
        links.append(("redirected_from", entry.link, None))
    if canonical != draft.url:
        links.append(("canonical", canonical, None))
    links.extend(("alternate", url, lang) for lang, url in draft.alternates if url != draft.url)
    return links


class Ingestor:
    """Stores what the spiders bring, one short transaction per step."""

    def __init__(self, db: Database, max_entry_attempts: int = 5, screenshots: bool = True):
        self.db = db
        self.max_attempts = max_entry_attempts
        self.screenshots = screenshots

    def register(self, source: Source) -> int:
        with self.db.session() as session:
            return store.sync_source(session, source)

    def conditional_headers(self, source_id: int) -> dict[str, str]:
        with self.db.session() as session:
            etag, modified = store.validators(session, source_id)
        headers = {}
        if etag:
            headers["If-None-Match"] = etag
        if modified:
            headers["If-Modified-Since"] = modified
        return headers

    def start_crawl(self, source_id: int, started_at) -> int:
        with self.db.session() as session:
            return store.start_crawl(session, source_id, started_at)

    def finish_crawl(self, crawl_id: int, summary: records.CrawlSummary, outcome: str) -> None:
        with self.db.session() as session:
            store.finish_crawl(session, crawl_id, summary, outcome)

    def accept_feed(
        self, source_id: int, fetch: records.FetchRecord, feed: records.ParsedFeed | None
    ) -> tuple[int, list[store.PendingEntry]]:
        """Record the feed fetch and its entries; return (new entries, entries to fetch).

        `feed` is None for a 304: nothing new, but earlier entries may still be pending.
        Validators are saved only once the entries are stored, so a crash never hides them.
        """
        with self.db.session() as session:
            fetch_id = store.add_fetch(session, source_id, fetch)
            new = store.upsert_entries(session, source_id, fetch_id, feed.entries) if feed else 0
            if feed is not None:
                store.save_validators(session, source_id, fetch)
            return new, store.pending_entries(session, source_id, self.max_attempts)

    def store_article(
        self,
        source: Source,
        source_id: int,
        entry_ids: list[int],
        entry: records.FeedEntry | None,
        fetch: records.FetchRecord,
        draft: records.ArticleDraft,
    ) -> store.StoredArticle:
        draft = fill_from_feed(draft, entry)
        canonical = choose_canonical(draft.url, draft.canonical_url, source.allowed_domains)
        with self.db.session() as session:
            fetch_id = store.add_fetch(session, source_id, fetch)
            stored = store.upsert_article(
                session, source_id, fetch_id, entry_ids, draft, canonical,
                entry.guid if entry else None, content_hash(draft.text), fetch.fetched_at,
            )
            store.add_links(session, stored.id, provenance_links(source, draft, canonical, entry))
            if stored.created and self.screenshots and source.screenshots:
                store.enqueue_screenshot(session, stored.id, fetch_id, draft.url)
        log.info("stored article %s %s", stored.id, draft.url,
                 extra={"source": source.name, "url": draft.url})
        return stored

    def page_failed(
        self, source_id: int, entry_ids: list[int], reason: str,
        fetch: records.FetchRecord | None = None,
    ) -> None:
        with self.db.session() as session:
            if fetch is not None:
                store.add_fetch(session, source_id, fetch)
            store.entry_failed(session, entry_ids, reason, self.max_attempts)

    def page_skipped(self, entry_ids: list[int], reason: str) -> None:
        with self.db.session() as session:
            store.entry_skipped(session, entry_ids, reason)
