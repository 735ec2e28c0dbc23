"""The real daemon as a subprocess against loopback sites, over several schedule cycles."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select, text

from aggregator.db.models import Article, Crawl, Fetch, Source
from tests.helpers import Daemon, free_port, get, publish, story
from tests.httpsite import Page
from tests.newssite import article_page, rss

pytestmark = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


def test_rhythm_backoff_recovery_reload_health_and_status(site, workspace):
    port = free_port()
    workspace.settings(http_port=port, reload_poll=0, max_backoff=8, retries=0,
                       first_run_spread=0.5, max_concurrent_crawls=4)
    busy_feed = publish(site, "/busy", ["b1", "b2"])
    f1 = site.add("/flaky/f1.html", article_page(story("f1"), site.url("/flaky/f1.html")))
    flaky_ok = rss([(story("f1"), f1)])
    fail = Page(b"overloaded", status=500, content_type="text/plain", conditional=False)
    site.add_sequence("/flaky/rss.xml", [fail, fail, fail, Page(flaky_ok)])
    workspace.source("busy", busy_feed, schedule={"every": "2s", "min": "2s", "max": "2s"})
    workspace.source("flaky", site.url("/flaky/rss.xml"),
                     schedule={"every": "1s", "min": "1s", "max": "1s"})
    daemon = Daemon(workspace)
    try:
        recovered = daemon.wait_for(
            lambda: [c for c in daemon.crawls("flaky") if c.outcome == "ok"],
            what="flaky recovering")
        assert recovered

        status, body = get(f"http://127.0.0.1:{port}/healthz")
        assert status == 200 and json.loads(body)["status"] == "ok"
        status, body = get(f"http://127.0.0.1:{port}/metrics")
        assert status == 200
        failed = 'aggregator_fetches_total{kind="feed",outcome="http_error",source="flaky"} 3.0'
        assert failed in body
        assert 'aggregator_articles_stored_total{result="new",source="busy"} 2.0' in body
        assert re.search(r'aggregator_extraction_path_total\{path="(fast|full|structured)",'
                         r'source="busy"\} [1-9]', body)
        assert "aggregator_crawl_duration_seconds_count" in body
        assert "aggregator_scheduler_lag_seconds_count" in body

        late_feed = publish(site, "/late", ["l1"])
        workspace.source("late", late_feed, schedule={"every": "1m"})
        daemon.proc.send_signal(signal.SIGHUP)
        daemon.wait_for(lambda: [c for c in daemon.crawls("late") if c.finished_at],
                        what="the source added by SIGHUP to be crawled")
        daemon.wait_for(lambda: len(daemon.crawls("busy")) >= 4, what="busy's 4th crawl")
        assert daemon.stop() == 0, daemon.output()
    finally:
        daemon.close()

    engine = create_engine(workspace.db_url)
    with engine.connect() as conn:
        rows = {r.name: r for r in conn.execute(select(Source))}
        assert conn.scalar(select(func.count()).select_from(Article)) == 4  # b1, b2, f1, l1
    engine.dispose()

    for name in ("busy", "flaky", "late"):
        crawls = daemon.crawls(name)
        finished = [c for c in crawls if c.finished_at]
        for a, b in zip(finished, finished[1:]):
            assert b.started_at >= a.finished_at, f"{name}: two crawls overlapped"
    busy = [c.started_at for c in daemon.crawls("busy")]
    gaps = [(b - a).total_seconds() for a, b in zip(busy, busy[1:])]
    assert all(1.7 <= g <= 4.0 for g in gaps), f"busy not on its 2s rhythm: {gaps}"

    flaky = daemon.crawls("flaky")
    outcomes = [c.outcome for c in flaky]
    assert outcomes[:4] == ["failed", "failed", "failed", "ok"], outcomes
    waits = [(b.started_at - a.finished_at).total_seconds() for a, b in zip(flaky, flaky[1:4])]
    assert waits[0] < waits[1] < waits[2], f"no exponential back-off: {waits}"
    assert waits[2] <= 8 * 1.1 + 1
    assert rows["flaky"].consecutive_failures == 0 and rows["flaky"].last_error is None

    table = workspace.run("status").stdout
    lines = {line.split()[0]: line for line in table.splitlines()[2:]}
    assert set(lines) >= {"busy", "flaky", "late"}
    assert lines["flaky"].split()[1] == "ok" and lines["busy"].split()[1] == "ok"


def test_sigterm_during_a_crawl_exits_zero_with_every_fetched_article_stored(site, workspace):
    workspace.settings(http_port=0, per_host_concurrency=2, first_run_spread=0, shutdown_timeout=30)
    slugs = [f"s{i}" for i in range(12)]
    workspace.source("slow", publish(site, "/slow", slugs, delay=1.0))
    daemon = Daemon(workspace)
    try:
        daemon.wait_for(lambda: any(h.path.startswith("/slow/s") for h in site.hits),
                        what="the first page request")
        time.sleep(0.5)
        assert daemon.stop() == 0, daemon.output()
    finally:
        daemon.close()
    served = {h.path for h in site.hits if h.path.startswith("/slow/s") and h.status == 200}
    with daemon.engine.connect() as conn:
        stored = {u.removeprefix(site.base) for u in conn.scalars(select(Article.url))}
        page_fetches = conn.scalar(select(func.count()).select_from(Fetch)
                                   .where(Fetch.kind == "page"))
    assert 0 < len(served) < len(slugs), "SIGTERM should have come during the crawl"
    assert stored == served and page_fetches == len(served)
    assert "crawl interrupted" in daemon.output()


DRAIN_DURING_OPEN = """
import asyncio, sys, threading
from aggregator.settings import load_settings
from aggregator.sources import load_sources
from spiders.runner import Collector

settings = load_settings(sys.argv[1])
source = load_sources(settings.config_dir / "sources").sources[0]
collector = Collector(settings)
entered, release = threading.Event(), threading.Event()
open_crawl = collector.ledger.open_crawl

def held_open(*args):  # the crawl row is being written when the stop comes
    entered.set()
    release.wait(30)
    return open_crawl(*args)

collector.ledger.open_crawl = held_open

async def main(c):
    queued = []
    engine_crawl = c.crawler.engine.crawl
    c.crawler.engine.crawl = lambda request: (queued.append(request.url), engine_crawl(request))
    crawl = asyncio.ensure_future(c.crawl(source))
    await asyncio.to_thread(entered.wait, 30)
    drain = asyncio.ensure_future(c.drain(30))
    await asyncio.sleep(0.5)
    print("drained before the row was written:", drain.done())
    release.set()
    summary = await crawl
    print("drained:", await drain, "fetched:", summary.fetched, "queued:", len(queued))

collector.run(main)
"""


def test_a_stop_while_a_crawl_row_is_being_opened_waits_and_records_it_interrupted(
        site, workspace, tmp_path):
    """The window between a crawl's start and its row: a graceful stop used to miss such a
    crawl, which then stayed `running` in the table for good."""
    workspace.source("late", publish(site, "/late", ["l1"]))
    script = tmp_path / "drain.py"
    script.write_text(DRAIN_DURING_OPEN)
    env = {**os.environ, "AGGREGATOR_DATABASE_URL": workspace.db_url}
    done = subprocess.run([sys.executable, str(script), str(workspace.config)], env=env,
                          capture_output=True, text=True, timeout=120,
                          cwd=Path(__file__).resolve().parents[1])
    assert done.returncode == 0, done.stderr
    assert "drained before the row was written: False" in done.stdout, done.stdout
    assert "drained: True fetched: 0 queued: 0" in done.stdout, done.stdout
    assert not [h for h in site.hits if h.path.startswith("/late")], "nothing is requested"
    engine = create_engine(workspace.db_url)
    with engine.connect() as conn:
        crawls = conn.execute(select(Crawl.outcome, Crawl.finished_at)).all()
    engine.dispose()
    assert len(crawls) == 1 and crawls[0].outcome == "interrupted" and crawls[0].finished_at


def test_daemon_refuses_an_out_of_date_schema(site, tmp_path, workspace):
    engine = create_engine(workspace.db_url)
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM alembic_version"))
    engine.dispose()
    done = workspace.run("run", check=False, timeout=60)
    assert done.returncode == 2 and "aggregator db upgrade" in done.stderr


def test_sd_notify_ready_watchdog_and_stopping(site, workspace, tmp_path):
    workspace.settings(http_port=0)
    workspace.source("quiet", publish(site, "/quiet", ["q1"]), schedule={"every": "1h"})
    path = tmp_path / "notify.sock"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as listener:
        listener.bind(str(path))
        listener.settimeout(30)
        daemon = Daemon(workspace, NOTIFY_SOCKET=str(path), WATCHDOG_USEC="1000000")
        try:
            messages = [listener.recv(200).decode() for _ in range(3)]
            assert messages[0].startswith("READY=1")
            assert "WATCHDOG=1" in messages[1:]
            assert daemon.stop() == 0
            while "STOPPING=1" not in messages:
                messages.append(listener.recv(200).decode())
        finally:
            daemon.close()
