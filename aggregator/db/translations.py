"""The translation queue and its texts: find what lacks a job, claim due jobs, record outcomes,
read them back.

Jobs are not queued on the write path: `enqueue_missing` finds the latest revision of each
article that has no row for a target language (an anti-join on article, revision and
language) and inserts one, so articles stored before translation was switched on are covered
too, and the unique constraint makes two workers' scans harmless. A claim bumps `attempts`
and pushes `next_attempt_at` past a lease in the same transaction (SKIP LOCKED on
PostgreSQL), so two workers never take the same job.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import and_, exists, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, aliased

from aggregator.db.models import Article, ArticleRevision, Source, Translation
from aggregator.records import Translated, TranslationJob
from aggregator.views import TranslationSummary, TranslationView
from aggregator.vocabulary import TranslationStatus

PENDING, DONE, FAILED = TranslationStatus.PENDING, TranslationStatus.DONE, TranslationStatus.FAILED


def enqueue_missing(
    session: Session, targets: list[str], sources: list[str] | None, since: datetime | None,
    now: datetime, limit: int = 500,
) -> int:
    """Queue the latest revision of each article (of `sources`, fetched since `since`) for
    every target language it has no row for yet, newest first; return how many were queued."""
    newer = aliased(ArticleRevision)
    language = func.coalesce(Article.language, Source.language)
    queued = 0
    for target in targets:
        query = (
            select(ArticleRevision.article_id, ArticleRevision.number,
                   ArticleRevision.content_hash, language)
            .join(Article, Article.id == ArticleRevision.article_id)
            .join(Source, Source.id == Article.source_id)
            .where(
                ~exists().where(newer.article_id == ArticleRevision.article_id,
                                newer.number > ArticleRevision.number),
                ~exists().where(Translation.article_id == ArticleRevision.article_id,
                                Translation.revision == ArticleRevision.number,
                                Translation.language == target),
                language != target,
            )
            .order_by(ArticleRevision.fetched_at.desc(), ArticleRevision.id.desc())
            .limit(limit - queued)
        )
        if sources:
            query = query.where(Source.name.in_(sources))
        if since is not None:
            query = query.where(ArticleRevision.fetched_at >= since)
        rows = [{"article_id": a, "revision": n, "content_hash": h, "source_language": lang,
                 "language": target, "status": PENDING.value, "attempts": 0,
                 "next_attempt_at": now, "created_at": now}
                for a, n, h, lang in session.execute(query)]
        if rows:
            session.execute(_insert_ignoring_duplicates(session), rows)  # executemany
            queued += len(rows)
        if queued >= limit:
            break
    return queued


def _insert_ignoring_duplicates(session: Session):
    """INSERT ... ON CONFLICT DO NOTHING: another worker may have queued the same job."""
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    return dialect.insert(Translation).on_conflict_do_nothing(
        index_elements=["article_id", "revision", "language"])


def claim(session: Session, limit: int, now: datetime, lease: timedelta) -> list[TranslationJob]:
    """Take up to `limit` due pending jobs, oldest due first, with the revision's words."""
    rows = session.execute(
        select(Translation, ArticleRevision.title, ArticleRevision.text, Source.name)
        .join(ArticleRevision, and_(ArticleRevision.article_id == Translation.article_id,
                                    ArticleRevision.number == Translation.revision))
        .join(Article, Article.id == Translation.article_id)
        .join(Source, Source.id == Article.source_id)
        .where(Translation.status == PENDING, Translation.next_attempt_at <= now)
        .order_by(Translation.next_attempt_at, Translation.id)
        .limit(limit)
        .with_for_update(of=Translation, skip_locked=True)
    ).all()
    jobs = []
    for row, title, text, source in rows:
        row.attempts += 1
        row.attempted_at = now
        row.next_attempt_at = now + lease
        jobs.append(TranslationJob(row.id, row.article_id, source, row.revision,
                                   row.source_language, row.language, title, text, row.attempts))
    return jobs


def record_translation(session: Session, job_id: int, result: Translated) -> None:
    row = session.get(Translation, job_id)
    for name in ("title", "text", "engine", "engine_name", "engine_version", "characters",
                 "duration_ms", "translated_at"):
        setattr(row, name, getattr(result, name))
    row.status, row.error, row.next_attempt_at = DONE.value, None, None


def record_failure(session: Session, job_id: int, reason: str, retry_at: datetime | None,
                   refund: bool = False) -> None:
    """Keep the reason; the job stays pending until `retry_at`, or is failed when None.
    `refund` gives the attempt back: the engine was not there, the job did not fail."""
    row = session.get(Translation, job_id)
    row.error = reason[:2000]
    row.next_attempt_at = retry_at
    row.status = (PENDING if retry_at else FAILED).value
    if refund:
        row.attempts = max(row.attempts - 1, 0)


def requeue_failed(session: Session, now: datetime, article_id: int | None = None) -> int:
    """Give failed jobs a fresh set of attempts; return how many."""
    query = update(Translation).where(Translation.status == FAILED)
    if article_id is not None:
        query = query.where(Translation.article_id == article_id)
    return session.execute(query.values(status=PENDING.value, attempts=0,
                                        next_attempt_at=now)).rowcount


def summary(session: Session) -> TranslationSummary:
    """Jobs per status, and the newest reason a job is waiting or failed."""
    counts = dict(session.execute(select(Translation.status, func.count())
                                  .group_by(Translation.status)).all())
    last = session.execute(
        select(Translation.error, Translation.attempted_at)
        .where(Translation.error.is_not(None), Translation.status != DONE)
        .order_by(Translation.attempted_at.desc(), Translation.id.desc()).limit(1)
    ).first()
    return TranslationSummary(counts, *(last or (None, None)))


def _view(row: Translation, latest: int | None) -> TranslationView:
    return TranslationView(
        id=row.id, article_id=row.article_id, revision=row.revision,
        content_hash=row.content_hash, source_language=row.source_language,
        language=row.language, status=TranslationStatus(row.status), attempts=row.attempts,
        created_at=row.created_at, next_attempt_at=row.next_attempt_at,
        attempted_at=row.attempted_at, error=row.error, engine=row.engine,
        engine_name=row.engine_name, engine_version=row.engine_version, title=row.title,
        text=row.text, characters=row.characters, duration_ms=row.duration_ms,
        translated_at=row.translated_at, current=latest is None or row.revision == latest,
    )


def for_articles(session: Session, article_ids: list[int]) -> dict[int, list[TranslationView]]:
    """Every translation row of these articles, by revision then language."""
    out: dict[int, list[TranslationView]] = {i: [] for i in article_ids}
    latest = dict(session.execute(
        select(ArticleRevision.article_id, func.max(ArticleRevision.number))
        .where(ArticleRevision.article_id.in_(article_ids))
        .group_by(ArticleRevision.article_id)).all())
    rows = session.scalars(select(Translation).where(Translation.article_id.in_(article_ids))
                           .order_by(Translation.revision, Translation.language, Translation.id))
    for row in rows:
        out[row.article_id].append(_view(row, latest.get(row.article_id)))
    return out


def listing(session: Session, status: str | None = None, limit: int = 50) -> list[TranslationView]:
    """Newest first, optionally only one status."""
    query = select(Translation).order_by(Translation.id.desc()).limit(limit)
    if status is not None:
        query = query.where(Translation.status == status)
    return [_view(row, None) for row in session.scalars(query)]
