"""The feed spider: one long-lived spider that crawls any source on demand.

All sources share one Scrapy engine, so its per-host download slots are one politeness budget
per host across sources (rbc.ua's Ukrainian and Russian feeds wait for each other). A crawl
of a source is a CrawlRun: a first step by the source's kind (a conditional GET of its feed
here; sitemaps and listings in spiders/discover.py), then only the pages not yet stored.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import logging
import re
from collections import defaultdict
from collections.abc import AsyncIterator
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Any

import scrapy
from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import DontCloseSpider, IgnoreRequest
from scrapy.http import Response, TextResponse
from twisted.python.failure import Failure

from aggregator import metrics
from aggregator.db.outage import Outage, retry_write, transient
from aggregator.db.store import PendingEntry
from aggregator.errors import FeedError
from aggregator.feeds import parse_feed
from aggregator.ingest import Ingestor
from aggregator.records import CrawlSummary, FetchRecord, ParsedFeed, RawPage
from aggregator.sources import Source, admit
from aggregator.urls import same_site
from aggregator.workers import ExtractionPool
from spiders.discover import DiscoveryMixin
from spiders.items import ArticleItem
from spiders.middlewares import ShuttingDown
from spiders.run import Backfill, CrawlRun

log = logging.getLogger(__name__)


def fetch_record(response: Response, kind: str) -> FetchRecord:
    """What the exchange was: requested and final URL, validators, size and body hash."""
    body = response.body or b""
    latency = response.meta.get("download_latency")
    return FetchRecord(
        url=(response.meta.get("redirect_urls") or [response.url])[0],
        final_url=response.url,
        status=response.status,
        fetched_at=datetime.now(timezone.utc),
        size=len(body),
        sha256=hashlib.sha256(body).hexdigest(),
        kind=kind,
        content_type=header(response, "Content-Type"),
        etag=header(response, "ETag"),
        last_modified=header(response, "Last-Modified"),
        duration_ms=int(latency * 1000) if latency is not None else None,
    )


def raw_page(response: Response, fetch: FetchRecord) -> RawPage:
    """The response as received, for the WARC archive."""
    headers = tuple(
        (k.decode("latin-1"), v.decode("latin-1"))
        for k, values in response.headers.items() for v in values
    )
    return RawPage(response.url, response.status, headers, response.body or b"", fetch.fetched_at)



def header(response: Response, name: str) -> str | None:
    value = response.headers.get(name)
    return value.decode("latin-1") if value else None


def seconds_header(response: Response | None, name: str) -> float | None:
    """Retry-After (seconds or HTTP date) or Cache-Control max-age, as seconds."""
    if response is None:
        return None
    value = header(response, name)
    if not value:
        return None
    if name.lower() == "cache-control":
        found = re.search(r"max-age=(\d+)", value)
        return float(found.group(1)) if found else None
    if value.strip().isdigit():
        return float(value)
    try:
        return max(0.0, (parsedate_to_datetime(value) - datetime.now(timezone.utc)).total_seconds())
    except (TypeError, ValueError):
        return None


def failure_kind(failure: Failure) -> str:
    """The metrics label of a failed request."""
    if getattr(failure.value, "response", None) is not None:
        return "http_error"
    if failure.check(ShuttingDown):
        return "shutdown"
    if failure.check(IgnoreRequest):
        return "refused"
    return "network_error"


def describe_failure(failure: Failure) -> str:
    """A short, operator-readable reason for a failed request."""
    response = getattr(failure.value, "response", None)
    if response is not None:
        location = header(response, "Location")
        if 300 <= response.status < 400 and location:
            return (f"HTTP {response.status} from {response.url}: redirect to {location} "
                    "not followed (only http and https are)")
        return f"HTTP {response.status} from {response.url}"
    return f"{type(failure.value).__name__}: {failure.getErrorMessage()}"


class FeedSpider(DiscoveryMixin, scrapy.Spider):
    name = "feeds"

    def __init__(self, ingestor: Ingestor, pool: ExtractionPool, max_feed_size: int | None = None,
                 max_feed_entries: int | None = None, outage: Outage | None = None,
                 **kwargs: Any):
        super().__init__(**kwargs)
        self.outage = outage or Outage()
        self.max_feed_size = max_feed_size
        self.max_feed_entries = max_feed_entries
        self.ingestor = ingestor
        self.pool = pool
        self.runs: set[CrawlRun] = set()
        self.stopping = False

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> FeedSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        crawler.signals.connect(spider._stay_open, signal=signals.spider_idle)
        return spider

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

    def submit(self, source: Source, backfill: Backfill | None = None) -> CrawlRun:
        """Start a crawl (or a backfill) of `source`; `run.done` resolves with its summary
        once stored."""
        source_id = self.ingestor.register(source)
        crawl_id = self.ingestor.start_crawl(source_id, datetime.now(timezone.utc))
        run = CrawlRun(source, source_id, crawl_id, CrawlSummary(source.name), self._finish,
                       backfill=backfill, budget=backfill.limit if backfill else None)
        self.runs.add(run)
        headers = self.ingestor.conditional_headers(source_id)
        run.hold()  # the submission itself: a run with nothing to request still finishes
        if source.kind == "feed":
            requests = [scrapy.Request(
                source.url, headers=headers, callback=self.parse_feed, errback=self.feed_error,
                dont_filter=True,
                meta={"handle_httpstatus_list": [304], "run": run, "is_feed": True,
                      **({"download_maxsize": self.max_feed_size} if self.max_feed_size else {})},
            )]
        else:
            requests = self.discovery_requests(run, headers)
        for request in requests:
            self._request(run, request)
        run.release()
        return run

    def _request(self, run: CrawlRun, request: scrapy.Request) -> None:
        run.hold()
        self.crawler.engine.crawl(request)

    def _finish(self, run: CrawlRun) -> None:
        """Record the crawl; while the database is away, retry in the background."""
        self.runs.discard(run)

        def write() -> None:
            self.ingestor.finish_crawl(run.crawl_id, run.summary, run.outcome)

        try:
            write()
        except Exception as exc:
            if not transient(exc):
                raise
            self.outage.failed(exc)
            max_delay = self.crawler.settings.getfloat("AGGREGATOR_DB_RETRY_MAX_DELAY", 30.0)
            asyncio.ensure_future(retry_write(self.outage, write, max_delay))

    @staticmethod
    def _extra(run: CrawlRun, url: str) -> dict[str, str]:
        return {"source": run.source.name, "url": url}

    def parse_feed(self, response: Response):
        run: CrawlRun = response.meta["run"]
        try:
            self._handle_feed(run, response)
        finally:
            run.release()
        return ()

    def _root_fetched(self, run: CrawlRun, response: Response, kind: str,
                      root: bool = True) -> tuple[FetchRecord, bool]:
        """Record what every kind's fetch shares; (fetch, whether the root was not modified)."""
        fetch = fetch_record(response, kind)
        not_modified = response.status == 304
        metrics.FETCHES.labels(run.source.name, kind, "not_modified" if not_modified else "ok").inc()
        if root:
            run.summary.min_interval_seconds = seconds_header(response, "Cache-Control")
            if not_modified:
                run.feed_not_modified = True
                log.info("%s not modified", kind, extra=self._extra(run, response.url))
        return fetch, not_modified

    def _accept(self, run: CrawlRun, fetch: FetchRecord, feed: ParsedFeed | None,
                validators: bool = True) -> None:
        """Store the entries, then request the pages of every entry still pending."""
        new, pending = self.ingestor.accept_feed(run.source_id, fetch, feed, validators)
        if feed is not None:
            run.summary.unchanged += len(feed.entries) - new
            run.summary.entry_times += [e.published_at for e in feed.entries if e.published_at]
        self._request_pages(run, pending)

    def _handle_feed(self, run: CrawlRun, response: Response) -> None:
        fetch, not_modified = self._root_fetched(run, response, "feed")
        feed = None
        if not not_modified:
            try:
                feed = parse_feed(response.body, response.url, _headers(response),
                                  self.max_feed_entries)
            except FeedError as exc:
                self.ingestor.accept_feed(run.source_id, fetch, None)
                self._fail_feed(run, f"{exc} ({response.url})", response.url)
                return
            if feed.warning:
                log.warning(feed.warning, extra=self._extra(run, response.url))
            for reason in feed.skipped:
                log.warning("feed entry skipped: %s", reason, extra=self._extra(run, response.url))
            if feed.ttl_seconds:
                run.summary.min_interval_seconds = max(
                    feed.ttl_seconds, run.summary.min_interval_seconds or 0
                )
            if run.source.include or run.source.exclude:
                feed = dataclasses.replace(feed, entries=admit(feed.entries, run.source, None))
        self._accept(run, fetch, feed)

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
                self.ingestor.page_skipped(ids, f"link outside allowed domains: {link}")
                log.warning("entry link outside allowed domains", extra=self._extra(run, link))
                continue
            self._request(run, scrapy.Request(
                link,
                callback=self.parse_article,
                errback=self.page_error,
                dont_filter=True,
                meta={"run": run},
                cb_kwargs={"pending": items},
            ))

    async def parse_article(self, response: Response, pending: list[PendingEntry]):
        run: CrawlRun = response.meta["run"]
        handed_over = False
        try:
            fetch = fetch_record(response, "page")
            run.summary.fetched += 1
            metrics.FETCHES.labels(run.source.name, "page", "ok").inc()
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
        metrics.FETCHES.labels(run.source.name, "page", failure_kind(failure)).inc()
        try:
            if failure.check(ShuttingDown):
                run.interrupted = True  # not an attempt: the entry stays pending as it was
                return
            pending = request.cb_kwargs.get("pending", [])
            self._page_failure(run, [i.id for i in pending], describe_failure(failure), request.url)
        finally:
            run.release()

    def _page_failure(self, run: CrawlRun, ids, reason: str, url: str,
                      fetch: FetchRecord | None = None, outcome: str | None = None) -> None:
        run.summary.failed += 1
        log.warning("page failed: %s", reason, extra=self._extra(run, url))
        self.ingestor.page_failed(run.source_id, ids, reason, fetch, outcome)

    def feed_error(self, failure: Failure) -> None:
        run: CrawlRun = failure.request.meta["run"]
        metrics.FETCHES.labels(run.source.name, "feed", failure_kind(failure)).inc()
        try:
            if failure.check(ShuttingDown):
                run.interrupted = True
                return
            response = getattr(failure.value, "response", None)
            run.summary.retry_after_seconds = seconds_header(response, "Retry-After")
            self._fail_feed(run, describe_failure(failure), failure.request.url)
        finally:
            run.release()

    def _fail_feed(self, run: CrawlRun, reason: str, url: str) -> None:
        run.feed_failed = True
        run.summary.failed += 1
        run.summary.errors.append(reason)
        log.error("feed failed: %s", reason, extra=self._extra(run, url))


def _headers(response: Response) -> dict[str, str]:
    return {k.decode("latin-1"): v[0].decode("latin-1") for k, v in response.headers.items() if v}
