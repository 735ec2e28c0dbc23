"""`aggregator run`: the reactor, the scheduler, signals, reload, health and a graceful stop.

SIGHUP (or an edited file in sources/) reloads sources: a file that became invalid keeps its
previous version in force. SIGTERM/SIGINT stop taking new work, let crawls in flight finish
and be stored (bounded by `shutdown_timeout`) and exit 0.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import time
from pathlib import Path

from aggregator import metrics, systemd
from aggregator.capture import ScreenshotWorker
from aggregator.leases import lease_host
from aggregator.node import LeaseListener, NodeKeeper, lock_sqlite
from aggregator.records import CrawlSummary
from aggregator.scheduler import CrawlScheduler
from aggregator.settings import Settings
from aggregator.sources import LoadedSources, Source, load_sources

log = logging.getLogger(__name__)


def _snapshot(directory: Path) -> dict[Path, tuple[int, int]]:
    """What the watcher compares: each source file's mtime and size."""
    files = [*directory.glob("*.yaml"), *directory.glob("*.yml")] if directory.is_dir() else []
    out = {}
    for path in files:
        try:
            stat = path.stat()
        except FileNotFoundError:
            continue
        out[path] = (stat.st_mtime_ns, stat.st_size)
    return out


class Daemon:
    def __init__(self, settings: Settings):
        self.settings = settings
        self.sources: dict[str, Source] = {}
        self.files: dict[str, Path] = {}
        self._stop = asyncio.Event()
        self._tasks: list[asyncio.Task] = []

    def load(self) -> list[Source]:
        """Load sources/; a file that fails now keeps whatever it defined before."""
        loaded: LoadedSources = load_sources(self.settings.sources_dir)
        for problem in loaded.problems:
            log.error("source file refused: %s", problem)
        bad = {p.file for p in loaded.problems}
        kept = {n: s for n, s in self.sources.items() if self.files.get(n) in bad}
        for name in kept:
            log.warning("keeping the previous version of source %s until its file is fixed", name,
                        extra={"source": name, "url": kept[name].url})
        sources = {s.name: s for s in loaded.sources}
        for name, source in kept.items():
            sources.setdefault(name, source)
        self.files = {**loaded.files, **{n: self.files[n] for n in kept}}
        self.sources = sources
        return list(sources.values())

    async def main(self, collector) -> int:
        loop = asyncio.get_running_loop()
        self.collector = collector
        http = (f"{self.settings.http_host}:{self.settings.http_port}"
                if self.settings.http_port else None)
        self.node = NodeKeeper(self.settings, collector.db, http)
        self.scheduler = CrawlScheduler(self.settings, collector.db, self._crawl,
                                        gate=lambda s: self.node.holds(lease_host(s.url)))
        seen = _snapshot(self.settings.sources_dir)  # what the watcher compares with
        self.load()
        await self._heartbeat()  # the first claims come before the first schedule
        self.scheduler.start(self._leased())
        self._wake = asyncio.Event()
        self.listener = None
        if not self.node.exclusive:
            self.listener = LeaseListener(collector.db.url, self.node.name,
                                          lambda: loop.call_soon_threadsafe(self._wake.set))
        self._tasks.append(asyncio.create_task(self._heartbeats()))
        self.shots = None
        if self.settings.screenshots.enabled:  # captures run beside crawls, never in their way
            self.shots = ScreenshotWorker(self.settings, self.sources.values(), collector.db,
                                          hosts=lambda: set(self.node.held))
            self.shots.start()
        self.translator = None
        if self.settings.translation.enabled:  # in threads of its own, never in crawls' way
            from aggregator.translation.worker import TranslationWorker

            self.translator = TranslationWorker(self.settings, collector.db)
            self.translator.start()
        listening = self._listen(collector)
        loop.add_signal_handler(signal.SIGTERM, self._stop.set)
        loop.add_signal_handler(signal.SIGINT, self._stop.set)
        loop.add_signal_handler(signal.SIGHUP, self.reload)
        if self.settings.reload_poll:
            self._tasks.append(asyncio.create_task(self._watch(seen)))
        interval = systemd.watchdog_interval()
        if interval:
            self._tasks.append(asyncio.create_task(self._watchdog(interval)))
        systemd.notify(f"READY=1\nSTATUS=crawling {len(self.scheduler.sources)} sources")
        log.info("node %s started with %d of %d sources (%d hosts leased)", self.node.name,
                 len(self.scheduler.sources), len(self.sources), len(self.node.held))

        await self._stop.wait()
        systemd.notify("STOPPING=1")
        log.info("stopping: no new crawls, waiting up to %.0fs for crawls in flight",
                 self.settings.shutdown_timeout)
        self.scheduler.pause()
        drained = await collector.drain(self.settings.shutdown_timeout)
        self.scheduler.shutdown()
        if self.listener is not None:
            self.listener.stop()
        await asyncio.to_thread(self.node.leave)
        if self.translator is not None:
            await asyncio.to_thread(self.translator.stop, self.settings.shutdown_timeout)
        if not drained:
            log.warning("shutdown timeout reached with crawls still in flight")
        for task in self._tasks:
            task.cancel()
        if listening is not None:
            await listening.stopListening().asFuture(asyncio.get_running_loop())
        log.info("daemon stopped")
        return 0

    def _listen(self, collector):
        if not self.settings.http_port:
            return None
        from aggregator import health

        return health.listen(self.settings.http_host, self.settings.http_port,
                          lambda: self.scheduler.is_running, collector.db.ping,
                          collector.outage.snapshot, self._node_facts,
                          None if self.node.exclusive else self.node.name)

    def _node_facts(self) -> dict:
        """The node's part of /healthz: its name and the hosts it holds, until when."""
        return {"name": self.node.name,
                "leases": {h: t.isoformat() for h, t in sorted(self.node.held.items())}}

    def _leased(self) -> list[Source]:
        """The sources this node crawls: those on the hosts it holds."""
        return [s for s in self.sources.values() if lease_host(s.url) in self.node.held]

    async def _heartbeat(self) -> None:
        """Renew, rebalance, and schedule what the leases now say (aggregator/node.py)."""
        hosts = {lease_host(s.url) for s in self.sources.values() if s.enabled}
        started = time.perf_counter()
        try:
            cluster = await asyncio.to_thread(self.node.read, hosts)
            self.collector.ingestor.nodes = len(cluster.live)
            busy = {lease_host(self.sources[n].url) for n in self.scheduler.running
                    if n in self.sources}
            if self.scheduler.stopping:  # renew for the crawls draining, take nothing new
                return
            moves = self.node.decide(cluster, hosts, busy)
            await asyncio.to_thread(self.node.apply, cluster, hosts, moves)
        except Exception:  # noqa: BLE001 - the next heartbeat tries again; leases run out
            log.exception("heartbeat failed; leases run out unless the next one succeeds")
        metrics.LOCK_WAIT.labels("lease").inc(time.perf_counter() - started)
        if self.scheduler.is_running and not self.scheduler.stopping:
            self.scheduler.sync(self._leased())
        metrics.HOSTS_LEASED.set(len(self.node.held))

    async def _heartbeats(self) -> None:
        """Every `node.heartbeat` seconds, or at once when another node hands hosts back or
        joins (LISTEN/NOTIFY)."""
        while True:
            try:
                await asyncio.wait_for(self._wake.wait(), self.node.every)
            except TimeoutError:
                pass
            self._wake.clear()
            await self._heartbeat()

    def reload(self) -> None:
        log.info("reloading sources from %s", self.settings.sources_dir)
        self.load()
        self.scheduler.sync(self._leased())
        if self.shots is not None:
            self.shots.use_sources(self.sources.values())

    async def _watch(self, seen: dict[Path, tuple[int, int]]) -> None:
        """Reload when files change (compared with the snapshot taken before the first load,
        so a file written while the daemon starts is not missed)."""
        directory = self.settings.sources_dir
        while True:
            await asyncio.sleep(self.settings.reload_poll)
            now = _snapshot(directory)
            if now != seen:
                seen = now
                self.reload()

    async def _watchdog(self, interval: float) -> None:
        """Ping systemd only while the database answers, so a wedged daemon gets restarted."""
        loop = asyncio.get_running_loop()
        while True:
            if await loop.run_in_executor(None, self.collector.db.ping):
                systemd.notify("WATCHDOG=1")
            else:
                log.error("database not answering: withholding the watchdog ping")
            await asyncio.sleep(interval)

    async def _crawl(self, source: Source) -> CrawlSummary:
        started = time.monotonic()
        # a cancelled job must not cancel the run, nor its start once the crawl row is written
        run = await asyncio.shield(self.collector.spider.submit(source))
        summary = await asyncio.shield(run.done)
        metrics.CRAWL_SECONDS.labels(source.name, run.outcome).observe(time.monotonic() - started)
        log.info(
            "crawl %s: fetched=%d new=%d unchanged=%d failed=%d%s", run.outcome,
            summary.fetched, summary.new, summary.unchanged, summary.failed,
            f" errors={'; '.join(summary.errors)}" if summary.errors else "",
            extra={"source": source.name, "url": source.url},
        )
        return summary


def run(settings: Settings) -> int:
    from spiders.runner import Collector

    held = lock_sqlite(settings.effective_database_url)  # noqa: F841 - held until exit
    return Collector(settings).run(Daemon(settings).main)
