"""Read queries of the desk's stories: filtered, keyset-paged lists and one story with the
provenance chain of every copy. A fixed number of queries per page, whatever its size."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, distinct, func, or_, select
from sqlalchemy.orm import Session

from aggregator.db import search
from aggregator.db.models import (
    Article,
    Change,
    FeedEntry,
    Fetch,
    ProvenanceLink,
    Screenshot,
    Source,
    Story,
)
from aggregator.records import WarcPointer
from aggregator.views import (
    Chain,
    EntryStep,
    FetchStep,
    LinkView,
    ShotRef,
    StoryDetail,
    StoryMember,
    StorySummary,
)


@dataclass(frozen=True)
class StoryFilter:
    """What `/stories`, the feeds and the list page filter on; every field optional."""

    source: str | None = None  # a copy from this source
    language: str | None = None  # a copy in this language
    since: datetime | None = None  # story first seen at or after
    until: datetime | None = None  # story first seen before
    q: str | None = None  # full-text query: ranked results
    min_sources: int | None = None  # at least this many outlets


# A position in a list: the last story id (newest first), or (rank, story id) for a search.
Key = int | tuple[float, int]


def _conditions(session: Session, flt: StoryFilter) -> list | None:
    """WHERE clauses on Story; None when the filter cannot match anything."""
    conds = [Story.primary_article_id.is_not(None)]
    if flt.since is not None:
        conds.append(Story.created_at >= flt.since)
    if flt.until is not None:
        conds.append(Story.created_at < flt.until)
    if flt.source is not None:
        source_id = session.scalar(select(Source.id).where(Source.name == flt.source))
        if source_id is None:
            return None
        conds.append(select(Article.id).where(Article.story_id == Story.id,
                                              Article.source_id == source_id).exists())
    if flt.language is not None:
        conds.append(select(Article.id).where(Article.story_id == Story.id,
                                              Article.language == flt.language).exists())
    if flt.min_sources and flt.min_sources > 1:
        outlets = (select(func.count(distinct(Article.source_id)))
                   .where(Article.story_id == Story.id).scalar_subquery())
        conds.append(outlets >= flt.min_sources)
    return conds


def list_stories(session: Session, flt: StoryFilter, limit: int,
                 after: Key | None = None) -> tuple[list[StorySummary], Key | None]:
    """One page of stories, newest first (by rank first when `flt.q` is given), and the key
    to continue from (None on the last page)."""
    conds = _conditions(session, flt)
    if conds is None:
        return [], None
    ranks: dict[int, float] = {}
    if flt.q:
        found = search.matches(session, flt.q)
        if found is None:
            return [], None
        ranked = (select(Article.story_id.label("sid"), func.max(found.c.rank).label("rank"))
                  .join(found, found.c.article_id == Article.id)
                  .group_by(Article.story_id).subquery())
        query = select(ranked.c.sid, ranked.c.rank).join(Story, Story.id == ranked.c.sid)
        if after is not None:
            rank, sid = after
            query = query.where(or_(ranked.c.rank < rank,
                                    and_(ranked.c.rank == rank, ranked.c.sid < sid)))
        query = query.where(*conds).order_by(ranked.c.rank.desc(), ranked.c.sid.desc())
        rows = session.execute(query.limit(limit + 1)).all()
        ranks = {sid: rank for sid, rank in rows}
        ids = [sid for sid, _ in rows]
    else:
        query = select(Story.id).where(*conds)
        if after is not None:
            query = query.where(Story.id < after)
        ids = list(session.scalars(query.order_by(Story.id.desc()).limit(limit + 1)))
    more = len(ids) > limit
    ids = ids[:limit]
    summaries = summarise(session, ids, ranks)
    if not more or not ids:
        return summaries, None
    last = ids[-1]
    return summaries, ((ranks[last], last) if flt.q else last)


def _members(session: Session, story_ids: list[int],
             primaries: dict[int, int]) -> dict[int, list[StoryMember]]:
    out: dict[int, list[StoryMember]] = {i: [] for i in story_ids}
    rows = session.execute(
        select(Article.id, Article.story_id, Source.name, Source.title, Article.url,
               Article.canonical_url, Article.title, Article.language, Article.published_at,
               Article.first_seen_at, Article.match_kind, Article.match_score,
               Article.date_precision)
        .join(Source, Source.id == Article.source_id)
        .where(Article.story_id.in_(story_ids)).order_by(Article.first_seen_at, Article.id)
    )
    for r in rows:
        out[r.story_id].append(StoryMember(
            r.id, r.story_id, r.name, r.title, r.url, r.canonical_url, r[6], r.language,
            r.published_at, r.first_seen_at, r.match_kind, r.match_score,
            primaries.get(r.story_id) == r.id, r.date_precision))
    for members in out.values():
        members.sort(key=lambda m: not m.is_primary)  # stable: primary first, then by time
    return out


def captured(session: Session, article_ids: list[int]) -> dict[int, ShotRef]:
    """The newest captured screenshot of each article that has one."""
    out: dict[int, ShotRef] = {}
    for row in session.execute(
        select(Screenshot.id, Screenshot.article_id, Screenshot.sha256, Screenshot.format,
               Screenshot.width, Screenshot.height, Screenshot.captured_at)
        .where(Screenshot.article_id.in_(article_ids), Screenshot.outcome == "captured")
        .order_by(Screenshot.id)
    ):
        out[row.article_id] = ShotRef(row.id, row.sha256, row.format, row.width, row.height,
                                      row.captured_at)
    return out


def summarise(session: Session, story_ids: list[int],
              ranks: dict[int, float] | None = None) -> list[StorySummary]:
    """Summaries of `story_ids`, in that order (stories without members are left out)."""
    if not story_ids:
        return []
    heads = {r.id: r for r in session.execute(
        select(Story.id, Story.primary_article_id, Story.created_at, Story.updated_at)
        .where(Story.id.in_(story_ids)))}
    primaries = {i: r.primary_article_id for i, r in heads.items()}
    members = _members(session, story_ids, primaries)
    changed = dict(session.execute(
        select(Change.story_id, func.max(Change.changed_at))
        .where(Change.story_id.in_(story_ids)).group_by(Change.story_id)).all())
    shots = captured(session, [p for p in primaries.values() if p])
    out = []
    for sid in story_ids:
        copies = members.get(sid) or []
        if sid not in heads or not copies:
            continue
        head = heads[sid]
        out.append(StorySummary(
            id=sid, primary=copies[0], copies=copies, first_seen_at=head.created_at,
            last_changed_at=max(filter(None, (changed.get(sid), head.updated_at))),
            thumbnail=shots.get(head.primary_article_id),
            rank=(ranks or {}).get(sid)))
    return out


def _fetch_step(row: Fetch | None) -> FetchStep | None:
    if row is None:
        return None
    warc = (WarcPointer(row.warc_file, row.warc_offset, row.warc_length, row.warc_sha256)
            if row.warc_file else None)
    return FetchStep(row.id, row.url, row.final_url, row.status, row.fetched_at, row.sha256,
                     warc, row.warc_error)


def chains(session: Session, members: list[StoryMember]) -> list[Chain]:
    """The provenance chain of each member, in the members' order."""
    ids = [m.id for m in members]
    rows = {r.id: r for r in session.execute(
        select(Article.id, Article.fetch_id, Article.feed_entry_id, Source.url)
        .join(Source, Source.id == Article.source_id).where(Article.id.in_(ids)))}
    entries = {e.id: e for e in session.scalars(select(FeedEntry).where(
        FeedEntry.id.in_({r.feed_entry_id for r in rows.values() if r.feed_entry_id})))}
    fetch_ids = {r.fetch_id for r in rows.values()} | {e.fetch_id for e in entries.values()}
    fetches = {f.id: f for f in session.scalars(select(Fetch).where(Fetch.id.in_(fetch_ids)))}
    links: dict[int, list[LinkView]] = {i: [] for i in ids}
    for link in session.scalars(select(ProvenanceLink).where(ProvenanceLink.article_id.in_(ids))
                                .order_by(ProvenanceLink.id)):
        links[link.article_id].append(LinkView(link.kind, link.url, link.label))
    shots = captured(session, ids)
    out = []
    for m in members:
        row = rows[m.id]
        entry = entries.get(row.feed_entry_id)
        step = (EntryStep(entry.guid, entry.link, entry.first_seen_at,
                          _fetch_step(fetches.get(entry.fetch_id))) if entry else None)
        out.append(Chain(m, row.url, step, _fetch_step(fetches.get(row.fetch_id)),
                         shots.get(m.id), links[m.id]))
    return out


def story_detail(session: Session, story_id: int) -> StoryDetail | None:
    summaries = summarise(session, [story_id])
    if not summaries:
        return None
    summary = summaries[0]
    text, html = session.execute(select(Article.text, Article.html)
                                 .where(Article.id == summary.primary.id)).one()
    return StoryDetail(summary, chains(session, summary.copies), text, html)


def member(session: Session, article_id: int) -> StoryMember | None:
    """One article as a story member (for its own provenance chain)."""
    row = session.execute(select(Article.story_id).where(Article.id == article_id)).first()
    if row is None:
        return None
    if row.story_id is None:
        return None
    found = summarise(session, [row.story_id])
    return next((m for s in found for m in s.copies if m.id == article_id), None)
