"""Sitemap and listing pages a source was walked through: lastmods seen, backfill frontier."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from aggregator.db.models import DiscoveryPage, Source, utcnow


def walked(session: Session, source_id: int, urls: list[str]) -> dict[str, datetime | None]:
    """url -> the lastmod it had when last walked, for those of `urls` already walked."""
    rows = session.execute(select(DiscoveryPage.url, DiscoveryPage.lastmod).where(
        DiscoveryPage.source_id == source_id, DiscoveryPage.url.in_(urls),
        DiscoveryPage.status == "walked"))
    return dict(rows.all())


def plan(session: Session, source_id: int, kind: str,
         pages: list[tuple[str, datetime | None]]) -> None:
    """Put (url, lastmod) pages on the backfill frontier; a page walked before goes back."""
    known = {row.url: row for row in session.scalars(select(DiscoveryPage).where(
        DiscoveryPage.source_id == source_id, DiscoveryPage.url.in_([u for u, _ in pages])))}
    for url, lastmod in pages:
        row = known.get(url)
        if row is None:
            session.add(DiscoveryPage(source_id=source_id, url=url, kind=kind, status="pending",
                                      lastmod=lastmod, entries=0, found_at=utcnow()))
        else:
            row.status, row.lastmod = "pending", lastmod
    session.flush()


def frontier(session: Session, source_id: int) -> list[tuple[str, str]]:
    """(url, kind) of pages a backfill planned and has not walked yet, in the order found."""
    rows = session.execute(select(DiscoveryPage.url, DiscoveryPage.kind).where(
        DiscoveryPage.source_id == source_id, DiscoveryPage.status == "pending")
        .order_by(DiscoveryPage.id))
    return [tuple(r) for r in rows.all()]


def mark_walked(session: Session, source_id: int, url: str, kind: str,
                lastmod: datetime | None, entries: int) -> None:
    row = session.scalar(select(DiscoveryPage).where(
        DiscoveryPage.source_id == source_id, DiscoveryPage.url == url))
    if row is None:
        row = DiscoveryPage(source_id=source_id, url=url, kind=kind, found_at=utcnow())
        session.add(row)
    row.status, row.entries, row.walked_at = "walked", entries, utcnow()
    row.lastmod = lastmod or row.lastmod
    session.flush()


def planned(session: Session, source_name: str) -> int:
    """Pages a backfill of the named source has planned and not walked yet."""
    return session.scalar(select(func.count()).select_from(DiscoveryPage)
                          .join(Source, Source.id == DiscoveryPage.source_id)
                          .where(Source.name == source_name, DiscoveryPage.status == "pending"))
