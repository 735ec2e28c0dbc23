"""The screenshot queue and its metadata: claim due captures, record outcomes, read them back.

A claim bumps `attempts` and pushes `next_attempt_at` past a lease in the same transaction, so
two workers never take the same row and a worker that dies mid-capture gives it back later.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from aggregator.db.models import Article, Screenshot, Source
from aggregator.leases import lease_host
from aggregator.records import Capture, CaptureJob
from aggregator.views import ScreenshotView
from aggregator.vocabulary import CaptureOutcome

_CAPTURE_FIELDS = (
    "final_url", "http_status", "page_title", "width", "height", "sha256", "format", "path",
    "thumbnail_path", "viewport_width", "viewport_height", "full_page", "settled",
    "captured_at", "browser", "browser_version", "duration_ms",
)


def claim(session: Session, limit: int, now: datetime, lease: timedelta,
          sources: set[str] | None = None, room: Callable[[str], int] | None = None,
          ) -> list[CaptureJob]:
    """Take up to `limit` due pending captures, oldest due first; only of `sources` (those
    whose host lease this node holds) when given, and no more per host than `room(host)`."""
    query = (
        select(Screenshot, Source.name)
        .join(Article, Article.id == Screenshot.article_id)
        .join(Source, Source.id == Article.source_id)
        .where(Screenshot.outcome == CaptureOutcome.PENDING, Screenshot.next_attempt_at <= now)
        .order_by(Screenshot.next_attempt_at, Screenshot.id)
        .limit(limit if room is None else limit * 8)
        .with_for_update(of=Screenshot, skip_locked=True)
    )
    if sources is not None:
        query = query.where(Source.name.in_(sorted(sources)))
    rows = session.execute(query).all()
    if room is not None:
        rows = within_room(rows, limit, room)
    jobs = []
    for shot, source in rows:
        shot.attempts += 1
        shot.next_attempt_at = now + lease
        jobs.append(CaptureJob(shot.id, shot.article_id, source, shot.requested_url, shot.attempts))
    return jobs


def within_room(rows: list, limit: int, room: Callable[[str], int]) -> list:
    """The oldest rows whose host still has room, at most `limit`."""
    taken: dict[str, int] = {}
    picked = []
    for row in rows:
        host = lease_host(row[0].requested_url)
        if taken.get(host, 0) < room(host) and len(picked) < limit:
            taken[host] = taken.get(host, 0) + 1
            picked.append(row)
    return picked


def record_capture(session: Session, screenshot_id: int, capture: Capture) -> None:
    row = session.get(Screenshot, screenshot_id)
    for name in _CAPTURE_FIELDS:
        setattr(row, name, getattr(capture, name))
    row.bytes = capture.size
    row.outcome, row.error, row.next_attempt_at = CaptureOutcome.CAPTURED, None, None


def record_failure(
    session: Session, screenshot_id: int, reason: str, retry_at: datetime | None
) -> None:
    """Keep the reason; the row stays pending until `retry_at`, or is failed when None."""
    row = session.get(Screenshot, screenshot_id)
    row.error = reason[:2000]
    row.next_attempt_at = retry_at
    row.outcome = CaptureOutcome.PENDING if retry_at else CaptureOutcome.FAILED


def requeue_failed(session: Session, now: datetime, article_id: int | None = None) -> int:
    """Give failed captures a fresh set of attempts; return how many."""
    query = update(Screenshot).where(Screenshot.outcome == CaptureOutcome.FAILED)
    if article_id is not None:
        query = query.where(Screenshot.article_id == article_id)
    done = session.execute(query.values(outcome=CaptureOutcome.PENDING, attempts=0,
                                        next_attempt_at=now))
    return done.rowcount


def outcome_counts(session: Session) -> dict[str, int]:
    rows = session.execute(select(Screenshot.outcome, func.count()).group_by(Screenshot.outcome))
    return dict(rows.all())


def _view(row: Screenshot) -> ScreenshotView:
    capture = None
    if row.outcome == CaptureOutcome.CAPTURED:
        capture = Capture(size=row.bytes, **{name: getattr(row, name) for name in _CAPTURE_FIELDS})
    return ScreenshotView(
        id=row.id, article_id=row.article_id, requested_url=row.requested_url,
        outcome=CaptureOutcome(row.outcome), attempts=row.attempts, requested_at=row.requested_at,
        next_attempt_at=row.next_attempt_at, error=row.error, capture=capture,
    )


def latest_for(session: Session, article_ids: list[int]) -> dict[int, ScreenshotView]:
    """The newest screenshot row of each article that has one."""
    out: dict[int, ScreenshotView] = {}
    rows = session.scalars(
        select(Screenshot).where(Screenshot.article_id.in_(article_ids)).order_by(Screenshot.id)
    )
    for row in rows:
        out[row.article_id] = _view(row)
    return out


def listing(session: Session, outcome: CaptureOutcome | None = None,
            limit: int = 50) -> list[ScreenshotView]:
    """Newest first, optionally only one outcome."""
    query = select(Screenshot).order_by(Screenshot.id.desc()).limit(limit)
    if outcome is not None:
        query = query.where(Screenshot.outcome == outcome)
    return [_view(row) for row in session.scalars(query)]
