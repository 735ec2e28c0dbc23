"""Plain typed records passed between stages; no stage sees another's internals or ORM rows."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import TypeVar

from aggregator.vocabulary import (
    DatePrecision,
    DateSource,
    ExtractionOutcome,
    ExtractionPath,
    FetchKind,
    LinkKind,
    PlacementKind,
)

T = TypeVar("T")


@dataclass(frozen=True)
class FetchRecord:
    """One HTTP exchange that produced a response."""

    url: str
    final_url: str
    status: int
    fetched_at: datetime
    size: int
    sha256: str
    kind: FetchKind
    content_type: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    duration_ms: int | None = None


@dataclass(frozen=True)
class FeedEntry:
    """One feed item, whatever the feed format was."""

    guid: str
    link: str
    title: str | None = None
    summary: str | None = None
    published_at: datetime | None = None
    updated_at: datetime | None = None
    authors: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    image_url: str | None = None
    language: str | None = None  # news:language of a news sitemap; feeds leave it empty


FUTURE = timedelta(days=1)  # beyond clock skew and time zones: a wrong date, not news


def collect_entries(raws: Iterable[T], make: Callable[[T], FeedEntry]
                    ) -> tuple[list[FeedEntry], list[str]]:
    """Entries made from raw items (feed items, sitemap <url>s) in order, the first of each
    guid kept; one reason per item dropped (`make` raises ValueError for an unusable one)."""
    entries: dict[str, FeedEntry] = {}
    skipped: list[str] = []
    for raw in raws:
        try:
            entry = make(raw)
        except ValueError as exc:
            skipped.append(str(exc))
            continue
        if entry.guid in entries:
            skipped.append(f"duplicate guid {entry.guid!r}")
            continue
        if entry.published_at and entry.published_at > datetime.now(timezone.utc) + FUTURE:
            skipped.append(f"entry {entry.guid!r} dated in the future "
                           f"({entry.published_at:%Y-%m-%d}): date ignored")
            entry = dataclasses.replace(entry, published_at=None)
        entries[entry.guid] = entry
    return list(entries.values()), skipped


@dataclass(frozen=True)
class PendingEntry:
    """A stored entry whose page still has to be fetched."""

    id: int
    entry: FeedEntry


@dataclass(frozen=True)
class PlannedPage:
    """A sitemap or listing page a backfill will walk (its lastmod when the index gives one)."""

    url: str
    lastmod: datetime | None = None


@dataclass(frozen=True)
class FrontierPage:
    """A planned page not walked yet, and what kind of page it is."""

    url: str
    kind: FetchKind


@dataclass(frozen=True)
class ParsedFeed:
    """A feed's entries plus what went wrong while reading it (None when nothing did)."""

    entries: tuple[FeedEntry, ...]
    title: str | None = None
    warning: str | None = None
    skipped: tuple[str, ...] = ()  # one reason per entry that could not be used
    ttl_seconds: float | None = None  # <ttl> or sy:updatePeriod/sy:updateFrequency


@dataclass(frozen=True)
class SitemapRef:
    """A child sitemap named by an index, with the time the index says it last changed."""

    url: str
    lastmod: datetime | None = None


@dataclass(frozen=True)
class ParsedSitemap:
    """A urlset's entries, or an index's children (a sitemap is one or the other)."""

    entries: tuple[FeedEntry, ...] = ()
    children: tuple[SitemapRef, ...] = ()
    skipped: tuple[str, ...] = ()


@dataclass(frozen=True)
class ParsedListing:
    """Article links found on a listing page, and the next page(s) of the listing."""

    entries: tuple[FeedEntry, ...]
    next_pages: tuple[str, ...] = ()


@dataclass(frozen=True)
class ExtractRules:
    """A source's own selectors, as plain data so they cross into the extraction worker."""

    title: str | None = None
    body: str | None = None
    date: str | None = None
    author: str | None = None
    drop: tuple[str, ...] = ()


@dataclass(frozen=True)
class RawPage:
    """The response as received, for the WARC archive (headers as sent, body undecoded)."""

    url: str
    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes
    fetched_at: datetime


@dataclass(frozen=True)
class WarcPointer:
    """Where one archived response lives: file under the WARC directory, byte range, digest."""

    file: str
    offset: int
    length: int
    sha256: str


@dataclass(frozen=True)
class Archived:
    """A page's WARC outcome, which its fetch row records: where the record is, or why the
    write failed (the article is stored either way)."""

    pointer: WarcPointer | None = None
    error: str | None = None


@dataclass(frozen=True)
class Fingerprint:
    """Content identity of a text: exact hash, MinHash signature bytes, shingle count."""

    content_hash: str
    minhash: bytes
    shingles: int


@dataclass(frozen=True)
class Cite:
    """A source the article attributes its facts to; either part may be unknown."""

    outlet: str | None
    url: str | None


@dataclass(frozen=True)
class ArticleDraft:
    """What extraction made of one page, before identity and storage."""

    url: str
    text: str
    title: str | None = None
    authors: tuple[str, ...] = ()
    published_at: datetime | None = None
    date_source: DateSource | None = None  # where published_at came from; None without one
    date_precision: DatePrecision = DatePrecision.NONE
    updated_at: datetime | None = None
    language: str | None = None
    language_confidence: float | None = None  # the detector's probability; None: not detected
    extraction_path: ExtractionPath | None = None
    description: str | None = None
    image_url: str | None = None
    categories: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    canonical_url: str | None = None
    sitename: str | None = None
    alternates: tuple[tuple[str, str], ...] = ()  # (hreflang, url)
    links: tuple[tuple[str, str], ...] = ()  # (url, anchor text) to other sites, in the body
    fingerprint: Fingerprint | None = None  # computed in the extraction worker
    html: str | None = None  # the main content as sanitised HTML (aggregator/sanitize.py)


@dataclass(frozen=True)
class ExtractionResult:
    """A draft, or the recorded reason there is none."""

    draft: ArticleDraft | None
    failure: str | None = None
    outcome: ExtractionOutcome | None = None  # the quality counter of a failure
    extract_seconds: float = 0.0  # measured in the worker
    dedup_seconds: float = 0.0


@dataclass
class CrawlSummary:
    """Counters of one crawl of one source, printed by `aggregator crawl`."""

    source: str
    fetched: int = 0
    new: int = 0
    unchanged: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)
    entry_times: list[datetime] = field(default_factory=list)  # published_at of feed entries
    min_interval_seconds: float | None = None  # what the feed asks: ttl, Cache-Control max-age
    retry_after_seconds: float | None = None  # from a 429/503 answer


@dataclass(frozen=True)
class CaptureJob:
    """One queued screenshot taken off the queue: the page, and whose options apply."""

    id: int
    article_id: int
    source: str
    url: str
    attempt: int  # 1 for the first try


@dataclass(frozen=True)
class StoredImage:
    """An image file written under the data directory, named by the sha256 of its bytes."""

    path: str  # relative to the data directory
    thumbnail_path: str
    sha256: str
    size: int
    width: int
    height: int
    format: str


@dataclass(frozen=True)
class Capture:
    """What the browser saw and what was stored for one successful screenshot."""

    final_url: str
    http_status: int | None
    page_title: str | None
    width: int
    height: int
    size: int
    sha256: str
    format: str
    path: str  # relative to the data directory
    thumbnail_path: str
    viewport_width: int
    viewport_height: int
    full_page: bool
    settled: bool  # False: the page was still loading when the settle time ran out
    captured_at: datetime
    browser: str
    browser_version: str
    duration_ms: int


@dataclass(frozen=True)
class Link:
    """A provenance link: where an article came from or what it points to. A `cites` link may
    name an outlet without a URL (url None, label the name)."""

    kind: LinkKind
    url: str | None
    label: str | None = None


@dataclass(frozen=True)
class StoryCandidate:
    """A story a new article might join, found by one rule through one stored article."""

    story_id: int
    kind: PlacementKind
    article_id: int
    score: float | None = None  # near matches: estimated containment
    declared: bool = False  # editions: named by the article's own hreflang alternates


@dataclass(frozen=True)
class Placement:
    """The story a new article joins and why (None story: it starts a new one)."""

    story_id: int | None
    kind: PlacementKind
    score: float | None = None
    merge: tuple[int, ...] = ()  # other stories this article shows to be the same one


@dataclass(frozen=True)
class TranslationJob:
    """One queued translation taken off the queue: the revision's words and the languages."""

    id: int
    article_id: int
    source: str
    revision: int
    source_language: str
    language: str
    title: str | None
    text: str
    attempt: int  # 1 for the first try


@dataclass(frozen=True)
class Translated:
    """What an engine made of a revision, and who made it."""

    title: str | None
    text: str
    engine: str  # EngineKind
    engine_name: str  # how the machine-translation note names it
    engine_version: str | None  # as the engine reports it (LibreTranslate's version, DeepL's
    # model_type_used, the command's --version line), None when it says nothing
    characters: int  # characters sent
    duration_ms: int
    translated_at: datetime
