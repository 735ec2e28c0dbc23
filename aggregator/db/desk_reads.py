"""Read queries of the desk besides stories: the change stream, a screenshot by its hash,
articles a day per source. Plain records out; the web process never writes."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from aggregator.db.models import Change, ExtractionStat, Screenshot
from aggregator.views import ChangeView, DailyCount


def changes(session: Session, after: int, limit: int) -> list[ChangeView]:
    """Changes with an id above `after`, oldest first. Ids follow commit order (migration
    0008), so a consumer that continues from the last id it saw misses none."""
    rows = session.scalars(select(Change).where(Change.id > after)
                           .order_by(Change.id).limit(limit))
    return [ChangeView(r.id, r.kind, r.changed_at, r.article_id, r.story_id, r.merged_story_id,
                       r.revision, r.screenshot_id) for r in rows]


def screenshot_file(session: Session, sha256: str, thumbnail: bool = False
                    ) -> tuple[str, str] | None:
    """(path relative to the data directory, format) of the captured image with this hash,
    or of its thumbnail."""
    column = Screenshot.thumbnail_path if thumbnail else Screenshot.path
    row = session.execute(
        select(column.label("path"), Screenshot.format)
        .where(Screenshot.sha256 == sha256, Screenshot.outcome == "captured").limit(1)
    ).first()
    return (row.path, row.format) if row and row.path else None


def daily_articles(session: Session, today: date, days: int = 14) -> dict[int, list[DailyCount]]:
    """source id -> articles stored per UTC day over the last `days` days (oldest first),
    from the extraction counters (pages with usable text), zero-filled."""
    first = today - timedelta(days=days - 1)
    counts: dict[int, dict[date, int]] = {}
    for row in session.scalars(select(ExtractionStat).where(ExtractionStat.day >= first)):
        stored = row.pages - row.empty_text - row.short_text
        counts.setdefault(row.source_id, {})[row.day] = max(stored, 0)
    span = [first + timedelta(days=i) for i in range(days)]
    return {sid: [DailyCount(d, by_day.get(d, 0)) for d in span] for sid, by_day in counts.items()}
