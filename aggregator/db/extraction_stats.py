"""Daily extraction counters per source, and the recent and baseline windows status compares."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from aggregator.db.models import ExtractionStat
from aggregator.quality import COUNTERS, Outcomes

RECENT_DAYS = 2  # today and yesterday
BASELINE_DAYS = 14  # the two weeks before that


def count(session: Session, source_id: int, day: date, outcomes: Outcomes) -> None:
    row = session.scalar(select(ExtractionStat).where(
        ExtractionStat.source_id == source_id, ExtractionStat.day == day))
    if row is None:
        row = ExtractionStat(source_id=source_id, day=day, **{k: 0 for k in COUNTERS})
        session.add(row)
    for key in COUNTERS:
        setattr(row, key, getattr(row, key) + getattr(outcomes, key))
    session.flush()


def windows(session: Session, today: date) -> dict[int, tuple[Outcomes, Outcomes]]:
    """source id -> (recent outcomes, baseline outcomes)."""
    split = today - timedelta(days=RECENT_DAYS - 1)
    first = split - timedelta(days=BASELINE_DAYS)
    out: dict[int, tuple[Outcomes, Outcomes]] = {}
    for row in session.scalars(select(ExtractionStat).where(ExtractionStat.day >= first)):
        recent, baseline = out.get(row.source_id, (Outcomes(), Outcomes()))
        counted = Outcomes(*(getattr(row, k) for k in COUNTERS))
        if row.day >= split:
            recent += counted
        else:
            baseline += counted
        out[row.source_id] = (recent, baseline)
    return out
