"""One crawl of one source inside the long-lived spider: its counters and when it is done.

Every request made for a run is counted, and released exactly once: by its callback's end,
its errback, or the pipeline after storing. At zero the run is finished and recorded.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from aggregator.records import CrawlSummary
from aggregator.sources import Source


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
    on_finish: Callable[[CrawlRun], None]
    done: asyncio.Future = field(default_factory=lambda: asyncio.get_event_loop().create_future())
    started: float = field(default_factory=time.monotonic)
    outstanding: int = 0
    feed_failed: bool = False
    feed_not_modified: bool = False
    interrupted: bool = False
    backfill: Backfill | None = None
    budget: int | None = None  # sitemap/listing pages this run may still request
    requested: set[int] = field(default_factory=set)  # entry ids whose page is requested

    def hold(self, count: int = 1) -> None:
        self.outstanding += count

    def release(self) -> None:
        self.outstanding -= 1
        if self.outstanding == 0 and not self.done.done():
            self.on_finish(self)
            self.done.set_result(self.summary)

    @property
    def outcome(self) -> str:
        if self.feed_failed:
            return "failed"
        if self.interrupted:
            return "interrupted"
        if self.summary.failed:
            return "partial"
        return "not_modified" if self.feed_not_modified else "ok"

    @property
    def seconds(self) -> float:
        return time.monotonic() - self.started
