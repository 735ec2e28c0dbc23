"""The store path's statements, one per batch each: set-based look-ups for every article of
a batch at once, and bulk writes (an `executemany`, or one multi-row INSERT ... RETURNING).

aggregator/storing.py decides what to write; these functions only read and write, inside the
caller's transaction.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import and_, bindparam, delete, func, insert, or_, select, update
from sqlalchemy.dialects.postgresql import ARRAY, BIGINT
from sqlalchemy.orm import Session

from aggregator import records
from aggregator.db.models import (
    Article,
    ArticleRevision,
    ArticleSignature,
    ExtractionStat,
    FeedEntry,
    Fetch,
    ProvenanceLink,
    Screenshot,
    Story,
    utcnow,
)
from aggregator.placement import StoredRow
from aggregator.quality import COUNTERS, Outcomes
from aggregator.vocabulary import CaptureOutcome, EntryStatus, LinkKind


@dataclass(frozen=True)
class KnownRow:
    """A stored article an arrival may be: its identity and what a revision compares."""

    id: int
    story_id: int | None
    source_id: int
    url: str
    canonical_key: str
    guid: str | None
    content_hash: str
    title: str | None


@dataclass(frozen=True)
class MemberRow:
    article_id: int
    url: str  # canonical
    at_canonical: bool
    first_seen_at: datetime
    published_at: datetime | None
    cites: tuple[str, ...]


def insert_fetches(session: Session, fetches: list[tuple[int, records.FetchRecord]],
                   archived: list[records.Archived | None] | None = None) -> list[int]:
    """The fetch rows of a batch (or of one feed), with each response's WARC outcome; their
    ids in the same order."""
    rows = [{"source_id": source_id, "kind": f.kind, "url": f.url, "final_url": f.final_url,
             "status": f.status, "content_type": (f.content_type or "")[:200] or None,
             "etag": f.etag, "last_modified": f.last_modified, "fetched_at": f.fetched_at,
             "size": f.size, "sha256": f.sha256, "duration_ms": f.duration_ms, **_warc(w)}
            for (source_id, f), w in zip(fetches, archived or [None] * len(fetches))]
    return _insert_returning(session, Fetch, rows)


def _warc(archived: records.Archived | None) -> dict:
    p = archived and archived.pointer
    return {"warc_file": p and p.file, "warc_offset": p and p.offset,
            "warc_length": p and p.length, "warc_sha256": p and p.sha256,
            "warc_error": archived and archived.error}


def _insert_returning(session: Session, model, rows: list[dict]) -> list[int]:
    """Insert rows; their new ids in the rows' order. PostgreSQL returns them in that order
    when asked to (SQLAlchemy's insertmanyvalues); SQLAlchemy can't ask SQLite so, and would
    send one INSERT a row, but SQLite gives rowids one above the largest, row after row, in
    a transaction no other writer shares: the ids, sorted, are in the rows' order."""
    if not rows:
        return []
    if session.get_bind().dialect.name == "sqlite":
        return sorted(session.scalars(insert(model).returning(model.id), rows))
    statement = insert(model).returning(model.id, sort_by_parameter_order=True)
    return list(session.scalars(statement, rows))


def known(session: Session, wanted: list[tuple[int, str, str, str | None]]) -> list[KnownRow]:
    """Stored articles any of (source id, url, canonical key, guid) may be: the same canonical
    key in any source, or the same URL or GUID in the same source."""
    if not wanted:
        return []
    by_source: dict[int, tuple[set, set]] = defaultdict(lambda: (set(), set()))
    for source_id, url, _, guid in wanted:
        by_source[source_id][0].add(url)
        if guid:
            by_source[source_id][1].add(guid)
    mine = [and_(Article.source_id == source_id,
                 or_(Article.url.in_(found_urls), Article.guid.in_(guids)) if guids
                 else Article.url.in_(found_urls))
            for source_id, (found_urls, guids) in by_source.items()]
    rows = session.execute(
        select(Article.id, Article.story_id, Article.source_id, Article.url,
               Article.canonical_key, Article.guid, Article.content_hash, Article.title)
        .where(or_(Article.canonical_key.in_({key for _, _, key, _ in wanted}), *mine)))
    return [KnownRow(*row) for row in rows]


def placement_rows(session: Session, canonical_keys: set[str], hashes: set[str],
                   edition_keys: set[str], ids: set[int]) -> list[StoredRow]:
    """Stored articles that may place any article of the batch in a story."""
    where = [Article.canonical_key.in_(canonical_keys), Article.content_hash.in_(hashes)]
    if edition_keys:
        where.append(Article.edition_key.in_(edition_keys))
    if ids:
        where.append(Article.id.in_(ids))
    rows = session.execute(
        select(Article.id, Article.story_id, Article.canonical_key, Article.content_hash,
               Article.edition_key, Article.language)
        .where(Article.story_id.is_not(None), or_(*where)))
    return [StoredRow(*row) for row in rows]


def band_signatures(session: Session, keys: set[int]) -> dict[int, list[tuple[int, bytes, int]]]:
    """Band key -> (id, signature, shingles) of the stored articles in that band (the band
    keys of the signature rows, PostgreSQL's GIN index).

    The keys go in as a sub-select, whose value the planner does not look at: it then takes
    its default estimate for `&&` and reads the GIN index. Shown the array itself, it judged
    that a chunk's thousand keys would match much of the table and chose to read all of it,
    comparing every row's 37 keys with each of the thousand (a bench ingest spent 3.6 s of
    the server's time on that at 5,000 articles, against 1-6 ms a look-up by the index)."""
    if not keys:
        return {}
    wanted = select(bindparam("keys", sorted(keys), ARRAY(BIGINT))).scalar_subquery()
    rows = session.execute(
        select(ArticleSignature.article_id, ArticleSignature.minhash, ArticleSignature.shingles,
               ArticleSignature.bands)
        .where(ArticleSignature.bands.op("&&")(wanted)))
    out: dict[int, list[tuple[int, bytes, int]]] = defaultdict(list)
    for article_id, minhash, shingles, bands in rows:
        for key in keys.intersection(bands):
            out[key].append((article_id, bytes(minhash), shingles))
    return out


def revision_heads(session: Session, ids: set[int]) -> dict[int, tuple[int, bool]]:
    """Article id -> (its latest revision number, whether it has a signature)."""
    if not ids:
        return {}
    numbers = dict(session.execute(
        select(ArticleRevision.article_id, func.max(ArticleRevision.number))
        .where(ArticleRevision.article_id.in_(ids)).group_by(ArticleRevision.article_id)).all())
    signed = set(session.scalars(select(ArticleSignature.article_id)
                                 .where(ArticleSignature.article_id.in_(ids))))
    return {i: (numbers.get(i, 0), i in signed) for i in ids}


def existing_links(session: Session, ids: set[int]) -> dict[int, set[tuple[str, str | None]]]:
    """Article id -> (kind, url or label) of the links it already has."""
    out: dict[int, set] = defaultdict(set)
    if ids:
        for article_id, kind, url, label in session.execute(
                select(ProvenanceLink.article_id, ProvenanceLink.kind, ProvenanceLink.url,
                       ProvenanceLink.label).where(ProvenanceLink.article_id.in_(ids))):
            out[article_id].add((kind, url or label))
    return out


def insert_stories(session: Session, count: int) -> list[int]:
    now = utcnow()
    return _insert_returning(session, Story, [{"created_at": now, "updated_at": now}] * count)


def merge_stories(session: Session, into: int, merged: list[int]) -> None:
    """The articles of `merged` join `into`; the merged stories go."""
    session.execute(update(Article).where(Article.story_id.in_(merged)).values(story_id=into))
    session.execute(delete(Story).where(Story.id.in_(merged)))


def insert_articles(session: Session, rows: list[dict]) -> list[int]:
    return _insert_returning(session, Article, rows)


def update_articles(session: Session, rows: list[dict]) -> None:
    """Rows by primary key; rows with the same keys go in one executemany."""
    if rows:
        session.execute(update(Article), rows)


def insert_revisions(session: Session, rows: list[dict]) -> None:
    if rows:
        session.execute(insert(ArticleRevision), rows)


def save_signatures(session: Session, new: list[dict], changed: list[dict]) -> None:
    if new:
        session.execute(insert(ArticleSignature), new)
    if changed:
        session.execute(update(ArticleSignature), changed)


def entries_stored(session: Session, pairs: list[tuple[int, int]]) -> None:
    """(entry id, article id): the entries have their article."""
    if pairs:
        table = FeedEntry.__table__
        session.execute(
            update(table).where(table.c.id == bindparam("entry"))
            .values(status=EntryStatus.STORED, article_id=bindparam("article"), last_error=None),
            [{"entry": e, "article": a} for e, a in pairs])


def insert_links(session: Session, links: list[tuple[int, int | None, records.Link]]) -> None:
    """(article id, id of the source whose crawl recorded it, link) for each new link."""
    if links:
        now = utcnow()
        session.execute(insert(ProvenanceLink), [
            {"article_id": a, "source_id": s, "kind": link.kind, "url": link.url,
             "label": link.label, "created_at": now} for a, s, link in links])


def enqueue_screenshots(session: Session, rows: list[tuple[int, int, str]]) -> None:
    """(article id, fetch id, url): captures the worker takes after this commit."""
    if rows:
        now = utcnow()
        session.execute(insert(Screenshot), [
            {"article_id": a, "fetch_id": f, "requested_url": url, "requested_at": now,
             "next_attempt_at": now, "outcome": CaptureOutcome.PENDING, "attempts": 0}
            for a, f, url in rows])


def count_outcomes(session: Session, counts: dict[tuple[int, date], Outcomes]) -> None:
    """Add each (source, day)'s outcomes to its daily counters."""
    if not counts:
        return
    table = ExtractionStat.__table__
    found = {(r.source_id, r.day): r.id for r in session.execute(
        select(table.c.id, table.c.source_id, table.c.day).where(
            table.c.source_id.in_({s for s, _ in counts}),
            table.c.day.in_({d for _, d in counts})))}
    fresh = [{"source_id": s, "day": d, **{k: getattr(o, k) for k in COUNTERS}}
             for (s, d), o in counts.items() if (s, d) not in found]
    added = [{"row": found[key], **{f"add_{k}": getattr(o, k) for k in COUNTERS}}
             for key, o in counts.items() if key in found]
    if fresh:
        session.execute(insert(table), fresh)
    if added:
        session.execute(update(table).where(table.c.id == bindparam("row")).values(
            {k: table.c[k] + bindparam(f"add_{k}") for k in COUNTERS}), added)


def members(session: Session, story_ids: set[int]) -> dict[int, list[MemberRow]]:
    """Story id -> its members, with the URLs each cites (two statements)."""
    rows = session.execute(
        select(Article.id, Article.story_id, Article.url, Article.canonical_url,
               Article.first_seen_at, Article.published_at)
        .where(Article.story_id.in_(story_ids))).all()
    cites: dict[int, list[str]] = {r.id: [] for r in rows}
    for article_id, url in session.execute(
        select(ProvenanceLink.article_id, ProvenanceLink.url).where(
            ProvenanceLink.article_id.in_(cites), ProvenanceLink.kind == LinkKind.CITES,
            ProvenanceLink.url.is_not(None))):
        cites[article_id].append(url)
    out: dict[int, list[MemberRow]] = defaultdict(list)
    for r in rows:
        out[r.story_id].append(MemberRow(r.id, r.canonical_url, r.url == r.canonical_url,
                                         r.first_seen_at, r.published_at, tuple(cites[r.id])))
    return out


def primaries(session: Session, story_ids: set[int]) -> dict[int, int | None]:
    return dict(session.execute(select(Story.id, Story.primary_article_id)
                                .where(Story.id.in_(story_ids))).all())


def set_primaries(session: Session, chosen: dict[int, int]) -> None:
    """Story id -> its primary article (only stories whose primary changed)."""
    if chosen:
        now = utcnow()
        session.execute(update(Story), [{"id": s, "primary_article_id": a, "updated_at": now}
                                        for s, a in chosen.items()])


def save_bands(session: Session, bands: dict[int, list[int]]) -> None:
    """Article id -> its band keys, for signatures stored without them (PostgreSQL)."""
    if bands:
        session.execute(update(ArticleSignature), [
            {"article_id": a, "bands": keys or None} for a, keys in bands.items()])
