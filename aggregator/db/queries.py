"""Read queries for the CLI and the export; they return plain records, never ORM rows."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from aggregator.db import capture_queue, extraction_stats, translations
from aggregator.db.models import (
    Article,
    ArticleRevision,
    FeedEntry,
    Fetch,
    ProvenanceLink,
    Source,
    Story,
)
from aggregator.db.store import health
from aggregator.quality import Outcomes
from aggregator.records import WarcPointer
from aggregator.views import (
    ArticleView,
    CopyView,
    LinkView,
    RevisionView,
    ScreenshotView,
    SourceStatus,
    StoryFacts,
    TranslationView,
)
from aggregator.vocabulary import EntryStatus, LinkKind


def _view(article: Article, source: Source, links: list[LinkView],
          story: StoryFacts, shot: ScreenshotView | None,
          translated: list[TranslationView]) -> ArticleView:
    return ArticleView(
        id=article.id, source=source.name, source_title=source.title, url=article.url,
        canonical_url=article.canonical_url, guid=article.guid, title=article.title,
        authors=list(article.authors or []), published_at=article.published_at,
        updated_at=article.updated_at, fetched_at=article.fetched_at,
        first_seen_at=article.first_seen_at, last_seen_at=article.last_seen_at,
        language=article.language, language_confidence=article.language_confidence,
        date_source=article.date_source, date_precision=article.date_precision,
        extraction_path=article.extraction_path, description=article.description,
        image_url=article.image_url, categories=list(article.categories or []),
        tags=list(article.tags or []), text=article.text, content_hash=article.content_hash,
        html=article.html,
        provenance=links, story=story, screenshot=shot, translations=translated,
    )


def _links(session: Session, ids: list[int]) -> dict[int, list[LinkView]]:
    out: dict[int, list[LinkView]] = {i: [] for i in ids}
    rows = session.execute(
        select(ProvenanceLink, Source.name).outerjoin(Source, Source.id == ProvenanceLink.source_id)
        .where(ProvenanceLink.article_id.in_(ids)).order_by(ProvenanceLink.id)
    )
    for link, source in rows:
        out[link.article_id].append(LinkView(LinkKind(link.kind), link.url, link.label, source))
    return out


def _stories(session: Session, articles: list[Article]) -> dict[int, StoryFacts]:
    """Story facts for a batch of articles, in a fixed number of queries."""
    story_ids = {a.story_id for a in articles if a.story_id}
    primaries = dict(session.execute(
        select(Story.id, Story.primary_article_id).where(Story.id.in_(story_ids))).all())
    members: dict[int, list[CopyView]] = {i: [] for i in story_ids}
    for row in session.execute(
        select(Article.id, Article.story_id, Article.url, Source.name, Article.language,
               Article.match_kind).join(Source, Source.id == Article.source_id)
        .where(Article.story_id.in_(story_ids)).order_by(Article.id)
    ):
        members[row.story_id].append(CopyView(row.id, row.url, row.name, row.language,
                                              row.match_kind))
    ids = [a.id for a in articles]
    revisions = dict(session.execute(
        select(ArticleRevision.article_id, func.count()).where(ArticleRevision.article_id.in_(ids))
        .group_by(ArticleRevision.article_id)).all())
    fetches = {f.id: f for f in session.scalars(
        select(Fetch).where(Fetch.id.in_({a.fetch_id for a in articles})))}
    out = {}
    for a in articles:
        others = [m for m in members.get(a.story_id, []) if m.id != a.id]
        fetch = fetches[a.fetch_id]
        out[a.id] = StoryFacts(
            story_id=a.story_id,
            is_primary=primaries.get(a.story_id) == a.id,
            match=a.match_kind,
            duplicates=[m for m in others if m.language == a.language],
            alternates=[m for m in others if m.language != a.language],
            revisions=revisions.get(a.id, 0),
            warc=WarcPointer(fetch.warc_file, fetch.warc_offset, fetch.warc_length,
                             fetch.warc_sha256) if fetch.warc_file else None,
            warc_error=fetch.warc_error,
        )
    return out


def revisions(session: Session, article_id: int) -> list[RevisionView]:
    """Every revision of one article, oldest first."""
    rows = session.scalars(select(ArticleRevision).where(ArticleRevision.article_id == article_id)
                           .order_by(ArticleRevision.number))
    return [RevisionView(r.number, r.fetched_at, r.title, r.text) for r in rows]


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
        links, shots = _links(session, ids), capture_queue.latest_for(session, ids)
        facts = _stories(session, [a for a, _ in chunk])
        translated = translations.for_articles(session, ids)
        for article, src in chunk:
            yield _view(article, src, links[article.id], facts[article.id], shots.get(article.id),
                        translated[article.id])


def get_article(session: Session, article_id: int) -> ArticleView | None:
    row = session.execute(
        select(Article, Source).join(Source, Source.id == Article.source_id)
        .where(Article.id == article_id)
    ).first()
    if row is None:
        return None
    facts = _stories(session, [row[0]])[article_id]
    shot = capture_queue.latest_for(session, [article_id]).get(article_id)
    return _view(row[0], row[1], _links(session, [article_id])[article_id], facts, shot,
                 translations.for_articles(session, [article_id])[article_id])


def source_status(session: Session, now: datetime) -> list[SourceStatus]:
    """Per-source health and counts for `aggregator status`."""
    def counts(*conditions) -> dict[int, int]:
        query = (select(Article.source_id, func.count()).where(*conditions)
                 .group_by(Article.source_id))
        return dict(session.execute(query).all())

    total = counts()
    recent = counts(Article.first_seen_at >= now - timedelta(hours=24))
    pending = dict(session.execute(
        select(FeedEntry.source_id, func.count())
        .where(FeedEntry.status == EntryStatus.PENDING).group_by(FeedEntry.source_id)
    ).all())
    outcomes = extraction_stats.windows(session, now.date())
    empty = (Outcomes(), Outcomes())
    return [
        SourceStatus(s.name, health(session, s.name), total.get(s.id, 0), recent.get(s.id, 0),
                     pending.get(s.id, 0), s.backoff_seconds, s.last_error,
                     *outcomes.get(s.id, empty))
        for s in session.scalars(select(Source).order_by(Source.name))
    ]

