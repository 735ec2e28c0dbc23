"""The write path of identity: articles joining stories, revisions, signatures, WARC pointers.

Each function is one step inside the caller's transaction (like store.py). Matching policy
lives in aggregator.dedup; here only the look-ups and writes it needs.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, bindparam, delete, literal, or_, select, text, true, union_all, update
from sqlalchemy.dialects.postgresql import ARRAY, BIGINT
from sqlalchemy.orm import Session

from aggregator import records
from aggregator.db.models import (
    Article,
    ArticleBand,
    ArticleRevision,
    ArticleSignature,
    FeedEntry,
    Fetch,
    ProvenanceLink,
    Story,
    utcnow,
)
from aggregator.records import ArticleVersion, NewArticle, StoryCandidate
from aggregator.urls import url_key
from aggregator.vocabulary import EntryStatus, LinkKind, PlacementKind


@dataclass(frozen=True)
class StoredArticle:
    id: int
    created: bool
    story_id: int
    revised: bool = False


@dataclass(frozen=True)
class MemberRow:
    article_id: int
    url: str  # canonical
    at_canonical: bool
    first_seen_at: datetime
    published_at: datetime | None
    cites: tuple[str, ...]


@dataclass(frozen=True)
class KnownArticle:
    id: int
    story_id: int
    url: str
    same_source: bool  # False: another source stored this canonical URL first


def find_known(session: Session, source_id: int, url: str, canonical: str,
               guid: str | None) -> KnownArticle | None:
    """The stored article this page is: the one with its canonical URL (one row per
    canonical URL, whoever stored it), or its source's with the same URL or GUID."""
    mine = [Article.url == url] + ([Article.guid == guid] if guid else [])
    rows = session.execute(
        select(Article.id, Article.story_id, Article.source_id, Article.url)
        .where(or_(Article.canonical_key == url_key(canonical),
                   and_(Article.source_id == source_id, or_(*mine))))
        .order_by(Article.id)
    ).all()
    if not rows:
        return None
    best = min(rows, key=lambda r: (r.source_id != source_id, r.id))
    return KnownArticle(best.id, best.story_id, best.url, best.source_id == source_id)


def story_candidates(
    session: Session, canonical: str, content_hash: str, near: dict[int, float],
    alternates: list[str], counterparts: list[str], edition_key: str | None,
    language: str | None,
) -> list[StoryCandidate]:
    """Every story a new article might join, in one query: by canonical URL, by text hash,
    through the stored articles its text nearly matches (`near`: article id -> score), by a
    declared alternate, or as another language's edition (counterpart URL or article id).
    The choice is aggregator/placement.py's."""
    def first(kind: PlacementKind, *where, declared: bool = False):
        return (select(Article.story_id, literal(str(kind)).label("kind"),
                       Article.id.label("article_id"), literal(declared).label("declared"))
                .where(Article.story_id.is_not(None), *where)
                .order_by(Article.id).limit(1).subquery())

    branches = [first(PlacementKind.URL, Article.canonical_key == url_key(canonical)),
                first(PlacementKind.EXACT, Article.content_hash == content_hash)]
    if alternates:
        branches.append(first(PlacementKind.EDITION,
                              Article.canonical_key.in_([url_key(u) for u in alternates]),
                              declared=True))
    paired = ([Article.canonical_key.in_([url_key(u) for u in counterparts])]
              if counterparts else [])
    if edition_key:
        paired.append(Article.edition_key == edition_key)
    if paired:
        other_language = (or_(Article.language.is_(None), Article.language != language)
                          if language else true())
        branches.append(first(PlacementKind.EDITION, or_(*paired), other_language))
    selects = [select(*b.c) for b in branches]
    if near:
        selects.append(select(Article.story_id, literal(str(PlacementKind.NEAR)).label("kind"),
                              Article.id.label("article_id"), literal(False).label("declared"))
                       .where(Article.story_id.is_not(None), Article.id.in_(near)))
    return [StoryCandidate(row.story_id, PlacementKind(row.kind), row.article_id,
                           near.get(row.article_id) if row.kind == PlacementKind.NEAR else None,
                           bool(row.declared))
            for row in session.execute(union_all(*selects))]


def insert_article(session: Session, new: NewArticle) -> StoredArticle:
    """A new article row with revision 1 and its signature, in its story (new or joined)."""
    now = utcnow()
    version, placement = new.version, new.placement
    story_id = placement.story_id
    if placement.merge:
        session.execute(update(Article).where(Article.story_id.in_(placement.merge))
                        .values(story_id=story_id))
        session.execute(delete(Story).where(Story.id.in_(placement.merge)))
    if story_id is None:
        story = Story(created_at=now, updated_at=now)
        session.add(story)
        session.flush()
        story_id = story.id
    row = Article(source_id=new.source_id, url=version.draft.url, first_seen_at=now,
                  story_id=story_id, match_kind=placement.kind, match_score=placement.score,
                  edition_key=new.edition_key, guid=new.guid,
                  feed_entry_id=version.entry_ids[0] if version.entry_ids else None)
    row.canonical_url = version.canonical_url
    row.canonical_key = url_key(version.canonical_url)
    session.add(row)
    _apply(row, version)
    session.flush()
    _add_revision(session, row.id, 1, version)
    fp = version.fingerprint
    session.add(ArticleSignature(article_id=row.id, minhash=fp.minhash, shingles=fp.shingles))
    _entries_stored(session, version.entry_ids, row.id)
    return StoredArticle(row.id, True, story_id)


def revise_article(session: Session, article_id: int, version: ArticleVersion) -> StoredArticle:
    """A re-fetch of a stored article: a new revision when title or text changed; the row
    then shows the latest, and every earlier revision stays."""
    now = utcnow()
    row = session.get(Article, article_id)
    latest = session.scalar(select(ArticleRevision).where(ArticleRevision.article_id == article_id)
                            .order_by(ArticleRevision.number.desc()).limit(1))
    fp = version.fingerprint
    changed = (row.content_hash, row.title) != (fp.content_hash, version.draft.title)
    if changed:
        _add_revision(session, article_id, latest.number + 1 if latest else 1, version)
        signature = session.get(ArticleSignature, article_id)
        if signature is None:
            session.add(ArticleSignature(article_id=article_id, minhash=fp.minhash,
                                         shingles=fp.shingles))
        else:
            signature.minhash, signature.shingles = fp.minhash, fp.shingles
        _apply(row, version)
    else:
        row.fetch_id, row.fetched_at = version.fetch_id, version.fetched_at
    row.last_seen_at = now
    session.flush()
    _entries_stored(session, version.entry_ids, row.id)
    return StoredArticle(row.id, False, row.story_id, revised=changed)


def _add_revision(session: Session, article_id: int, number: int, version: ArticleVersion) -> None:
    session.add(ArticleRevision(article_id=article_id, number=number, fetch_id=version.fetch_id,
                                fetched_at=version.fetched_at, title=version.draft.title,
                                text=version.draft.text,
                                content_hash=version.fingerprint.content_hash))


def _apply(row: Article, version: ArticleVersion) -> None:
    """The row shows this version (its canonical URL, the article's identity, never changes)."""
    draft = version.draft
    row.fetch_id = version.fetch_id
    row.title = draft.title
    row.authors = list(draft.authors)
    row.published_at = draft.published_at
    row.date_source = draft.date_source
    row.date_precision = draft.date_precision
    row.updated_at = draft.updated_at
    row.language = draft.language
    row.language_confidence = draft.language_confidence
    row.extraction_path = draft.extraction_path
    row.description = draft.description
    row.image_url = draft.image_url
    row.categories = list(draft.categories)
    row.tags = list(draft.tags)
    row.text = draft.text
    row.html = draft.html
    row.content_hash = version.fingerprint.content_hash
    row.fetched_at = version.fetched_at
    row.last_seen_at = utcnow()


def sighted(session: Session, known: KnownArticle, version: ArticleVersion) -> StoredArticle:
    """Another source brought an article already stored: its entries point at it and it was
    seen now; its text stays the first source's (each source's rules extract differently)."""
    row = session.get(Article, known.id)
    row.last_seen_at = utcnow()
    _entries_stored(session, version.entry_ids, row.id)
    return StoredArticle(row.id, False, row.story_id)


def _entries_stored(session: Session, entry_ids: tuple[int, ...], article_id: int) -> None:
    if entry_ids:
        session.execute(update(FeedEntry).where(FeedEntry.id.in_(entry_ids))
                        .values(status=EntryStatus.STORED, article_id=article_id,
                                last_error=None))


def story_members(session: Session, story_id: int) -> list[MemberRow]:
    rows = session.execute(
        select(Article.id, Article.url, Article.canonical_url, Article.first_seen_at,
               Article.published_at)
        .where(Article.story_id == story_id)
    ).all()
    cites: dict[int, list[str]] = {r.id: [] for r in rows}
    for article_id, url in session.execute(
        select(ProvenanceLink.article_id, ProvenanceLink.url).where(
            ProvenanceLink.article_id.in_(cites), ProvenanceLink.kind == LinkKind.CITES,
            ProvenanceLink.url.is_not(None))
    ):
        cites[article_id].append(url)
    return [MemberRow(r.id, r.canonical_url, r.url == r.canonical_url, r.first_seen_at,
                      r.published_at, tuple(cites[r.id])) for r in rows]


def set_primary(session: Session, story_id: int, article_id: int) -> None:
    story = session.get(Story, story_id)
    if story.primary_article_id != article_id:
        story.primary_article_id, story.updated_at = article_id, utcnow()


def save_warc(session: Session, fetch_id: int, pointer: records.WarcPointer | None,
              error: str | None) -> None:
    row = session.get(Fetch, fetch_id)
    if pointer is not None:
        row.warc_file, row.warc_offset = pointer.file, pointer.offset
        row.warc_length, row.warc_sha256 = pointer.length, pointer.sha256
    row.warc_error = error[:2000] if error else None


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


def banded(session: Session, keys: list[int]) -> list[tuple[int, bytes, int]]:
    """(id, signature, shingles) of every stored article sharing a band key: the near-match
    candidates from the shared band table."""
    if not keys:
        return []
    rows = session.execute(
        select(ArticleSignature.article_id, ArticleSignature.minhash, ArticleSignature.shingles)
        .where(ArticleSignature.article_id.in_(
            select(ArticleBand.article_id).where(ArticleBand.key.in_(keys))))
    ).all()
    return [(r.article_id, bytes(r.minhash), r.shingles) for r in rows]


def save_bands(session: Session, article_id: int, keys: list[int],
               replace: bool = False) -> None:
    """An article's band keys (a revision's replace the earlier ones)."""
    if replace:
        session.execute(delete(ArticleBand).where(ArticleBand.article_id == article_id))
    if keys:
        session.execute(ArticleBand.__table__.insert(),
                        [{"key": k, "article_id": article_id} for k in dict.fromkeys(keys)])


def unbanded(session: Session, min_shingles: int,
             limit: int = 5000) -> list[tuple[int, bytes, int]]:
    """Signatures stored before the band table existed (or by a single SQLite node)."""
    rows = session.execute(
        select(ArticleSignature.article_id, ArticleSignature.minhash, ArticleSignature.shingles)
        .where(~select(ArticleBand.article_id)
               .where(ArticleBand.article_id == ArticleSignature.article_id).exists())
        .where(ArticleSignature.shingles >= min_shingles)
        .order_by(ArticleSignature.article_id).limit(limit)
    ).all()
    return [(r.article_id, bytes(r.minhash), r.shingles) for r in rows]
