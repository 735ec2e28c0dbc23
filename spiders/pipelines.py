"""Item pipeline: hands each extracted article to `aggregator.ingest` through the batch
writer (a thread, so the reactor never waits on the database), counting the outcome. The run
is released only once its article is stored."""

from __future__ import annotations

import logging

from scrapy import signals
from scrapy.crawler import Crawler

from aggregator import metrics
from aggregator.ingest import Arrival
from aggregator.writer import BatchWriter
from spiders.items import ArticleItem

log = logging.getLogger(__name__)


class StorePipeline:
    def __init__(self, crawler: Crawler):
        self.crawler = crawler
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
        if self.writer is None:
            self.writer = BatchWriter(self.crawler.spider.ingestor.store_articles)
        if item.fetch.duration_ms is not None:
            metrics.STAGE_SECONDS.labels("fetch").observe(item.fetch.duration_ms / 1000)
        try:
            stored = await self.writer.submit(Arrival(
                run.source, run.source_id, item.entry_ids, item.entry, item.fetch, item.draft,
                item.raw))
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
            run.release()
        return item
