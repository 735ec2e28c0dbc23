"""Sitemap and listing pages a source was walked through: lastmods seen, backfill frontier."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from aggregator.db.models import DiscoveryPage, Source, utcnow
from aggregator.records import FrontierPage, PlannedPage
from aggregator.vocabulary import DiscoveryStatus, FetchKind


def walked(session: Session, source_id: int, urls: list[str]) -> dict[str, datetime | None]:
    """url -> the lastmod it had when last walked, for those of `urls` already walked."""
    rows = session.execute(select(DiscoveryPage.url, DiscoveryPage.lastmod).where(
        DiscoveryPage.source_id == source_id, DiscoveryPage.url.in_(urls),
        DiscoveryPage.status == DiscoveryStatus.WALKED))
    return dict(rows.all())


def plan(session: Session, source_id: int, kind: FetchKind, pages: list[PlannedPage]) -> None:
    """Put pages on the backfill frontier; a page walked before goes back."""
    known = {row.url: row for row in session.scalars(select(DiscoveryPage).where(
        DiscoveryPage.source_id == source_id, DiscoveryPage.url.in_([p.url for p in pages])))}
    for page in pages:
        row = known.get(page.url)
        if row is None:
            session.add(DiscoveryPage(source_id=source_id, url=page.url, kind=kind,
                                      status=DiscoveryStatus.PENDING, lastmod=page.lastmod,
                                      entries=0, found_at=utcnow()))
        else:
            row.status, row.lastmod = DiscoveryStatus.PENDING, page.lastmod
    session.flush()


def frontier(session: Session, source_id: int) -> list[FrontierPage]:
    """Pages a backfill planned and has not walked yet, in the order found."""
    rows = session.execute(select(DiscoveryPage.url, DiscoveryPage.kind).where(
        DiscoveryPage.source_id == source_id, DiscoveryPage.status == DiscoveryStatus.PENDING)
        .order_by(DiscoveryPage.id))
    return [FrontierPage(url, FetchKind(kind)) for url, kind in rows.all()]


def mark_walked(session: Session, source_id: int, url: str, kind: FetchKind,
                lastmod: datetime | None, entries: int) -> None:
    row = session.scalar(select(DiscoveryPage).where(
        DiscoveryPage.source_id == source_id, DiscoveryPage.url == url))
    if row is None:
        row = DiscoveryPage(source_id=source_id, url=url, kind=kind, found_at=utcnow())
        session.add(row)
    row.status, row.entries, row.walked_at = DiscoveryStatus.WALKED, entries, utcnow()
    row.lastmod = lastmod or row.lastmod
    session.flush()


def planned(session: Session, source_name: str) -> int:
    """Pages a backfill of the named source has planned and not walked yet."""
    return session.scalar(select(func.count()).select_from(DiscoveryPage)
                          .join(Source, Source.id == DiscoveryPage.source_id)
                          .where(Source.name == source_name,
                                 DiscoveryPage.status == DiscoveryStatus.PENDING))
