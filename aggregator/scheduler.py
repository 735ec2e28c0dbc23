"""APScheduler wiring: one date-triggered job per source, re-planned after every crawl.

The policy (aggregator.policy) decides when; this module only ticks: it starts crawls when
due, never two of one source at once, at most `max_concurrent_crawls` together, and stores
each plan in the database so a restart resumes the same rhythm.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta, timezone

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.date import DateTrigger

from aggregator import metrics, policy
from aggregator.db import store
from aggregator.db.engine import Database
from aggregator.records import CrawlSummary
from aggregator.settings import Settings
from aggregator.sources import Source

log = logging.getLogger(__name__)

CrawlFunction = Callable[[Source], Awaitable[CrawlSummary]]
Gate = Callable[[Source], bool]


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class CrawlScheduler:
    def __init__(self, settings: Settings, db: Database, crawl: CrawlFunction,
                 gate: Gate = lambda source: True):
        self.settings = settings
        self.db = db
        self.crawl = crawl
        self.gate = gate  # this node still holds the source's host lease
        self.sources: dict[str, Source] = {}
        self.running: set[str] = set()
        self._slots = asyncio.Semaphore(settings.max_concurrent_crawls)
        self._aps = AsyncIOScheduler(timezone=timezone.utc, event_loop=asyncio.get_event_loop())
        self._random = random.Random()
        self._tasks: set[asyncio.Task] = set()  # crawls in flight (held against collection)
        self.stopping = False

    @property
    def is_running(self) -> bool:
        return self._aps.running

    def start(self, sources: list[Source]) -> None:
        self._aps.start()
        self.sync(sources)

    def pause(self) -> None:
        """Start no new crawls; those in flight go on (shutting down now would cancel them)."""
        if self._aps.running:
            self._aps.pause()
        self.stopping = True

    def shutdown(self) -> None:
        if self._aps.running:
            self._aps.shutdown(wait=False)

    def sync(self, sources: list[Source]) -> None:
        """Make the schedule match `sources`: add, remove and reschedule what changed."""
        wanted = {s.name: s for s in sources if s.enabled}
        for name in set(self.sources) - set(wanted):
            self.sources.pop(name)
            if self._aps.get_job(name):
                self._aps.remove_job(name)
            log.info("source unscheduled", extra={"source": name, "url": ""})
        for name, source in wanted.items():
            old = self.sources.get(name)
            if old == source:
                continue
            self.sources[name] = source
            if name in self.running:
                continue  # the running crawl re-plans with the new config when it ends
            self._schedule(source, self._first_run(source, changed=old is not None))
            log.info("source %s", "rescheduled" if old else "scheduled",
                     extra={"source": name, "url": source.url})

    def _first_run(self, source: Source, changed: bool) -> datetime:
        now = utcnow()
        if source.schedule.cron:
            return self._cron_next(source, now)
        spread = min(self.settings.first_run_spread, source.schedule.base_seconds)
        if changed:
            return now + timedelta(seconds=spread * self._random.random())
        with self.db.session() as session:
            health = store.health(session, source.name)
        interval = health.interval_seconds or source.schedule.base_seconds
        return policy.first_run(now, health, interval, spread, self._random.random())

    @staticmethod
    def _cron_next(source: Source, after: datetime) -> datetime:
        return CronTrigger.from_crontab(source.schedule.cron, timezone=timezone.utc) \
            .get_next_fire_time(None, after)

    def _schedule(self, source: Source, when: datetime) -> None:
        self._aps.add_job(
            self._run, DateTrigger(run_date=when), args=[source.name, when], id=source.name,
            name=source.name, replace_existing=True, max_instances=1, coalesce=True,
            misfire_grace_time=None,
        )

    async def _run(self, name: str, due: datetime) -> None:
        """The APScheduler job: start the crawl as a task of ours and return at once. The next
        plan must not be added from inside this job: while it runs, its instance counts, and a
        plan already due when added (a slow database, a cron boundary a moment away) would be
        skipped as a second instance and, a one-off date job, dropped for good."""
        source = self.sources.get(name)
        if source is None or name in self.running:
            return
        if not self.gate(source):  # asked again after a heartbeat (or unscheduled by then)
            log.info("crawl put off: this node's lease of its host is running out or asked "
                     "for", extra={"source": name, "url": source.url})
            if not self.stopping:
                self._schedule(source, utcnow() + timedelta(seconds=self.settings.node.heartbeat))
            return
        self.running.add(name)
        task = asyncio.create_task(self._crawl_and_replan(name, source, due))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _crawl_and_replan(self, name: str, source: Source, due: datetime) -> None:
        try:
            async with self._slots:
                if self.stopping:  # queued for a slot when the stop came: due again at start
                    return
                metrics.SCHEDULER_LAG.observe(max(0.0, (utcnow() - due).total_seconds()))
                metrics.CRAWLS_RUNNING.inc()
                started = utcnow()
                try:
                    summary = await self.crawl(source)
                finally:
                    metrics.CRAWLS_RUNNING.dec()
            self._replan(self.sources.get(name), summary, started)
        except Exception:  # noqa: BLE001 - one source's crash must not stop the scheduler
            log.exception("crawl crashed", extra={"source": name, "url": source.url})
            if self.sources.get(name) and not self.stopping:
                retry_at = utcnow() + timedelta(seconds=source.schedule.base_seconds)
                self._schedule(self.sources[name], retry_at)
        finally:
            self.running.discard(name)

    def _replan(self, source: Source | None, summary: CrawlSummary, started: datetime) -> None:
        if source is None or self.stopping:
            return  # removed meanwhile, or shutting down
        now = utcnow()
        with self.db.session() as session:
            health = store.health(session, source.name)
            low, high = source.schedule.bounds
            plan = policy.plan_after_crawl(
                now, source.schedule.base_seconds, low, high, health,
                policy.rhythm(summary.entry_times, now), summary.min_interval_seconds,
                summary.retry_after_seconds, self.settings.max_backoff, self._random.random(),
                started,
            )
            if source.schedule.cron:
                after = now + timedelta(seconds=plan.backoff_seconds)
                plan = policy.Plan(self._cron_next(source, after), plan.interval_seconds,
                                   plan.backoff_seconds, plan.rhythm_seconds)
            store.save_plan(session, source.name, plan)
        metrics.SOURCE_FAILURES.labels(source.name).set(health.consecutive_failures)
        self._schedule(source, plan.next_run_at)
        log.info("next crawl in %.0fs%s", (plan.next_run_at - now).total_seconds(),
                 f" (backing off after {health.consecutive_failures} failures)"
                 if health.consecutive_failures else "",
                 extra={"source": source.name, "url": source.url})
