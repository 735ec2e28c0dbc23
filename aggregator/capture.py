"""Screenshots of originals, taken off the hot path: the only module that drives a browser.

Ingestion only queues a row (see `db.store.enqueue_screenshot`); this worker takes due rows
from the database with a bounded pool of pages, so a slow, missing or crashing browser never
holds up a crawl. Every attempt ends in the row: captured with its metadata, pending again
with a back-off and the reason, or failed for good. Chromium is relaunched when it has died.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
import uuid
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

from playwright.async_api import (
    Browser,
    BrowserContext,
    Error,
    Page,
    Playwright,
    Route,
    async_playwright,
)
from playwright.async_api import TimeoutError as PlaywrightTimeout

from aggregator import guard
from aggregator.db import capture_queue as queue
from aggregator.db.engine import Database
from aggregator.errors import BrowserUnavailable, CaptureError
from aggregator.images import store_image
from aggregator.records import Capture, CaptureJob
from aggregator.settings import ScreenshotSettings, Settings
from aggregator.sources import ScreenshotOptions, Source
from aggregator.urls import host_of
from aggregator.vocabulary import CaptureAttempt, RequestKind

log = logging.getLogger(__name__)

SYSTEM_CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
)
MAX_BACKOFF = timedelta(hours=6)


def backoff(attempt: int, base_seconds: float) -> timedelta:
    """Delay before the retry that follows attempt number `attempt` (1, 2, ...): doubling."""
    return min(timedelta(seconds=base_seconds * 2 ** (attempt - 1)), MAX_BACKOFF)


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0][:300]


def resolve_browser(configured: Path | None) -> str | None:
    """The Chromium to launch; None leaves the choice to Playwright (its own download)."""
    if configured is not None:
        if not (configured.is_file() and os.access(configured, os.X_OK)):
            raise BrowserUnavailable(
                f"browser not found at {configured} (setting screenshots.browser_path): "
                "install chromium or correct the path"
            )
        return str(configured)
    return str(SYSTEM_CHROMIUM) if SYSTEM_CHROMIUM.exists() else None


def _find_pid(marker: str) -> int | None:
    """The browser process whose command line carries `marker` (its children do not)."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            args = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if marker.encode() in args and not any(a.startswith(b"--type=") for a in args):
            return int(entry.name)
    return None


class BrowserHost:
    """One Chromium for the worker's life, launched on first use and again after it died."""

    def __init__(self, configured_path: Path | None):
        self.configured_path = configured_path
        self.pid: int | None = None
        self._playwright: Playwright | None = None
        self._browser: Browser | None = None
        self._lock = asyncio.Lock()

    async def get(self) -> Browser:
        async with self._lock:
            if self._browser is not None and self._browser.is_connected():
                return self._browser
            if self._browser is not None:
                log.warning("browser (pid %s) is gone; starting a new one", self.pid)
            await self._discard()
            executable = resolve_browser(self.configured_path)
            if self._playwright is None:
                self._playwright = await async_playwright().start()
            # A marker switch lets us find the browser's pid (kill it in tests, measure it).
            marker = f"--aggregator-capture={uuid.uuid4().hex}"
            try:
                self._browser = await self._playwright.chromium.launch(
                    executable_path=executable, headless=True, args=[*CHROMIUM_ARGS, marker],
                )
            except Error as exc:
                raise BrowserUnavailable(
                    f"cannot start {executable or 'the Playwright chromium'}: {_first_line(exc)} "
                    "(install chromium, or run `playwright install chromium`)"
                ) from exc
            self.pid = _find_pid(marker)
            log.info("browser started: chromium %s pid %s", self._browser.version, self.pid)
            return self._browser

    def alive(self) -> bool:
        return self._browser is not None and self._browser.is_connected()

    async def _discard(self) -> None:
        if self._browser is not None:
            try:
                await self._browser.close()
            except Error:
                pass  # already dead: there is nothing left to close
        self._browser, self.pid = None, None

    async def close(self) -> None:
        async with self._lock:
            await self._discard()
            if self._playwright is not None:
                await self._playwright.stop()
                self._playwright = None


@dataclass(frozen=True)
class _PageFacts:
    final_url: str
    status: int | None
    title: str | None
    settled: bool
    full_page: bool


async def _settle(page: Page, seconds: float) -> bool:
    """Wait for the load event, then network quiet, within `seconds` together."""
    deadline = time.monotonic() + seconds
    for state in ("load", "networkidle"):
        remaining = deadline - time.monotonic()
        if remaining <= 0:  # Playwright reads a zero timeout as "wait forever"
            return False
        try:
            await page.wait_for_load_state(state, timeout=remaining * 1000)
        except PlaywrightTimeout:
            return False
    return True


async def _guard(context: BrowserContext, url: str, source: Source | None) -> None:
    """Route interception: private addresses always, third parties when the source asks."""
    options = source.screenshot if source else ScreenshotOptions()
    domains = None
    if options.block_third_party:
        own = host_of(url).removeprefix("www.")
        domains = (own, *(source.allowed_domains if source else ()), *options.cdn_hosts)

    async def route(route: Route) -> None:
        if not guard.refusal(route.request.url, source, RequestKind.SUBRESOURCE, domains):
            await route.continue_()
        else:
            await route.abort("blockedbyclient")

    await context.route("**/*", route)


async def capture_page(
    browser: Browser, url: str, source: Source | None, settings: ScreenshotSettings, user_agent: str
) -> tuple[bytes, _PageFacts]:
    """Load `url` in a fresh context and return the PNG and what the page said about itself."""
    options = source.screenshot if source else ScreenshotOptions()
    full_page = settings.full_page if options.full_page is None else options.full_page
    width, height = settings.viewport_width, settings.viewport_height
    context = await browser.new_context(
        viewport={"width": width, "height": height}, user_agent=user_agent, service_workers="block"
    )
    try:
        await _guard(context, url, source)
        page = await context.new_page()
        try:
            response = await page.goto(url, wait_until="domcontentloaded",
                                       timeout=settings.timeout * 1000)
        except PlaywrightTimeout as exc:
            raise CaptureError(f"page did not load within {settings.timeout:g}s") from exc
        status = response.status if response else None
        if status is not None and status >= 400:
            raise CaptureError(f"HTTP {status} from {response.url}",
                               permanent=status < 500 and status not in (408, 429))
        settled = await _settle(page, settings.settle_timeout)
        for selector in options.hide:  # one rule each: a bad selector voids only its own rule
            await page.add_style_tag(content=f"{selector} {{ display: none !important; }}")
        clip = None
        if full_page:
            page_height = await page.evaluate("document.documentElement.scrollHeight")
            if page_height > settings.full_page_max_height:
                clip = {"x": 0, "y": 0, "width": width, "height": settings.full_page_max_height}
        png = await page.screenshot(type="png", full_page=full_page, clip=clip,
                                    timeout=settings.timeout * 1000, animations="disabled")
        return png, _PageFacts(page.url, status, await page.title() or None, settled, full_page)
    finally:
        try:
            await context.close()
        except Error:
            pass  # the browser died under us; the caller records why


class ScreenshotWorker:
    """Takes due captures from the queue, `pages` at a time, until stopped (or drained)."""

    def __init__(
        self, settings: Settings, sources: Iterable[Source] = (), db: Database | None = None
    ):
        self.settings = settings
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
        try:
            return await self._db(queue.claim, limit, _now(), self.lease)
        except Exception:  # noqa: BLE001 - a database hiccup must not end the worker
            log.exception("cannot read the capture queue; trying again later")
            return []

    async def _process(self, job: CaptureJob) -> CaptureAttempt:
        """One attempt; never raises, since one capture must not end the worker."""
        try:
            return await self._attempt(job)
        except Exception:  # noqa: BLE001 - the row comes back when its lease runs out
            log.exception("capture outcome not recorded",
                          extra={"source": job.source, "url": job.url})
            return CaptureAttempt.UNRECORDED

    async def _attempt(self, job: CaptureJob) -> CaptureAttempt:
        """Capture one page and record the outcome on its row."""
        extra = {"source": job.source, "url": job.url}
        try:
            capture = await asyncio.wait_for(self._capture(job), self.hard_limit)
        except CaptureError as exc:
            reason, permanent = str(exc), exc.permanent
        except TimeoutError:
            reason, permanent = f"capture took longer than {self.hard_limit:g}s", False
        except Error as exc:
            died = not self.browser.alive()
            what = "browser crashed or was closed" if died else "browser error"
            reason, permanent = f"{what}: {_first_line(exc)}", False
        except Exception as exc:  # noqa: BLE001 - a bug in one capture must not stop the queue
            log.exception("capture crashed", extra=extra)
            reason, permanent = f"unexpected {type(exc).__name__}: {_first_line(exc)}", False
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
        browser = await self.browser.get()
        png, facts = await capture_page(browser, job.url, self.sources.get(job.source),
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
            browser=browser.browser_type.name, browser_version=browser.version,
            duration_ms=int((time.monotonic() - started) * 1000),
        )


def _now() -> datetime:
    return datetime.now(timezone.utc)
