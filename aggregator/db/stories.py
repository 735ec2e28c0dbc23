"""Signatures and the near-duplicate index's tables: what `Ingestor.load_index` reads and
fills at start, and the advisory locks placement takes on PostgreSQL.

Each function is one step inside the caller's transaction; the batch store path itself is
aggregator/db/batch.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy import bindparam, select, text
from sqlalchemy.dialects.postgresql import ARRAY, BIGINT
from sqlalchemy.orm import Session

from aggregator import records
from aggregator.db.models import Article, ArticleSignature


@dataclass(frozen=True)
class StoredArticle:
    id: int
    created: bool
    story_id: int
    revised: bool = False


def signatures(session: Session, batch: int = 5000) -> Iterator[tuple[int, records.Fingerprint]]:
    """Every stored signature, for the LSH index at start (no article text is read)."""
    query = select(ArticleSignature.article_id, ArticleSignature.minhash,
                   ArticleSignature.shingles, Article.content_hash).join(
        Article, Article.id == ArticleSignature.article_id)
    for chunk in session.execute(query.execution_options(yield_per=batch)).partitions():
        for article_id, minhash, shingles, content_hash in chunk:
            yield article_id, records.Fingerprint(content_hash, bytes(minhash), shingles)


def unsigned_articles(session: Session, limit: int = 1000) -> list[tuple[int, str]]:
    """(id, text) of articles stored before signatures existed."""
    return list(session.execute(
        select(Article.id, Article.text).outerjoin(
            ArticleSignature, ArticleSignature.article_id == Article.id)
        .where(ArticleSignature.article_id.is_(None)).order_by(Article.id).limit(limit)
    ).all())


def add_signature(session: Session, article_id: int, fp: records.Fingerprint) -> None:
    session.add(ArticleSignature(article_id=article_id, minhash=fp.minhash, shingles=fp.shingles))


_LOCK = text("SELECT count(pg_advisory_xact_lock(k)) FROM "
             "(SELECT k FROM unnest(:keys) AS k GROUP BY k ORDER BY k) AS ordered"
             ).bindparams(bindparam("keys", type_=ARRAY(BIGINT)))


def lock_keys(session: Session, keys: list[int]) -> None:
    """Serialise placement with every other node placing an article that shares one of
    these keys: transaction-level advisory locks, taken in one order (no deadlock) and
    released by the commit (PostgreSQL; SQLite has one writer anyway)."""
    if keys and session.get_bind().dialect.name == "postgresql":
        session.execute(_LOCK, {"keys": sorted(set(keys))})


def lock_table_size(session: Session) -> int:
    """Entries of PostgreSQL's shared lock table, which every connection's locks share."""
    return session.scalar(text(
        "SELECT current_setting('max_locks_per_transaction')::int * "
        "(current_setting('max_connections')::int "
        "+ current_setting('max_prepared_transactions')::int)"))


def unbanded(session: Session, min_shingles: int,
             limit: int = 5000) -> list[tuple[int, bytes, int]]:
    """Signatures stored without their band keys (older articles signed at start-up, or
    signatures written by a SQLite node before a move to PostgreSQL)."""
    rows = session.execute(
        select(ArticleSignature.article_id, ArticleSignature.minhash, ArticleSignature.shingles)
        .where(ArticleSignature.bands.is_(None))
        .where(ArticleSignature.shingles >= min_shingles)
        .order_by(ArticleSignature.article_id).limit(limit)
    ).all()
    return [(r.article_id, bytes(r.minhash), r.shingles) for r in rows]
