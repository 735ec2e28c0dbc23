"""The write path: every function is one step inside the caller's transaction.

Identity is checked before insert and guarded by unique constraints, so storing the same
thing twice changes timestamps, never row counts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from aggregator import records
from aggregator.db.models import (
    Article, Crawl, FeedEntry, Fetch, ProvenanceLink, Screenshot, Source, utcnow,
)
from aggregator.sources import Source as SourceConfig


@dataclass(frozen=True)
class PendingEntry:
    """A feed entry whose page still has to be fetched."""

    id: int
    entry: records.FeedEntry


def sync_source(session: Session, config: SourceConfig) -> int:
    """Insert or refresh the row of a configured source; return its id."""
    row = session.scalar(select(Source).where(Source.name == config.name))
    fields = {
        "title": config.title,
        "kind": config.kind,
        "url": config.url,
        "language": config.language,
        "enabled": config.enabled,
    }
    if row is None:
        row = Source(name=config.name, **fields)
        session.add(row)
    elif any(getattr(row, k) != v for k, v in fields.items()):
        if row.url != config.url:  # validators of another URL mean nothing here
            row.etag = row.last_modified = None
        for key, value in fields.items():
            setattr(row, key, value)
        row.updated_at = utcnow()
    session.flush()
    return row.id


def validators(session: Session, source_id: int) -> tuple[str | None, str | None]:
    row = session.get(Source, source_id)
    return row.etag, row.last_modified


def add_fetch(session: Session, source_id: int, fetch: records.FetchRecord) -> int:
    row = Fetch(
        source_id=source_id,
        kind=fetch.kind,
        url=fetch.url,
        final_url=fetch.final_url,
        status=fetch.status,
        content_type=(fetch.content_type or "")[:200] or None,
        etag=fetch.etag,
        last_modified=fetch.last_modified,
        fetched_at=fetch.fetched_at,
        size=fetch.size,
        sha256=fetch.sha256,
        duration_ms=fetch.duration_ms,
    )
    session.add(row)
    session.flush()
    return row.id


def save_validators(session: Session, source_id: int, fetch: records.FetchRecord) -> None:
    row = session.get(Source, source_id)
    row.etag, row.last_modified = fetch.etag, fetch.last_modified


def upsert_entries(
    session: Session, source_id: int, fetch_id: int, entries: tuple[records.FeedEntry, ...]
) -> int:
    """Record feed entries; return how many were new. Known ones get `last_seen_at` bumped."""
    now = utcnow()
    guids = [e.guid for e in entries]
    known = {
        row.guid: row
        for row in session.scalars(
            select(FeedEntry).where(FeedEntry.source_id == source_id, FeedEntry.guid.in_(guids))
        )
    }
    new = 0
    for entry in entries:
        row = known.get(entry.guid)
        if row is not None:
            row.last_seen_at = now
            continue
        article_id = session.scalar(
            select(Article.id).where(Article.source_id == source_id, Article.url == entry.link)
        )
        session.add(
            FeedEntry(
                source_id=source_id,
                fetch_id=fetch_id,
                guid=entry.guid,
                link=entry.link,
                title=entry.title,
                summary=entry.summary,
                published_at=entry.published_at,
                updated_at=entry.updated_at,
                authors=list(entry.authors),
                categories=list(entry.categories),
                image_url=entry.image_url,
                first_seen_at=now,
                last_seen_at=now,
                status="stored" if article_id else "pending",
                article_id=article_id,
            )
        )
        new += article_id is None
    session.flush()
    return new


def pending_entries(session: Session, source_id: int, max_attempts: int) -> list[PendingEntry]:
    """Entries without a stored article that may still be tried, oldest first."""
    rows = session.scalars(
        select(FeedEntry)
        .where(
            FeedEntry.source_id == source_id,
            FeedEntry.status == "pending",
            FeedEntry.attempts < max_attempts,
        )
        .order_by(FeedEntry.id)
    )
    return [
        PendingEntry(
            row.id,
            records.FeedEntry(
                guid=row.guid,
                link=row.link,
                title=row.title,
                summary=row.summary,
                published_at=row.published_at,
                updated_at=row.updated_at,
                authors=tuple(row.authors or ()),
                categories=tuple(row.categories or ()),
                image_url=row.image_url,
            ),
        )
        for row in rows
    ]


def entry_failed(session: Session, entry_ids: list[int], reason: str, max_attempts: int) -> None:
    for row in session.scalars(select(FeedEntry).where(FeedEntry.id.in_(entry_ids))):
        row.attempts += 1
        row.last_error = reason[:2000]
        if row.attempts >= max_attempts:
            row.status = "failed"


def entry_skipped(session: Session, entry_ids: list[int], reason: str) -> None:
    session.execute(
        update(FeedEntry)
        .where(FeedEntry.id.in_(entry_ids))
        .values(status="skipped", last_error=reason[:2000])
    )


@dataclass(frozen=True)
class StoredArticle:
    id: int
    created: bool


def upsert_article(
    session: Session,
    source_id: int,
    fetch_id: int,
    entry_ids: list[int],
    article: records.ArticleDraft,
    canonical: str,
    guid: str | None,
    content_hash: str,
    fetched_at: datetime,
) -> StoredArticle:
    """Insert the article, or refresh the stored one with the same (source, url)."""
    now = utcnow()
    row = session.scalar(
        select(Article).where(Article.source_id == source_id, Article.url == article.url)
    )
    created = row is None
    if created:
        row = Article(source_id=source_id, url=article.url, first_seen_at=now)
        session.add(row)
    row.fetch_id = fetch_id
    row.feed_entry_id = row.feed_entry_id or (entry_ids[0] if entry_ids else None)
    row.canonical_url = canonical
    row.guid = row.guid or guid
    row.title = article.title
    row.authors = list(article.authors)
    row.published_at = article.published_at
    row.updated_at = article.updated_at
    row.language = article.language
    row.description = article.description
    row.image_url = article.image_url
    row.categories = list(article.categories)
    row.tags = list(article.tags)
    row.text = article.text
    row.content_hash = content_hash
    row.fetched_at = fetched_at
    row.last_seen_at = now
    session.flush()
    if entry_ids:
        session.execute(
            update(FeedEntry)
            .where(FeedEntry.id.in_(entry_ids))
            .values(status="stored", article_id=row.id, last_error=None)
        )
    return StoredArticle(row.id, created)


def add_links(session: Session, article_id: int, links: list[tuple[str, str, str | None]]) -> None:
    """Attach provenance links (kind, url, label), skipping ones already there."""
    existing = set(
        session.execute(
            select(ProvenanceLink.kind, ProvenanceLink.url).where(
                ProvenanceLink.article_id == article_id
            )
        ).all()
    )
    for kind, url, label in links:
        if (kind, url) not in existing:
            existing.add((kind, url))
            session.add(ProvenanceLink(article_id=article_id, kind=kind, url=url, label=label))
    session.flush()


def enqueue_screenshot(session: Session, article_id: int, fetch_id: int, url: str) -> None:
    """Queue a capture of the article's page; the worker takes it after this commit."""
    now = utcnow()
    session.add(Screenshot(article_id=article_id, fetch_id=fetch_id, requested_url=url,
                           requested_at=now, next_attempt_at=now, outcome="pending", attempts=0))


def start_crawl(session: Session, source_id: int, started_at: datetime) -> int:
    session.get(Source, source_id).last_attempt_at = started_at
    crawl = Crawl(source_id=source_id, started_at=started_at)
    session.add(crawl)
    session.flush()
    return crawl.id


def finish_crawl(session: Session, crawl_id: int, summary: records.CrawlSummary, outcome: str) -> None:
    """Close the crawl row and update the source's health."""
    crawl = session.get(Crawl, crawl_id)
    crawl.finished_at = utcnow()
    crawl.outcome = outcome
    crawl.fetched, crawl.new = summary.fetched, summary.new
    crawl.unchanged, crawl.failed = summary.unchanged, summary.failed
    crawl.error = "; ".join(summary.errors)[:2000] or None
    source = session.get(Source, crawl.source_id)
    if outcome == "failed":
        source.consecutive_failures += 1
        source.last_error = crawl.error
    else:
        source.consecutive_failures = 0
        source.last_success_at = crawl.finished_at
        source.last_error = crawl.error


