"""The scheduler's own wiring (aggregator/scheduler.py), with a fake crawl and a real
SQLite database: a source is never dropped from the schedule."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from aggregator import policy, scheduler
from aggregator.db.engine import Database
from aggregator.db.migrate import upgrade
from aggregator.records import CrawlSummary
from aggregator.settings import Settings
from aggregator.sources import Source


def _source(name: str = "wire") -> Source:
    return Source(name=name, title=name, kind="feed", url="https://example.org/rss.xml",
                  language="uk", schedule={"every": "5m"}, allowed_domains=["example.org"])


def test_a_plan_already_due_when_it_is_made_still_runs(tmp_path, monkeypatch):
    """The plan after a crawl can be due by the time it is added (a slow database, a cron
    boundary a few milliseconds away, a 1 s interval under load). It used to be added from
    inside the APScheduler job that ran the crawl, whose instance still counted: the new job
    was skipped as a second instance (max_instances=1) and, being a one-off date job,
    removed, so the source was never crawled again (the simulated week lost 4 of 14)."""
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    upgrade(url)
    db = Database(url)

    def due_now(now, *args, **kwargs):
        return policy.Plan(now - timedelta(seconds=1), 1.0, 0.0, None)

    monkeypatch.setattr(scheduler.policy, "plan_after_crawl", due_now)

    async def main() -> int:
        crawls = 0
        enough = asyncio.Event()

        async def crawl(source: Source) -> CrawlSummary:
            nonlocal crawls
            crawls += 1
            if crawls >= 5:
                enough.set()
            return CrawlSummary(source.name)

        planner = scheduler.CrawlScheduler(Settings(first_run_spread=0), db, crawl)
        planner.start([_source()])
        try:
            await asyncio.wait_for(enough.wait(), timeout=10)
        except TimeoutError:
            pass
        planner.pause()
        await asyncio.sleep(0.1)
        planner.shutdown()
        return crawls

    try:
        assert asyncio.run(main()) >= 5
    finally:
        db.dispose()


def test_a_crawl_waiting_for_a_slot_when_the_stop_comes_never_starts(tmp_path):
    """A stop drains the crawls in flight; one queued behind them for a slot used to start
    once a slot came free, after the drain had ended, and leave its crawl row open."""
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    upgrade(url)
    db = Database(url)

    async def main() -> list[str]:
        started: list[str] = []
        first, release = asyncio.Event(), asyncio.Event()

        async def crawl(source: Source) -> CrawlSummary:
            started.append(source.name)
            first.set()
            await release.wait()
            return CrawlSummary(source.name)

        planner = scheduler.CrawlScheduler(
            Settings(first_run_spread=0, max_concurrent_crawls=1), db, crawl)
        planner.start([_source("one"), _source("two")])
        await asyncio.wait_for(first.wait(), timeout=10)
        for _ in range(100):  # the other source's job runs too, and waits for the slot
            if len(planner.running) == 2:
                break
            await asyncio.sleep(0.05)
        assert planner.running == {"one", "two"} and len(started) == 1
        planner.pause()
        release.set()
        await asyncio.sleep(0.3)
        planner.shutdown()
        assert not planner.running
        return started

    try:
        assert len(asyncio.run(main())) == 1
    finally:
        db.dispose()
