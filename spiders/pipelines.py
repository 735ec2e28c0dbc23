"""Item pipeline: hands each extracted article to `aggregator.ingest`, counting the outcome."""

from __future__ import annotations

import logging
import time

from scrapy.crawler import Crawler

from aggregator import metrics
from spiders.items import ArticleItem

log = logging.getLogger(__name__)


class StorePipeline:
    def __init__(self, crawler: Crawler):
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> StorePipeline:
        return cls(crawler)

    def process_item(self, item: ArticleItem) -> ArticleItem:
        run = item.run
        if item.fetch.duration_ms is not None:
            metrics.STAGE_SECONDS.labels("fetch").observe(item.fetch.duration_ms / 1000)
        try:
            started = time.perf_counter()
            stored = self.crawler.spider.ingestor.store_article(
                run.source, run.source_id, item.entry_ids, item.entry, item.fetch, item.draft,
                item.raw,
            )
            metrics.STAGE_SECONDS.labels("store").observe(time.perf_counter() - started)
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
