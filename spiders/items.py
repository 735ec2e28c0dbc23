"""The item a spider hands to the pipeline: an extracted article with where it came from."""

from __future__ import annotations

from dataclasses import dataclass

from aggregator.records import ArticleDraft, FeedEntry, FetchRecord, RawPage
from spiders.run import CrawlRun


@dataclass
class ArticleItem:
    run: CrawlRun
    entry_ids: list[int]
    entry: FeedEntry | None
    fetch: FetchRecord
    draft: ArticleDraft
    raw: RawPage | None = None  # for the WARC archive
