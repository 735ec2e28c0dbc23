"""Hosts the one long-lived source spider inside Scrapy's asyncio reactor.

A Twisted reactor cannot be restarted, so one AsyncCrawlerProcess lives for the whole process
(the daemon or one `aggregator crawl`) with one Crawler and one spider; crawls of sources are
submitted to it. The extraction pool and the database are shared by all crawls.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

from scrapy import signals
from scrapy.crawler import AsyncCrawlerProcess

from aggregator import heap
from aggregator.archive import WarcArchive
from aggregator.db.engine import Database
from aggregator.db.migrate import require_current
from aggregator.db.outage import Outage
from aggregator.ingest import Ingestor
from aggregator.leases import lease_host
from aggregator.ledger import CrawlLedger
from aggregator.node import Visitor
from aggregator.records import CrawlSummary
from aggregator.settings import Settings
from aggregator.sources import Source
from aggregator.workers import ExtractionPool
from spiders.run import Backfill
from spiders.settings import scrapy_settings
from spiders.spider import SourceSpider

log = logging.getLogger(__name__)
T = TypeVar("T")


class Collector:
    def __init__(self, settings: Settings, db: Database | None = None, node: str | None = None):
        self.settings = settings
        self.node = node or settings.node_name
        self.db = db or Database(settings.effective_database_url)
        require_current(self.db.engine)
        self.ledger = CrawlLedger(self.db, settings.max_entry_attempts, self.node)
        archive = WarcArchive(settings.data_dir / "warc", settings.warc_max_bytes)
        self.ingestor = Ingestor(self.db, archive, screenshots=settings.screenshots.enabled)
        self.pool = ExtractionPool(settings.workers, settings.extract_timeout,
                                   settings.extract_recycle_pages)
        self.outage = Outage()  # database write failures, for /healthz
        self.process = AsyncCrawlerProcess(scrapy_settings(settings))
        self.crawler = self.process.create_crawler(SourceSpider)
        self._opened: asyncio.Future | None = None

    @property
    def spider(self) -> SourceSpider:
        return self.crawler.spider

    def _spider_opened(self, spider) -> None:
        if self._opened is not None and not self._opened.done():
            self._opened.set_result(None)

    async def open(self) -> None:
        self._opened = asyncio.get_running_loop().create_future()
        self.crawler.signals.connect(self._spider_opened, signal=signals.spider_opened)
        self.process.crawl(self.crawler, ledger=self.ledger, ingestor=self.ingestor,
                           pool=self.pool, outage=self.outage)
        await self._opened

    async def crawl(self, source: Source, backfill: Backfill | None = None) -> CrawlSummary:
        """Crawl (or backfill) `source` once; returns when everything fetched is stored."""
        return await (await self.spider.submit(source, backfill)).done

    async def drain(self, timeout: float) -> bool:
        """Stop taking new work and wait (bounded) for crawls in flight; True if all ended."""
        self.spider.stop_taking_work()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while pending := self.spider.in_flight():  # an opened crawl adds its run: look again
            _, not_done = await asyncio.wait(pending, timeout=max(0.0, deadline - loop.time()))
            if not_done:
                return False
        return True

    async def close(self) -> None:
        if self.crawler.crawling:
            self.spider.stopping = True
            await self.crawler.stop_async()
        self.pool.close()
        self.db.dispose()

    def run(self, main: Callable[[Collector], Awaitable[T]]) -> T:
        """Start the reactor, await `main(self)`, shut down, and return its result."""
        from twisted.internet import reactor  # installed by AsyncCrawlerProcess

        outcome: dict[str, object] = {}

        async def lifecycle() -> None:
            try:
                await self.open()
                outcome["result"] = await main(self)
            except BaseException as exc:  # noqa: BLE001 - re-raised after the reactor stops
                outcome["error"] = exc
            finally:
                try:
                    await self.close()
                finally:
                    reactor.stop()

        reactor.callWhenRunning(lambda: asyncio.ensure_future(lifecycle()))
        heap.settle()  # start-up is done: what exists now lives as long as the process
        self.process.start(stop_after_crawl=False, install_signal_handlers=False)
        if "error" in outcome:
            raise outcome["error"]
        return outcome.get("result")


PROGRESS_EVERY = 10.0


async def _report_progress(collector: Collector) -> None:
    """Long manual crawls say where they are, every few seconds."""
    while True:
        await asyncio.sleep(PROGRESS_EVERY)
        for run in sorted(collector.spider.runs, key=lambda r: r.source.name):
            s = run.summary
            log.info("progress: %d pages fetched, %d new, %d failed, %d requests in flight",
                     s.fetched, s.new, s.failed, run.outstanding,
                     extra={"source": run.source.name, "url": run.source.url})


def crawl_once(settings: Settings, sources: list[Source],
               backfill: Backfill | None = None) -> list[CrawlSummary]:
    """Crawl (or backfill) every source once, `max_concurrent_crawls` at a time (so the
    requests queued stay bounded however many sources there are); SIGINT/SIGTERM stop taking
    new work."""
    import signal

    async def main(collector: Collector) -> list[CrawlSummary]:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, collector.spider.stop_taking_work)
        slots = asyncio.Semaphore(settings.max_concurrent_crawls)
        visitor = None
        if collector.db.engine.dialect.name == "postgresql":  # daemons may hold the hosts
            visitor = Visitor(settings, collector.db, collector.node)
            visitor.plan([lease_host(s.url) for s in sources])

        async def crawl(source: Source) -> CrawlSummary:
            async with slots:
                if visitor is None:
                    return await collector.crawl(source, backfill)
                await visitor.acquire(lease_host(source.url))
                try:
                    return await collector.crawl(source, backfill)
                finally:
                    await asyncio.to_thread(visitor.done, lease_host(source.url))

        tasks = [asyncio.create_task(_report_progress(collector))]
        if visitor is not None:
            tasks.append(asyncio.create_task(visitor.keep()))
        try:
            return list(await asyncio.gather(*(crawl(s) for s in sources)))
        finally:
            for task in tasks:
                task.cancel()
            if visitor is not None:
                await asyncio.to_thread(visitor.leave)

    # Not a daemon's name, even with node.name set: the crawl's leases are its own.
    return Collector(settings, node=f"{settings.node_name}-crawl").run(main)
