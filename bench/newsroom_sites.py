"""The simulated newsroom's sites: 14 loopback publishers modelled on the shipped sources,
each publishing on a timetable drawn once (morning bursts, quiet nights, breaking-news
clusters) and serving its feed (or sitemap), article pages and robots.txt.

Time is compressed by `factor`: simulated second s happens at wall time `wall0 + s / factor`.
What the daemon compares with its own clock (pubDate, sitemap lastmod) is stamped in wall
time, so its rhythm estimates and schedules live in the same compressed world; what it only
echoes back (ETag, Last-Modified) is stamped in simulated time, so a Last-Modified has the
one-second resolution of a real server in simulated time. Each site listens on its own
address in 127.0.0.0/8 (Scrapy's politeness slots are per host); the two rbc.ua editions
share one, as they share one host in production.
"""

from __future__ import annotations

import bisect
import hashlib
import html
import math
import random
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime, parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from bench import corpus

SIM_EPOCH = datetime(2026, 11, 23, 0, 0, tzinfo=timezone.utc)  # a Monday, midnight
# Relative publishing rate by hour of the day (averages 1): quiet nights, a morning burst.
PROFILE = (0.25, 0.15, 0.1, 0.1, 0.15, 0.3, 0.7, 1.5, 2.2, 2.4, 2.0, 1.6,
           1.4, 1.3, 1.3, 1.2, 1.2, 1.1, 1.0, 1.0, 0.9, 0.8, 0.6, 0.4)
BURST_SHARE = 0.1  # of items that come in breaking-news clusters of 3-5 within 5 minutes


@dataclass(frozen=True)
class Publisher:
    """One site: the shipped source it stands for, items a simulated day, what it serves."""

    name: str
    every: str  # the shipped schedule
    per_day: int
    validator: str | None = None  # "etag", "modified" or None (always 200)
    ttl_minutes: float | None = None  # RSS <ttl>, in simulated minutes
    max_age: float | None = None  # Cache-Control max-age, simulated seconds
    kind: str = "feed"
    host: int = 0  # 127.0.0.<host>
    feed_items: int = 30


PUBLISHERS = (
    Publisher("pravda", "5m", 300, "modified", host=10),
    Publisher("unian", "5m", 350, "etag", host=11, feed_items=50),
    Publisher("rbc-ukr", "5m", 300, "etag", host=12),
    Publisher("rbc-rus", "5m", 300, "etag", host=12),
    Publisher("nv", "10m", 220, None, host=13),
    Publisher("liga", "10m", 180, "modified", host=14),
    Publisher("ukrinform", "10m", 180, "modified", ttl_minutes=10, host=15),
    Publisher("interfax-ukraine", "10m", 150, "etag", max_age=300, host=16),
    Publisher("suspilne", "10m", 200, "etag", host=17),
    Publisher("hromadske", "15m", 70, None, host=18),
    Publisher("lb", "15m", 90, "modified", host=19),
    Publisher("zn", "15m", 80, "etag", ttl_minutes=15, host=20),
    Publisher("radiosvoboda", "15m", 60, "modified", host=21),
    Publisher("kyiv-independent", "15m", 40, "modified", kind="sitemap", host=22),
)


def timetable(publisher: Publisher, seconds: float, volume: float, seed: int) -> list[float]:
    """Simulated publication times over [0, seconds): an inhomogeneous Poisson process
    following PROFILE, plus clusters of 3-5 items around breaking news."""
    rng = random.Random(f"{publisher.name}-{seed}")
    rate = publisher.per_day * volume * (1 - BURST_SHARE) / 86400  # items a second, on average
    peak = rate * max(PROFILE)
    times, t = [], 0.0
    while True:  # thinning: draw at the peak rate, keep with the hour's share of it
        t += rng.expovariate(peak) if peak else math.inf
        if t >= seconds:
            break
        if rng.random() < PROFILE[int(t // 3600) % 24] / max(PROFILE):
            times.append(t)
    clusters = int(publisher.per_day * volume * BURST_SHARE / 4 * seconds / 86400)
    for _ in range(clusters):
        start = rng.uniform(0, seconds)
        times += [min(start + rng.uniform(0, 300), seconds - 1e-3)
                  for _ in range(rng.randint(3, 5))]
    return sorted(times)


@dataclass
class Counters:
    feed: int = 0
    not_modified: int = 0
    pages: int = 0
    not_found: int = 0
    last_feed: float | None = None  # wall time of the last feed request
    longest_gap: float = 0.0  # wall seconds between two feed requests (a lost plan shows here)

    def feed_requested(self) -> None:
        now = time.time()
        if self.last_feed is not None:
            self.longest_gap = max(self.longest_gap, now - self.last_feed)
        self.feed, self.last_feed = self.feed + 1, now


@dataclass
class Site:
    """A publisher with its timetable, live on a loopback address."""

    publisher: Publisher
    index: int
    times: list[float]  # simulated seconds, sorted
    clock: SimClock
    counters: Counters = field(default_factory=Counters)
    base: str = ""

    def published(self) -> int:
        """How many items are out by now."""
        return bisect.bisect_right(self.times, self.clock.now())

    def wall_of(self, n: int) -> datetime:
        return datetime.fromtimestamp(self.clock.wall(self.times[n]), timezone.utc)

    def url(self, n: int) -> str:
        return f"{self.base}/news/{n}.html"

    @property
    def root_url(self) -> str:
        return self.base + ("/sitemap-posts.xml" if self.publisher.kind == "sitemap"
                            else "/rss.xml")

    def root(self, headers) -> tuple[int, dict[str, str], bytes]:
        """The feed or sitemap as of now, or 304 when the client's validator still holds."""
        count = self.published()
        sim_newest = SIM_EPOCH + timedelta(seconds=self.times[count - 1] if count else 0)
        out: dict[str, str] = {}
        pub = self.publisher
        if pub.validator == "etag":
            tag = f'"{hashlib.sha1(f"{pub.name}-{count}".encode()).hexdigest()[:16]}"'
            out["ETag"] = tag
            if headers.get("If-None-Match") == tag:
                return 304, out, b""
        elif pub.validator == "modified":
            out["Last-Modified"] = format_datetime(sim_newest.replace(microsecond=0), usegmt=True)
            since = headers.get("If-Modified-Since")
            try:
                if since and sim_newest.replace(microsecond=0) <= parsedate_to_datetime(since):
                    return 304, out, b""
            except (TypeError, ValueError):
                pass
        if pub.max_age:
            out["Cache-Control"] = f"max-age={max(1, round(pub.max_age / self.clock.factor))}"
        newest = range(count - 1, max(count - pub.feed_items, 0) - 1, -1)
        body = self._sitemap(newest) if pub.kind == "sitemap" else self._feed(newest)
        return 200, out, body

    def _feed(self, numbers: range) -> bytes:
        ttl = (f"<ttl>{self.publisher.ttl_minutes / self.clock.factor:.4f}</ttl>"
               if self.publisher.ttl_minutes else "")
        items = []
        for n in numbers:
            a = corpus.article(self.index, n, len(PUBLISHERS))
            items.append(f"<item><title>{html.escape(a.title)}</title><link>{self.url(n)}</link>"
                         f'<guid isPermaLink="false">{self.publisher.name}-{n}</guid>'
                         f"<pubDate>{format_datetime(self.wall_of(n))}</pubDate>"
                         f"<description>{html.escape(a.paragraphs[0][:200])}</description>"
                         "</item>")
        return (f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
                f"<title>{self.publisher.name}</title><link>{self.base}/</link>"
                f"<description>news</description>{ttl}{''.join(items)}</channel></rss>").encode()

    def _sitemap(self, numbers: range) -> bytes:
        urls = "".join(f"<url><loc>{self.url(n)}</loc>"
                       f"<lastmod>{self.wall_of(n).isoformat(timespec='seconds')}</lastmod></url>"
                       for n in numbers)
        return ('<?xml version="1.0" encoding="UTF-8"?><urlset xmlns='
                f'"http://www.sitemaps.org/schemas/sitemap/0.9">{urls}</urlset>').encode()

    def respond(self, path: str, headers) -> tuple[int, dict[str, str], bytes]:
        if path == "/robots.txt":
            return 200, {"Content-Type": "text/plain"}, b"User-agent: *\nAllow: /\n"
        if path in ("/rss.xml", "/sitemap-posts.xml"):
            self.counters.feed_requested()
            status, out, body = self.root(headers)
            self.counters.not_modified += status == 304
            out["Content-Type"] = "application/xml; charset=utf-8"
            return status, out, body
        if path.startswith("/news/") and path.endswith(".html"):
            self.counters.pages += 1
            number = path[len("/news/"):-len(".html")]
            if number.isdigit() and int(number) < self.published():
                return 200, {"Content-Type": "text/html; charset=utf-8"}, corpus.page(
                    self.base, self.index, int(number), len(PUBLISHERS))
            self.counters.not_found += 1
        return 404, {"Content-Type": "text/plain"}, b"not found"


class SimClock:
    """Simulated seconds since SIM_EPOCH, running `factor` times faster than the wall clock."""

    def __init__(self, factor: float, wall0: float | None = None, start: float = 0.0):
        self.factor, self.start = factor, start  # `start`: simulated seconds at wall0
        self.wall0 = time.time() if wall0 is None else wall0

    def now(self) -> float:
        return self.start + (time.time() - self.wall0) * self.factor

    def wall(self, simulated: float) -> float:
        return self.wall0 + (simulated - self.start) / self.factor


class Newsroom:
    """`with Newsroom(publishers, clock, seconds, volume) as room:` serves every site."""

    def __init__(self, publishers, clock: SimClock, seconds: float, volume: float,
                 seed: int = 1):
        self.clock = clock
        self.sites = [Site(p, i, timetable(p, seconds, volume, seed), clock)
                      for i, p in enumerate(publishers)]
        self.servers = [self._serve(site) for site in self.sites]
        self.threads = [threading.Thread(target=s.serve_forever, daemon=True)
                        for s in self.servers]

    @staticmethod
    def _serve(site: Site) -> ThreadingHTTPServer:
        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                status, headers, body = site.respond(self.path, self.headers)
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *_args) -> None:
                pass

        server = ThreadingHTTPServer((f"127.0.0.{site.publisher.host}", 0), Handler)
        server.daemon_threads = True
        site.base = f"http://127.0.0.{site.publisher.host}:{server.server_address[1]}"
        return server

    def __enter__(self) -> Newsroom:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *_exc) -> None:
        for server in self.servers:
            server.shutdown()
            server.server_close()
