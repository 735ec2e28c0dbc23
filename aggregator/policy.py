"""Scheduling policy as pure functions: when a source is next due, how long it backs off,
how its interval follows its publishing rhythm, and whether it has gone stale.

No I/O and no clock here: callers pass `now`, so every rule is tested without sockets.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import datetime, timedelta

MIN_INTERVAL = 1.0  # seconds: nothing is polled more often, whatever the config says
RHYTHM_WINDOW = timedelta(days=7)
RHYTHM_ENTRIES = 30
# The newest gaps the rhythm also looks at: the median of 29 gaps follows a change of pace
# only once half of them are new, so after a quiet night a wire kept the night's pace through
# its morning rise (bench/newsroom.py at 10x from 06:00: polls 100-150 s apart until about
# 07:15 while the plan's floor was 50 s). The median of the newest 3 sees a rise as soon as
# two short gaps follow each other (8 took 4 items: the first 45 minutes of a slow morning);
# the shorter of the two medians is taken, so a rise speeds polling up at once and a lull
# slows it down only as the long median follows. Over 20 jitter seeds of a cold start at
# 06:00 the 5-minute wires' worst p95 wait fell from 52-77 s to 52-53 s, for 1 % more polls
# a day (bench/pollsim.py's timetables).
RHYTHM_RECENT = 3
JITTER = 0.1  # +-10% of every delay, so sources drift apart instead of firing together
# Polls per typical gap between publications: the wait for a new item is up to one interval,
# so 4 keeps a busy wire's p95 under a minute (bench/newsroom.py; 2 gave 80-110 s) for about
# 1.7x the requests, most of them answered 304.
POLLS_PER_GAP = 4


@dataclass(frozen=True)
class Health:
    """What the database knows about a source, as the policy needs it."""

    enabled: bool = True
    consecutive_failures: int = 0
    last_attempt_at: datetime | None = None
    last_success_at: datetime | None = None
    last_new_article_at: datetime | None = None
    next_run_at: datetime | None = None
    interval_seconds: float | None = None
    rhythm_seconds: float | None = None


@dataclass(frozen=True)
class Plan:
    next_run_at: datetime
    interval_seconds: float
    backoff_seconds: float
    rhythm_seconds: float | None


def rhythm(entry_times: list[datetime], now: datetime) -> float | None:
    """Typical seconds between the feed's publications now: the median gap of its recent
    entries, or of its newest RHYTHM_RECENT gaps when those are shorter (a wire picking up
    pace after a quiet spell)."""
    recent = sorted(t for t in entry_times if now - RHYTHM_WINDOW <= t <= now)[-RHYTHM_ENTRIES:]
    gaps = [(b - a).total_seconds() for a, b in zip(recent, recent[1:]) if b > a]
    if len(gaps) < 2:
        return None
    return min(statistics.median(gaps), statistics.median(gaps[-RHYTHM_RECENT:]))


def adaptive_interval(base: float, low: float, high: float, rhythm_seconds: float | None,
                      publisher_min: float | None = None) -> float:
    """Poll POLLS_PER_GAP times per expected new article, within [low, high]; a publisher's
    ttl or max-age raises the floor (we never poll a feed more often than it says it changes)."""
    target = rhythm_seconds / POLLS_PER_GAP if rhythm_seconds else base
    interval = min(max(target, low), high)
    if publisher_min:
        interval = max(interval, min(publisher_min, 86400.0))
    return max(interval, MIN_INTERVAL)


def backoff(failures: int, interval: float, cap: float, retry_after: float | None = None) -> float:
    """Exponential back-off after `failures` failed crawls in a row, capped; Retry-After wins."""
    if failures <= 0:
        delay = 0.0
    else:
        delay = min(interval * 2 ** min(failures, 30), max(cap, interval))
    return max(delay, retry_after or 0.0)


def jittered(seconds: float, unit_random: float) -> float:
    """`unit_random` in [0, 1) moves the delay by up to +-JITTER of itself."""
    return max(MIN_INTERVAL, seconds * (1 + JITTER * (2 * unit_random - 1)))


def plan_after_crawl(now: datetime, base: float, low: float, high: float, health: Health,
                     entry_rhythm: float | None, publisher_min: float | None,
                     retry_after: float | None, max_backoff: float, unit_random: float,
                     started: datetime | None = None) -> Plan:
    """The next run after a crawl whose outcome is already in `health`, counted from the
    crawl's start (`started`, when given): fetching and storing what the feed listed must not
    stretch the gap between two polls (at 10x compression it added 20-45 s to a 5-minute wire's
    p95), but the next poll never comes sooner than MIN_INTERVAL after this crawl ended."""
    rhythm_seconds = entry_rhythm or health.rhythm_seconds
    interval = adaptive_interval(base, low, high, rhythm_seconds, publisher_min)
    delay = backoff(health.consecutive_failures, interval, max_backoff, retry_after)
    wait = jittered(delay or interval, unit_random)
    if retry_after:
        wait = max(wait, retry_after)
    next_run = max((started or now) + timedelta(seconds=wait),
                   now + timedelta(seconds=MIN_INTERVAL))
    return Plan(next_run, interval, delay, rhythm_seconds)


def first_run(now: datetime, health: Health, interval: float, spread: float,
              unit_random: float) -> datetime:
    """At start: keep a stored future slot (a recent success waits for its turn), else run
    soon, spread over `spread` seconds so sources do not all fire at once."""
    if health.next_run_at and health.next_run_at > now:
        return health.next_run_at
    if health.last_success_at and health.consecutive_failures == 0:
        due = health.last_success_at + timedelta(seconds=interval)
        if due > now:
            return due
    return now + timedelta(seconds=spread * unit_random)


def is_stale(now: datetime, health: Health, interval: float, factor: float) -> bool:
    """No new article for far longer than the source's usual rhythm."""
    since = health.last_new_article_at or health.last_success_at
    if since is None or health.last_success_at is None:
        return False
    usual = max(health.rhythm_seconds or 0.0, interval)
    return (now - since).total_seconds() > factor * max(usual, 3600.0)


def configured_state(now: datetime, health: Health, base_seconds: float | None,
                     stale_factor: float) -> str:
    """`state` of a stored source; `base_seconds` is its schedule's base interval, None when
    it is no longer configured ("removed")."""
    if base_seconds is None:
        return "removed"
    return state(now, health, health.interval_seconds or base_seconds, stale_factor)


def state(now: datetime, health: Health, interval: float, stale_factor: float) -> str:
    """One word an operator reads at a glance."""
    if not health.enabled:
        return "disabled"
    if health.last_attempt_at is None:
        return "new"
    if health.consecutive_failures:
        return "failing" if health.last_success_at else "down"
    if is_stale(now, health, interval, stale_factor):
        return "stale"
    return "ok"
