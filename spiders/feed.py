"""The first step of a crawl of a feed source: a conditional GET of the feed, its entries.

Part of SourceSpider (spiders/spider.py, which supplies `ledger`, `_parsed` (a parse in the
pool from `parse_threads`, off the reactor), `_booked` (a ledger call off the reactor),
`_root_fetched`, `_accept`, `_root_failed` and `root_error`).
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import threading

import scrapy
from scrapy.http import Response
from twisted.python.threadpool import ThreadPool

from aggregator.errors import FeedError
from aggregator.feeds import parse_feed
from aggregator.sources import admit
from aggregator.vocabulary import FetchKind, RequestKind
from spiders.middlewares import KIND
from spiders.responses import first_headers
from spiders.run import CrawlRun

log = logging.getLogger(__name__)
PARSE_THREADS = 1  # documents parsed at once: the parsers hold the GIL, so more only add memory


def parse_threads() -> ThreadPool:
    """The threads that parse feeds, sitemaps and listing pages, started (they come up on
    demand): one parse at a time bounds memory to one document's entries, where Twisted's
    shared pool ran up to ten hostile multi-MB feeds at once (the hostile run's peak: 272-275
    MiB then, 253 MiB now; 425 MiB once in CI). A hostile document's parse (seconds) delays
    the others' by as much, never the reactor's downloads."""
    pool = ThreadPool(0, PARSE_THREADS, name="parse")
    pool.threadFactory = functools.partial(threading.Thread, daemon=True)  # never holds up exit
    pool.start()
    return pool


class FeedSteps:
    def feed_request(self, run: CrawlRun, headers: dict[str, str]) -> scrapy.Request:
        """The feed, conditionally (ETag/Last-Modified), within the feed size cap."""
        return scrapy.Request(
            run.source.url, headers=headers, callback=self.parse_feed, errback=self.root_error,
            dont_filter=True,
            meta={"handle_httpstatus_list": [304], "run": run, "root": True,
                  KIND: RequestKind.ROOT, "fetch_kind": FetchKind.FEED,
                  "download_maxsize": self.config.max_feed_size},
        )

    async def parse_feed(self, response: Response):
        run: CrawlRun = response.meta["run"]
        try:
            await self._handle_feed(run, response)
        finally:
            run.release()
        return ()

    async def _handle_feed(self, run: CrawlRun, response: Response) -> None:
        fetch, not_modified = self._root_fetched(run, response, FetchKind.FEED)
        feed = None
        if not not_modified:
            try:
                # Off the reactor: feedparser reads every entry before the cap applies; a 3 MB
                # feed of 20,000 entries took 4.7 s of CPU, and on the reactor it pushed
                # another source's download past its 6 s timeout (tests/test_faults.py).
                feed = await self._parsed(parse_feed, response.body, response.url,
                                          first_headers(response), self.config.max_feed_entries)
            except FeedError as exc:
                await self._booked(self.ledger.accept_entries, run.source_id, fetch, None)
                self._root_failed(run, f"{exc} ({response.url})", response.url)
                return
            extra = self._extra(run, response.url)
            if feed.warning:
                log.warning(feed.warning, extra=extra)
            for reason in feed.skipped:
                log.warning("feed entry skipped: %s", reason, extra=extra)
            if feed.ttl_seconds:
                run.summary.min_interval_seconds = max(
                    feed.ttl_seconds, run.summary.min_interval_seconds or 0
                )
            if run.source.include or run.source.exclude:
                feed = dataclasses.replace(feed, entries=admit(feed.entries, run.source, None))
        await self._accept(run, fetch, feed.entries if feed is not None else None)
