"""Writes that outlive a database restart or lock: classify the failure, wait, try again.

A write that fails because the server is down, restarting or the SQLite file is locked is not
the article's fault: it is retried with doubling waits, and the outage is kept here so
/healthz can report it while it lasts. Any other error is the caller's to handle.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

from aggregator.db.engine import redact

log = logging.getLogger(__name__)
T = TypeVar("T")
FIRST_DELAY = 0.5


def transient(exc: BaseException) -> bool:
    """True for 'the database is not there right now' (refused, terminated, locked)."""
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    return isinstance(exc, (OperationalError, InterfaceError))


class Outage:
    """Since when writes fail, why, and how many writes wait for the database."""

    def __init__(self) -> None:
        self.since: float | None = None
        self.error: str | None = None
        self.waiting = 0
        self.retries = 0

    def failed(self, exc: BaseException) -> None:
        self.retries += 1
        self.error = redact(str(getattr(exc, "orig", None) or exc)).splitlines()[0][:300]
        if self.since is None:
            self.since = time.time()
            log.error("database writes failing, retrying with back-off: %s", self.error)

    def recovered(self) -> None:
        if self.since is not None:
            log.warning("database writes work again after %.1fs (%d retries)",
                        time.time() - self.since, self.retries)
            self.since, self.error = None, None

    def snapshot(self) -> dict | None:
        """For /healthz: None while writes work."""
        if self.since is None:
            return None
        return {"since": round(self.since, 3), "seconds": round(time.time() - self.since, 1),
                "error": self.error, "writes_waiting": self.waiting}


async def retry_write(outage: Outage, write: Callable[[], T], max_delay: float) -> T:
    """Run `write` (one whole transaction) until it succeeds or fails for another reason.
    Each attempt runs in a thread: a locked SQLite file blocks for its busy timeout, and the
    reactor (and /healthz) must go on meanwhile."""
    return await retry_async(outage, lambda: asyncio.to_thread(write), max_delay)


async def retry_async(outage: Outage, attempt: Callable[[], Awaitable[T]], max_delay: float) -> T:
    """Await `attempt()` (a write done elsewhere, e.g. by the batch writer's thread) until it
    succeeds or fails for another reason than the database being away."""
    delay = FIRST_DELAY
    outage.waiting += 1
    try:
        while True:
            try:
                result = await attempt()
            except Exception as exc:
                if not transient(exc):
                    raise
                outage.failed(exc)
                await asyncio.sleep(delay)
                delay = min(delay * 2, max_delay)
                continue
            outage.recovered()
            return result
    finally:
        outage.waiting -= 1
