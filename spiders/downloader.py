"""Scrapy's downloader with the per-host concurrency limit actually enforced.

Scrapy 2.19 starts each download of a slot's queue as an asyncio task and checks the slot's
free transfer capacity before that task has marked its request as transferring, so a slot
without a download delay releases its whole queue at once: CONCURRENT_REQUESTS_PER_DOMAIN is
not enforced (seen here: 6 pages of one host fetched at once with the limit at 2). Marking a
request as transferring the moment it leaves the queue restores the limit; the download
itself unmarks it as before.
"""

from __future__ import annotations

from collections import deque
from typing import Any

from scrapy.core.downloader import Downloader as ScrapyDownloader
from scrapy.core.downloader import Slot
from scrapy.http import Request


class _MarkingQueue(deque):
    def __init__(self, slot: Slot, items):
        super().__init__(items)
        self.slot = slot

    def popleft(self):
        request, deferred = super().popleft()
        self.slot.transferring.add(request)
        return request, deferred


class Downloader(ScrapyDownloader):
    def _get_slot(self, request: Request, *args: Any) -> tuple[str, Slot]:
        key, slot = super()._get_slot(request, *args)
        if not isinstance(slot.queue, _MarkingQueue):
            slot.queue = _MarkingQueue(slot, slot.queue)
        return key, slot

    def drop_queued(self) -> list[tuple[Request, Any]]:
        """Take every request still waiting in a slot queue (they were never sent)."""
        dropped = []
        for slot in self.slots.values():
            dropped.extend(slot.queue)
            slot.queue.clear()
        return dropped
