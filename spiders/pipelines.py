"""Item pipeline: hands each extracted article to `aggregator.ingest`, counting the outcome."""

from __future__ import annotations

import logging

from scrapy.crawler import Crawler

from spiders.items import ArticleItem

log = logging.getLogger(__name__)


class StorePipeline:
    def __init__(self, crawler: Crawler):
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> StorePipeline:
        return cls(crawler)

    def process_item(self, item: ArticleItem) -> ArticleItem:
        spider = self.crawler.spider
        stored = spider.ingestor.store_article(
            item.source, item.source_id, item.entry_ids, item.entry, item.fetch, item.draft,
            item.raw,
        )
        if stored.created:
            spider.summary.new += 1
        else:
            spider.summary.unchanged += 1
        return item
