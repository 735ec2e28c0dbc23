"""The crawl's vocabulary: every status and kind that is stored, counted or compared, once.

StrEnums, so a value is also the plain string stored in the database, written to the
export and used as a metrics label; columns stay strings (docs/schema.md lists the values).
"""

from __future__ import annotations

from enum import StrEnum


class SourceKind(StrEnum):
    """How a source is read: its root request and what it yields."""

    FEED = "feed"
    SITEMAP = "sitemap"
    LISTING = "listing"


class FetchKind(StrEnum):
    """What a recorded HTTP exchange fetched (`fetches.kind`)."""

    FEED = "feed"
    SITEMAP = "sitemap"
    LISTING = "listing"
    PAGE = "page"


class FetchOutcome(StrEnum):
    """Metrics label of a fetch: how the exchange ended."""

    OK = "ok"
    NOT_MODIFIED = "not_modified"
    HTTP_ERROR = "http_error"
    NETWORK_ERROR = "network_error"
    REFUSED = "refused"
    SHUTDOWN = "shutdown"


class EntryStatus(StrEnum):
    """What became of a feed, sitemap or listing entry (`feed_entries.status`)."""

    PENDING = "pending"  # its page is still to be fetched (or retried)
    STORED = "stored"  # an article holds it
    FAILED = "failed"  # max_entry_attempts used up
    SKIPPED = "skipped"  # never fetched: outside the source's allowed domains


class CrawlOutcome(StrEnum):
    """How one crawl of one source ended (`crawls.outcome`)."""

    RUNNING = "running"
    OK = "ok"
    NOT_MODIFIED = "not_modified"
    PARTIAL = "partial"  # the root was read, some pages failed
    FAILED = "failed"  # the root (feed, sitemap, listing) could not be read
    INTERRUPTED = "interrupted"  # stopped by a shutdown


class DiscoveryStatus(StrEnum):
    """A sitemap or listing page on a backfill's frontier, or walked (`discovery_pages`)."""

    PENDING = "pending"
    WALKED = "walked"


class ExtractionOutcome(StrEnum):
    """Why a page gave no article, as the quality counters name it."""

    EMPTY_TEXT = "empty_text"
    SHORT_TEXT = "short_text"


class ExtractionPath(StrEnum):
    """Which way the stored main text was found (`articles.extraction_path`, a metrics label)."""

    RULE = "rule"  # the source's own `extract.body` selector
    STRUCTURED = "structured"  # the publisher's articleBody (JSON-LD or itemprop)
    FAST = "fast"  # trafilatura's fast mode, checked and accepted
    FULL = "full"  # trafilatura's full cascade, after the fast result looked wrong


class DateSource(StrEnum):
    """Where `published_at` came from (`articles.date_source`). No stated date: NULL, and
    `published_at` stays empty rather than borrowing the first-seen time (`first_seen_at`)."""

    PAGE = "page"  # the page's markup: <meta>, <time>, the source's date selector
    STRUCTURED = "structured"  # the page's JSON-LD datePublished
    FEED = "feed"  # the feed or sitemap entry that listed the page


class DatePrecision(StrEnum):
    """How precise `published_at` is (`articles.date_precision`)."""

    SECOND = "second"  # a time of day was stated
    DAY = "day"  # only a calendar day was stated
    NONE = "none"  # no date


class PlacementKind(StrEnum):
    """How an article joined its story (`articles.match_kind`)."""

    FIRST = "first"  # it started the story
    URL = "url"  # same canonical URL as a stored article of another source
    EXACT = "exact"  # same normalised text
    NEAR = "near"  # MinHash containment above the threshold
    EDITION = "edition"  # another language edition (hreflang, URL pairing, article id)


class LinkKind(StrEnum):
    """Provenance links of an article (`provenance_links.kind`)."""

    ORIGINAL = "original"  # the page as fetched
    FEED = "feed"  # the source URL that listed it, with the entry's GUID
    REDIRECTED_FROM = "redirected_from"  # the entry's link, when the page was reached by redirect
    CANONICAL = "canonical"  # its canonical URL, when it differs
    ALTERNATE = "alternate"  # a declared language edition (label: hreflang)
    CITES = "cites"  # an outlet it attributes facts to (label: its name)
    LISTED_AS = "listed_as"  # another source listed it under this URL (label: that source)


class CaptureOutcome(StrEnum):
    """State of a screenshot row (`screenshots.outcome`)."""

    PENDING = "pending"
    CAPTURED = "captured"
    FAILED = "failed"


class CaptureAttempt(StrEnum):
    """What one capture attempt came to, as the worker counts it."""

    CAPTURED = "captured"
    RETRY = "retry"  # failed, tried again after a back-off
    FAILED = "failed"  # failed for good
    UNRECORDED = "unrecorded"  # the outcome could not be written: the lease brings it back


class RequestKind(StrEnum):
    """What a request is for, as the URL guard (aggregator/guard.py) judges it."""

    ROOT = "root"  # a source's own URL (feed, sitemap, listing start page) and its redirects
    PAGE = "page"  # article pages, child sitemaps, listing pages: the source's allowed domains
    ROBOTS = "robots"  # robots.txt of a host a request of the source goes to
    SUBRESOURCE = "subresource"  # what a captured page loads: frames, images, scripts, sockets


class TranslationStatus(StrEnum):
    """State of a translation job (`translations.status`)."""

    PENDING = "pending"  # waiting for its turn, a retry or an engine that is back
    DONE = "done"
    FAILED = "failed"  # attempts used up, or refused for good (e.g. a language pair the
    # engine does not have)


class TranslationAttempt(StrEnum):
    """What one translation attempt came to, as the worker counts it."""

    DONE = "done"
    RETRY = "retry"  # failed, tried again after a back-off
    FAILED = "failed"  # failed for good
    WAITING = "waiting"  # the engine is missing, down or rate-limited: no attempt used
    UNRECORDED = "unrecorded"  # the outcome could not be written: the lease brings it back


class EngineKind(StrEnum):
    """Translation engines (`translations.engine`, setting `translation.engine`)."""

    LIBRETRANSLATE = "libretranslate"
    DEEPL = "deepl"
    COMMAND = "command"
class ChangeKind(StrEnum):
    """Entries of the change stream (`changes.kind`), written by the database's triggers."""

    ARTICLE_STORED = "article_stored"  # a new article row
    ARTICLE_REVISED = "article_revised"  # a new revision: its title or text changed
    STORY_MERGED = "story_merged"  # merged_story_id's articles now belong to story_id
    PRIMARY_CHANGED = "primary_changed"  # the story's primary is now article_id
    SCREENSHOT_CAPTURED = "screenshot_captured"  # a capture of the article's original
    TRANSLATION_ADDED = "translation_added"  # a machine translation of revision `revision`
