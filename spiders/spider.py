"""The source spider: one long-lived spider that crawls any source on demand.

All sources share one Scrapy engine, so its per-host download slots are one politeness budget
per host across sources (rbc.ua's Ukrainian and Russian feeds wait for each other). A crawl
of a source is a CrawlRun: a first step by the source's kind, its root request (the feed in
spiders/feed.py; sitemaps and listings in spiders/discover.py), then only the pages of
entries not yet stored. Crawl bookkeeping goes to the ledger, articles to the pipeline.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import AsyncIterator, Callable
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import datetime, timezone
from typing import Any, TypeVar

import scrapy
from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import DontCloseSpider
from scrapy.http import Response, TextResponse
from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet import threads
from twisted.python.failure import Failure

from aggregator import metrics
from aggregator.db.outage import Outage, retry_write, transient
from aggregator.ingest import Ingestor
from aggregator.ledger import CrawlLedger
from aggregator.records import CrawlSummary, FeedEntry, FetchRecord, PendingEntry
from aggregator.settings import Settings
from aggregator.sources import Source
from aggregator.urls import same_site
from aggregator.vocabulary import ExtractionOutcome, FetchKind, FetchOutcome, SourceKind
from aggregator.workers import ExtractionPool
from spiders import resolver
from spiders.discover import DiscoverySteps
from spiders.feed import FeedSteps, parse_threads
from spiders.items import ArticleItem
from spiders.middlewares import ShuttingDown
from spiders.responses import (
    describe_failure,
    failure_kind,
    fetch_record,
    raw_page,
    seconds_header,
)
from spiders.run import Backfill, CrawlRun

log = logging.getLogger(__name__)
T = TypeVar("T")


class SourceSpider(FeedSteps, DiscoverySteps, scrapy.Spider):
    name = "sources"

    def __init__(self, ledger: CrawlLedger, ingestor: Ingestor, pool: ExtractionPool,
                 outage: Outage, settings: Settings, **kwargs: Any):
        super().__init__(**kwargs)
        self.ledger = ledger
        self.ingestor = ingestor  # the article path, used by the pipeline
        self.pool = pool
        self.outage = outage
        self.config = settings
        self.runs: set[CrawlRun] = set()
        self.opening: set[asyncio.Future] = set()  # crawl rows being written: a stop waits
        self.stopping = False
        self.parsing = parse_threads()
        # The ledger's calls from crawl steps run here, one at a time and in the order asked:
        # on PostgreSQL each is a round trip or more that the reactor used to wait out, every
        # download and hand-off to the extraction workers stalled behind it.
        self.bookkeeping = ThreadPoolExecutor(1, thread_name_prefix="ledger")

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> SourceSpider:
        spider = super().from_crawler(
            crawler, *args, settings=crawler.settings["AGGREGATOR_SETTINGS"], **kwargs)
        crawler.signals.connect(spider._stay_open, signal=signals.spider_idle)
        crawler.signals.connect(spider.parsing.stop, signal=signals.spider_closed)
        crawler.signals.connect(spider.bookkeeping.shutdown, signal=signals.spider_closed)
        return spider

    def _submit(self, call: Callable[..., T], *args: Any) -> Future:
        """`call(*args)` (a ledger method) in the ledger's thread; once the spider has closed
        (the thread is gone), at once, so what is still recorded is not lost."""
        try:
            return self.bookkeeping.submit(call, *args)
        except RuntimeError:
            done: Future = Future()
            done.set_result(call(*args))
            return done

    async def _booked(self, call: Callable[..., T], *args: Any) -> T:
        """`call(*args)` in the ledger's thread, awaited."""
        return await asyncio.wrap_future(self._submit(call, *args))

    def _record(self, call: Callable[..., None], *args: Any) -> None:
        """`call(*args)` in the ledger's thread without waiting for it (a failed or skipped
        page, also from errbacks): the thread keeps order, so it is written before its crawl's
        end."""
        def logged(done: Future) -> None:
            if done.exception() is not None:
                log.error("could not record %s: %s", call.__name__, done.exception())

        self._submit(call, *args).add_done_callback(logged)

    async def _parsed(self, parse: Callable[..., T], *args: Any) -> T:
        """`parse(*args)` (a feed, sitemap or listing parser) in the parse thread, awaited:
        a 10 MB sitemap of 27,000 URLs is seconds of CPU, which on the reactor would stall
        every download and hand-off meanwhile."""
        from twisted.internet import reactor  # the one Scrapy installed

        return await maybe_deferred_to_future(
            threads.deferToThreadPool(reactor, self.parsing, parse, *args))

    def _stay_open(self) -> None:
        if not self.stopping:
            raise DontCloseSpider

    def stop_taking_work(self) -> None:
        """Drop every request not yet sent: those the engine still holds meet the guard
        middleware, those waiting in the downloader's per-host queues are failed here. The
        entries stay pending for the next run; responses already arriving are still stored."""
        self.stopping = True
        for request, deferred in self.crawler.engine.downloader.drop_queued():
            deferred.errback(Failure(ShuttingDown(f"not fetched, shutting down: {request.url}")))

    async def start(self) -> AsyncIterator[scrapy.Request]:
        return
        yield  # an async generator with nothing to start: work arrives through submit()

    async def submit(self, source: Source, backfill: Backfill | None = None) -> CrawlRun:
        """Start a crawl (or a backfill) of `source`; `run.done` resolves with its summary
        once stored."""
        resolver.register([source])
        opening = asyncio.ensure_future(self._booked(
            self.ledger.open_crawl, source, datetime.now(timezone.utc)))
        self.opening.add(opening)
        try:
            source_id, crawl_id, headers = await opening
        finally:
            self.opening.discard(opening)
        run = CrawlRun(source, source_id, crawl_id, CrawlSummary(source.name), self._finish,
                       backfill=backfill, budget=backfill.limit if backfill else None)
        self.runs.add(run)
        run.hold()  # the submission itself: a run with nothing to request still finishes
        try:
            requests: list[scrapy.Request] = []
            if self.stopping:  # opened while a stop drained: recorded as interrupted at once
                run.interrupted = True
            elif source.kind == SourceKind.FEED:
                requests = [self.feed_request(run, headers)]
            else:
                requests = await self.discovery_requests(run, headers)
            for request in requests:
                self._request(run, request)
        finally:
            run.release()
        return run

    def in_flight(self) -> set[asyncio.Future]:
        """What a graceful stop waits for: crawl rows being opened, then the runs not yet
        recorded (a crawl opened during the stop would otherwise stay open for good)."""
        return {f for f in self.opening | {run.done for run in self.runs} if not f.done()}

    def _request(self, run: CrawlRun, request: scrapy.Request) -> None:
        run.hold()
        self.crawler.engine.crawl(request)

    async def _finish(self, run: CrawlRun) -> None:
        """Record the crawl; while the database is away, retry in the background."""

        def write() -> None:
            self.ledger.finish_crawl(run.crawl_id, run.summary, run.outcome)

        try:
            await self._booked(write)
        except Exception as exc:
            if not transient(exc):
                log.exception("could not record the crawl", extra=self._extra(run, run.source.url))
                return
            self.outage.failed(exc)
            asyncio.ensure_future(retry_write(self.outage, write,
                                              self.config.db_retry_max_delay))
        finally:
            self.runs.discard(run)

    @staticmethod
    def _extra(run: CrawlRun, url: str) -> dict[str, str]:
        return {"source": run.source.name, "url": url}

    def _root_fetched(self, run: CrawlRun, response: Response, kind: FetchKind,
                      root: bool = True) -> tuple[FetchRecord, bool]:
        """Record what every kind's fetch shares; (fetch, whether the root was not modified)."""
        fetch = fetch_record(response, kind)
        not_modified = response.status == 304
        outcome = FetchOutcome.NOT_MODIFIED if not_modified else FetchOutcome.OK
        metrics.FETCHES.labels(run.source.name, kind, outcome).inc()
        if root:
            run.summary.min_interval_seconds = seconds_header(response, "Cache-Control")
            if not_modified:
                run.root_not_modified = True
                log.info("%s not modified", kind, extra=self._extra(run, response.url))
        return fetch, not_modified

    async def _accept(self, run: CrawlRun, fetch: FetchRecord,
                      entries: tuple[FeedEntry, ...] | None, validators: bool = True) -> None:
        """Store the entries (None: the root was not modified), then request the pages of
        every entry still pending."""
        new, pending = await self._booked(self.ledger.accept_entries, run.source_id, fetch,
                                          entries, validators)
        if entries is not None:
            run.summary.unchanged += len(entries) - new
            run.summary.entry_times += [e.published_at for e in entries if e.published_at]
        self._request_pages(run, pending)

    def _request_pages(self, run: CrawlRun, pending: list[PendingEntry]) -> None:
        """One request per link of the pending entries not yet requested in this run."""
        by_link: dict[str, list[PendingEntry]] = defaultdict(list)
        for item in pending:
            if item.id not in run.requested:
                run.requested.add(item.id)
                by_link[item.entry.link].append(item)
        for link, items in by_link.items():
            ids = [i.id for i in items]
            if not same_site(link, run.source.allowed_domains):
                self._record(self.ledger.page_skipped, ids,
                             f"link outside allowed domains: {link}")
                log.warning("entry link outside allowed domains", extra=self._extra(run, link))
                continue
            self._request(run, scrapy.Request(
                link, callback=self.parse_article, errback=self.page_error, dont_filter=True,
                meta={"run": run}, cb_kwargs={"pending": items},
            ))

    async def parse_article(self, response: Response, pending: list[PendingEntry]):
        run: CrawlRun = response.meta["run"]
        handed_over = False
        try:
            fetch = fetch_record(response, FetchKind.PAGE)
            run.summary.fetched += 1
            metrics.FETCHES.labels(run.source.name, FetchKind.PAGE, FetchOutcome.OK).inc()
            ids = [i.id for i in pending]
            if not isinstance(response, TextResponse):
                self._page_failure(run, ids, f"not an HTML page ({fetch.content_type})",
                                   response.url, fetch)
                return
            result = await self.pool.extract(
                response.body, response.url, fetch.content_type, run.source.language,
                run.source.rules,
            )
            if result.draft is None:
                metrics.EXTRACTION_FAILURES.labels(run.source.name).inc()
                self._page_failure(run, ids, result.failure or "extraction failed",
                                   response.url, fetch, result.outcome)
                return
            handed_over = True  # the pipeline releases the run once the article is stored
            yield ArticleItem(run=run, entry_ids=ids, entry=pending[0].entry, fetch=fetch,
                              draft=result.draft, raw=raw_page(response, fetch))
        finally:
            if not handed_over:
                run.release()

    def page_error(self, failure: Failure) -> None:
        request = failure.request
        run: CrawlRun = request.meta["run"]
        metrics.FETCHES.labels(run.source.name, FetchKind.PAGE, failure_kind(failure)).inc()
        try:
            if failure.check(ShuttingDown):
                run.interrupted = True  # not an attempt: the entry stays pending as it was
                return
            pending = request.cb_kwargs.get("pending", [])
            self._page_failure(run, [i.id for i in pending], describe_failure(failure),
                               request.url)
        finally:
            run.release()

    def _page_failure(self, run: CrawlRun, ids, reason: str, url: str,
                      fetch: FetchRecord | None = None,
                      outcome: ExtractionOutcome | None = None) -> None:
        run.summary.failed += 1
        log.warning("page failed: %s", reason, extra=self._extra(run, url))
        self._record(self.ledger.page_failed, run.source_id, ids, reason, fetch, outcome)

    def root_error(self, failure: Failure) -> None:
        """The source's root request (feed, sitemap, listing page) failed: the run fails."""
        run: CrawlRun = failure.request.meta["run"]
        kind = failure.request.meta.get("fetch_kind", FetchKind.FEED)
        metrics.FETCHES.labels(run.source.name, kind, failure_kind(failure)).inc()
        try:
            if failure.check(ShuttingDown):
                run.interrupted = True
                return
            response = getattr(failure.value, "response", None)
            run.summary.retry_after_seconds = seconds_header(response, "Retry-After")
            self._root_failed(run, describe_failure(failure), failure.request.url)
        finally:
            run.release()

    def _root_failed(self, run: CrawlRun, reason: str, url: str) -> None:
        run.root_failed = True
        run.summary.failed += 1
        run.summary.errors.append(reason)
        log.error("%s failed: %s", run.source.kind, reason, extra=self._extra(run, url))
