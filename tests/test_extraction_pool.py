"""Bounded extraction: a page past `extract_timeout` costs one failed attempt and one worker,
never the pool or the other sources; no worker outlives its parent, even after kill -9."""

from __future__ import annotations

import multiprocessing
import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest
from sqlalchemy import create_engine, select

from aggregator.db.models import Article, FeedEntry
from aggregator.workers import ExtractionPool
from tests.helpers import Daemon, descendants, publish, still_running, story
from tests.newssite import article_page, rss

pytestmark = pytest.mark.faults
on_sqlite = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
LIMIT = 4.0  # seconds; the loopback test pages take well under one, even on a busy machine


def slow_page() -> bytes:
    """9.98 MB of 64,000 short paragraphs, under the 10 MiB body cap: minutes of extraction."""
    line = "Абзац {:05d}: короткий рядок тексту, що повторюється до самого кінця сторінки."
    paragraphs = "".join(f"<p>{line.format(i)}</p>" for i in range(64_000))
    page = (f"<html><head><title>Повільна сторінка</title></head><body><article>"
            f"<h1>Повільна сторінка</h1>{paragraphs}</article></body></html>").encode()
    return page + b" " * (9_980_000 - len(page))


SLOW = slow_page()
GOOD = article_page(story("w1"), "http://127.0.0.1/w1.html")


def worker_pids() -> set[int]:
    return {p.pid for p in multiprocessing.active_children()}


def test_slow_page_is_a_failed_result_its_worker_replaced_and_the_next_page_extracted():
    assert 9_900_000 < len(SLOW) < 10 * 1024 * 1024
    pool = ExtractionPool(1, timeout=LIMIT)
    try:
        slow = pool.submit(SLOW, "http://127.0.0.1/slow.html", "text/html", "uk")
        good = pool.submit(GOOD, "http://127.0.0.1/w1.html", "text/html", "uk")
        deadline = time.monotonic() + 60
        while not worker_pids() and time.monotonic() < deadline:
            time.sleep(0.05)
        first_worker = worker_pids()
        timed_out = slow.result(120)
        assert timed_out.draft is None
        assert timed_out.failure == f"extraction took longer than {LIMIT:g}s: stopped"
        assert timed_out.extract_seconds >= LIMIT
        assert good.result(120).draft is not None  # on the replacement worker
        assert first_worker and not still_running(first_worker)  # killed, not waited for
    finally:
        pool.close()
    assert not still_running(first_worker | worker_pids())


def test_a_worker_that_dies_or_raises_costs_that_page_only():
    pool = ExtractionPool(1, timeout=None)
    try:
        assert pool.submit(GOOD, "http://127.0.0.1/w1.html", "text/html", "uk").result(60).draft
        slow = pool.submit(SLOW, "http://127.0.0.1/slow.html", "text/html", "uk")
        time.sleep(0.5)  # the page has been sent: the worker is extracting it
        for pid in worker_pids():
            os.kill(pid, signal.SIGKILL)  # as the kernel's OOM killer would
        died = slow.result(60)
        assert died.draft is None and died.failure == "extraction worker died (exit code -9)"
        raised = pool.submit(None, "http://127.0.0.1/none.html", "text/html", "uk").result(60)
        assert raised.draft is None and raised.failure.startswith("extraction error: ")
        good = pool.submit(GOOD, "http://127.0.0.1/w1.html", "text/html", "uk").result(60)
        assert good.draft is not None
    finally:
        pool.close()


def test_a_worker_is_replaced_after_its_pages_and_no_page_is_lost():
    """`extract_recycle_pages`: after 3 pages a worker makes way for a fresh process; every
    page of the backlog is extracted, and the old process exits."""
    pool = ExtractionPool(1, timeout=None, recycle_after=3)
    try:
        seen: list[set[int]] = []
        pages = [pool.submit(GOOD, f"http://127.0.0.1/w{i}.html", "text/html", "uk")
                 for i in range(7)]
        for page in pages:
            assert page.result(120).draft is not None
            seen.append(worker_pids())
        workers = set().union(*seen)
        assert len(workers) >= 3, seen  # pages 1-3, 4-6 and 7: three processes
        assert not still_running(workers - worker_pids())
    finally:
        pool.close()


def test_close_cancels_queued_pages_and_settles_those_sent():
    pool = ExtractionPool(1, timeout=LIMIT)
    busy = pool.submit(SLOW, "http://127.0.0.1/slow.html", "text/html", "uk")
    pages = [pool.submit(GOOD, f"http://127.0.0.1/w{i}.html", "text/html", "uk") for i in range(3)]
    time.sleep(0.5)
    pool.close()
    assert busy.result(0).failure.startswith("extraction took longer")
    assert pages[-1].cancelled()  # never sent: at most two pages wait in a worker's pipe
    assert all(p.cancelled() or p.result(0).draft is not None for p in pages)
    with pytest.raises(RuntimeError):
        pool.submit(GOOD, "http://127.0.0.1/w1.html", "text/html", "uk")


def test_workers_and_the_resource_tracker_die_with_their_parent(tmp_path):
    """kill -9 of a process whose worker is busy: the worker (mid-page), the idle one and
    multiprocessing's resource tracker all exit by themselves within seconds."""
    (tmp_path / "slow.html").write_bytes(SLOW)
    script = tmp_path / "parent.py"
    script.write_text(textwrap.dedent(f"""
        import sys, time
        from aggregator.workers import ExtractionPool
        if __name__ == "__main__":
            pool = ExtractionPool(2, timeout=None)
            warm = [pool.submit({GOOD!r}, "http://127.0.0.1/w.html", "text/html", "uk")
                    for _ in range(2)]
            assert all(page.result(120).draft for page in warm)
            body = open({str(tmp_path / "slow.html")!r}, "rb").read()
            pool.submit(body, "http://127.0.0.1/slow.html", "text/html", "uk")
            pool.submit(body, "http://127.0.0.1/slow2.html", "text/html", "uk")
            time.sleep(1.0)
            print("busy", flush=True)
            time.sleep(600)
    """))
    parent = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True,
                              cwd=os.getcwd())
    try:
        assert parent.stdout.readline().strip() == "busy"
        below = descendants(parent.pid)
        assert len(below) >= 3, below  # two workers and the resource tracker
        parent.send_signal(signal.SIGKILL)
        parent.wait(10)
    finally:
        if parent.poll() is None:
            parent.kill()
    deadline = time.monotonic() + 10
    while still_running(below) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not still_running(below), f"orphans left: {still_running(below)}"


def _entry(engine, link: str):
    with engine.connect() as conn:
        return conn.execute(select(FeedEntry).where(FeedEntry.link == link)).first()


@on_sqlite
def test_crawl_records_the_slow_page_as_failed_after_max_entry_attempts(site, workspace):
    workspace.settings(extract_timeout=LIMIT, max_entry_attempts=2, screenshots={"enabled": False})
    slow_url = site.add("/t/slow.html", SLOW)
    good_url = site.add("/t/good.html", article_page(story("t1"), site.url("/t/good.html")))
    site.add("/t/rss.xml", rss([(story("t0"), slow_url), (story("t1"), good_url)]))
    workspace.source("tarpit", site.url("/t/rss.xml"))
    engine = create_engine(workspace.db_url)
    first = workspace.run("crawl", "tarpit", check=False)
    assert "tarpit" in first.stdout and first.returncode == 0, first.stdout + first.stderr
    assert f"extraction took longer than {LIMIT:g}s: stopped" in first.stderr
    entry = _entry(engine, slow_url)
    assert (entry.status, entry.attempts) == ("pending", 1)
    with engine.connect() as conn:
        assert conn.scalars(select(Article.url)).all() == [good_url]
    workspace.run("crawl", "tarpit")
    entry = _entry(engine, slow_url)
    assert (entry.status, entry.attempts) == ("failed", 2)
    assert entry.last_error == f"extraction took longer than {LIMIT:g}s: stopped"
    workspace.run("crawl", "tarpit")
    assert len(site.requests_for("/t/slow.html")) == 2  # failed entries are not fetched again
    engine.dispose()


@on_sqlite
def test_daemon_carries_on_and_kill_9_leaves_no_process_behind(site, workspace):
    workspace.settings(extract_timeout=LIMIT, max_entry_attempts=2, http_port=0,
                       first_run_spread=0, reload_poll=0, extract_workers=1,
                       screenshots={"enabled": False})
    fast = {"schedule": {"every": "2s", "min": "2s", "max": "2s"}}
    slow_url = site.add("/t/slow.html", SLOW)
    site.add("/t/rss.xml", rss([(story("t0"), slow_url)]))
    workspace.source("tarpit", site.url("/t/rss.xml"), **fast)
    workspace.source("calm", publish(site, "/calm", ["c1", "c2"]), **fast)
    daemon = Daemon(workspace)
    engine = create_engine(workspace.db_url)

    def stored() -> set[str]:
        with engine.connect() as conn:
            return {u.removeprefix(site.base) for u in conn.scalars(select(Article.url))}

    try:
        daemon.wait_for(lambda: getattr(_entry(engine, slow_url), "status", None) == "failed",
                        timeout=120, what="the slow page to fail twice")
        assert _entry(engine, slow_url).attempts == 2
        publish(site, "/calm", ["c1", "c2", "c3"])  # news after the tarpit gave up
        daemon.wait_for(lambda: "/calm/c3.html" in stored(), what="the next article")
        assert stored() == {"/calm/c1.html", "/calm/c2.html", "/calm/c3.html"}
        # Now kill -9 the daemon while its worker is deep in a slow page.
        site.add("/t/rss.xml", rss([(story("t9"), site.add("/t/slow9.html", SLOW))]))
        daemon.wait_for(lambda: site.requests_for("/t/slow9.html"), what="another slow page")
        time.sleep(1.5)
        below = descendants(daemon.proc.pid)
        assert len(below) >= 2, below  # the worker and the resource tracker
        daemon.proc.send_signal(signal.SIGKILL)
        daemon.proc.wait(10)
        deadline = time.monotonic() + 10
        while still_running(below) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not still_running(below), f"orphans left: {still_running(below)}"
    finally:
        daemon.close()
        engine.dispose()
