"""Screenshots of originals, taken off the hot path: the capture queue's worker.

Ingestion only queues a row (see `db.batch.enqueue_screenshots`); this worker takes due rows
from the database with a bounded pool of pages, so a slow, missing or crashing browser never
holds up a crawl. Every attempt ends in the row: captured with its metadata, pending again
with a back-off and the reason, or failed for good. The browser itself, relaunched when it
has died, is aggregator/browser.py's.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta, timezone

from aggregator.browser import BrowserHost
from aggregator.db import capture_queue as queue
from aggregator.db.engine import Database
from aggregator.errors import CaptureError
from aggregator.images import store_image
from aggregator.leases import lease_host
from aggregator.records import Capture, CaptureJob
from aggregator.settings import Settings
from aggregator.sources import Source
from aggregator.vocabulary import CaptureAttempt

log = logging.getLogger(__name__)

MAX_BACKOFF = timedelta(hours=6)


def backoff(attempt: int, base_seconds: float) -> timedelta:
    """Delay before the retry that follows attempt number `attempt` (1, 2, ...): doubling."""
    return min(timedelta(seconds=base_seconds * 2 ** (attempt - 1)), MAX_BACKOFF)


class ScreenshotWorker:
    """Takes due captures from the queue, `pages` at a time, until stopped (or drained)."""

    def __init__(
        self, settings: Settings, sources: Iterable[Source] = (), db: Database | None = None,
        hosts: Callable[[], set[str]] | None = None,
    ):
        self.settings = settings
        self.hosts = hosts  # the daemon's: hosts whose lease this node holds
        self.in_flight: Counter = Counter()  # captures running per host
        self.options = settings.screenshots
        self.sources = {s.name: s for s in sources}
        self.db = db or Database(settings.effective_database_url)
        self.browser = BrowserHost(self.options.browser_path)
        # goto and screenshot are each bounded by `timeout`; this catches anything else.
        self.hard_limit = self.options.timeout * 2 + self.options.settle_timeout + 15
        self.lease = timedelta(seconds=self.hard_limit + 60)
        self._stop: asyncio.Event | None = None
        self._task: asyncio.Task | None = None

    def use_sources(self, sources: Iterable[Source]) -> None:
        """Per-source capture options after a reload."""
        self.sources = {s.name: s for s in sources}

    def start(self) -> asyncio.Task:
        """Run in the background on the current event loop (the daemon's reactor loop)."""
        self._stop = asyncio.Event()
        self._task = asyncio.ensure_future(self.run(self._stop))
        return self._task

    async def stop(self) -> None:
        if self._stop is not None and self._task is not None:
            self._stop.set()
            await self._task

    async def run(self, stop_event: asyncio.Event, once: bool = False) -> Counter:
        """Capture until `stop_event` is set (or, with `once`, nothing is due); count outcomes."""
        outcomes: Counter = Counter()
        running: set[asyncio.Task] = set()
        stopping = asyncio.ensure_future(stop_event.wait())
        try:
            while not stop_event.is_set():
                free = self.options.pages - len(running)
                jobs = await self._claim(free) if free else []
                running.update(asyncio.ensure_future(self._process(job)) for job in jobs)
                if once and not running:
                    break
                done, _ = await asyncio.wait(
                    running | {stopping}, timeout=self.options.poll_interval,
                    return_when=asyncio.FIRST_COMPLETED,
                )
                for task in done - {stopping}:
                    running.discard(task)
                    outcomes[task.result()] += 1
        finally:
            await self._drain(running)
            stopping.cancel()
            await self.browser.close()
        return outcomes

    async def _drain(self, running: set[asyncio.Task]) -> None:
        """Let captures in flight finish briefly; cancelled ones come back after their lease."""
        if running:
            _, late = await asyncio.wait(running, timeout=self.options.settle_timeout + 5)
            for task in late:
                task.cancel()
            await asyncio.gather(*late, return_exceptions=True)

    async def _db(self, step, *args):
        """One transaction, off the event loop (which may be the crawler's reactor)."""
        def work():
            with self.db.session() as session:
                return step(session, *args)
        return await asyncio.to_thread(work)

    async def _claim(self, limit: int) -> list[CaptureJob]:
        """Captures of this node's hosts only (when it is one of several), never more per
        host than `per_host_concurrency` at once: a host's budget holds for the cluster."""
        sources = None
        if self.hosts is not None:
            held = self.hosts()
            sources = {n for n, s in self.sources.items() if lease_host(s.url) in held}
        cap = self.settings.per_host_concurrency
        try:
            return await self._db(queue.claim, limit, _now(), self.lease, sources,
                                  lambda host: cap - self.in_flight[host])
        except Exception:  # noqa: BLE001 - a database hiccup must not end the worker
            log.exception("cannot read the capture queue; trying again later")
            return []

    async def _process(self, job: CaptureJob) -> CaptureAttempt:
        """One attempt; never raises, since one capture must not end the worker."""
        host = lease_host(job.url)
        self.in_flight[host] += 1
        try:
            return await self._attempt(job)
        except Exception:  # noqa: BLE001 - the row comes back when its lease runs out
            log.exception("capture outcome not recorded",
                          extra={"source": job.source, "url": job.url})
            return CaptureAttempt.UNRECORDED
        finally:
            self.in_flight[host] -= 1

    async def _attempt(self, job: CaptureJob) -> CaptureAttempt:
        """Capture one page and record the outcome on its row."""
        extra = {"source": job.source, "url": job.url}
        try:
            capture = await asyncio.wait_for(self._capture(job), self.hard_limit)
        except CaptureError as exc:
            reason, permanent = str(exc), exc.permanent
        except TimeoutError:
            reason, permanent = f"capture took longer than {self.hard_limit:g}s", False
        except Exception as exc:  # noqa: BLE001 - a bug in one capture must not stop the queue
            log.exception("capture crashed", extra=extra)
            first = (str(exc).strip().splitlines() or [""])[0][:300]
            reason, permanent = f"unexpected {type(exc).__name__}: {first}", False
        else:
            await self._db(queue.record_capture, job.id, capture)
            log.info("captured %s (%dx%d)", capture.path, capture.width, capture.height,
                     extra=extra)
            return CaptureAttempt.CAPTURED
        retry = not permanent and job.attempt < self.options.max_attempts
        retry_at = _now() + backoff(job.attempt, self.options.retry_delay) if retry else None
        await self._db(queue.record_failure, job.id, reason, retry_at)
        log.warning("capture attempt %d failed%s: %s", job.attempt,
                    "" if retry else " for good", reason, extra=extra)
        return CaptureAttempt.RETRY if retry else CaptureAttempt.FAILED

    async def _capture(self, job: CaptureJob) -> Capture:
        started = time.monotonic()
        png, facts = await self.browser.capture(job.url, self.sources.get(job.source),
                                                self.options, self.settings.user_agent)
        image = await asyncio.to_thread(store_image, png, self.settings.data_dir,
                                        self.options.format, self.options.thumbnail_width)
        return Capture(
            final_url=facts.final_url, http_status=facts.status, page_title=facts.title,
            width=image.width, height=image.height, size=image.size, sha256=image.sha256,
            format=image.format, path=image.path, thumbnail_path=image.thumbnail_path,
            viewport_width=self.options.viewport_width,
            viewport_height=self.options.viewport_height,
            full_page=facts.full_page, settled=facts.settled, captured_at=_now(),
            browser=facts.browser, browser_version=facts.browser_version,
            duration_ms=int((time.monotonic() - started) * 1000),
        )


def _now() -> datetime:
    return datetime.now(timezone.utc)
