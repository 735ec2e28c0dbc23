"""Hostile input: every bad answer ends in a bounded, readable outcome for its source alone."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, func, select, text

from aggregator.db.models import Article, Crawl, FeedEntry, Source
from tests.helpers import run_measured
from tests.hostile import PASSWD_MARK, TITLE, Trickle, publish_hostile

pytestmark = [pytest.mark.faults, pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)]

MAX_BODY = 2 * 1024 * 1024

# source -> (crawl outcome, what its error says, feed entries kept)
EXPECTED = {
    "good": ("ok", None, 2),
    "malformed": ("failed", "malformed feed", 0),
    "html": ("failed", "not a feed", 0),
    "empty": ("failed", "empty response body", 0),
    "cp1251": ("ok", None, 1), "koi8": ("ok", None, 1), "bom": ("ok", None, 1),
    "mislabelled": ("ok", None, 1),
    "laughs": ("ok", None, 1), "xxe": ("ok", None, 1),
    "gzipbomb": ("failed", "exceeded DOWNLOAD_MAXSIZE", 0),
    "toobig": ("failed", "larger than download max size", 0),
    "trickle": ("failed", "TimeoutError", 0),
    "limited": ("failed", "HTTP 429", 0),
    "unavailable": ("failed", "HTTP 503", 0),
    "broken": ("failed", "HTTP 500", 0),
    "loop": ("failed", "max redirections reached", 0),
    "to-file": ("failed", "redirect to file:///etc/passwd not followed", 0),
    "to-ftp": ("failed", "redirect to ftp://127.0.0.1/feed not followed", 0),
    "private-name": ("failed", "resolves to private or loopback address 127.0.0.1", 0),
    "private-literal": ("failed", "private or loopback address 127.0.0.1", 0),
    "huge": ("ok", None, 50),  # 20,000 entries, max_feed_entries=50
    "dupes": ("ok", None, 1),
    "nolinks": ("ok", None, 1),
    "future": ("ok", None, 1),
    "page-redirect": ("partial", None, 1),
}


def everything_stored(conn) -> str:
    """Every value of every table, as one string to search."""
    tables = conn.execute(text("SELECT name FROM sqlite_master WHERE type='table'")).scalars()
    rows = (row for t in list(tables) for row in conn.execute(text(f'SELECT * FROM "{t}"')))
    return "\n".join(str(row) for row in rows)


def test_every_hostile_feed_fails_alone_and_bounded(site, workspace, fault_report):
    workspace.settings(download_timeout=6, retries=0, max_body_size=MAX_BODY,
                       max_feed_size=2 * MAX_BODY, max_feed_entries=50, obey_robots=False,
                       screenshots={"enabled": False})
    feeds = publish_hostile(site, 2 * MAX_BODY)
    with Trickle() as trickle:
        feeds["trickle"] = (trickle.url, {})
        for name, (url, options) in feeds.items():
            workspace.source(name, url, **options)
        done, peak_kb = run_measured(workspace, "crawl", "--all")
    assert done.returncode == 1, done.stderr  # some feeds failed, the command finished
    engine = create_engine(workspace.db_url)
    with engine.connect() as conn:
        crawls = {r.name: r for r in conn.execute(
            select(Source.name, Crawl.outcome, Crawl.error, Source.last_error)
            .join(Crawl, Crawl.source_id == Source.id))}
        entries = dict(conn.execute(select(Source.name, func.count(FeedEntry.id))
                                    .join(FeedEntry, isouter=True).group_by(Source.name)).all())
        titles = {r.name: r.title for r in conn.execute(
            select(Source.name, FeedEntry.title).join(FeedEntry))}
        stored = set(conn.scalars(select(Article.url)))
        dump = everything_stored(conn)
    engine.dispose()

    assert set(crawls) == set(EXPECTED)
    for name, (outcome, error, kept) in EXPECTED.items():
        row = crawls[name]
        assert row.outcome == outcome, (name, row)
        assert row.error is None if error is None else error in (row.error or ""), (name, row)
        if outcome == "failed":
            assert row.last_error == row.error and error in done.stderr, name
        assert entries[name] == kept, (name, entries[name])
    for name in ("cp1251", "koi8", "bom", "mislabelled", "future", "dupes"):
        assert titles[name] == TITLE, (name, titles[name])
    assert len(titles["laughs"] or "") < 100 and len(titles["xxe"] or "") < 100  # not expanded
    assert PASSWD_MARK not in dump and PASSWD_MARK not in done.stdout + done.stderr
    assert {site.url("/good/g1.html"), site.url("/good/g2.html")} <= stored
    assert not site.requests_for("/feeds/never"), "a refused private address was requested"

    served = {site.url(h.path) for h in site.hits if h.status == 200
              and h.path.startswith(("/good/g", "/p/"))}
    fault_report["hostile feeds tried"] = len(EXPECTED)
    fault_report["hostile feeds with the expected outcome"] = len(EXPECTED)
    fault_report["hostile run: article pages fetched / stored"] = f"{len(served)} / {len(stored)}"
    fault_report["hostile run: peak memory of the crawl process"] = f"{peak_kb / 1024:.0f} MiB"
    assert served == stored


def test_daemon_carries_on_beside_hostile_sources_and_honours_retry_after(site, workspace):
    from datetime import datetime, timezone

    from tests.test_daemon import Daemon

    workspace.settings(http_port=0, download_timeout=5, retries=0, first_run_spread=0,
                       reload_poll=0, screenshots={"enabled": False})
    feeds = publish_hostile(site, MAX_BODY)
    every = {"schedule": {"every": "1s", "min": "1s", "max": "1s"}}
    with Trickle() as trickle:
        workspace.source("trickle", trickle.url, **every)
        for name in ("good", "limited", "gzipbomb", "xxe"):
            workspace.source(name, feeds[name][0], **every)
        daemon = Daemon(workspace)
        try:
            daemon.wait_for(lambda: len(daemon.crawls("trickle")) >= 2
                            and len(daemon.crawls("good")) >= 4, what="crawls going on")
            assert daemon.stop() == 0, daemon.output()
        finally:
            daemon.close()
    limited = daemon.crawls("limited")
    assert [c.outcome for c in limited] == ["failed"]  # Retry-After: 120 beats every: 1s
    with daemon.engine.connect() as conn:
        next_run = conn.scalar(select(Source.next_run_at).where(Source.name == "limited"))
    assert (next_run - datetime.now(timezone.utc)).total_seconds() > 60
    assert {c.outcome for c in daemon.crawls("trickle")} == {"failed"}
    assert all(c.outcome in ("ok", "not_modified") for c in daemon.crawls("good"))
