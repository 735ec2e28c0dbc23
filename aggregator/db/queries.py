"""Read queries for the CLI and the export; they return plain records, never ORM rows."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from aggregator.db import screenshots
from aggregator.db.models import Article, FeedEntry, ProvenanceLink, Source
from aggregator.records import ScreenshotView


@dataclass(frozen=True)
class LinkView:
    kind: str
    url: str
    label: str | None


@dataclass(frozen=True)
class ArticleView:
    id: int
    source: str
    source_title: str
    url: str
    canonical_url: str
    guid: str | None
    title: str | None
    authors: list[str]
    published_at: datetime | None
    updated_at: datetime | None
    fetched_at: datetime
    first_seen_at: datetime
    last_seen_at: datetime
    language: str | None
    description: str | None
    image_url: str | None
    categories: list[str]
    tags: list[str]
    text: str
    content_hash: str
    provenance: list[LinkView] = field(default_factory=list)
    screenshot: ScreenshotView | None = None


@dataclass(frozen=True)
class SourceView:
    name: str
    title: str
    enabled: bool
    articles: int
    pending: int
    last_success_at: datetime | None
    last_error: str | None


def _view(
    article: Article, source: Source, links: list[LinkView], shot: ScreenshotView | None
) -> ArticleView:
    return ArticleView(
        id=article.id, source=source.name, source_title=source.title, url=article.url,
        canonical_url=article.canonical_url, guid=article.guid, title=article.title,
        authors=list(article.authors or []), published_at=article.published_at,
        updated_at=article.updated_at, fetched_at=article.fetched_at,
        first_seen_at=article.first_seen_at, last_seen_at=article.last_seen_at,
        language=article.language, description=article.description,
        image_url=article.image_url, categories=list(article.categories or []),
        tags=list(article.tags or []), text=article.text, content_hash=article.content_hash,
        provenance=links, screenshot=shot,
    )


def _links(session: Session, ids: list[int]) -> dict[int, list[LinkView]]:
    out: dict[int, list[LinkView]] = {i: [] for i in ids}
    rows = session.scalars(
        select(ProvenanceLink).where(ProvenanceLink.article_id.in_(ids)).order_by(ProvenanceLink.id)
    )
    for link in rows:
        out[link.article_id].append(LinkView(link.kind, link.url, link.label))
    return out


def iter_articles(
    session: Session,
    since: datetime | None = None,
    source: str | None = None,
    limit: int | None = None,
    newest_first: bool = False,
    batch: int = 500,
) -> Iterator[ArticleView]:
    """Articles first seen at or after `since`, in batches (memory stays flat on big exports)."""
    query = select(Article, Source).join(Source, Source.id == Article.source_id)
    if since is not None:
        query = query.where(Article.first_seen_at >= since)
    if source is not None:
        query = query.where(Source.name == source)
    order = Article.id.desc() if newest_first else Article.id
    query = query.order_by(order).limit(limit)
    rows = session.execute(query.execution_options(yield_per=batch))
    for chunk in rows.partitions():
        ids = [a.id for a, _ in chunk]
        links, shots = _links(session, ids), screenshots.latest_for(session, ids)
        for article, src in chunk:
            yield _view(article, src, links[article.id], shots.get(article.id))


def get_article(session: Session, article_id: int) -> ArticleView | None:
    row = session.execute(
        select(Article, Source).join(Source, Source.id == Article.source_id).where(Article.id == article_id)
    ).first()
    if row is None:
        return None
    shot = screenshots.latest_for(session, [article_id]).get(article_id)
    return _view(row[0], row[1], _links(session, [article_id])[article_id], shot)


def source_overview(session: Session) -> list[SourceView]:
    articles = (
        select(Article.source_id, func.count().label("n")).group_by(Article.source_id).subquery()
    )
    pending = (
        select(FeedEntry.source_id, func.count().label("n"))
        .where(FeedEntry.status == "pending")
        .group_by(FeedEntry.source_id)
        .subquery()
    )
    rows = session.execute(
        select(Source, func.coalesce(articles.c.n, 0), func.coalesce(pending.c.n, 0))
        .outerjoin(articles, articles.c.source_id == Source.id)
        .outerjoin(pending, pending.c.source_id == Source.id)
        .order_by(Source.name)
    )
    return [
        SourceView(s.name, s.title, s.enabled, n, p, s.last_success_at, s.last_error)
        for s, n, p in rows
    ]
