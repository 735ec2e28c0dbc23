"""One crawl of one source inside the long-lived spider: its counters and when it is done.

Every request made for a run is counted, and released exactly once: by its callback's end,
its errback, or the pipeline after storing. At zero the run is finished: `done` resolves once
the crawl is recorded.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime

from aggregator.records import CrawlSummary
from aggregator.sources import Source
from aggregator.vocabulary import CrawlOutcome


@dataclass(frozen=True)
class Backfill:
    """A walk back in time: entries dated in [since, until), at most `limit` sitemap or
    listing pages in this invocation (the rest stay planned for the next one)."""

    since: datetime
    until: datetime | None = None
    limit: int | None = None


@dataclass(eq=False)  # identity semantics: runs live in sets
class CrawlRun:
    source: Source
    source_id: int
    crawl_id: int
    summary: CrawlSummary
    on_finish: Callable[[CrawlRun], Awaitable[None]]
    done: asyncio.Future = field(default_factory=lambda: asyncio.get_event_loop().create_future())
    outstanding: int = 0
    root_failed: bool = False  # the feed, sitemap or listing page could not be read
    root_not_modified: bool = False
    interrupted: bool = False
    backfill: Backfill | None = None
    budget: int | None = None  # sitemap/listing pages this run may still request
    requested: set[int] = field(default_factory=set)  # entry ids whose page is requested
    finishing: asyncio.Task | None = None

    def hold(self, count: int = 1) -> None:
        self.outstanding += count

    def release(self) -> None:
        self.outstanding -= 1
        if self.outstanding == 0 and self.finishing is None:
            self.finishing = asyncio.ensure_future(self._finish())

    async def _finish(self) -> None:
        try:
            await self.on_finish(self)
        finally:
            if not self.done.done():
                self.done.set_result(self.summary)

    @property
    def outcome(self) -> CrawlOutcome:
        if self.root_failed:
            return CrawlOutcome.FAILED
        if self.interrupted:
            return CrawlOutcome.INTERRUPTED
        if self.summary.failed:
            return CrawlOutcome.PARTIAL
        return CrawlOutcome.NOT_MODIFIED if self.root_not_modified else CrawlOutcome.OK
