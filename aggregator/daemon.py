"""`aggregator run`: one reactor, one scheduler, every enabled source crawled on its schedule."""

from __future__ import annotations

import asyncio
import logging
import random
from datetime import datetime, timedelta, timezone

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from aggregator.screenshots import ScreenshotWorker
from aggregator.settings import Settings
from aggregator.sources import Source, load_sources

log = logging.getLogger(__name__)

FIRST_RUN_SPREAD = 30.0  # seconds over which sources' first crawls are spread at start


def trigger_for(source: Source):
    """The APScheduler trigger of a source's schedule, with jitter so sources drift apart."""
    if source.schedule.cron:
        return CronTrigger.from_crontab(source.schedule.cron, timezone=timezone.utc)
    seconds = source.schedule.every.total_seconds()
    return IntervalTrigger(seconds=seconds, jitter=min(seconds * 0.1, 60.0), timezone=timezone.utc)


def run(settings: Settings) -> None:
    from twisted.internet.defer import Deferred

    from spiders.runner import Collector

    loaded = load_sources(settings.sources_dir)
    for problem in loaded.problems:
        log.error("source file refused: %s", problem)
    sources = [s for s in loaded.sources if s.enabled]
    collector = Collector(settings)  # installs the asyncio reactor: import it only after
    from twisted.internet import reactor

    scheduler = AsyncIOScheduler(timezone=timezone.utc)
    shots = ScreenshotWorker(settings, loaded.sources) if settings.screenshots.enabled else None

    async def crawl(source: Source) -> None:
        task, summary = collector.crawl(source)
        try:
            await task
        except Exception:  # noqa: BLE001 - one source's crash must not stop the scheduler
            log.exception("crawl crashed", extra={"source": source.name, "url": source.url})
            return
        log.info(
            "crawl finished: fetched=%d new=%d unchanged=%d failed=%d%s",
            summary.fetched, summary.new, summary.unchanged, summary.failed,
            f" errors={'; '.join(summary.errors)}" if summary.errors else "",
            extra={"source": source.name, "url": source.url},
        )

    def start() -> None:
        scheduler.start()
        now = datetime.now(timezone.utc)
        for source in sources:
            scheduler.add_job(
                crawl, trigger_for(source), args=[source], id=source.name, name=source.name,
                max_instances=1, coalesce=True, misfire_grace_time=300,
                next_run_time=now + timedelta(seconds=random.uniform(0, FIRST_RUN_SPREAD)),
            )
        if shots:
            shots.start()
        log.info("daemon started with %d sources", len(sources))

    reactor.callWhenRunning(reactor.callLater, 0, start)  # inside the running asyncio loop
    if shots:  # finish or hand back captures in flight before the reactor stops
        reactor.addSystemEventTrigger(
            "before", "shutdown", lambda: Deferred.fromFuture(asyncio.ensure_future(shots.stop()))
        )
    try:
        collector.process.start(stop_after_crawl=False)
    finally:
        if scheduler.running:
            scheduler.shutdown(wait=False)
        collector.close()
        log.info("daemon stopped")
