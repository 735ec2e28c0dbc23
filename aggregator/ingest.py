"""The one place that knows the order of the stages for a feed and for one article.

feed: record fetch -> record entries (canonical links) -> choose what to fetch
article: fill gaps from the feed -> canonical URL -> fingerprint -> cites
  -> same article in its source? revision : place in a story (URL, hash, MinHash, edition)
  -> store with provenance, choose the story's primary, index the signature
     (one transaction per batch of articles)
  -> archive the raw responses (WARC; a failure is recorded, not fatal)
"""

from __future__ import annotations

import dataclasses
import logging
from datetime import datetime, timezone
from typing import NamedTuple

from aggregator import dedup, provenance, quality, records, urls
from aggregator.archive import WarcArchive
from aggregator.db import discovery, extraction_stats, store, stories
from aggregator.db.engine import Database
from aggregator.sources import Source
from aggregator.urls import canonical_url, choose_canonical

log = logging.getLogger(__name__)


def fill_from_feed(draft: records.ArticleDraft, entry: records.FeedEntry | None) -> records.ArticleDraft:
    """The page wins; the feed fills what the page left empty (or only dated to the day)."""
    if entry is None:
        return draft
    published = draft.published_at
    if entry.published_at and (published is None or draft.date_is_approximate):
        published = entry.published_at
    return dataclasses.replace(
        draft,
        title=draft.title or entry.title,
        authors=draft.authors or entry.authors,
        published_at=published,
        date_is_approximate=draft.date_is_approximate and published == draft.published_at,
        updated_at=draft.updated_at or entry.updated_at,
        description=draft.description or (entry.summary or None),
        image_url=draft.image_url or entry.image_url,
        categories=draft.categories or entry.categories,
    )


def provenance_links(
    source: Source, draft: records.ArticleDraft, canonical: str, entry: records.FeedEntry | None,
    cites: list[records.Cite] = (),
) -> list[tuple[str, str | None, str | None]]:
    """(kind, url, label) for where the article came from and what it points to."""
    links: list[tuple[str, str | None, str | None]] = [
        ("original", draft.url, draft.sitename or source.title),
        ("feed", source.url, entry.guid if entry else None),
    ]
    if entry and entry.link != draft.url:
        links.append(("redirected_from", entry.link, None))
    if canonical != draft.url:
        links.append(("canonical", canonical, None))
    links.extend(("alternate", url, lang) for lang, url in draft.alternates if url != draft.url)
    links.extend(("cites", cite.url, cite.outlet) for cite in cites)
    return links


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


class Ingestor:
    """Stores what the spiders bring, one short transaction per step."""

    def __init__(self, db: Database, max_entry_attempts: int = 5,
                 archive: WarcArchive | None = None, screenshots: bool = True):
        self.db = db
        self.max_attempts = max_entry_attempts
        self.archive = archive
        self.screenshots = screenshots
        self.index = dedup.NearIndex()
        self.load_index()

    def load_index(self) -> None:
        """Fill the LSH index from stored signatures; sign articles stored before them."""
        with self.db.session() as session:
            while unsigned := stories.unsigned_articles(session):
                for article_id, text in unsigned:
                    stories.add_signature(session, article_id, dedup.fingerprint(text))
                session.flush()
        with self.db.session() as session:
            self.index.add_many(list(stories.signatures(session)))
        log.info("near-duplicate index loaded: %d articles", len(self.index))

    def register(self, source: Source) -> int:
        with self.db.session() as session:
            return store.sync_source(session, source)

    def conditional_headers(self, source_id: int) -> dict[str, str]:
        with self.db.session() as session:
            etag, modified = store.validators(session, source_id)
        headers = {}
        if etag:
            headers["If-None-Match"] = etag
        if modified:
            headers["If-Modified-Since"] = modified
        return headers

    def start_crawl(self, source_id: int, started_at) -> int:
        with self.db.session() as session:
            return store.start_crawl(session, source_id, started_at)

    def finish_crawl(self, crawl_id: int, summary: records.CrawlSummary, outcome: str) -> None:
        with self.db.session() as session:
            store.finish_crawl(session, crawl_id, summary, outcome)

    def accept_feed(
        self, source_id: int, fetch: records.FetchRecord, feed: records.ParsedFeed | None,
        validators: bool = True,
    ) -> tuple[int, list[store.PendingEntry]]:
        """Record the feed fetch and its entries; return (new entries, entries to fetch).

        `feed` is None for a 304: nothing new, but earlier entries may still be pending.
        Validators are saved only once the entries are stored, so a crash never hides them;
        only the source URL's own (`validators`), not those of a child sitemap or listing page.
        """
        with self.db.session() as session:
            fetch_id = store.add_fetch(session, source_id, fetch)
            new = 0
            if feed is not None:
                canonicals = {e.link: canonical_url(e.link) for e in feed.entries}
                new = store.upsert_entries(session, source_id, fetch_id, feed.entries, canonicals)
                if validators:
                    store.save_validators(session, source_id, fetch)
            return new, store.pending_entries(session, source_id, self.max_attempts)

    def store_article(
        self,
        source: Source,
        source_id: int,
        entry_ids: list[int],
        entry: records.FeedEntry | None,
        fetch: records.FetchRecord,
        draft: records.ArticleDraft,
        raw: records.RawPage | None = None,
    ) -> stories.StoredArticle:
        article = Arrival(source, source_id, entry_ids, entry, fetch, draft, raw)
        outcome = self.store_articles([article])[0]
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    def store_articles(self, batch: list[Arrival]) -> list[stories.StoredArticle | Exception]:
        """Store a batch in one transaction, then archive each. If the transaction fails, the
        index is reloaded and each article is stored on its own, so a bad one fails alone."""
        try:
            with self.db.session() as session:
                done = [self._store(session, a) for a in batch]
        except Exception as exc:
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
        known = stories.find_in_source(session, a.source_id, draft.url, canonical, guid)
        if known is not None:
            stored = stories.revise_article(session, known, fetch_id, a.entry_ids, draft,
                                            canonical, fp, a.fetch.fetched_at)
        else:
            stored = stories.insert_article(
                session, a.source_id, fetch_id, a.entry_ids, draft, canonical, guid, fp,
                urls.edition_key(canonical), self._place(session, draft, canonical, fp),
                a.fetch.fetched_at,
            )
        store.add_links(session, stored.id,
                        provenance_links(a.source, draft, canonical, a.entry, cites))
        if stored.created and self.screenshots and a.source.screenshots:
            store.enqueue_screenshot(session, stored.id, fetch_id, draft.url)
        extraction_stats.count(session, a.source_id, a.fetch.fetched_at.astimezone(timezone.utc).date(),
                         outcome)
        members = [_member(m) for m in stories.story_members(session, stored.story_id)]
        stories.set_primary(session, stored.story_id, dedup.choose_primary(members))
        if stored.created or stored.revised:
            self.index.add(stored.id, fp)
        log.info("stored article %s %s (story %s%s)", stored.id, draft.url, stored.story_id,
                 ", revised" if stored.revised else "",
                 extra={"source": a.source.name, "url": draft.url})
        return stored, fetch_id

    def _reload_index(self) -> None:
        """After a rollback the index may hold signatures that were never stored."""
        self.index = dedup.NearIndex()
        self.load_index()

    def _place(self, session, draft: records.ArticleDraft, canonical: str,
               fp: records.Fingerprint) -> stories.Placement:
        """Which story a new article joins: same URL elsewhere, same text, near-same text, or
        another language edition; else its own. Every rule is asked, because an article can
        be the missing link between two stories (a uk original, its ru edition stored first
        and a rewrite): those are merged into the first found."""
        found: list[tuple[int, str, float | None]] = []
        if story := stories.story_by_url(session, canonical):
            found.append((story, "url", 1.0))
        if story := stories.story_by_hash(session, fp.content_hash):
            found.append((story, "exact", 1.0))
        matches = self.index.matches(fp)
        if matches:
            score = round(matches[0][1], 3)
            found += [(s, "near", score) for s in stories.stories_of(session, [k for k, _ in matches])]
        alternates = [canonical_url(u) for _, u in draft.alternates if u != draft.url]
        story = stories.story_by_edition(session, alternates, urls.edition_counterparts(canonical),
                                         urls.edition_key(canonical), draft.language)
        if story:
            found.append((story, "edition", None))
        if not found:
            return stories.Placement(None, "first")
        story, kind, score = found[0]
        others = tuple(dict.fromkeys(s for s, _, _ in found if s != story))
        return stories.Placement(story, kind, score, others)

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

    def page_failed(
        self, source_id: int, entry_ids: list[int], reason: str,
        fetch: records.FetchRecord | None = None, outcome: str | None = None,
    ) -> None:
        """`outcome` names an extraction failure (empty or short text) for the quality counters."""
        with self.db.session() as session:
            if fetch is not None:
                store.add_fetch(session, source_id, fetch)
            store.entry_failed(session, entry_ids, reason, self.max_attempts)
            if outcome is not None:
                extraction_stats.count(session, source_id, datetime.now(timezone.utc).date(),
                                 quality.of_failure(outcome))

    def page_skipped(self, entry_ids: list[int], reason: str) -> None:
        with self.db.session() as session:
            store.entry_skipped(session, entry_ids, reason)

    def child_failed(self, source_id: int) -> None:
        """A child sitemap could not be read: forget the root's validators, so the next crawl
        gets the index again (not a 304) and retries the child."""
        with self.db.session() as session:
            store.clear_validators(session, source_id)

    def walked_pages(self, source_id: int, urls_: list[str]) -> dict:
        """url -> lastmod when last walked, for the sitemap/listing pages of `urls_` walked."""
        with self.db.session() as session:
            return discovery.walked(session, source_id, urls_)

    def plan_pages(self, source_id: int, kind: str, pages: list) -> None:
        """Persist (url, lastmod) pages a backfill will walk, before any is requested."""
        with self.db.session() as session:
            discovery.plan(session, source_id, kind, pages)

    def backfill_frontier(self, source_id: int) -> list[tuple[str, str]]:
        with self.db.session() as session:
            return discovery.frontier(session, source_id)

    def page_walked(self, source_id: int, url: str, kind: str, lastmod, entries: int) -> None:
        """After its entries are stored: a crash before this walks the page again."""
        with self.db.session() as session:
            discovery.mark_walked(session, source_id, url, kind, lastmod, entries)
