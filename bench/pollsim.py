"""The polling policy alone on the newsroom's timetables: `python -m bench.pollsim`.

No daemon, no clock: each 5-minute wire of bench/newsroom_sites.py publishes two simulated days
(the first warms the rhythm up); the policy (`aggregator.policy`) plans every poll from the
entries the feed shows at that moment, as the scheduler does; an item waits until the first
poll after it. Prints the p95 wait over the second day and over its 06:00-10:00 morning, and
the polls a day: what the policy gives when fetching and storing take no time, the floor the
daemon's own figures (bench/newsroom.py) are compared with.
"""

from __future__ import annotations

import bisect
import random
from datetime import timedelta

from aggregator import policy
from bench.newsroom_sites import PUBLISHERS, SIM_EPOCH, Publisher, timetable

DAY = 86400.0
EVERY = {"5m": 300.0, "10m": 600.0, "15m": 900.0}


def polls(publisher: Publisher, times: list[float], seconds: float, seed: int) -> list[float]:
    """Poll times: the rhythm is learnt from the feed's items when it changed (a 304 keeps the
    last one), the interval is the policy's, jittered."""
    every = EVERY[publisher.every]
    low, high = max(every / 6, policy.MIN_INTERVAL), every * 6
    publisher_min = (publisher.ttl_minutes or 0) * 60 or publisher.max_age
    rng, out, t, rhythm, seen = random.Random(seed), [], 0.0, None, 0
    while t < seconds:
        out.append(t)
        shown = bisect.bisect_right(times, t)
        if shown != seen:  # the scheduler's rule, on the items the feed shows now
            feed = [SIM_EPOCH + timedelta(seconds=x)
                    for x in times[max(0, shown - publisher.feed_items):shown]]
            rhythm = policy.rhythm(feed, SIM_EPOCH + timedelta(seconds=t)) or rhythm
            seen = shown
        interval = policy.adaptive_interval(every, low, high, rhythm, publisher_min)
        t += policy.jittered(interval, rng.random())
    return out


def p95_wait(times: list[float], planned: list[float], start: float, end: float) -> float:
    waits = sorted(planned[k] - x for x in times if start <= x < end
                   and (k := bisect.bisect_left(planned, x)) < len(planned))
    return round(waits[int(0.95 * (len(waits) - 1))], 1) if waits else 0.0


def main() -> None:
    print(f"{'source':<10} {'every':>5} {'p95 day s':>9} {'p95 06-10 s':>11} {'polls/day':>9}")
    for publisher in (p for p in PUBLISHERS if p.every == "5m"):
        times = timetable(publisher, 2 * DAY, 1.0, seed=1)
        planned = polls(publisher, times, 2 * DAY, seed=1)
        day = p95_wait(times, planned, DAY, 2 * DAY)
        morning = p95_wait(times, planned, DAY + 6 * 3600, DAY + 10 * 3600)
        count = sum(DAY <= t < 2 * DAY for t in planned)
        print(f"{publisher.name:<10} {publisher.every:>5} {day:>9} {morning:>11} {count:>9}")


if __name__ == "__main__":
    main()
