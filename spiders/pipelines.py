"""Item pipeline: hands each extracted article to `aggregator.ingest` through the batch
writer (a thread, so the reactor never waits on the database), counting the outcome. The run
is released only once its article is stored.

During a database outage each article waits here, retried with back-off (db/outage.py), so
nothing fetched is lost; once `store_buffer` articles wait, the engine pauses (no new
downloads, those in flight still land here) until writes work again.
"""

from __future__ import annotations

import logging

from scrapy import signals
from scrapy.crawler import Crawler

from aggregator import metrics
from aggregator.db.outage import retry_async
from aggregator.ingest import Arrival
from aggregator.writer import BatchWriter
from spiders.items import ArticleItem

log = logging.getLogger(__name__)


class StorePipeline:
    def __init__(self, crawler: Crawler):
        self.crawler = crawler
        settings = crawler.settings["AGGREGATOR_SETTINGS"]
        self.capacity = settings.store_buffer
        self.max_delay = settings.db_retry_max_delay
        self.held = 0
        self.writer: BatchWriter | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> StorePipeline:
        pipeline = cls(crawler)
        crawler.signals.connect(pipeline.close, signal=signals.spider_closed)
        return pipeline

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()

    async def process_item(self, item: ArticleItem) -> ArticleItem:
        run = item.run
        spider = self.crawler.spider
        if self.writer is None:
            self.writer = BatchWriter(spider.ingestor.store_articles)
        if item.fetch.duration_ms is not None:
            metrics.STAGE_SECONDS.labels("fetch").observe(item.fetch.duration_ms / 1000)
        metrics.EXTRACTION_PATHS.labels(run.source.name,
                                        item.draft.extraction_path or "unknown").inc()
        arrival = Arrival(run.source, run.source_id, item.entry_ids, item.entry, item.fetch,
                          item.draft, item.raw)
        self._hold(+1)
        try:
            stored = await retry_async(spider.outage, lambda: self.writer.submit(arrival),
                                       self.max_delay)
        except Exception:
            # The entry stays pending (no attempt is charged): the next crawl fetches it again.
            run.summary.failed += 1
            log.exception("could not store article", extra={"source": run.source.name,
                                                             "url": item.draft.url})
            raise
        else:
            if stored.created:
                run.summary.new += 1
            else:
                run.summary.unchanged += 1
                metrics.DUPLICATES.labels(run.source.name, "same_url").inc()
            metrics.ARTICLES.labels(run.source.name, "new" if stored.created else "refreshed").inc()
        finally:
            self._hold(-1)
            run.release()
        return item

    def _hold(self, change: int) -> None:
        """Back-pressure: pause downloads while the buffer of waiting articles is full."""
        self.held += change
        engine = self.crawler.engine
        if self.held >= self.capacity and not engine.paused:
            log.warning("%d articles wait for the database: downloads paused", self.held)
            engine.pause()
        elif self.held < self.capacity and engine.paused:
            engine.unpause()
