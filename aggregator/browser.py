"""The screenshot browser: Chromium's lifecycle and one page's capture; the only Playwright user.

Chromium runs with its sandbox where the system allows it (not as root, where Chromium refuses
it; the service runs as a dynamic user) and every capture's context sends all its traffic
through a filtering proxy (aggregator/capture_proxy.py) that the URL guard decides for; route
interception (requests and WebSockets) adds the source's third-party rules before that. Name
resolution inside the browser is switched off, so nothing leaves except through the proxy.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from playwright.async_api import (
    Browser,
    BrowserContext,
    Error,
    Page,
    Playwright,
    Route,
    WebSocketRoute,
    async_playwright,
)
from playwright.async_api import TimeoutError as PlaywrightTimeout

from aggregator import guard
from aggregator.capture_proxy import CaptureProxy
from aggregator.errors import BrowserUnavailable, CaptureError
from aggregator.settings import ScreenshotSettings
from aggregator.sources import ScreenshotOptions, Source
from aggregator.urls import host_of
from aggregator.vocabulary import RequestKind

log = logging.getLogger(__name__)

SYSTEM_CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = (
    "--headless", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
    "--dns-prefetch-disable", "--webrtc-ip-handling-policy=disable_non_proxied_udp",
    "--force-webrtc-ip-handling-policy",
    # The browser resolves no name itself: every request goes through the capture's proxy.
    "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
)
NO_LOOPBACK_BYPASS = "<-loopback>"  # Chromium otherwise sends loopback past the proxy


def sandbox_refusal() -> str | None:
    """Why Chromium must run without its sandbox here, or None."""
    if os.geteuid() == 0:
        return "running as root, where Chromium refuses its sandbox"
    return None


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
        self.sandboxed = False
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
            no_sandbox = sandbox_refusal()
            if no_sandbox is None:
                try:
                    self._browser = await self._launch(executable, marker, sandbox=True)
                except BrowserUnavailable as exc:
                    no_sandbox = f"the sandbox would not start ({exc})"
            if no_sandbox is not None:
                log.warning("browser runs without its sandbox: %s", no_sandbox)
                self._browser = await self._launch(executable, marker, sandbox=False)
            self.sandboxed = no_sandbox is None
            self.pid = _find_pid(marker)
            log.info("browser started: chromium %s pid %s, sandbox %s", self._browser.version,
                     self.pid, "on" if self.sandboxed else "off")
            return self._browser

    async def _launch(self, executable: str | None, marker: str, sandbox: bool) -> Browser:
        try:
            return await self._playwright.chromium.launch(
                executable_path=executable, headless=True, chromium_sandbox=sandbox,
                args=[*CHROMIUM_ARGS, marker])
        except Error as exc:
            raise BrowserUnavailable(
                f"cannot start {executable or 'the Playwright chromium'}: {_first_line(exc)} "
                "(install chromium, or run `playwright install chromium`)"
            ) from exc

    def alive(self) -> bool:
        return self._browser is not None and self._browser.is_connected()

    async def capture(self, url: str, source: Source | None, settings: ScreenshotSettings,
                      user_agent: str) -> tuple[bytes, PageFacts]:
        """One page's capture; a browser failure becomes a CaptureError saying whether the
        browser died (it is relaunched for the next capture)."""
        browser = await self.get()
        gone = asyncio.get_running_loop().create_future()

        def disconnected(_browser) -> None:
            if not gone.done():
                gone.set_result(None)

        # A call in flight when the browser dies may never return (new_page waits forever):
        # the capture races the browser's disconnection.
        browser.on("disconnected", disconnected)
        capture = asyncio.ensure_future(capture_page(browser, url, source, settings, user_agent))
        try:
            await asyncio.wait([capture, gone], return_when=asyncio.FIRST_COMPLETED)
            if not capture.done():
                capture.cancel()
                await asyncio.gather(capture, return_exceptions=True)
                raise CaptureError("browser crashed or was closed during the capture")
            return capture.result()
        except Error as exc:
            what = "browser crashed or was closed" if not self.alive() else "browser error"
            raise CaptureError(f"{what}: {_first_line(exc)}") from exc
        finally:
            browser.remove_listener("disconnected", disconnected)
            if not capture.done():
                capture.cancel()

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
class PageFacts:
    """What the page said about itself when it was captured."""

    final_url: str
    status: int | None
    title: str | None
    settled: bool
    full_page: bool
    browser: str
    browser_version: str


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


def allowed_hosts(url: str, source: Source | None) -> tuple[str, ...] | None:
    """Hosts a captured page may load from when its source blocks third parties (the page's
    own site, the source's domains and CDNs); None: any public host."""
    options = source.screenshot if source else ScreenshotOptions()
    if not options.block_third_party:
        return None
    own = host_of(url).removeprefix("www.")
    return (own, *(source.allowed_domains if source else ()), *options.cdn_hosts)


async def _intercept(context: BrowserContext, source: Source | None,
                     allowed: tuple[str, ...] | None) -> None:
    """Refuse in the browser what the proxy would refuse anyway, WebSockets included."""
    def refused(url: str) -> bool:
        return bool(guard.refusal(url, source, RequestKind.SUBRESOURCE, allowed))

    async def route(route: Route) -> None:
        if refused(route.request.url):
            await route.abort("blockedbyclient")
        else:
            await route.continue_()

    async def socket(ws: WebSocketRoute) -> None:
        if refused(ws.url):
            await ws.close(code=1008, reason="refused")
        else:
            ws.connect_to_server()

    await context.route("**/*", route)
    await context.route_web_socket("**/*", socket)


async def capture_page(
    browser: Browser, url: str, source: Source | None, settings: ScreenshotSettings,
    user_agent: str,
) -> tuple[bytes, PageFacts]:
    """Load `url` in a fresh context behind its own filtering proxy; return the PNG and what
    the page said about itself."""
    options = source.screenshot if source else ScreenshotOptions()
    full_page = settings.full_page if options.full_page is None else options.full_page
    width, height = settings.viewport_width, settings.viewport_height
    allowed = allowed_hosts(url, source)
    async with CaptureProxy(source, allowed, settings.timeout) as proxy:
        context = await browser.new_context(
            viewport={"width": width, "height": height}, user_agent=user_agent,
            service_workers="block",
            proxy={"server": proxy.url, "bypass": NO_LOOPBACK_BYPASS})
        try:
            await _intercept(context, source, allowed)
            png, facts = await _shoot(await context.new_page(), url, settings, options,
                                      full_page)
        finally:
            try:
                await context.close()
            except Error:
                pass  # the browser died under us; the caller records why
        for refusal in proxy.refused:
            log.info("capture refused a request: %s", refusal, extra={"url": url})
        return png, facts


async def _shoot(page: Page, url: str, settings: ScreenshotSettings,
                 options: ScreenshotOptions, full_page: bool) -> tuple[bytes, PageFacts]:
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
            clip = {"x": 0, "y": 0, "width": settings.viewport_width,
                    "height": settings.full_page_max_height}
    png = await page.screenshot(type="png", full_page=full_page, clip=clip,
                                timeout=settings.timeout * 1000, animations="disabled")
    browser = page.context.browser
    return png, PageFacts(page.url, status, await page.title() or None, settled, full_page,
                          browser.browser_type.name, browser.version)
