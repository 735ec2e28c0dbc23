"""Database faults under a running daemon: PostgreSQL restarted, SQLite locked.

Writes are retried with back-off while articles wait in a bounded buffer; /healthz reports
the outage while it lasts; afterwards every page fetched is stored, once.
"""

from __future__ import annotations

import json
import sqlite3
import time

import pytest
from sqlalchemy import create_engine, func, select, text

from aggregator.db.migrate import upgrade
from aggregator.db.models import Article, Crawl
from tests.helpers import Daemon, Workspace, free_port, get, publish
from tests.pgcluster import Cluster, binaries

pytestmark = pytest.mark.faults
SLUGS = [f"d{i}" for i in range(10)]


@pytest.fixture
def cluster():
    bindir = binaries()
    if bindir is None:
        pytest.skip("PostgreSQL server binaries (initdb, pg_ctl) are not installed")
    running = Cluster(bindir)
    yield running
    running.destroy()


def workspace_for(tmp_path, url: str) -> Workspace:
    ws = Workspace(tmp_path, url)
    (ws.config / "sources").mkdir(parents=True)
    return ws


def health(port: int) -> tuple[int, dict]:
    status, body = get(f"http://127.0.0.1:{port}/healthz")
    return status, json.loads(body)



def stored_urls(engine) -> set[str]:
    with engine.connect() as conn:
        return set(conn.scalars(select(Article.url)))


def crawl_finished(engine) -> bool:
    with engine.connect() as conn:
        return bool(conn.scalar(select(func.count()).select_from(Crawl)
                                .where(Crawl.finished_at.is_not(None))))


def run_through_outage(site, ws, break_db, mend_db, fault_report, label: str,
                       fetch_during: int = 2) -> None:
    """Daemon crawling slow pages; break the database mid-crawl, watch /healthz, mend it."""
    port = free_port()
    ws.settings(http_port=port, per_host_concurrency=1, first_run_spread=0, retries=0,
                db_retry_max_delay=1, reload_poll=0, screenshots={"enabled": False})
    ws.source("slow", publish(site, "/slow", SLUGS, delay=0.4))
    daemon = Daemon(ws)
    try:
        daemon.wait_for(lambda: stored_urls(daemon.engine), what="the first stored article")
        break_db()
        daemon.engine.dispose()
        outage = daemon.wait_for(lambda: (lambda s, b: b if s == 503 and b["database_outage"]
                                          else None)(*health(port)), what="/healthz outage")
        fetched_before = len([h for h in site.hits if h.path.startswith("/slow/d")])
        daemon.wait_for(lambda: len([h for h in site.hits if h.path.startswith("/slow/d")])
                        >= fetched_before + fetch_during, what="pages fetched during the outage")
        mend_db()
        daemon.wait_for(lambda: crawl_finished(daemon.engine), timeout=60, what="crawl finished")
        daemon.wait_for(lambda: health(port)[0] == 200, what="/healthz healthy again")
        assert daemon.stop() == 0, daemon.output()
    finally:
        daemon.close()
    served = {site.url(h.path) for h in site.hits
              if h.path.startswith("/slow/d") and h.status == 200}
    engine = create_engine(ws.db_url)
    with engine.connect() as conn:
        rows = conn.scalar(select(func.count()).select_from(Article))
    stored = stored_urls(engine)
    engine.dispose()
    assert outage["database_outage"]["writes_waiting"] >= 1
    assert "database writes failing" in daemon.output()
    assert served == stored and rows == len(SLUGS), (len(served), len(stored), rows)
    fault_report[f"{label}: pages fetched / articles stored"] = f"{len(served)} / {rows}"


def test_postgres_restarted_during_a_crawl_loses_nothing(site, tmp_path, cluster, fault_report):
    upgrade(cluster.url)
    ws = workspace_for(tmp_path, cluster.url)
    run_through_outage(site, ws, cluster.stop, cluster.start, fault_report,
                       "PostgreSQL restart")


def test_sqlite_locked_during_a_crawl_loses_nothing(site, tmp_path, sqlite_url, fault_report):
    ws = workspace_for(tmp_path, sqlite_url)
    holder = sqlite3.connect(sqlite_url.removeprefix("sqlite:///"), timeout=1,
                             isolation_level=None)

    def lock() -> None:
        holder.execute("BEGIN EXCLUSIVE")

    def unlock() -> None:
        holder.execute("COMMIT")

    try:
        run_through_outage(site, ws, lock, unlock, fault_report, "SQLite locked", fetch_during=0)
    finally:
        holder.close()


def test_a_ledger_write_waiting_on_a_lock_leaves_the_reactor_serving(site, tmp_path, pg_url):
    """Another session holds `fetches` (as a long migration or a bulk job on another node
    might): the feed's entries cannot be recorded until it lets go. Meanwhile the reactor must
    go on (downloads, the hand-offs to the workers, /healthz), so the ledger's call waits in its
    own thread; once the lock goes, the crawl completes."""
    ws = workspace_for(tmp_path, pg_url)
    port = free_port()
    ws.settings(http_port=port, first_run_spread=0, reload_poll=0,
                screenshots={"enabled": False})
    ws.source("held", publish(site, "/held", SLUGS[:3]))
    engine = create_engine(pg_url)
    holder = engine.connect()
    holder.execute(text("LOCK TABLE fetches IN SHARE MODE"))  # inserts into fetches wait
    daemon = Daemon(ws)
    try:
        daemon.wait_for(lambda: holder.scalar(text(
            "SELECT count(*) FROM pg_locks WHERE NOT granted "
            "AND relation = 'fetches'::regclass")), what="the feed's fetch waiting on the lock")
        for _ in range(3):  # the lock is still held: the reactor answers all the same
            started = time.monotonic()
            status, body = health(port)
            assert time.monotonic() - started < 2, "the reactor waited for the database"
            assert status == 200, body
            time.sleep(0.5)
        holder.commit()
        daemon.wait_for(lambda: len(stored_urls(daemon.engine)) == 3, what="the 3 articles")
        daemon.wait_for(lambda: crawl_finished(daemon.engine), what="crawl finished")
        assert daemon.stop() == 0, daemon.output()
    finally:
        holder.close()
        engine.dispose()
        daemon.close()
