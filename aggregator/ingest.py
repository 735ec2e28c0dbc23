"""The article path: the one place that knows the order of the stages for one article.

fill gaps from the feed -> canonical URL -> fingerprint -> cites
  -> same article in its source? revision : place in a story (one query for the candidates,
     aggregator/placement.py chooses)
  -> store with provenance, choose the story's primary, index the signature
     (one transaction per batch of articles)

A batch's raw responses are archived first (WARC, one fsync; a failure is recorded, not
fatal), so each fetch row carries its record's pointer in the same insert: a crash can leave a
record no row points at (`aggregator db check --fix` truncates it), never a stored article
without its evidence, and no second transaction writes the pointers afterwards.

Crawl bookkeeping (crawls, entries, validators, walked pages) is the ledger's
(aggregator/ledger.py).
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import time
from datetime import datetime
from typing import NamedTuple

from aggregator import dedup, metrics, records, storing, urls
from aggregator.archive import WarcArchive
from aggregator.dates import LOCAL_TZ
from aggregator.db import batch as batch_db
from aggregator.db import statistics, stories
from aggregator.db.engine import Database
from aggregator.sources import Source
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


class Arrival(NamedTuple):
    """An extracted article as the spider hands it over, with what it came from."""

    source: Source
    source_id: int
    entry_ids: list[int]
    entry: records.FeedEntry | None
    fetch: records.FetchRecord
    draft: records.ArticleDraft
    raw: records.RawPage | None = None
    archived: records.Archived | None = None  # raw's WARC outcome, once archived (a retried
    # article keeps its record)


KEYS_PER_ARTICLE = 45  # placement locks an article takes: 37 band keys, canonical URL, text
# hash, editions: about


def lock_budget(table: int, nodes: int) -> int:
    """Placement locks one transaction may hold on PostgreSQL. They come from the server's
    lock table (`table` entries, 6,400 by default), which every connection shares: half of it
    is left to everything else, the other half is split among the live nodes, each holding
    one placement transaction at a time. Fewer and larger transactions pay, since the store
    path costs a fixed number of statements and round trips a transaction: one node stores
    a whole batch (up to 64 articles) at once, three nodes 23 articles a transaction."""
    return max(KEYS_PER_ARTICLE, table // (2 * max(1, nodes)))


def _lock_key(kind: str, value: str) -> int:
    return int.from_bytes(hashlib.sha256(f"{kind}:{value}".encode()).digest()[:8], "big",
                          signed=True)


class Ingestor:
    """Stores the articles the spider brings, a batch per transaction. Near duplicates are
    found in an in-memory LSH index kept in step with what is stored (SQLite: one node), or
    on PostgreSQL in the signatures' band keys all nodes share, asked under advisory locks on the
    article's keys, so copies placed on two nodes at the same moment join one story."""

    def __init__(self, db: Database, archive: WarcArchive | None = None,
                 screenshots: bool = True):
        self.db = db
        self.archive = archive
        self.screenshots = screenshots
        self.shared = db.engine.dialect.name == "postgresql"
        self.nodes = 1  # live nodes sharing the lock table: the daemon's heartbeat updates it
        self.lock_table = 0
        self.statistics_due = time.monotonic() + statistics.CHECK_EVERY
        self._told_autovacuum = False
        if self.shared:
            with db.session() as session:
                self.lock_table = stories.lock_table_size(session)
        self.index = dedup.NearIndex()
        self.load_index()

    def load_index(self) -> None:
        """Sign articles stored before signatures; then fill the LSH index from stored
        signatures (SQLite), or add the band keys the signatures lack (PostgreSQL)."""
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
                    batch_db.save_bands(session, {
                        article_id: dedup.band_keys(records.Fingerprint("", minhash, size))
                        for article_id, minhash, size in rows})
                banded += len(rows)
                if not rows:
                    break
            log.info("near-duplicate index: the signatures' shared band keys (%d banded now)",
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

    def _archive(self, pages: list[records.RawPage]) -> list[records.Archived]:
        """Append each page's WARC record (one fsync for the lot). A failure is each page's
        recorded outcome, never an exception: the articles are stored whatever happens here."""
        if self.archive is None:
            return [records.Archived() for _ in pages]
        try:
            return [records.Archived(pointer) for pointer in self.archive.write_all(pages)]
        except OSError as exc:
            error = f"WARC write failed: {exc}"
            log.error(error, extra={"url": pages[0].url})
            return [records.Archived(error=error[:2000]) for _ in pages]

    def store_articles(self, batch: list[Arrival]) -> list[stories.StoredArticle | Exception]:
        """Store a batch; then, on PostgreSQL, if it stored anything, analyse what changed
        enough (aggregator/db/statistics.py)."""
        outcomes = self._store_batch(batch)
        if self.shared and time.monotonic() >= self.statistics_due and not all(
                isinstance(o, Exception) for o in outcomes):
            self.keep_statistics()
        return outcomes

    def keep_statistics(self) -> None:
        """ANALYZE the tables past autovacuum's threshold, in a transaction of its own. A
        failure is logged: statistics are an optimisation, never a reason to lose a batch."""
        self.statistics_due = time.monotonic() + statistics.CHECK_EVERY
        try:
            with self.db.session() as session:
                found = statistics.activity(session)
                statistics.analyze(session, stale := statistics.stale(found))
        except Exception as exc:  # noqa: BLE001 - logged; the next check tries again
            log.warning("could not refresh the planner's statistics: %s", exc)
            return
        if stale:
            log.debug("analysed %s (planner statistics)", ", ".join(stale))
        if not found.autovacuum and not self._told_autovacuum:
            self._told_autovacuum = True
            log.warning("autovacuum is off on this PostgreSQL server: the daemon keeps the "
                        "planner's statistics itself, but nothing vacuums the tables")

    def _store_batch(self, batch: list[Arrival]) -> list[stories.StoredArticle | Exception]:
        """Store a batch in one transaction (its raw pages archived first, if they are not
        yet). If the transaction fails, the index is reloaded and each article is stored on
        its own, so a bad one fails alone."""
        batch = self._archived(batch)
        budget = lock_budget(self.lock_table, self.nodes)
        if self.shared and len(batch) > 1 and len(batch) * KEYS_PER_ARTICLE > budget:
            size = budget // KEYS_PER_ARTICLE
            return [outcome for start in range(0, len(batch), size)
                    for outcome in self._store_batch(batch[start:start + size])]
        try:
            with self.db.session() as session:
                return self._store(session, batch)
        except Exception as exc:  # noqa: BLE001 - handed back per article, or retried one by one
            if len(batch) == 1:
                self._reload_index()
                return [exc]
            log.warning("batch of %d articles failed (%s); storing them one by one", len(batch),
                        exc)
            self._reload_index()
            return [outcome for a in batch for outcome in self._store_batch([a])]

    def _archived(self, batch: list[Arrival]) -> list[Arrival]:
        """The batch with every raw page archived."""
        todo = [n for n, a in enumerate(batch) if a.raw is not None and a.archived is None]
        if not todo:
            return batch
        done = dict(zip(todo, self._archive([batch[n].raw for n in todo])))
        return [a._replace(archived=done[n]) if n in done else a for n, a in enumerate(batch)]

    def _store(self, session, batch: list[Arrival]) -> list[stories.StoredArticle]:
        """The batch's fetches, the locks (PostgreSQL), then each chunk (aggregator/storing.py)
        planned from one round of look-ups and written in bulk; its signatures are indexed at
        once, so later chunks find them."""
        fetch_ids = batch_db.insert_fetches(session, [(a.source_id, a.fetch) for a in batch],
                                            [a.archived for a in batch])
        prepared = [storing.prepare(a, fill_from_feed(a.draft, a.entry), f)
                    for a, f in zip(batch, fetch_ids)]
        if self.shared:
            self._lock(session, prepared)
        out: dict[int, stories.StoredArticle] = {}
        todo = storing.chunks(prepared)
        while todo:
            chunk = todo.pop(0)
            plan = storing.Planner(session, [prepared[n] for n in chunk], self._near,
                                   self.screenshots, banded=self.shared).run()
            written = storing.write(session, plan)
            for m, article_id, story_id, created, revised in written.stored:
                out[chunk[m]] = stories.StoredArticle(article_id, created, story_id, revised)
            if plan.deferred:
                todo.insert(0, [chunk[m] for m in plan.deferred])
            self._index(written.indexed)
        for n, p in enumerate(prepared):
            log.debug("stored article %s %s (story %s)", out[n].id, p.draft.url,
                      out[n].story_id, extra={"source": p.arrival.source.name,
                                              "url": p.draft.url})
        return [out[n] for n in range(len(prepared))]

    def _lock(self, session, prepared: list[storing.Prepared]) -> None:
        """Before anything is read: lock every key by which an article of the batch could
        meet an article another node is placing (canonical URL, text hash, band keys,
        editions), all in one sorted statement."""
        keys: list[int] = []
        for p in prepared:
            url_keys = [p.key, *(key for _, key in p.alternates), *p.counterpart_keys]
            keys += [_lock_key("url", key) for key in url_keys]
            keys += [_lock_key("text", p.fp.content_hash), *dedup.band_keys(p.fp)]
            if edition := urls.edition_key(p.canonical):
                keys.append(_lock_key("edition", edition))
        started = time.perf_counter()
        stories.lock_keys(session, keys)
        metrics.LOCK_WAIT.labels("placement").inc(time.perf_counter() - started)

    def _near(self, session, fps: list[records.Fingerprint]) -> list[dict[int, float]]:
        """Stored near matches of each fingerprint: the in-memory index (SQLite) or the
        signatures' shared band keys, asked once for the whole chunk (PostgreSQL)."""
        if not self.shared:
            return [dict(self.index.matches(fp)) for fp in fps]
        keys = [dedup.band_keys(fp) for fp in fps]
        banded = batch_db.band_signatures(session, {k for found in keys for k in found})
        return [dict(dedup.containment(fp, list({s[0]: s for k in found
                                                 for s in banded.get(k, ())}.values())))
                for fp, found in zip(fps, keys)]

    def _index(self, indexed: list[tuple[int, records.Fingerprint]]) -> None:
        """SQLite's in-memory index learns the chunk's signatures (on PostgreSQL their band
        keys went into the signature rows)."""
        if self.shared:
            return
        for article_id, fp in indexed:
            self.index.add(article_id, fp)

    def _reload_index(self) -> None:
        """After a rollback the index may hold signatures that were never stored."""
        if self.shared:
            return  # the band keys rolled back with the rest
        self.index = dedup.NearIndex()
        self.load_index()
