"""Database writes off the reactor thread, in batches: the reactor hands an article over and
awaits its outcome; one writer thread stores whatever has queued up meanwhile (up to
`batch_size`) in one transaction. The queue is bounded: a full queue makes callers wait."""

from __future__ import annotations

import asyncio
import queue
import threading
import time
from collections.abc import Callable
from typing import Generic, TypeVar

from aggregator import metrics

T = TypeVar("T")
R = TypeVar("R")
_STOP = object()


class BatchWriter(Generic[T, R]):
    """`await writer.submit(x)` returns `store_batch([.., x, ..])`'s outcome for x (or raises
    it, when the outcome is an exception)."""

    def __init__(self, store_batch: Callable[[list[T]], list[R | Exception]],
                 batch_size: int = 64, capacity: int = 256):
        self._store_batch = store_batch
        self._batch_size = batch_size
        self._queue: queue.Queue = queue.Queue(maxsize=capacity)
        self._space = asyncio.Semaphore(capacity)
        self._thread = threading.Thread(target=self._work, name="db-writer", daemon=True)
        self._thread.start()

    async def submit(self, item: T) -> R:
        loop = asyncio.get_running_loop()
        async with self._space:  # never blocks the reactor on queue.put
            future = loop.create_future()
            self._queue.put_nowait((item, future, loop))
            return await future

    def _work(self) -> None:
        while (first := self._queue.get()) is not _STOP:
            batch = [first]
            while len(batch) < self._batch_size:
                try:
                    nxt = self._queue.get_nowait()
                except queue.Empty:
                    break
                if nxt is _STOP:
                    self._queue.put(_STOP)
                    break
                batch.append(nxt)
            started = time.perf_counter()
            try:
                outcomes = self._store_batch([item for item, _, _ in batch])
            except Exception as exc:  # noqa: BLE001 - handed to every waiting caller
                outcomes = [exc] * len(batch)
            per_item = (time.perf_counter() - started) / len(batch)
            for (_, future, loop), outcome in zip(batch, outcomes):
                metrics.STAGE_SECONDS.labels("store").observe(per_item)
                loop.call_soon_threadsafe(_settle, future, outcome)

    def close(self) -> None:
        """Store what is queued, then stop the thread."""
        self._queue.put(_STOP)
        self._thread.join()


def _settle(future: asyncio.Future, outcome: object) -> None:
    if future.done():
        return
    if isinstance(outcome, Exception):
        future.set_exception(outcome)
    else:
        future.set_result(outcome)
