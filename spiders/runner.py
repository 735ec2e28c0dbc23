"""Runs feed crawls inside one asyncio reactor: once (`aggregator crawl`) or on demand (daemon).

One AsyncCrawlerProcess lives for the whole process, since a Twisted reactor cannot restart;
each crawl of a source is a Crawler in it. The extraction pool and the database are shared.
"""

from __future__ import annotations

import asyncio
import logging

from scrapy.crawler import AsyncCrawlerProcess

from aggregator.db.engine import Database
from aggregator.db.migrate import require_current
from aggregator.ingest import Ingestor
from aggregator.records import CrawlSummary
from aggregator.settings import Settings
from aggregator.sources import Source
from aggregator.workers import ExtractionPool
from spiders.feed import FeedSpider
from spiders.settings import scrapy_settings

log = logging.getLogger(__name__)


class Collector:
    def __init__(self, settings: Settings):
        self.settings = settings
        self.db = Database(settings.effective_database_url)
        require_current(self.db.engine)
        self.ingestor = Ingestor(
            self.db, settings.max_entry_attempts, screenshots=settings.screenshots.enabled
        )
        self.pool = ExtractionPool(settings.workers)
        self.process = AsyncCrawlerProcess(scrapy_settings(settings))

    def crawl(self, source: Source) -> tuple[asyncio.Task, CrawlSummary]:
        """Start one crawl of `source`; the task completes when it has been stored."""
        summary = CrawlSummary(source.name)
        task = self.process.crawl(
            FeedSpider, source=source, ingestor=self.ingestor, pool=self.pool, summary=summary
        )
        return task, summary

    def run_once(self, sources: list[Source]) -> list[CrawlSummary]:
        """Crawl every source once, concurrently, and return when all are stored."""
        summaries = [self.crawl(source)[1] for source in sources]
        self.process.start(install_signal_handlers=True)
        return summaries

    def close(self) -> None:
        self.pool.close()
        self.db.dispose()
