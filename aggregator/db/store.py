"""The write path: every function is one step inside the caller's transaction.

Identity is checked before insert and guarded by unique constraints, so storing the same
thing twice changes timestamps, never row counts.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session

from aggregator import provenance, records
from aggregator.db import batch
from aggregator.db.models import (
    Article,
    Crawl,
    FeedEntry,
    Source,
    utcnow,
)
from aggregator.policy import Health, Plan
from aggregator.records import Link, PendingEntry
from aggregator.sources import Source as SourceConfig
from aggregator.urls import canonical_url, url_key
from aggregator.vocabulary import CrawlOutcome, EntryStatus


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
    return batch.insert_fetches(session, [(source_id, fetch)])[0]


def save_validators(session: Session, source_id: int, fetch: records.FetchRecord) -> None:
    row = session.get(Source, source_id)
    row.etag, row.last_modified = fetch.etag, fetch.last_modified


def clear_validators(session: Session, source_id: int) -> None:
    row = session.get(Source, source_id)
    row.etag = row.last_modified = None


def upsert_entries(
    session: Session, source_id: int, fetch_id: int, entries: tuple[records.FeedEntry, ...],
) -> int:
    """Record feed entries; return how many were new. Known ones get `last_seen_at` bumped;
    a stored one whose title or update time changed goes back to pending, so its page is
    fetched again and a changed text becomes a revision. A new entry whose article is
    already stored (by its link, or its canonical URL, which tracking parameters do not
    change, in any source) is stored at once: no page fetch, and a sighting by another source
    adds its provenance links to that article."""
    now = utcnow()
    known = {row.guid: row for row in session.scalars(select(FeedEntry).where(
        FeedEntry.source_id == source_id, FeedEntry.guid.in_([e.guid for e in entries])))}
    fresh = [e for e in entries if e.guid not in known]
    stored = _stored_articles(session, source_id, [e.link for e in fresh])
    source = session.get(Source, source_id)
    for entry in entries:
        row = known.get(entry.guid)
        if row is not None:
            row.last_seen_at = now
            if row.status == EntryStatus.STORED and _changed(row, entry):
                row.title, row.updated_at = entry.title, entry.updated_at
                row.status, row.attempts = EntryStatus.PENDING, 0
    for entry in fresh:
        article = stored.get(entry.link)
        session.add(FeedEntry(
            source_id=source_id, fetch_id=fetch_id, guid=entry.guid, link=entry.link,
            title=entry.title, summary=entry.summary, published_at=entry.published_at,
            updated_at=entry.updated_at, authors=list(entry.authors),
            categories=list(entry.categories), image_url=entry.image_url, first_seen_at=now,
            last_seen_at=now, status=EntryStatus.STORED if article else EntryStatus.PENDING,
            article_id=article.id if article else None,
        ))
        if article is not None and article.source_id != source_id:
            add_links(session, article.id, provenance.sighting_links(
                source.name, source.url, article.url, entry.link, entry.guid), source_id)
    session.flush()
    return sum(1 for e in fresh if e.link not in stored)


def _stored_articles(session: Session, source_id: int, links: list[str]) -> dict[str, Article]:
    """link -> the stored article it names: the source's own at that URL first, else the one
    with its canonical URL."""
    if not links:
        return {}
    keys = {link: url_key(canonical_url(link)) for link in links}
    rows = session.scalars(select(Article).where(or_(
        Article.canonical_key.in_(set(keys.values())),
        and_(Article.source_id == source_id, Article.url.in_(links)))))
    by_url, by_key = {}, {}
    for row in rows:
        if row.source_id == source_id:
            by_url[row.url] = row
        by_key.setdefault(row.canonical_key, row)
    found = {link: by_url.get(link) or by_key.get(keys[link]) for link in links}
    return {link: row for link, row in found.items() if row is not None}


def _changed(row: FeedEntry, entry: records.FeedEntry) -> bool:
    return entry.title != row.title or (
        entry.updated_at is not None and entry.updated_at != row.updated_at
    )


def pending_entries(session: Session, source_id: int, max_attempts: int) -> list[PendingEntry]:
    """Entries without a stored article that may still be tried, oldest first."""
    rows = session.scalars(
        select(FeedEntry)
        .where(
            FeedEntry.source_id == source_id,
            FeedEntry.status == EntryStatus.PENDING,
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
            row.status = EntryStatus.FAILED


def entry_skipped(session: Session, entry_ids: list[int], reason: str) -> None:
    session.execute(
        update(FeedEntry)
        .where(FeedEntry.id.in_(entry_ids))
        .values(status=EntryStatus.SKIPPED, last_error=reason[:2000])
    )


def add_links(session: Session, article_id: int, links: list[Link],
              source_id: int | None = None) -> None:
    """Attach provenance links recorded by `source_id`'s crawl, skipping ones already there
    (provenance.unseen)."""
    seen = batch.existing_links(session, {article_id})[article_id]
    batch.insert_links(session, [(article_id, source_id, link)
                                 for link in provenance.unseen(links, seen)])


def start_crawl(session: Session, source_id: int, started_at: datetime,
                node: str | None = None) -> int:
    session.get(Source, source_id).last_attempt_at = started_at
    crawl = Crawl(source_id=source_id, started_at=started_at, node=node)
    session.add(crawl)
    session.flush()
    return crawl.id


def finish_crawl(session: Session, crawl_id: int, summary: records.CrawlSummary,
                 outcome: CrawlOutcome) -> None:
    """Close the crawl row and update the source's health."""
    crawl = session.get(Crawl, crawl_id)
    crawl.finished_at = utcnow()
    crawl.outcome = outcome
    crawl.fetched, crawl.new = summary.fetched, summary.new
    crawl.unchanged, crawl.failed = summary.unchanged, summary.failed
    crawl.error = "; ".join(summary.errors)[:2000] or None
    source = session.get(Source, crawl.source_id)
    if summary.new:
        source.last_new_article_at = crawl.finished_at
    if outcome == CrawlOutcome.FAILED:
        source.consecutive_failures += 1
        source.last_error = crawl.error
    else:
        source.consecutive_failures = 0
        source.last_success_at = crawl.finished_at
        source.last_error = crawl.error




def health(session: Session, name: str) -> Health:
    """The scheduling view of a source's row (an empty Health for a source never stored)."""
    row = session.scalar(select(Source).where(Source.name == name))
    if row is None:
        return Health()
    return Health(
        enabled=row.enabled,
        consecutive_failures=row.consecutive_failures,
        last_attempt_at=row.last_attempt_at,
        last_success_at=row.last_success_at,
        last_new_article_at=row.last_new_article_at,
        next_run_at=row.next_run_at,
        interval_seconds=row.interval_seconds,
        rhythm_seconds=row.rhythm_seconds,
    )


def save_plan(session: Session, name: str, plan: Plan) -> None:
    session.execute(
        update(Source)
        .where(Source.name == name)
        .values(next_run_at=plan.next_run_at, interval_seconds=plan.interval_seconds,
                backoff_seconds=plan.backoff_seconds, rhythm_seconds=plan.rhythm_seconds)
    )
