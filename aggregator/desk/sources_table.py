"""The sources status table as the desk shows it: the `aggregator status` facts plus
articles a day over two weeks, one record per source."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from aggregator import policy, quality
from aggregator.db import desk_reads, queries
from aggregator.db.engine import redact
from aggregator.db.models import Source
from aggregator.export import _iso as iso
from aggregator.settings import Settings
from aggregator.sources import load_sources
from aggregator.views import DailyCount, SourceStatus


@dataclass(frozen=True)
class SourceRow:
    status: SourceStatus
    title: str
    state: str
    layout_changed: tuple[str, ...]
    daily: list[DailyCount]

    @property
    def fill(self) -> dict[str, float]:
        return self.status.recent.rates


def rows(session: Session, settings: Settings, now: datetime) -> list[SourceRow]:
    configured = {s.name: s for s in load_sources(settings.sources_dir).sources}
    ids = dict(session.execute(select(Source.name, Source.id)).all())
    titles = dict(session.execute(select(Source.name, Source.title)).all())
    daily = desk_reads.daily_articles(session, now.date())
    out = []
    for status in queries.source_status(session, now):
        source = configured.get(status.name)
        state = policy.configured_state(now, status.health,
                                        source and source.schedule.base_seconds,
                                        settings.stale_factor)
        out.append(SourceRow(status, titles.get(status.name, status.name), state,
                             quality.layout_changed(status.recent, status.baseline),
                             daily.get(ids.get(status.name), [])))
    return out


def payload(row: SourceRow) -> dict[str, Any]:
    st = row.status
    return {
        "name": st.name, "title": row.title, "state": row.state,
        "enabled": st.health.enabled,
        "last_success_at": iso(st.health.last_success_at),
        "next_run_at": iso(st.health.next_run_at),
        "articles": st.articles, "new_24h": st.new_24h, "pending_entries": st.pending,
        "backoff_seconds": st.backoff_seconds,
        "fill": {k: round(v, 3) for k, v in row.fill.items()} or None,
        "layout_changed": list(row.layout_changed),
        "last_error": redact(st.last_error) if st.last_error else None,
        "articles_per_day": [{"day": d.day.isoformat(), "articles": d.articles}
                             for d in row.daily],
    }
