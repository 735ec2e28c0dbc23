"""A batch of extracted articles into the database with a fixed number of statements.

The batch is read once (aggregator/db/batch.py: the stored articles each arrival may be, the
rows that may place it in a story, revision heads, existing links), every decision is made
in memory in arrival order, as storing one by one would make them, and then written in bulk:
stories, articles, revisions, signatures, entries, links, screenshot rows, counters,
primaries. Rows not inserted yet carry ids above every stored id (LOCAL + n), so the rules
that prefer the earliest stored article still do. Two arrivals that are the same article (same
canonical URL, or the same URL or GUID in one source) never share a chunk: the later one is
planned after the earlier one is written.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timezone
from typing import NamedTuple

from sqlalchemy.orm import Session

from aggregator import dedup, placement, provenance, quality, records, urls
from aggregator.db import batch as db
from aggregator.db.models import utcnow
from aggregator.placement import StoredRow
from aggregator.urls import canonical_url, choose_canonical, url_key

LOCAL = 1 << 60
NearLookup = Callable[[Session, list[records.Fingerprint]], list[dict[int, float]]]


@dataclass(frozen=True)
class Prepared:
    """An arrival with what storing derives from it before any look-up."""

    arrival: object  # aggregator.ingest.Arrival
    outcome: quality.Outcomes
    draft: records.ArticleDraft
    canonical: str
    key: str
    fp: records.Fingerprint
    cites: list
    fetch_id: int
    alternates: tuple[tuple[str, str], ...]  # (declared URL, the key of its canonical URL)
    counterpart_keys: frozenset[str]  # keys of its URLs in the other language editions

    @property
    def alternate_keys(self) -> set[str]:
        """Keys of the declared alternates other than the page itself."""
        return {key for u, key in self.alternates if u != self.draft.url}

    @property
    def identities(self) -> set[tuple]:
        a = self.arrival
        found = {("key", self.key), ("url", a.source_id, self.draft.url)}
        return found | ({("guid", a.source_id, a.entry.guid)} if a.entry else set())


def prepare(arrival, draft: records.ArticleDraft, fetch_id: int) -> Prepared:
    """`draft`: the arrival's, with the feed's gaps filled."""
    canonical = choose_canonical(draft.url, draft.canonical_url, arrival.source.allowed_domains)
    cites = provenance.cited_sources(draft.text, draft.title, draft.links, draft.url,
                                     (arrival.source.title, draft.sitename))
    return Prepared(arrival, quality.of_draft(arrival.draft, arrival.source.language), draft,
                    canonical, url_key(canonical), draft.fingerprint or dedup.fingerprint(
                        draft.text), cites, fetch_id,
                    tuple((u, url_key(canonical_url(u))) for _, u in draft.alternates),
                    frozenset(map(url_key, urls.edition_counterparts(canonical))))


def chunks(prepared: list[Prepared]) -> list[list[int]]:
    """Runs of the batch, in order, where no article is another's (by identity)."""
    out: list[list[int]] = [[]]
    seen: set[tuple] = set()
    for n, p in enumerate(prepared):
        if p.identities & seen:
            out.append([])
            seen = set()
        out[-1].append(n)
        seen |= p.identities
    return out


@dataclass
class Plan:
    """What one chunk writes, with ids of rows not inserted yet above LOCAL."""

    stories: int = 0
    alias: dict[int, int] = field(default_factory=dict)  # merged story -> the one it joined
    merges: list[tuple[int, list[int]]] = field(default_factory=list)
    articles: list[dict] = field(default_factory=list)
    updates: list[dict] = field(default_factory=list)
    revisions: list[dict] = field(default_factory=list)
    new_signatures: list[dict] = field(default_factory=list)
    changed_signatures: list[dict] = field(default_factory=list)
    entries: list[tuple[int, int]] = field(default_factory=list)
    links: list[tuple[int, int, records.Link]] = field(default_factory=list)
    screenshots: list[tuple[int, int, str]] = field(default_factory=list)
    counts: dict = field(default_factory=lambda: defaultdict(quality.Outcomes))
    indexed: list[tuple[int, records.Fingerprint]] = field(default_factory=list)
    # (position in the chunk, article id, story id, created, revised) of each arrival planned
    stored: list[tuple[int, int, int | None, bool, bool]] = field(default_factory=list)
    deferred: list[int] = field(default_factory=list)

    def story(self, story_id: int) -> int:
        while story_id in self.alias:
            story_id = self.alias[story_id]
        return story_id


class Planner:
    """Decides one chunk: revision, sighting or new article (and its story) for each."""

    def __init__(self, session: Session, prepared: list[Prepared], near: NearLookup,
                 screenshots: bool, banded: bool):
        self.prepared, self.screenshots, self.banded = prepared, screenshots, banded
        self.plan = Plan()
        wanted = [(p.arrival.source_id, p.draft.url, p.key,
                   p.arrival.entry.guid if p.arrival.entry else None) for p in prepared]
        self.known = db.known(session, wanted)
        self.near = near(session, [p.fp for p in prepared])
        alternates = {key for p in prepared for _, key in p.alternates}
        counterparts = {key for p in prepared for key in p.counterpart_keys}
        editions = {e for p in prepared if (e := urls.edition_key(p.canonical))}
        self.rows = db.placement_rows(
            session, {p.key for p in prepared} | alternates | counterparts,
            {p.fp.content_hash for p in prepared}, editions,
            {i for found in self.near for i in found})
        ids = {k.id for k in self.known}
        self.heads = db.revision_heads(session, ids)
        self.links = db.existing_links(session, ids)
        self.local_signatures: list[tuple[int, bytes, int]] = []
        self.touched: set[int] = set()

    def run(self) -> Plan:
        for n, p in enumerate(self.prepared):
            self._one(n, p)
        return self.plan

    def _known(self, p: Prepared) -> db.KnownRow | None:
        """As storing alone would find it: the canonical URL's article, else the source's own
        with the same URL or GUID; the source's own and the earliest first."""
        a = p.arrival
        guid = a.entry.guid if a.entry else None
        rows = [k for k in self.known if k.canonical_key == p.key or (
            k.source_id == a.source_id and (k.url == p.draft.url or (guid and k.guid == guid)))]
        return min(rows, key=lambda k: (k.source_id != a.source_id, k.id), default=None)

    def _one(self, n: int, p: Prepared) -> None:
        a, plan = p.arrival, self.plan
        known = self._known(p)
        if known is not None and known.id in self.touched:
            plan.deferred.append(n)
            return
        links = provenance.provenance_links(a.source, p.draft, p.canonical, a.entry, p.cites)
        if known is not None and known.source_id == a.source_id:
            article_id, story_id, revised = known.id, known.story_id, self._revise(p, known)
            created = False
        elif known is not None:
            article_id, story_id, created, revised = known.id, known.story_id, False, False
            plan.updates.append({"id": known.id, "last_seen_at": utcnow()})
            listed = a.entry.link if a.entry else p.draft.url
            links = provenance.sighting_links(a.source.name, a.source.url, known.url, listed,
                                              a.entry.guid if a.entry else None)
        else:
            article_id, story_id = self._insert(n, p)
            created, revised = True, False
        self.touched.add(article_id)
        plan.entries += [(entry_id, article_id) for entry_id in a.entry_ids]
        plan.links += [(article_id, a.source_id, link) for link in provenance.unseen(
            links, set(self.links.get(article_id, ())))]
        if created and self.screenshots and a.source.screenshots:
            plan.screenshots.append((article_id, p.fetch_id, p.draft.url))
        day = a.fetch.fetched_at.astimezone(timezone.utc).date()
        plan.counts[(a.source_id, day)] += p.outcome
        if created or revised:
            plan.indexed.append((article_id, p.fp))
            self.local_signatures.append((article_id, p.fp.minhash, p.fp.shingles))
        plan.stored.append((n, article_id, story_id, created, revised))

    def _revise(self, p: Prepared, known: db.KnownRow) -> bool:
        """A re-fetch: a new revision when title or text changed, else the row's fetch moves."""
        plan, now = self.plan, utcnow()
        changed = (known.content_hash, known.title) != (p.fp.content_hash, p.draft.title)
        if not changed:
            plan.updates.append({"id": known.id, "fetch_id": p.fetch_id,
                                 "fetched_at": p.arrival.fetch.fetched_at, "last_seen_at": now})
            return False
        number, signed = self.heads.get(known.id, (0, False))
        plan.revisions.append(_revision(known.id, number + 1, p))
        signature = self._signature(known.id, p.fp)
        (plan.changed_signatures if signed else plan.new_signatures).append(signature)
        plan.updates.append({"id": known.id, **_shown(p)})
        self._shown_as(known, p)
        return True

    def _shown_as(self, known: db.KnownRow, p: Prepared) -> None:
        """Later arrivals of the chunk place by the revised text, as by a stored one."""
        old = next((r for r in self.rows if r.id == known.id), None)
        self.rows = [r for r in self.rows if r.id != known.id]
        self.rows.append(StoredRow(known.id, known.story_id, known.canonical_key,
                                   p.fp.content_hash, old.edition_key if old else None,
                                   p.draft.language))

    def _signature(self, article_id: int, fp: records.Fingerprint) -> dict:
        """The signature row; with its band keys where the database is the shared
        near-duplicate index (PostgreSQL), so a revision replaces them in the same row."""
        bands = (dedup.band_keys(fp) or None) if self.banded else None
        return {"article_id": article_id, "minhash": fp.minhash, "shingles": fp.shingles,
                "bands": bands}

    def _insert(self, n: int, p: Prepared) -> tuple[int, int]:
        """A new article placed in its story (planned; written by `write`)."""
        plan, a = self.plan, p.arrival
        near = dict(self.near[n])
        near.update(dedup.containment(p.fp, self.local_signatures))
        rows = [dataclasses.replace(r, story_id=plan.story(r.story_id)) for r in self.rows]
        found = placement.candidates(
            rows, p.key, p.fp.content_hash, near,
            p.alternate_keys, p.counterpart_keys,
            urls.edition_key(p.canonical), p.draft.language)
        chosen = placement.choose_story(found)
        story_id = chosen.story_id
        if story_id is None:
            story_id = LOCAL + plan.stories
            plan.stories += 1
        if chosen.merge:
            plan.alias.update(dict.fromkeys(chosen.merge, story_id))
            plan.merges.append((story_id, list(chosen.merge)))
        article_id = LOCAL + len(plan.articles)
        now = utcnow()
        plan.articles.append({
            "source_id": a.source_id, "url": p.draft.url, "first_seen_at": now,
            "story_id": story_id, "match_kind": chosen.kind, "match_score": chosen.score,
            "edition_key": urls.edition_key(p.canonical),
            "guid": a.entry.guid if a.entry else None,
            "feed_entry_id": a.entry_ids[0] if a.entry_ids else None,
            "canonical_url": p.canonical, "canonical_key": p.key, **_shown(p)})
        plan.revisions.append(_revision(article_id, 1, p))
        plan.new_signatures.append(self._signature(article_id, p.fp))
        self.rows.append(StoredRow(article_id, story_id, p.key, p.fp.content_hash,
                                   urls.edition_key(p.canonical), p.draft.language))
        return article_id, story_id


def _revision(article_id: int, number: int, p: Prepared) -> dict:
    return {"article_id": article_id, "number": number, "fetch_id": p.fetch_id,
            "fetched_at": p.arrival.fetch.fetched_at, "title": p.draft.title,
            "text": p.draft.text, "content_hash": p.fp.content_hash}


def _shown(p: Prepared) -> dict:
    """The columns that show an article's latest version (its identity never changes)."""
    d = p.draft
    return {"fetch_id": p.fetch_id, "title": d.title, "authors": list(d.authors),
            "published_at": d.published_at, "date_source": d.date_source,
            "date_precision": d.date_precision, "updated_at": d.updated_at,
            "language": d.language, "language_confidence": d.language_confidence,
            "extraction_path": d.extraction_path, "description": d.description,
            "image_url": d.image_url, "categories": list(d.categories), "tags": list(d.tags),
            "text": d.text, "html": d.html, "content_hash": p.fp.content_hash,
            "fetched_at": p.arrival.fetch.fetched_at, "last_seen_at": utcnow()}


class Written(NamedTuple):
    """What a chunk's writes gave, with the ids the database chose."""

    stored: list[tuple[int, int, int | None, bool, bool]]  # as Plan.stored
    indexed: list[tuple[int, records.Fingerprint]]  # (article id, fingerprint)


def write(session: Session, plan: Plan) -> Written:
    """Write what the plan decided."""
    live = [s for s in range(LOCAL, LOCAL + plan.stories) if s not in plan.alias]
    story_ids = dict(zip(live, db.insert_stories(session, len(live))))

    def story(s: int | None) -> int | None:
        s = plan.story(s) if s is not None else None
        return story_ids[s] if s is not None and s >= LOCAL else s

    for into, merged in plan.merges:
        if stored := [m for m in merged if m < LOCAL]:
            db.merge_stories(session, story(into), stored)
    ids = db.insert_articles(session, [{**row, "story_id": story(row["story_id"])}
                                       for row in plan.articles])

    def article(i: int) -> int:
        return ids[i - LOCAL] if i >= LOCAL else i

    def mapped(rows: list[dict], key: str = "article_id") -> list[dict]:
        return [{**row, key: article(row[key])} for row in rows]

    db.update_articles(session, plan.updates)
    db.insert_revisions(session, mapped(plan.revisions))
    db.save_signatures(session, mapped(plan.new_signatures), plan.changed_signatures)
    db.entries_stored(session, [(e, article(a)) for e, a in plan.entries])
    db.insert_links(session, [(article(a), s, link) for a, s, link in plan.links])
    db.enqueue_screenshots(session, [(article(a), f, u) for a, f, u in plan.screenshots])
    db.count_outcomes(session, plan.counts)
    stored = [(n, article(a), story(s), created, revised)
              for n, a, s, created, revised in plan.stored]
    _choose_primaries(session, {s for _, _, s, _, _ in stored if s is not None})
    return Written(stored, [(article(a), fp) for a, fp in plan.indexed])


def _choose_primaries(session: Session, story_ids: set[int]) -> None:
    """Each touched story's primary, from all its members as they are now."""
    if not story_ids:
        return
    current = db.primaries(session, story_ids)
    chosen = {story_id: dedup.choose_primary([_member(m) for m in found])
              for story_id, found in db.members(session, story_ids).items()}
    db.set_primaries(session, {s: a for s, a in chosen.items() if current.get(s) != a})


def _member(row: db.MemberRow) -> dedup.StoryMember:
    cites = frozenset(canonical_url(u) for u in row.cites)
    return dedup.StoryMember(
        row.article_id, row.url, urls.registered_domain(row.url), row.at_canonical,
        row.first_seen_at, row.published_at, cites,
        frozenset(urls.registered_domain(u) for u in row.cites),
    )
