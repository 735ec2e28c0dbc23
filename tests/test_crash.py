"""kill -9 of the daemon mid-crawl, then a restart: no duplicates, no half-written article,
WARC records consistent with the database; `db check` finds and fixes what is left over."""

from __future__ import annotations

import signal
import time

import pytest
from sqlalchemy import create_engine, func, select

from aggregator import archive
from aggregator.db.models import Article, Fetch
from aggregator.records import WarcPointer
from tests.helpers import Daemon, descendants, publish, still_running

pytestmark = [pytest.mark.faults, pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)]
SLUGS = [f"k{i}" for i in range(12)]


def test_kill_9_mid_crawl_then_restart_is_consistent(site, workspace, fault_report):
    workspace.settings(http_port=0, per_host_concurrency=2, first_run_spread=0, reload_poll=0,
                       screenshots={"enabled": False})
    # Slow pages: under load the extraction workers take seconds to start, and every page
    # fetched by then would be stored at once, before the kill.
    workspace.source("slow", publish(site, "/slow", SLUGS, delay=1.5))
    engine = create_engine(workspace.db_url)

    def stored() -> int:
        with engine.connect() as conn:
            return conn.scalar(select(func.count()).select_from(Article))

    first = Daemon(workspace)
    try:
        first.wait_for(lambda: stored() >= 3, what="some articles stored")
        below = descendants(first.proc.pid)  # extraction workers, resource tracker
        first.proc.send_signal(signal.SIGKILL)
        first.proc.wait(10)
    finally:
        first.close()
    deadline = time.monotonic() + 10
    while still_running(below) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert below and not still_running(below), f"orphans of the killed daemon: {below}"
    at_kill = stored()
    assert at_kill < len(SLUGS), "the kill should come mid-crawl"
    second = Daemon(workspace)
    try:
        second.wait_for(lambda: stored() == len(SLUGS), what="the restart to store the rest")
        assert second.stop() == 0, second.output()
    finally:
        second.close()

    warc = workspace.root / "data" / "warc"
    with engine.connect() as conn:
        urls = list(conn.scalars(select(Article.url)))
        fetches = conn.execute(select(Fetch).join(Article, Article.fetch_id == Fetch.id)).all()
    engine.dispose()
    assert len(urls) == len(set(urls)) == len(SLUGS)
    for f in fetches:  # every article's raw page reads back and matches its sha256
        assert archive.read(warc, WarcPointer(f.warc_file, f.warc_offset, f.warc_length,
                                              f.warc_sha256))
    served = {h.path for h in site.hits if h.path.startswith("/slow/k") and h.status == 200}
    key = "kill -9: pages fetched (both runs) / articles stored"
    fault_report[key] = f"{len(served)} / {len(urls)}"
    fault_report["kill -9: articles stored before the kill"] = at_kill

    assert workspace.run("db", "check").returncode == 0
    stray_shot = workspace.root / "data" / "screenshots" / "ab" / "stray.png"
    stray_shot.parent.mkdir(parents=True)
    stray_shot.write_bytes(b"not referenced")
    (warc / "aggregator-20260101000000-999999-00001.warc.gz").write_bytes(b"half a record")
    found = workspace.run("db", "check", check=False)
    assert found.returncode == 1
    assert "screenshot file unreferenced" in found.stdout
    assert "warc file unreferenced" in found.stdout
    fixed = workspace.run("db", "check", "--fix")
    assert "2 problems found, 2 fixed" in fixed.stdout
    assert "0 problems found" in workspace.run("db", "check").stdout
