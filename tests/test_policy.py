"""Scheduling policy: rhythm, adaptive interval, back-off, first run, staleness (no I/O)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from aggregator import policy
from aggregator.policy import Health

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=timezone.utc)


def every(minutes: float, count: int) -> list[datetime]:
    return [NOW - timedelta(minutes=minutes * i) for i in range(count)]


def test_rhythm_is_the_median_gap_of_recent_entries():
    assert policy.rhythm(every(6, 20), NOW) == 360
    assert policy.rhythm(every(6, 2), NOW) is None  # too little to tell
    old = [NOW - timedelta(days=30 + i) for i in range(10)]
    assert policy.rhythm(old, NOW) is None


def test_busy_wire_polls_faster_weekly_column_slower_within_bounds():
    base, low, high = 600, 120, 7200
    assert policy.adaptive_interval(base, low, high, rhythm_seconds=720) == 180
    assert policy.adaptive_interval(base, low, high, rhythm_seconds=60) == low
    assert policy.adaptive_interval(base, low, high, rhythm_seconds=7 * 86400) == high
    assert policy.adaptive_interval(base, low, high, rhythm_seconds=None) == base


def test_publisher_ttl_and_max_age_raise_the_floor():
    assert policy.adaptive_interval(600, 120, 7200, 720, publisher_min=1800) == 1800
    assert policy.adaptive_interval(600, 120, 7200, 720, publisher_min=60) == 180


def test_backoff_doubles_is_capped_and_yields_to_retry_after():
    assert [policy.backoff(n, 60, cap=600) for n in range(6)] == [0, 120, 240, 480, 600, 600]
    assert policy.backoff(1, 60, cap=600, retry_after=900) == 900
    assert policy.backoff(0, 60, cap=600, retry_after=30) == 30


@pytest.mark.parametrize("unit", [0.0, 0.5, 0.999])
def test_jitter_stays_within_ten_percent(unit):
    assert 90 <= policy.jittered(100, unit) <= 110


def test_plan_after_failures_backs_off_and_recovers():
    failing = Health(consecutive_failures=3, last_attempt_at=NOW)
    plan = policy.plan_after_crawl(NOW, 60, 60, 60, failing, None, None, None, 3600, 0.5)
    assert plan.backoff_seconds == 480 and plan.next_run_at == NOW + timedelta(seconds=480)
    healthy = Health(consecutive_failures=0, last_attempt_at=NOW, last_success_at=NOW)
    plan = policy.plan_after_crawl(NOW, 60, 60, 60, healthy, None, None, None, 3600, 0.5)
    assert plan.backoff_seconds == 0 and plan.next_run_at == NOW + timedelta(seconds=60)


def test_retry_after_is_never_undercut_by_jitter():
    failing = Health(consecutive_failures=1)
    plan = policy.plan_after_crawl(NOW, 60, 60, 60, failing, None, None, 1000, 3600, 0.0)
    assert plan.next_run_at >= NOW + timedelta(seconds=1000)


def test_first_run_after_restart_waits_for_a_recent_success():
    recent = Health(last_success_at=NOW - timedelta(minutes=2), last_attempt_at=NOW)
    assert policy.first_run(NOW, recent, 600, 30, 0.5) == NOW + timedelta(minutes=8)
    stored = Health(next_run_at=NOW + timedelta(minutes=5))
    assert policy.first_run(NOW, stored, 600, 30, 0.5) == NOW + timedelta(minutes=5)
    never = Health()
    assert NOW <= policy.first_run(NOW, never, 600, 30, 0.5) <= NOW + timedelta(seconds=30)


def test_state_reads_at_a_glance():
    assert policy.state(NOW, Health(), 600, 4) == "new"
    assert policy.state(NOW, Health(enabled=False), 600, 4) == "disabled"
    down = Health(last_attempt_at=NOW, consecutive_failures=2)
    assert policy.state(NOW, down, 600, 4) == "down"
    failing = Health(last_attempt_at=NOW, last_success_at=NOW - timedelta(hours=1),
                     consecutive_failures=1)
    assert policy.state(NOW, failing, 600, 4) == "failing"
    quiet = Health(last_attempt_at=NOW, last_success_at=NOW,
                   last_new_article_at=NOW - timedelta(hours=5), rhythm_seconds=600)
    assert policy.state(NOW, quiet, 600, 4) == "stale"
    fresh = Health(last_attempt_at=NOW, last_success_at=NOW,
                   last_new_article_at=NOW - timedelta(hours=1), rhythm_seconds=600)
    assert policy.state(NOW, fresh, 600, 4) == "ok"


def test_the_next_poll_is_counted_from_the_crawls_start():
    healthy = Health(consecutive_failures=0, last_attempt_at=NOW, last_success_at=NOW)
    ended = NOW + timedelta(seconds=20)  # the crawl fetched and stored its new articles
    plan = policy.plan_after_crawl(ended, 300, 50, 1800, healthy, 200.0, None, None, 3600, 0.5,
                                   started=NOW)
    assert plan.next_run_at == NOW + timedelta(seconds=50)  # not 50 s after it ended
    slow = NOW + timedelta(seconds=90)  # a crawl longer than the interval
    plan = policy.plan_after_crawl(slow, 300, 50, 1800, healthy, 200.0, None, None, 3600, 0.5,
                                   started=NOW)
    assert plan.next_run_at == slow + timedelta(seconds=policy.MIN_INTERVAL)


def test_a_wire_picking_up_pace_is_polled_at_its_new_pace():
    """After a quiet night a feed's 30 newest entries are mostly the night's (here 30 min
    apart) and only the morning's first few come faster (4 min apart). The median of all their
    gaps kept the night's pace until half the feed was the morning's: a 5-minute wire was
    polled every 450 s instead of at its 60 s (bench/newsroom.py at 10x from 06:00: polls of
    pravda and unian 100-150 simulated s apart until 07:15, p95 delay 75-84 s). The newest
    gaps set the pace as soon as they are shorter, from the morning's third item (two short
    gaps in a row); a lull slows polling only as the long median follows."""
    night = [NOW - timedelta(minutes=20 + 30 * i) for i in range(25)]
    morning = [NOW - timedelta(minutes=4 * i) for i in range(5)]
    assert policy.rhythm(night + morning, NOW) == 240
    assert policy.rhythm(night + morning[:3], NOW) == 240
    assert policy.rhythm(night + morning[:2], NOW) > 240  # one short gap is not a pace yet
    healthy = Health(consecutive_failures=0, last_attempt_at=NOW, last_success_at=NOW)
    plan = policy.plan_after_crawl(NOW, 300, 50, 1800, healthy,
                                   policy.rhythm(night + morning, NOW), None, None, 3600, 0.5)
    assert plan.next_run_at == NOW + timedelta(seconds=60)
    day = [NOW - timedelta(minutes=90 + 4 * i) for i in range(27)]
    lull = [NOW - timedelta(minutes=30 * i) for i in range(3)]  # the last three 30 min apart
    assert policy.rhythm(day + lull, NOW) == 240
