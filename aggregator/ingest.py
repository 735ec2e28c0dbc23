"""The article path: the one place that knows the order of the stages for one article.

fill gaps from the feed -> canonical URL -> fingerprint -> cites
  -> same article in its source? revision : place in a story (one query for the candidates,
     aggregator/placement.py chooses)
  -> store with provenance, choose the story's primary, index the signature
     (one transaction per batch of articles)
  -> archive the raw responses (WARC; a failure is recorded, not fatal)

Crawl bookkeeping (crawls, entries, validators, walked pages) is the ledger's
(aggregator/ledger.py).
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import time
from datetime import datetime, timezone
from typing import NamedTuple

from aggregator import dedup, metrics, placement, provenance, quality, records, urls
from aggregator.archive import WarcArchive
from aggregator.dates import LOCAL_TZ
from aggregator.db import extraction_stats, store, stories
from aggregator.db.engine import Database
from aggregator.sources import Source
from aggregator.urls import canonical_url, choose_canonical
from aggregator.vocabulary import DatePrecision, DateSource

log = logging.getLogger(__name__)


def _feed_precision(when: datetime) -> DatePrecision:
    """A sitemap's W3C date may be a bare day, parsed as midnight in Kyiv."""
    local = when.astimezone(LOCAL_TZ)
    midnight = (local.hour, local.minute, local.second, local.microsecond) == (0, 0, 0, 0)
    return DatePrecision.DAY if midnight else DatePrecision.SECOND


def fill_from_feed(draft: records.ArticleDraft,
                   entry: records.FeedEntry | None) -> records.ArticleDraft:
    """The page wins; the feed fills what the page left empty (or only dated to the day)."""
    if entry is None:
        return draft
    dated = {}
    if entry.published_at and (draft.published_at is None
                               or draft.date_precision != DatePrecision.SECOND):
        precision = _feed_precision(entry.published_at)
        if draft.published_at is None or precision == DatePrecision.SECOND:
            dated = {"published_at": entry.published_at, "date_source": DateSource.FEED,
                     "date_precision": precision}
    return dataclasses.replace(
        draft,
        **dated,
        title=draft.title or entry.title,
        authors=draft.authors or entry.authors,
        updated_at=draft.updated_at or entry.updated_at,
        description=draft.description or (entry.summary or None),
        image_url=draft.image_url or entry.image_url,
        categories=draft.categories or entry.categories,
    )


def _member(row: stories.MemberRow) -> dedup.StoryMember:
    cites = frozenset(canonical_url(u) for u in row.cites)
    return dedup.StoryMember(
        row.article_id, row.url, urls.registered_domain(row.url), row.at_canonical,
        row.first_seen_at, row.published_at, cites,
        frozenset(urls.registered_domain(u) for u in row.cites),
    )


class Arrival(NamedTuple):
    """An extracted article as the spider hands it over, with what it came from."""

    source: Source
    source_id: int
    entry_ids: list[int]
    entry: records.FeedEntry | None
    fetch: records.FetchRecord
    draft: records.ArticleDraft
    raw: records.RawPage | None = None


LOCK_BUDGET = 180  # advisory locks one transaction may hold: on PostgreSQL a batch is stored
# 4 articles (KEYS_PER_ARTICLE each) per transaction. Fewer keys held means fewer collisions with
# other nodes' batches (bench --nodes 3: 16 -> 5 ms waited per article against batches of
# 17), and PostgreSQL's lock table (max_locks_per_transaction x max_connections, 6,400 by
# default) is shared by every node.
KEYS_PER_ARTICLE = 45  # 37 band keys, canonical URL, text hash, editions: about


def _lock_key(kind: str, value: str) -> int:
    return int.from_bytes(hashlib.sha256(f"{kind}:{value}".encode()).digest()[:8], "big",
                          signed=True)


class Ingestor:
    """Stores the articles the spider brings, a batch per transaction. Near duplicates are
    found in an in-memory LSH index kept in step with what is stored (SQLite: one node), or
    on PostgreSQL in the band table all nodes share, asked under advisory locks on the
    article's keys, so copies placed on two nodes at the same moment join one story."""

    def __init__(self, db: Database, archive: WarcArchive | None = None,
                 screenshots: bool = True):
        self.db = db
        self.archive = archive
        self.screenshots = screenshots
        self.shared = db.engine.dialect.name == "postgresql"
        self.index = dedup.NearIndex()
        self.load_index()

    def load_index(self) -> None:
        """Sign articles stored before signatures; then fill the LSH index from stored
        signatures (SQLite), or band the signatures not yet in the band table (PostgreSQL)."""
        with self.db.session() as session:
            while unsigned := stories.unsigned_articles(session):
                for article_id, text in unsigned:
                    stories.add_signature(session, article_id, dedup.fingerprint(text))
                session.flush()
        if self.shared:
            banded = 0
            while True:
                with self.db.session() as session:
                    rows = stories.unbanded(session, dedup.MIN_SHINGLES)
                    for article_id, minhash, size in rows:
                        fp = records.Fingerprint("", minhash, size)
                        stories.save_bands(session, article_id, dedup.band_keys(fp))
                banded += len(rows)
                if not rows:
                    break
            log.info("near-duplicate index: the shared band table (%d signatures banded now)",
                     banded)
            return
        with self.db.session() as session:
            self.index.add_many(list(stories.signatures(session)))
        log.info("near-duplicate index loaded: %d articles", len(self.index))

    def store_article(self, arrival: Arrival) -> stories.StoredArticle:
        """One article on its own (tests and tools); the spider stores batches."""
        outcome = self.store_articles([arrival])[0]
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    def store_articles(self, batch: list[Arrival]) -> list[stories.StoredArticle | Exception]:
        """Store a batch in one transaction, then archive each. If the transaction fails, the
        index is reloaded and each article is stored on its own, so a bad one fails alone."""
        if self.shared and len(batch) > 1 and len(batch) * KEYS_PER_ARTICLE > LOCK_BUDGET:
            size = max(1, LOCK_BUDGET // KEYS_PER_ARTICLE)
            return [outcome for start in range(0, len(batch), size)
                    for outcome in self.store_articles(batch[start:start + size])]
        try:
            with self.db.session() as session:
                if self.shared:
                    self._lock(session, batch)
                done = [self._store(session, a) for a in batch]
        except Exception as exc:  # noqa: BLE001 - handed back per article, or retried one by one
            if len(batch) == 1:
                self._reload_index()
                return [exc]
            log.warning("batch of %d articles failed (%s); storing them one by one", len(batch),
                        exc)
            self._reload_index()
            return [outcome for a in batch for outcome in self.store_articles([a])]
        self._archive([(a.raw, fetch_id) for a, (_, fetch_id) in zip(batch, done)
                       if a.raw is not None])
        return [stored for stored, _ in done]

    def _lock(self, session, batch: list[Arrival]) -> None:
        """Before anything is read: lock every key by which an article of the batch could
        meet an article another node is placing (canonical URL, text hash, band keys,
        editions), all in one sorted statement."""
        keys: list[int] = []
        for a in batch:
            draft = fill_from_feed(a.draft, a.entry)
            canonical = choose_canonical(draft.url, draft.canonical_url, a.source.allowed_domains)
            fp = draft.fingerprint or dedup.fingerprint(draft.text)
            urls_ = [canonical, *(canonical_url(u) for _, u in draft.alternates),
                     *urls.edition_counterparts(canonical)]
            keys += [_lock_key("url", urls.url_key(u)) for u in urls_]
            keys += [_lock_key("text", fp.content_hash), *dedup.band_keys(fp)]
            if edition := urls.edition_key(canonical):
                keys.append(_lock_key("edition", edition))
        started = time.perf_counter()
        stories.lock_keys(session, keys)
        metrics.LOCK_WAIT.labels("placement").inc(time.perf_counter() - started)

    def _store(self, session, a: Arrival) -> tuple[stories.StoredArticle, int]:
        """One article's steps inside the batch's transaction; its signature is indexed at
        once, so later articles of the same batch find it."""
        outcome = quality.of_draft(a.draft, a.source.language)  # before the feed fills gaps
        draft = fill_from_feed(a.draft, a.entry)
        canonical = choose_canonical(draft.url, draft.canonical_url, a.source.allowed_domains)
        fp = draft.fingerprint or dedup.fingerprint(draft.text)
        cites = provenance.cited_sources(draft.text, draft.title, draft.links, draft.url,
                                         (a.source.title, draft.sitename))
        guid = a.entry.guid if a.entry else None
        fetch_id = store.add_fetch(session, a.source_id, a.fetch)
        version = records.ArticleVersion(fetch_id, tuple(a.entry_ids), draft, canonical, fp,
                                         a.fetch.fetched_at)
        links = provenance.provenance_links(a.source, draft, canonical, a.entry, cites)
        known = stories.find_known(session, a.source_id, draft.url, canonical, guid)
        if known is not None and known.same_source:
            stored = stories.revise_article(session, known.id, version)
        elif known is not None:  # one article per canonical URL: a sighting, not a copy
            stored = stories.sighted(session, known, version)
            listed = a.entry.link if a.entry else draft.url
            links = provenance.sighting_links(a.source.name, a.source.url, known.url, listed,
                                              guid)
        else:
            new = records.NewArticle(a.source_id, guid, urls.edition_key(canonical),
                                     self._place(session, draft, canonical, fp), version)
            stored = stories.insert_article(session, new)
        store.add_links(session, stored.id, links, a.source_id)
        if stored.created and self.screenshots and a.source.screenshots:
            store.enqueue_screenshot(session, stored.id, fetch_id, draft.url)
        extraction_stats.count(session, a.source_id,
                               a.fetch.fetched_at.astimezone(timezone.utc).date(), outcome)
        members = [_member(m) for m in stories.story_members(session, stored.story_id)]
        stories.set_primary(session, stored.story_id, dedup.choose_primary(members))
        if (stored.created or stored.revised) and self.shared:
            stories.save_bands(session, stored.id, dedup.band_keys(fp), replace=stored.revised)
        elif stored.created or stored.revised:
            self.index.add(stored.id, fp)
        log.debug("stored article %s %s (story %s%s)", stored.id, draft.url, stored.story_id,
                 ", revised" if stored.revised else "",
                 extra={"source": a.source.name, "url": draft.url})
        return stored, fetch_id

    def _reload_index(self) -> None:
        """After a rollback the index may hold signatures that were never stored."""
        if self.shared:
            return  # the band table rolled back with the rest
        self.index = dedup.NearIndex()
        self.load_index()

    def _place(self, session, draft: records.ArticleDraft, canonical: str,
               fp: records.Fingerprint) -> records.Placement:
        """Which story a new article joins: one query gathers the candidates (the near
        matches come from the in-memory index), aggregator/placement.py chooses."""
        alternates = [canonical_url(u) for _, u in draft.alternates if u != draft.url]
        if self.shared:
            near = dedup.containment(fp, stories.banded(session, dedup.band_keys(fp)))
        else:
            near = self.index.matches(fp)
        candidates = stories.story_candidates(
            session, canonical, fp.content_hash, dict(near), alternates,
            urls.edition_counterparts(canonical), urls.edition_key(canonical), draft.language)
        return placement.choose_story(candidates)

    def _archive(self, pages: list[tuple[records.RawPage, int]]) -> None:
        """After the commit: the articles are stored whatever happens to their WARC records."""
        if not pages or self.archive is None:
            return
        try:
            saved = [(p, None) for p in self.archive.write_all([raw for raw, _ in pages])]
        except OSError as exc:
            error = f"WARC write failed: {exc}"
            log.error(error, extra={"url": pages[0][0].url})
            saved = [(None, error)] * len(pages)
        with self.db.session() as session:
            for (_, fetch_id), (pointer, error) in zip(pages, saved):
                stories.save_warc(session, fetch_id, pointer, error)
