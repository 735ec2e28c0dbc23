"""One ingest through the real code path, in its own process: `crawl_once` over every source
of a config directory, then the article count, the wall time and each stage's median and p95
(read from the `aggregator_stage_seconds` histogram) and CPU per article (reactor thread,
process, extraction workers, the garbage collector's share of the process, and each named
thread of the process) as JSON into OUT.

    python -m bench.ingest CONFIG_DIR OUT
"""

from __future__ import annotations

import gc
import json
import os
import re
import resource
import sys
import threading
import time

from aggregator import metrics
from aggregator.logs import configure
from aggregator.settings import load_settings
from aggregator.sources import load_sources
from spiders.runner import crawl_once


def quantile(buckets: list[tuple[float, float]], q: float) -> float | None:
    """The q-quantile of a cumulative histogram [(upper bound, count)], interpolated in its
    bucket (exact to the bucket's 25 % width)."""
    total = buckets[-1][1]
    if not total:
        return None
    rank, lower, below = q * total, 0.0, 0.0
    for upper, count in buckets:
        if count >= rank:
            if upper == float("inf"):
                return lower
            return lower + (upper - lower) * (rank - below) / max(count - below, 1)
        lower, below = upper, count
    return lower


def stage_quantiles() -> dict[str, dict[str, float | int | None]]:
    buckets: dict[str, list[tuple[float, float]]] = {}
    for family in metrics.STAGE_SECONDS.collect():
        for sample in family.samples:
            if sample.name.endswith("_bucket"):
                buckets.setdefault(sample.labels["stage"], []).append(
                    (float(sample.labels["le"]), sample.value))
    return {stage: {"count": int(b[-1][1]), "median_ms": _ms(quantile(b, 0.5)),
                    "p95_ms": _ms(quantile(b, 0.95))} for stage, b in buckets.items()}


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000, 2)


class CollectorClock:
    """CPU time spent in the garbage collector, through gc.callbacks: a collection runs in the
    thread whose allocation triggered it, holding the GIL, so that thread's CPU clock times it."""

    def __init__(self) -> None:
        self.seconds, self.collections, self._started = 0.0, [0, 0, 0], 0.0
        gc.callbacks.append(self._tick)

    def _tick(self, phase: str, info: dict) -> None:
        if phase == "start":
            self._started = time.thread_time()
        else:
            self.seconds += time.thread_time() - self._started
            self.collections[info["generation"]] += 1


class ThreadClocks:
    """CPU time of each thread of this process by its Python name (numbers dropped, so a
    pool's threads add up): a thread's own clock as it ends (threading.Thread.run, wrapped),
    and /proc every half second for a thread that overrides `run` or is still running."""

    def __init__(self) -> None:
        self.seconds: dict[int, tuple[str, float]] = {}
        self._stop = threading.Event()
        self._tick = os.sysconf("SC_CLK_TCK")
        run, clocks = threading.Thread.run, self

        def timed(thread: threading.Thread) -> None:
            try:
                run(thread)
            finally:
                clocks.seconds[threading.get_native_id()] = (thread.name, time.thread_time())

        threading.Thread.run = timed
        threading.Thread(target=self._watch, name="bench-clocks", daemon=True).start()

    def _watch(self) -> None:
        while not self._stop.wait(0.5):
            self.read()

    def read(self) -> None:
        for thread in threading.enumerate():
            try:
                with open(f"/proc/self/task/{thread.native_id}/stat") as stat:
                    fields = stat.read().rpartition(")")[2].split()
            except OSError:
                continue
            self.seconds[thread.native_id] = (
                thread.name, (int(fields[11]) + int(fields[12])) / self._tick)

    def by_name(self, stored: int) -> dict[str, float]:
        self._stop.set()
        self.read()
        totals: dict[str, float] = {}
        for name, seconds in self.seconds.values():
            name = re.sub(r"[-_]?\d+$", "", name)
            if name != "bench-clocks":
                totals[name] = totals.get(name, 0.0) + seconds
        return {name: round(s / stored * 1000, 2)
                for name, s in sorted(totals.items(), key=lambda item: -item[1])}


def main(config_dir: str, out: str) -> None:
    settings = load_settings(config_dir)
    configure(settings.log)
    loaded = load_sources(settings.sources_dir)
    if loaded.problems or not loaded.sources:
        raise SystemExit(f"invalid sources: {loaded.problems[:3]}")
    sources = [s for s in loaded.sources if s.enabled]
    collector = CollectorClock()
    clocks = ThreadClocks()
    started, reactor = time.perf_counter(), time.thread_time()
    summaries = crawl_once(settings, sources)  # the reactor runs in this thread
    seconds, reactor = time.perf_counter() - started, time.thread_time() - reactor
    own = resource.getrusage(resource.RUSAGE_SELF)
    workers = resource.getrusage(resource.RUSAGE_CHILDREN)  # reaped when the pool closed
    stored = max(sum(s.new for s in summaries), 1)
    json.dump({"seconds": round(seconds, 2),
               "fetched": sum(s.fetched for s in summaries),
               "stored": sum(s.new for s in summaries),
               "failed": sum(s.failed for s in summaries),
               "errors": [e for s in summaries for e in s.errors][:5],
               "gc_collections": collector.collections,
               "stages": stage_quantiles(),
               # CPU per stored article, which other processes on the machine move far less
               # than wall time: the reactor thread, the whole process, the extraction workers,
               # and the time the process spent in garbage collections
               "cpu_ms": {"reactor": round(reactor / stored * 1000, 2),
                          "process": round((own.ru_utime + own.ru_stime) / stored * 1000, 2),
                          "workers": round((workers.ru_utime + workers.ru_stime) / stored
                                           * 1000, 2),
                          "gc": round(collector.seconds / stored * 1000, 2)},
               "thread_cpu_ms": clocks.by_name(stored)},
              open(out, "w"))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
