"""The feed spider: conditional GET of one source's feed, then only the pages not yet stored."""

from __future__ import annotations

import hashlib
import logging
from collections import defaultdict
from collections.abc import AsyncIterator
from datetime import datetime, timezone
from typing import Any

import scrapy
from scrapy.http import Response
from twisted.python.failure import Failure

from aggregator.db.store import PendingEntry
from aggregator.errors import FeedError
from aggregator.feeds import parse_feed
from aggregator.ingest import Ingestor
from aggregator.records import CrawlSummary, FetchRecord, RawPage
from aggregator.sources import Source
from aggregator.urls import same_site
from aggregator.workers import ExtractionPool
from spiders.items import ArticleItem

log = logging.getLogger(__name__)


def fetch_record(response: Response, kind: str) -> FetchRecord:
    """What the exchange was: requested and final URL, validators, size and body hash."""
    headers = response.headers
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
        content_type=_header(headers, b"Content-Type"),
        etag=_header(headers, b"ETag"),
        last_modified=_header(headers, b"Last-Modified"),
        duration_ms=int(latency * 1000) if latency is not None else None,
    )


def raw_page(response: Response, fetch: FetchRecord) -> RawPage:
    """The response as received, for the WARC archive."""
    headers = tuple(
        (k.decode("latin-1"), v.decode("latin-1"))
        for k, values in response.headers.items() for v in values
    )
    return RawPage(response.url, response.status, headers, response.body or b"", fetch.fetched_at)


def _header(headers, name: bytes) -> str | None:
    value = headers.get(name)
    return value.decode("latin-1") if value else None


def describe_failure(failure: Failure) -> str:
    """A short, operator-readable reason for a failed request."""
    response = getattr(failure.value, "response", None)
    if response is not None:
        return f"HTTP {response.status} from {response.url}"
    return f"{type(failure.value).__name__}: {failure.getErrorMessage()}"


class FeedSpider(scrapy.Spider):
    name = "feed"

    def __init__(
        self,
        source: Source,
        ingestor: Ingestor,
        pool: ExtractionPool,
        summary: CrawlSummary,
        **kwargs: Any,
    ):
        super().__init__(name=f"feed:{source.name}", **kwargs)
        self.source = source
        self.ingestor = ingestor
        self.pool = pool
        self.summary = summary
        self.allowed_domains = list(source.allowed_domains)
        if source.download_delay is not None:
            self.download_delay = source.download_delay
        self.source_id: int | None = None
        self.crawl_id: int | None = None
        self.feed_failed = False

    async def start(self) -> AsyncIterator[scrapy.Request]:
        self.source_id = self.ingestor.register(self.source)
        self.crawl_id = self.ingestor.start_crawl(self.source_id, datetime.now(timezone.utc))
        yield scrapy.Request(
            self.source.url,
            headers=self.ingestor.conditional_headers(self.source_id),
            callback=self.parse_feed,
            errback=self.feed_error,
            dont_filter=True,
            meta={"handle_httpstatus_list": [304]},
        )

    def _extra(self, url: str) -> dict[str, str]:
        return {"source": self.source.name, "url": url}

    def parse_feed(self, response: Response):
        fetch = fetch_record(response, "feed")
        feed = None
        if response.status == 304:
            log.info("feed not modified", extra=self._extra(response.url))
        else:
            try:
                feed = parse_feed(response.body, response.url, _headers(response))
            except FeedError as exc:
                self._fail_feed(f"{exc} ({response.url})", response.url)
                self.ingestor.accept_feed(self.source_id, fetch, None)
                return
            if feed.warning:
                log.warning(feed.warning, extra=self._extra(response.url))
            for reason in feed.skipped:
                log.warning("feed entry skipped: %s", reason, extra=self._extra(response.url))
        new, pending = self.ingestor.accept_feed(self.source_id, fetch, feed)
        if feed is not None:
            self.summary.unchanged += len(feed.entries) - new
        yield from self._page_requests(pending)

    def _page_requests(self, pending: list[PendingEntry]):
        by_link: dict[str, list[PendingEntry]] = defaultdict(list)
        for item in pending:
            by_link[item.entry.link].append(item)
        for link, items in by_link.items():
            ids = [i.id for i in items]
            if not same_site(link, self.source.allowed_domains):
                self.ingestor.page_skipped(ids, f"link outside allowed domains: {link}")
                log.warning("entry link outside allowed domains", extra=self._extra(link))
                continue
            yield scrapy.Request(
                link,
                callback=self.parse_article,
                errback=self.page_error,
                cb_kwargs={"pending": items},
            )

    async def parse_article(self, response: Response, pending: list[PendingEntry]):
        fetch = fetch_record(response, "page")
        self.summary.fetched += 1
        ids = [i.id for i in pending]
        if not isinstance(response, scrapy.http.TextResponse):
            self._page_failure(ids, f"not an HTML page ({fetch.content_type})", response.url, fetch)
            return
        result = await self.pool.extract(
            response.body, response.url, fetch.content_type, self.source.language
        )
        if result.draft is None:
            self._page_failure(ids, result.failure or "extraction failed", response.url, fetch)
            return
        yield ArticleItem(
            source=self.source,
            source_id=self.source_id,
            entry_ids=ids,
            entry=pending[0].entry,
            fetch=fetch,
            draft=result.draft,
            raw=raw_page(response, fetch),
        )

    def page_error(self, failure: Failure) -> None:
        request = failure.request
        pending = request.cb_kwargs.get("pending", [])
        self._page_failure([i.id for i in pending], describe_failure(failure), request.url)

    def _page_failure(self, ids, reason: str, url: str, fetch: FetchRecord | None = None) -> None:
        self.summary.failed += 1
        log.warning("page failed: %s", reason, extra=self._extra(url))
        self.ingestor.page_failed(self.source_id, ids, reason, fetch)

    def feed_error(self, failure: Failure) -> None:
        self._fail_feed(describe_failure(failure), failure.request.url)

    def _fail_feed(self, reason: str, url: str) -> None:
        self.feed_failed = True
        self.summary.failed += 1
        self.summary.errors.append(reason)
        log.error("feed failed: %s", reason, extra=self._extra(url))

    def closed(self, reason: str) -> None:
        if self.crawl_id is None:
            return
        if self.feed_failed:
            outcome = "failed"
        elif reason != "finished":
            outcome = "interrupted"
        elif self.summary.failed:
            outcome = "partial"
        else:
            outcome = "ok"
        self.ingestor.finish_crawl(self.crawl_id, self.summary, outcome)


def _headers(response: Response) -> dict[str, str]:
    return {
        k.decode("latin-1"): v[0].decode("latin-1")
        for k, v in response.headers.items()
        if v
    }
