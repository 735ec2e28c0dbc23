"""A process pool for CPU-bound stages, so extraction and shingling never block the reactor.

Workers are spawned (never forked from a running reactor) and recycled, which also bounds the
caches trafilatura keeps for the life of a process. Recycling swaps in a fresh executor after
TASKS_PER_CHILD tasks per worker; the old one finishes its queue and exits. (The executor's own
`max_tasks_per_child` deadlocks on Python 3.11-3.13 once a backlog is queued: CPython
gh-115634.)
"""

from __future__ import annotations

import asyncio
import dataclasses
import multiprocessing
import time
from concurrent.futures import ProcessPoolExecutor

from aggregator import metrics
from aggregator.dedup import fingerprint
from aggregator.extract import extract_article
from aggregator.records import ExtractionResult, ExtractRules

TASKS_PER_CHILD = 500


def extract_and_fingerprint(
    body: bytes, url: str, content_type: str | None, language: str | None,
    rules: ExtractRules | None = None,
) -> ExtractionResult:
    """Extraction plus the MinHash fingerprint: both CPU-bound, both in the worker process."""
    started = time.perf_counter()
    result = extract_article(body, url, content_type, language, rules)
    extracted = time.perf_counter()
    if result.draft is None:
        return dataclasses.replace(result, extract_seconds=extracted - started)
    draft = dataclasses.replace(result.draft, fingerprint=fingerprint(result.draft.text))
    return ExtractionResult(draft, extract_seconds=extracted - started,
                            dedup_seconds=time.perf_counter() - extracted)


class ExtractionPool:
    def __init__(self, workers: int):
        self._workers = workers
        self._executor = self._new_executor()
        self._retired: list[ProcessPoolExecutor] = []
        self._submitted = 0

    def _new_executor(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(max_workers=self._workers,
                                   mp_context=multiprocessing.get_context("spawn"))

    def _current(self) -> ProcessPoolExecutor:
        if self._submitted >= TASKS_PER_CHILD * self._workers:
            old, self._executor, self._submitted = self._executor, self._new_executor(), 0
            old.shutdown(wait=False)  # its queued tasks still run, then its workers exit
            self._retired = [e for e in self._retired if e._processes] + [old]
        self._submitted += 1
        return self._executor

    async def extract(
        self, body: bytes, url: str, content_type: str | None, language: str | None,
        rules: ExtractRules | None = None,
    ) -> ExtractionResult:
        loop = asyncio.get_running_loop()
        result = await loop.run_in_executor(
            self._current(), extract_and_fingerprint, body, url, content_type, language, rules
        )
        metrics.STAGE_SECONDS.labels("extract").observe(result.extract_seconds)
        if result.draft is not None:
            metrics.STAGE_SECONDS.labels("dedup").observe(result.dedup_seconds)
        return result

    def close(self) -> None:
        for executor in (*self._retired, self._executor):
            executor.shutdown(wait=True, cancel_futures=True)
