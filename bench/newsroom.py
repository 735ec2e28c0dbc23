"""Freshness and staying power: the real daemon (`aggregator run`) against a simulated
newsroom (bench/newsroom_sites.py) in compressed time.

    python -m bench.newsroom [--hours 24] [--factor 72] [--sources 14] [--volume 1.0]
                             [--warc-mb 256] [--out bench/results/newsroom.json]

A simulated day at the default factor 72 takes 20 minutes; `--hours 168 --factor 336` is
the simulated week in 30. How the daemon sees compressed time: the generated config is the
shipped one (sources' names, kinds and `every`) with every time setting divided by the factor
(schedules, download delay, robots.txt lifetime, first-run spread, back-off cap, sitemap
window), and the sites stamp what the daemon compares with its clock in wall time (see
newsroom_sites). What is not compressed: CPU and I/O (fetch, extraction, store), so every
processing millisecond counts `factor` times in simulated time; delays are an upper bound.
So each delay is also split at the moment the daemon first saw the item in its feed: the poll
wait (simulated) and the processing after it (wall clock, as it would take uncompressed);
their sum is the "real-time equivalent" delay.

Reported per source and overall: delay from an item's appearance in its feed to its stored,
de-duplicated article (p50/p95, simulated seconds), requests, 304 share; every simulated hour
the daemon's RSS and its process tree's, open fds, articles; at the end the database size per
1,000 articles, WARC files, extraction workers seen, and the entry balance.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

import yaml
from sqlalchemy import create_engine, text

from aggregator.db.migrate import upgrade
from aggregator.sources import parse_duration
from bench.newsroom_sites import PUBLISHERS, Newsroom, SimClock
from bench.procmem import process_rss, tree_memory

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results" / "newsroom.json"
MB = 2**20


def write_config(workdir: Path, room: Newsroom, factor: float, warc_mb: float,
                 recycle_pages: int | None = None) -> Path:
    """The shipped settings and schedules, with every duration divided by `factor` (and the
    workers recycled after `recycle_pages`, when given, so a short run crosses recyclings)."""
    config = workdir / "config"
    (config / "sources").mkdir(parents=True)
    settings = {
        "data_dir": str(workdir / "data"), "download_delay": 1.0 / factor,
        "robots_ttl": 86400 / factor, "first_run_spread": 30 / factor,
        "max_backoff": 6 * 3600 / factor, "http_port": 0, "reload_poll": 0,
        "warc_max_bytes": int(warc_mb * MB), "screenshots": {"enabled": False},
        "log": {"level": "INFO", "format": "text"},
    }
    if recycle_pages:
        settings["extract_recycle_pages"] = recycle_pages
    (config / "aggregator.yaml").write_text(yaml.safe_dump(settings))
    for site in room.sites:
        pub = site.publisher
        every = parse_duration(pub.every).total_seconds() / factor
        source = {"name": pub.name, "title": pub.name, "kind": pub.kind, "url": site.root_url,
                  "language": "uk", "schedule": {"every": max(every, 1.0)},
                  "allowed_domains": [f"127.0.0.{pub.host}"], "allow_private_addresses": True}
        if pub.kind == "sitemap":
            source["sitemap"] = {"max_age": 2 * 86400 / factor}
        (config / "sources" / f"{pub.name}.yaml").write_text(yaml.safe_dump(source))
    return config


class HourlySampler(threading.Thread):
    """Every simulated hour: RSS of the daemon and of its tree, open fds, articles stored;
    and all along, the extraction workers' pids (so recyclings can be counted)."""

    def __init__(self, pid: int, clock: SimClock, db_url: str, every: float = 3600.0):
        super().__init__(daemon=True)
        self.pid, self.clock, self.every = pid, clock, every
        self.engine = create_engine(db_url)
        self.done = threading.Event()
        self.samples: list[dict] = []
        self.children: set[int] = set()

    def run(self) -> None:
        due = 0.0
        while not self.done.wait(min(2.0, self.every / self.clock.factor)):
            self.children.update(_children(self.pid))
            if self.clock.now() >= due:
                self.samples.append(self.sample())
                due += self.every

    def sample(self) -> dict:
        rss, pss = tree_memory(self.pid)
        try:
            fds = len(os.listdir(f"/proc/{self.pid}/fd"))
        except OSError:
            fds = 0
        try:
            with self.engine.connect() as conn:
                articles = conn.execute(text("SELECT count(*) FROM articles")).scalar()
        except Exception:  # noqa: BLE001 - a locked or busy database: skip this count
            articles = None
        return {"sim_hour": round(self.clock.now() / 3600, 2),
                "daemon_rss_mb": round(process_rss(self.pid) / MB, 1),
                "tree_rss_mb": round(rss / MB, 1), "tree_pss_mb": round(pss / MB, 1),
                "open_fds": fds, "articles": articles}


def _children(pid: int) -> list[int]:
    """Direct children of `pid` (the extraction workers), from every process's stat."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == pid:
                    found.append(int(entry.name))
            except (OSError, IndexError, ValueError):
                continue
    return found


def quantiles(values: list[float]) -> dict:
    if not values:
        return {"n": 0, "p50_s": None, "p95_s": None, "max_s": None}
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]
    return {"n": len(values), "p50_s": round(statistics.median(ordered), 1),
            "p95_s": round(p95, 1), "max_s": round(ordered[-1], 1)}


def _fit(xs: list[float], ys: list[float]) -> float:
    """Least-squares slope of ys over xs."""
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    return (sum((x - mx) * (y - my) for x, y in zip(xs, ys))
            / (sum((x - mx) ** 2 for x in xs) or 1.0))


def slope(samples: list[dict], key: str) -> dict:
    """Trend of `key` over the last 80 % of the samples: per simulated day, and per 1,000
    articles stored (what the near-duplicate index, kept in memory for every article by
    design, accounts for at about 1.5 KiB an article)."""
    tail = [s for s in samples[len(samples) // 5:] if s.get(key) is not None]
    if len(tail) < 3:
        return {"mb_per_day": None, "percent_per_day": None, "mb_per_1000_articles": None}
    hours, values = [s["sim_hour"] for s in tail], [s[key] for s in tail]
    per_hour = _fit(hours, values)
    counted = [s for s in tail if s.get("articles") is not None]
    articles = [s["articles"] for s in counted]
    per_article = (_fit(articles, [s[key] for s in counted])
                   if len(set(articles)) > 2 else None)
    return {"mb_per_day": round(per_hour * 24, 2),
            "percent_per_day": round(per_hour * 24 / statistics.fmean(values) * 100, 2),
            "mb_per_1000_articles": None if per_article is None else round(per_article * 1000, 2)}


def collect(db_url: str, room: Newsroom, clock: SimClock, seconds: float,
            settle: float) -> dict:
    """Delays per source from the database (entry guid -> article first_seen_at)."""
    engine = create_engine(db_url)
    with engine.connect() as conn:
        rows = conn.execute(text(
            "SELECT s.name, e.guid, e.first_seen_at, a.first_seen_at, a.story_id "
            "FROM feed_entries e "
            "JOIN sources s ON s.id = e.source_id "
            "LEFT JOIN articles a ON a.id = e.article_id")).all()
        statuses = dict(conn.execute(text(
            "SELECT status, count(*) FROM feed_entries GROUP BY status")).all())
        articles = conn.execute(text("SELECT count(*) FROM articles")).scalar()
        page_fetches = conn.execute(text(
            "SELECT count(*) FROM fetches WHERE kind = 'page' AND status = 200")).scalar()
    engine.dispose()
    stored = {guid: (seen, first_seen, story) for _name, guid, seen, first_seen, story in rows}
    per_source, every_delay, every_real = {}, [], []
    for site in room.sites:
        pub, delays, unstored, unseen = site.publisher, [], 0, 0
        waits, processing, real = [], [], []
        judged = [n for n, t in enumerate(site.times)
                  if clock.start <= t < clock.start + seconds - settle]
        for n in judged:
            key = (site.url(n) if pub.kind == "sitemap" else f"{pub.name}-{n}")
            if key not in stored:
                unseen += 1
                continue
            seen, first_seen, story = stored[key]
            if first_seen is None or story is None:
                unstored += 1
                continue
            appeared = clock.wall(site.times[n])
            seen, first_seen = _timestamp(seen), _timestamp(first_seen)
            delays.append(max(first_seen - appeared, 0.0) * clock.factor)
            waits.append(max(seen - appeared, 0.0) * clock.factor)
            processing.append(max(first_seen - seen, 0.0))
            real.append(waits[-1] + processing[-1])  # processing at its own speed
        every_delay += delays
        every_real += real
        c = site.counters
        per_source[pub.name] = {
            "every": pub.every, "published": len(site.times), "judged": len(judged),
            "stored": len(delays), "not_stored": unstored, "never_seen": unseen,
            **quantiles(delays), "poll_wait": quantiles(waits),
            "processing_wall": quantiles(processing), "real_time": quantiles(real),
            "feed_requests": c.feed, "page_requests": c.pages,
            "longest_gap_s": round(max(c.longest_gap, clock.wall(clock.start + seconds)
                                       - (c.last_feed or clock.wall0)) * clock.factor, 1),
            "share_304": round(c.not_modified / c.feed, 3) if c.feed else None,
            "validator": pub.validator or "none"}
    five = [s["p95_s"] for s in per_source.values() if s["every"] == "5m" and s["p95_s"]]
    five_real = [s["real_time"]["p95_s"] for s in per_source.values()
                 if s["every"] == "5m" and s["real_time"]["p95_s"]]
    feeds = sum(s.counters.feed for s in room.sites)
    return {"per_source": per_source, "overall": quantiles(every_delay),
            "overall_real_time": quantiles(every_real),
            "p95_5m_sources_max_s": max(five) if five else None,
            "real_time_p95_5m_sources_max_s": max(five_real) if five_real else None,
            "requests": feeds + sum(s.counters.pages for s in room.sites),
            "share_304": round(sum(s.counters.not_modified for s in room.sites) / feeds, 3)
            if feeds else None,
            "balance": {"entries": sum(statuses.values()), **statuses, "articles": articles,
                        "page_fetches_200": page_fetches,
                        "entries_equal_stored_plus_pending_plus_failed":
                            sum(statuses.values()) == sum(statuses.get(k, 0) for k in
                                                          ("stored", "pending", "failed",
                                                           "skipped"))}}


def _timestamp(value) -> float:
    """POSIX seconds of a stored UTC time (SQLite hands back text or naive datetimes)."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return (value if value.tzinfo else value.replace(tzinfo=timezone.utc)).timestamp()


def run(hours: float, factor: float, sources: int, volume: float, warc_mb: float,
        settle: float = 1800.0, keep: bool = False, start_hour: float = 0.0,
        recycle_pages: int | None = None) -> dict:
    """One simulation; items of the last `settle` simulated seconds are not judged (they
    may still be in flight when the daemon is stopped)."""
    seconds = hours * 3600
    workdir = Path(tempfile.mkdtemp(prefix="newsroom-"))
    db_url = f"sqlite:///{workdir / 'newsroom.db'}"
    upgrade(db_url)
    start = start_hour * 3600  # items before it are the feeds' backlog, not judged
    clock = SimClock(factor, wall0=time.time() + 5, start=start)
    with Newsroom(PUBLISHERS[:sources], clock, start + seconds, volume) as room:
        config = write_config(workdir, room, factor, warc_mb, recycle_pages)
        (config / "aggregator.yaml").write_text((config / "aggregator.yaml").read_text()
                                                + f"database_url: {db_url}\n")
        log = open(workdir / "daemon.log", "w")
        daemon = subprocess.Popen([sys.executable, "-m", "aggregator", "--config", str(config),
                                   "run"], stdout=log, stderr=log, cwd=ROOT)
        sampler = HourlySampler(daemon.pid, clock, db_url)
        time.sleep(max(0.0, clock.wall0 - time.time()))
        sampler.start()
        started = time.time()
        end = start + seconds
        while clock.now() < end and daemon.poll() is None:
            time.sleep(min(1.0, max(0.05, (end - clock.now()) / factor)))
        sampler.samples.append(sampler.sample())
        sampler.done.set()
        daemon.send_signal(signal.SIGTERM)
        try:
            code = daemon.wait(120)
        except subprocess.TimeoutExpired:
            daemon.kill()
            code = daemon.wait()
        wall = time.time() - started
        log.close()
        report = collect(db_url, room, clock, seconds, settle)
    db_bytes = sum(p.stat().st_size for p in workdir.glob("newsroom.db*"))
    articles = max(report["balance"]["articles"] or 0, 1)
    report.update(
        hours=hours, start_hour=start_hour, factor=factor, volume=volume, sources=sources,
        settle=settle,
        wall_seconds=round(wall, 1), daemon_exit=code, samples=sampler.samples,
        rss_trend=slope(sampler.samples, "daemon_rss_mb"),
        tree_rss_trend=slope(sampler.samples, "tree_rss_mb"),
        peak_daemon_rss_mb=max((s["daemon_rss_mb"] for s in sampler.samples), default=0),
        db_bytes_per_1000=int(db_bytes / articles * 1000),
        warc_files=len(list((workdir / "data").rglob("*.warc.gz"))),
        extraction_workers_seen=len(sampler.children),
        workdir=str(workdir) if keep else None)
    if code:
        report["daemon_log_tail"] = (workdir / "daemon.log").read_text()[-2000:]
    if not keep:
        shutil.rmtree(workdir, ignore_errors=True)
    return report


def print_report(report: dict) -> None:
    print(f"{'source':<17} {'every':>5} {'pub':>5} {'stored':>6} {'unseen':>6} {'p50 s':>7} "
          f"{'p95 s':>7} {'wait p95':>8} {'proc p95':>8} {'real p95':>8} {'feed req':>8} "
          f"{'pages':>6} {'304':>6} {'gap s':>7} validator")
    for name, s in report["per_source"].items():
        print(f"{name:<17} {s['every']:>5} {s['judged']:>5} {s['stored']:>6} "
              f"{s['never_seen']:>6} {s['p50_s']!s:>7} {s['p95_s']!s:>7} "
              f"{s['poll_wait']['p95_s']!s:>8} {s['processing_wall']['p95_s']!s:>8} "
              f"{s['real_time']['p95_s']!s:>8} {s['feed_requests']:>8} {s['page_requests']:>6} "
              f"{s['share_304']!s:>6} {s['longest_gap_s']:>7} {s['validator']}")
    o = report["overall"]
    print(f"overall: {o['n']} articles, delay p50 {o['p50_s']} s, p95 {o['p95_s']} s "
          f"(simulated); worst p95 of the 5-minute sources {report['p95_5m_sources_max_s']} s "
          f"(real-time equivalent {report['real_time_p95_5m_sources_max_s']} s); "
          f"{report['requests']} requests, 304 share of feed requests {report['share_304']}")
    print(f"{report['hours']} simulated hours at {report['factor']}x in {report['wall_seconds']}"
          f" s; daemon exit {report['daemon_exit']}; peak daemon RSS "
          f"{report['peak_daemon_rss_mb']} MB; RSS trend over the last 80 %: "
          f"{report['rss_trend']} (tree {report['tree_rss_trend']}); DB "
          f"{report['db_bytes_per_1000'] // 1024} KB per 1,000 articles; "
          f"{report['warc_files']} WARC files; {report['extraction_workers_seen']} extraction "
          f"workers seen; balance {report['balance']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hours", type=float, default=24.0, help="simulated hours")
    parser.add_argument("--factor", type=float, default=72.0,
                        help="time compression (72: a simulated day in 20 minutes)")
    parser.add_argument("--sources", type=int, default=len(PUBLISHERS), help="first N sites")
    parser.add_argument("--volume", type=float, default=1.0, help="x items a day per site")
    parser.add_argument("--warc-mb", type=float, default=256.0, help="WARC file roll-over")
    parser.add_argument("--start-hour", type=float, default=0.0,
                        help="simulated time of day the run starts at (Monday 00:00 = 0)")
    parser.add_argument("--settle", type=float, default=1800.0,
                        help="simulated seconds at the end whose items are not judged")
    parser.add_argument("--recycle-pages", type=int, default=None,
                        help="extraction workers recycled after N pages (default: shipped)")
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    report = run(args.hours, args.factor, args.sources, args.volume, args.warc_mb, args.settle,
                 args.keep, args.start_hour, args.recycle_pages)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2, default=str))
    print_report(report)
    print(f"written {args.out}")


if __name__ == "__main__":
    main()
