"""The crawl ledger: the spider's bookkeeping, one short transaction per call.

Sources registered, crawls started and finished, validators, the entries a root request
listed and which of them still need their page, pages that failed or were skipped, and the
sitemap and listing pages walked or planned by a backfill. Articles take the other path
(aggregator/ingest.py).
"""

from __future__ import annotations

from datetime import datetime, timezone

from aggregator import quality
from aggregator.db import discovery, extraction_stats, store
from aggregator.db.engine import Database
from aggregator.records import (
    CrawlSummary,
    FeedEntry,
    FetchRecord,
    FrontierPage,
    PendingEntry,
    PlannedPage,
)
from aggregator.sources import Source
from aggregator.vocabulary import CrawlOutcome, ExtractionOutcome, FetchKind


class CrawlLedger:
    def __init__(self, db: Database, max_entry_attempts: int = 5, node: str | None = None):
        self.db = db
        self.max_attempts = max_entry_attempts
        self.node = node  # recorded on each crawl row

    def register(self, source: Source) -> int:
        with self.db.session() as session:
            return store.sync_source(session, source)

    def open_crawl(self, source: Source, started_at: datetime) -> tuple[int, int, dict[str, str]]:
        """(source id, crawl id, the root's conditional headers): the source registered and
        its crawl started, in one transaction."""
        with self.db.session() as session:
            source_id = store.sync_source(session, source)
            crawl_id = store.start_crawl(session, source_id, started_at, self.node)
            etag, modified = store.validators(session, source_id)
        headers = {}
        if etag:
            headers["If-None-Match"] = etag
        if modified:
            headers["If-Modified-Since"] = modified
        return source_id, crawl_id, headers

    def finish_crawl(self, crawl_id: int, summary: CrawlSummary, outcome: CrawlOutcome) -> None:
        with self.db.session() as session:
            store.finish_crawl(session, crawl_id, summary, outcome)

    def accept_entries(
        self, source_id: int, fetch: FetchRecord, entries: tuple[FeedEntry, ...] | None,
        validators: bool = True,
    ) -> tuple[int, list[PendingEntry]]:
        """Record the root's fetch and its entries; return (new entries, entries to fetch).

        `entries` is None for a 304: nothing new, but earlier entries may still be pending.
        Validators are saved only once the entries are stored, so a crash never hides them;
        only the source URL's own (`validators`), not those of a child sitemap or listing page.
        """
        with self.db.session() as session:
            fetch_id = store.add_fetch(session, source_id, fetch)
            new = 0
            if entries is not None:
                new = store.upsert_entries(session, source_id, fetch_id, entries)
                if validators:
                    store.save_validators(session, source_id, fetch)
            return new, store.pending_entries(session, source_id, self.max_attempts)

    def page_failed(
        self, source_id: int, entry_ids: list[int], reason: str,
        fetch: FetchRecord | None = None, outcome: ExtractionOutcome | None = None,
    ) -> None:
        """One failed attempt at the entries' page; `outcome` names an extraction failure
        (empty or short text) for the quality counters."""
        with self.db.session() as session:
            if fetch is not None:
                store.add_fetch(session, source_id, fetch)
            store.entry_failed(session, entry_ids, reason, self.max_attempts)
            if outcome is not None:
                extraction_stats.count(session, source_id, datetime.now(timezone.utc).date(),
                                       quality.of_failure(outcome))

    def page_skipped(self, entry_ids: list[int], reason: str) -> None:
        with self.db.session() as session:
            store.entry_skipped(session, entry_ids, reason)

    def child_failed(self, source_id: int) -> None:
        """A child sitemap could not be read: forget the root's validators, so the next crawl
        gets the index again (not a 304) and retries the child."""
        with self.db.session() as session:
            store.clear_validators(session, source_id)

    def walked_pages(self, source_id: int, urls: list[str]) -> dict[str, datetime | None]:
        """url -> lastmod when last walked, for the sitemap/listing pages of `urls` walked."""
        with self.db.session() as session:
            return discovery.walked(session, source_id, urls)

    def plan_pages(self, source_id: int, kind: FetchKind, pages: list[PlannedPage]) -> None:
        """Persist the pages a backfill will walk, before any is requested."""
        with self.db.session() as session:
            discovery.plan(session, source_id, kind, pages)

    def backfill_frontier(self, source_id: int) -> list[FrontierPage]:
        with self.db.session() as session:
            return discovery.frontier(session, source_id)

    def page_walked(self, source_id: int, url: str, kind: FetchKind, lastmod: datetime | None,
                    entries: int) -> None:
        """After its entries are stored: a crash before this walks the page again."""
        with self.db.session() as session:
            discovery.mark_walked(session, source_id, url, kind, lastmod, entries)
