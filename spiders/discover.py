"""The first step of a crawl of a sitemap or listing source, and backfills of both.

A sitemap run fetches the source URL (conditionally); an index's children are followed, each
a request held by the run, when they lie in the window and changed since last walked; a
urlset's entries take the path feed entries take. A listing run reads each start URL and its
pagination. A backfill walks the same pages over a date range and persists the pages it plans
before requesting them, so an interrupted backfill resumes from its frontier.
"""

from __future__ import annotations

import logging
from datetime import datetime, timezone

import scrapy
from scrapy.http import Response
from twisted.python.failure import Failure

from aggregator import metrics
from aggregator.errors import FeedError
from aggregator.listing import parse_listing
from aggregator.records import PlannedPage
from aggregator.sitemaps import children_to_walk, parse_sitemap
from aggregator.sources import admit
from aggregator.vocabulary import FetchKind, RequestKind, SourceKind
from spiders.middlewares import KIND, ShuttingDown
from spiders.responses import failure_kind
from spiders.run import CrawlRun

log = logging.getLogger(__name__)
MAX_DEPTH = 3  # index -> index -> urlset is as deep as publishers go


class DiscoverySteps:
    """Sitemap and listing callbacks of SourceSpider (spiders/spider.py, which supplies
    `_request`, `_accept`, `_booked`, `_record`, `_parsed`, `_root_fetched`, `_root_failed`,
    `root_error` and `ledger`)."""

    async def discovery_requests(self, run: CrawlRun,
                                 headers: dict[str, str]) -> list[scrapy.Request]:
        """The run's first requests: a backfill's frontier if it has one, else the source's
        own URL(s) as roots (conditional only on a regular sitemap crawl)."""
        source = run.source
        if run.backfill is not None:
            frontier = await self._booked(self.ledger.backfill_frontier, run.source_id)
            if frontier:
                log.info("backfill resumes: %d pages planned", len(frontier),
                         extra={"source": source.name, "url": source.url})
                return [r for page in frontier if (r := self._walk(run, page.url, page.kind))]
        if source.kind == SourceKind.SITEMAP:
            roots = [(source.url, FetchKind.SITEMAP)]
        else:
            roots = [(u, FetchKind.LISTING) for u in (source.url, *source.listing.start_urls)]
        requests = []
        for url, kind in roots:
            request = self._walk(run, url, kind, root=True)
            if request is not None:
                if kind == FetchKind.SITEMAP and run.backfill is None:
                    request.headers.update(headers)
                requests.append(request)
        return requests

    def _walk(self, run: CrawlRun, url: str, kind: FetchKind, lastmod: datetime | None = None,
              depth: int = 0, page: int = 1, root: bool = False) -> scrapy.Request | None:
        """A request for a sitemap or listing page, or None once the run's budget is spent."""
        if run.budget is not None:
            if run.budget <= 0:
                return None
            run.budget -= 1
        meta = {"run": run, "fetch_kind": kind, "root": root,
                KIND: RequestKind.ROOT if root else RequestKind.PAGE,
                "handle_httpstatus_list": [304] if root else []}
        return scrapy.Request(
            url, callback=self.parse_sitemap if kind == FetchKind.SITEMAP else self.parse_listing,
            errback=self.root_error if root else self.discovery_error, dont_filter=True,
            meta=meta, cb_kwargs={"lastmod": lastmod, "depth": depth, "page": page},
        )

    def _window(self, run: CrawlRun) -> tuple[datetime | None, datetime | None]:
        if run.backfill is not None:
            return run.backfill.since, run.backfill.until
        if run.source.kind == SourceKind.SITEMAP:
            return datetime.now(timezone.utc) - run.source.sitemap.max_age, None
        return None, None

    async def parse_sitemap(self, response: Response, lastmod=None, depth: int = 0,
                            page: int = 1):
        run: CrawlRun = response.meta["run"]
        try:
            await self._handle_sitemap(run, response, lastmod, depth)
        finally:
            run.release()
        return ()

    async def _handle_sitemap(self, run: CrawlRun, response: Response, lastmod,
                              depth: int) -> None:
        root = bool(response.meta.get("root"))
        fetch, not_modified = self._root_fetched(run, response, FetchKind.SITEMAP, root)
        if not_modified:
            await self._accept(run, fetch, None)
            return
        try:
            parsed = await self._parsed(parse_sitemap, response.body, response.url)
        except FeedError as exc:
            await self._discovery_failed(run, fetch, f"{exc} ({response.url})", response.url,
                                         root)
            return
        since, until = self._window(run)
        entries = admit(parsed.entries, run.source, since, until)
        # The children are planned before the parent counts as walked: a crash in between
        # walks the parent again, never loses a child.
        if parsed.children and depth < MAX_DEPTH:
            walked = await self._booked(self.ledger.walked_pages, run.source_id,
                                        [c.url for c in parsed.children])
            limit = None if run.backfill else run.source.sitemap.max_children
            chosen = children_to_walk(parsed.children, walked, since, limit)
            if run.backfill is not None:
                await self._booked(self.ledger.plan_pages, run.source_id, FetchKind.SITEMAP,
                                   [PlannedPage(c.url, c.lastmod) for c in chosen])
            for child in chosen:
                request = self._walk(run, child.url, FetchKind.SITEMAP, child.lastmod, depth + 1)
                if request is not None:
                    self._request(run, request)
        await self._accept(run, fetch, entries, validators=root and run.backfill is None)
        if not root:
            await self._booked(self.ledger.page_walked, run.source_id, fetch.url,
                               FetchKind.SITEMAP, lastmod, len(entries))

    async def parse_listing(self, response: Response, lastmod=None, depth: int = 0,
                            page: int = 1):
        run: CrawlRun = response.meta["run"]
        try:
            await self._handle_listing(run, response, page)
        finally:
            run.release()
        return ()

    async def _handle_listing(self, run: CrawlRun, response: Response, page: int) -> None:
        root = bool(response.meta.get("root"))
        fetch, _ = self._root_fetched(run, response, FetchKind.LISTING, root)
        options = run.source.listing
        try:
            parsed = await self._parsed(parse_listing, response.body, response.url,
                                        fetch.content_type, options.links, options.next_page)
        except FeedError as exc:
            await self._discovery_failed(run, fetch, f"{exc} ({response.url})", response.url,
                                         root)
            return
        following = []
        if run.backfill is not None:
            following = list(parsed.next_pages)
            await self._booked(self.ledger.plan_pages, run.source_id, FetchKind.LISTING,
                               [PlannedPage(u, None) for u in following])
        elif page < options.max_pages:
            following = list(parsed.next_pages)
        for url in following:
            request = self._walk(run, url, FetchKind.LISTING, page=page + 1)
            if request is not None:
                self._request(run, request)
        since, until = self._window(run)
        await self._accept(run, fetch, admit(parsed.entries, run.source, since, until),
                           validators=False)
        if run.backfill is not None:
            await self._booked(self.ledger.page_walked, run.source_id, fetch.url,
                               FetchKind.LISTING, None, len(parsed.entries))

    async def _discovery_failed(self, run: CrawlRun, fetch, reason: str, url: str,
                                root: bool) -> None:
        """A root that cannot be read fails the run (as a broken feed does); a child is one
        failure, walked again next time."""
        if root:
            await self._booked(self.ledger.accept_entries, run.source_id, fetch, None, False)
            self._root_failed(run, reason, url)
        else:
            self._child_failed(run, reason, url)

    def discovery_error(self, failure: Failure) -> None:
        request = failure.request
        run: CrawlRun = request.meta["run"]
        response = getattr(failure.value, "response", None)
        metrics.FETCHES.labels(run.source.name, request.meta["fetch_kind"],
                               failure_kind(failure)).inc()
        try:
            if failure.check(ShuttingDown):
                run.interrupted = True
                return
            reason = (f"HTTP {response.status}" if response is not None
                      else failure.getErrorMessage())
            self._child_failed(run, reason, request.url)
        finally:
            run.release()

    def _child_failed(self, run: CrawlRun, reason: str, url: str) -> None:
        """One failure of the run; the page stays unwalked (or planned) and is tried again."""
        run.summary.failed += 1
        log.warning("discovery page failed: %s", reason,
                    extra={"source": run.source.name, "url": url})
        if run.source.kind == SourceKind.SITEMAP and run.backfill is None:
            self._record(self.ledger.child_failed, run.source_id)
