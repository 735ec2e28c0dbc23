"""Screenshots with a real Chromium against loopback pages: the queue, the files, the failures."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import signal
import struct
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

from PIL import Image

from aggregator.capture import ScreenshotWorker, backoff
from aggregator.db.engine import Database
from aggregator.db.models import Screenshot
from aggregator.ingest import Arrival, Ingestor
from aggregator.ledger import CrawlLedger
from aggregator.records import ArticleDraft, FetchRecord
from aggregator.settings import Settings
from aggregator.sources import Source
from tests import stories
from tests.helpers import all_rows
from tests.newssite import article_page, rss

FAST = {"timeout": 5, "settle_timeout": 2, "retry_delay": 0, "poll_interval": 0.2,
        "max_attempts": 2}


def png_size(data: bytes) -> tuple[int, int]:
    """Width and height from the PNG signature and IHDR chunk, without an image library."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def make_source(name: str, site, **values) -> Source:
    data = {"name": name, "title": name.title(), "kind": "feed", "url": site.url("/rss.xml"),
            "language": "uk", "allowed_domains": ["127.0.0.1"], "allow_private_addresses": True}
    return Source(**{**data, **values})


def make_settings(tmp_path: Path, db_url: str, **shots) -> Settings:
    return Settings(data_dir=tmp_path / "data", database_url=db_url,
                    screenshots={**FAST, **shots})


def store(db_url: str, source: Source, url: str, enabled: bool = True) -> int:
    """Store an article through the real ingestion path; that queues its capture."""
    db = Database(db_url)
    now = datetime.now(timezone.utc)
    fetch = FetchRecord(url=url, final_url=url, status=200, fetched_at=now, size=1,
                        sha256="0" * 64, kind="page")
    draft = ArticleDraft(url=url, text="Текст статті.", title="Стаття")
    source_id = CrawlLedger(db).register(source)
    stored = Ingestor(db, screenshots=enabled).store_article(
        Arrival(source, source_id, [], None, fetch, draft))
    db.dispose()
    return stored.id


def run_once(settings: Settings, *sources: Source, worker: ScreenshotWorker | None = None):
    worker = worker or ScreenshotWorker(settings, sources)
    return asyncio.run(worker.run(asyncio.Event(), once=True))


def rows(db_url: str) -> list[Screenshot]:
    return all_rows(db_url, Screenshot)


def test_backoff_doubles_and_is_capped():
    assert [backoff(n, 60).total_seconds() for n in (1, 2, 3)] == [60, 120, 240]
    assert backoff(30, 60) == timedelta(hours=6)


def test_nothing_is_queued_when_screenshots_are_switched_off(site, sqlite_url):
    store(sqlite_url, make_source("off", site), site.url("/a.html"), enabled=False)
    store(sqlite_url, make_source("quiet", site, screenshots=False), site.url("/b.html"))
    store(sqlite_url, make_source("on", site), site.url("/c.html"))
    store(sqlite_url, make_source("on", site), site.url("/c.html"))  # known: not queued again
    assert [r.requested_url for r in rows(sqlite_url)] == [site.url("/c.html")]


def test_crawl_leaves_captures_pending_for_a_later_process(site, workspace):
    """Ingestion never waits for the browser; the queue survives into the next process."""
    pages = {"/news/bridge.html": stories.BRIDGE, "/news/weather.html": stories.WEATHER_1251,
             "/quiet/energy.html": stories.ENERGY_UK}
    for path, story in pages.items():
        site.add(path, article_page(story, site.url(path)))
    site.add("/rss.xml", rss([(pages[p], site.url(p)) for p in list(pages)[:2]]))
    site.add("/quiet.xml", rss([(stories.ENERGY_UK, site.url("/quiet/energy.html"))]))
    workspace.settings(screenshots=FAST)
    workspace.source("rbc", site.url("/rss.xml"))
    workspace.source("quiet", site.url("/quiet.xml"), screenshots=False)

    assert "3 new articles" in workspace.run("crawl", "rbc", "quiet").stdout
    queued = rows(workspace.db_url)
    assert [(r.outcome, r.attempts) for r in queued] == [("pending", 0), ("pending", 0)]
    assert {r.requested_url for r in queued} == {site.url(p) for p in list(pages)[:2]}
    data = workspace.root / "data"
    assert not (data / "screenshots").exists()

    done = workspace.run("screenshots", "run", "--once")
    assert "2 captured, 0 failed" in done.stdout
    for row in rows(workspace.db_url):
        assert row.outcome == "captured" and row.error is None and row.settled
        body = (data / row.path).read_bytes()
        assert hashlib.sha256(body).hexdigest() == row.sha256
        assert row.path.endswith(f"{row.sha256}.png")
        assert len(body) == row.bytes
        assert png_size(body) == (row.width, row.height) == (1280, 900)
        assert png_size((data / row.thumbnail_path).read_bytes())[0] == 320
        assert row.http_status == 200 and row.final_url == row.requested_url
        assert row.page_title.startswith(pages[row.requested_url.removeprefix(site.base)].title)
        assert row.browser == "chromium" and row.browser_version and row.duration_ms > 0
        assert row.fetch_id is not None

    records = [json.loads(line) for line in workspace.run("export").stdout.splitlines()]
    by_url = {r["url"].removeprefix(site.base): r for r in records}
    assert by_url["/quiet/energy.html"]["screenshot"] is None
    shot = by_url["/news/bridge.html"]["screenshot"]
    assert shot["outcome"] == "captured" and shot["viewport"] == {"width": 1280, "height": 900}
    assert (data / shot["path"]).exists() and shot["captured_at"].endswith("Z")
    shown = workspace.run("articles", "show", str(by_url["/news/bridge.html"]["id"])).stdout
    assert shot["sha256"] in shown and "1280x900" in shown
    assert "0 pending, 2 captured, 0 failed" in workspace.run("screenshots", "list").stdout


def test_page_failures_end_as_recorded_outcomes(site, tmp_path, sqlite_url):
    """A 404, a page that never loads and a page that never settles: each leaves its reason."""
    site.add("/slow.html", "<p>late</p>", delay=12)
    site.add("/busy.html", '<h1>Still loading</h1><img src="/forever.png">')
    site.add("/forever.png", b"", content_type="image/png", delay=30)
    source = make_source("flaky", site)
    for path in ("/gone.html", "/slow.html", "/busy.html"):
        store(sqlite_url, source, site.url(path))

    outcomes = run_once(make_settings(tmp_path, sqlite_url, timeout=5, settle_timeout=1.5, pages=3),
                        source)

    assert outcomes == {"captured": 1, "failed": 2, "retry": 1}
    gone, slow, busy = rows(sqlite_url)
    assert (gone.outcome, gone.attempts) == ("failed", 1)  # a 404 is not worth retrying
    assert gone.error == f"HTTP 404 from {site.url('/gone.html')}"
    assert (slow.outcome, slow.attempts) == ("failed", 2)
    assert slow.error == "page did not load within 5s"
    assert (busy.outcome, busy.settled) == ("captured", False)
    assert busy.page_title is None and busy.http_status == 200


def test_missing_browser_is_recorded_then_retry_requeues(site, sqlite_workspace):
    ws = sqlite_workspace
    source = make_source("rbc", site)
    ws.source("rbc", source.url)
    url = site.add("/news/bridge.html", article_page(stories.BRIDGE, site.url("/news/bridge.html")))
    store(ws.db_url, source, url)

    ws.settings(screenshots={**FAST, "browser_path": "/nonexistent/chromium"})
    assert "0 captured, 1 failed" in ws.run("screenshots", "run", "--once").stdout
    (row,) = rows(ws.db_url)
    assert (row.outcome, row.attempts) == ("failed", 2)
    assert row.error.startswith("browser not found at /nonexistent/chromium")
    assert "browser not found" in ws.run("screenshots", "list", "--outcome", "failed").stdout

    assert "1 failed captures queued again" in ws.run("screenshots", "retry").stdout
    assert [(r.outcome, r.attempts) for r in rows(ws.db_url)] == [("pending", 0)]
    ws.settings(screenshots=FAST)
    assert "1 captured" in ws.run("screenshots", "run", "--once").stdout


def test_browser_killed_mid_capture_is_restarted_and_retried(site, tmp_path, sqlite_url, caplog):
    url = site.add("/news/slow.html", article_page(stories.BRIDGE, site.url("/news/slow.html")),
                   delay=2)
    source = make_source("rbc", site)
    store(sqlite_url, source, url)
    worker = ScreenshotWorker(make_settings(tmp_path, sqlite_url), [source])

    async def scenario():
        task = asyncio.ensure_future(worker.run(asyncio.Event(), once=True))
        while worker.browser.pid is None:
            await asyncio.sleep(0.05)
        killed = worker.browser.pid
        await asyncio.sleep(0.5)  # the page is still on its way
        os.kill(killed, signal.SIGKILL)
        return killed, await task

    killed, outcomes = asyncio.run(scenario())
    assert outcomes == {"retry": 1, "captured": 1}
    (row,) = rows(sqlite_url)
    assert (row.outcome, row.attempts, row.error) == ("captured", 2, None)
    assert "browser crashed or was closed" in caplog.text
    assert f"browser (pid {killed}) is gone; starting a new one" in caplog.text


CONSENT_PAGE = """<html><head><title>Consent</title></head><body style="margin:0">
<div style="height:3000px;background:#ffffff"><h1>Новина дня</h1><img src="/own-{tag}.png"></div>
<img src="http://localhost:{port}/tracker-{tag}.png">
<div id="consent" style="position:fixed;inset:0;background:#ff0000;z-index:9">
Ми використовуємо cookies</div></body></html>"""


def test_overlay_hidden_third_party_blocked_full_page_capped(site, tmp_path, sqlite_url):
    options = {"hide": ["#consent"], "block_third_party": True, "full_page": True}
    careful, plain = make_source("careful", site, screenshot=options), make_source("plain", site)
    for tag, source in (("a", careful), ("b", plain)):
        page = CONSENT_PAGE.format(port=site.port, tag=tag)
        store(sqlite_url, source, site.add(f"/consent-{tag}.html", page))

    settings = make_settings(tmp_path, sqlite_url, format="webp", full_page_max_height=2000)
    assert run_once(settings, careful, plain) == {"captured": 2}

    assert site.requests_for("/own-a.png") and site.requests_for("/own-b.png")
    assert not site.requests_for("/tracker-a.png")
    assert site.requests_for("/tracker-b.png")
    hidden, shown = rows(sqlite_url)
    assert (hidden.width, hidden.height, hidden.full_page) == (1280, 2000, True)
    assert (shown.width, shown.height, shown.full_page) == (1280, 900, False)
    for row, colour in ((hidden, (255, 255, 255)), (shown, (255, 0, 0))):
        body = (tmp_path / "data" / row.path).read_bytes()
        assert body[:4] == b"RIFF" and body[8:12] == b"WEBP" and row.format == "webp"
        with Image.open(tmp_path / "data" / row.path) as image:
            assert image.size == (row.width, row.height)
            assert image.convert("RGB").getpixel((640, 600)) == colour


def test_daemon_captures_in_the_background_and_stops_cleanly(site, sqlite_workspace):
    ws = sqlite_workspace
    source = make_source("rbc", site)
    ws.source("rbc", source.url, schedule={"every": "1h"})
    ws.settings(screenshots=FAST)
    store(ws.db_url, source, site.add("/a.html", article_page(stories.BRIDGE, site.url("/a.html"))))
    store(ws.db_url, source, site.url("/missing.html"))
    env = {**os.environ, "AGGREGATOR_DATABASE_URL": ws.db_url}
    command = [sys.executable, "-m", "aggregator", "--config", str(ws.config), "run"]
    daemon = subprocess.Popen(command, env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 60
        while {r.outcome for r in rows(ws.db_url)} != {"captured", "failed"}:
            assert daemon.poll() is None and time.monotonic() < deadline
            time.sleep(0.3)
        assert daemon.poll() is None  # a failed capture does not stop the daemon
        daemon.send_signal(signal.SIGTERM)
        assert daemon.wait(timeout=30) == 0
    finally:
        if daemon.poll() is None:
            daemon.kill()
    log = daemon.stdout.read()
    assert "daemon stopped" in log and "Traceback" not in log
