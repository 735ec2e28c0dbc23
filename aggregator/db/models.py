"""SQLAlchemy models: the schema documented in docs/schema.md (a contract for readers)."""

from __future__ import annotations

from datetime import date, datetime, timezone

from sqlalchemy import (
    ARRAY,
    JSON,
    BigInteger,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from aggregator.vocabulary import CaptureOutcome, CrawlOutcome, DiscoveryStatus, EntryStatus

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator):
    """Aware UTC datetimes in and out, on SQLite (which drops tzinfo) and PostgreSQL alike."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: the database stores UTC instants")
        value = value.astimezone(timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


# An array of 64-bit keys on PostgreSQL; SQLite has no arrays and never fills the column.
BAND_KEYS = ARRAY(BigInteger).with_variant(JSON(none_as_null=True), "sqlite")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Source(Base):
    """A configured source as last loaded, plus its feed cache validators and health."""

    __tablename__ = "sources"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    title: Mapped[str] = mapped_column(String(300))
    kind: Mapped[str] = mapped_column(String(20))
    url: Mapped[str] = mapped_column(Text)
    language: Mapped[str] = mapped_column(String(8))
    enabled: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    etag: Mapped[str | None] = mapped_column(Text)
    last_modified: Mapped[str | None] = mapped_column(Text)
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_success_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)
    last_new_article_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    next_run_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    interval_seconds: Mapped[float | None] = mapped_column(Float)
    backoff_seconds: Mapped[float | None] = mapped_column(Float)
    rhythm_seconds: Mapped[float | None] = mapped_column(Float)


class Fetch(Base):
    """One HTTP exchange that produced a response (feed or page)."""

    __tablename__ = "fetches"
    __table_args__ = (Index(None, "source_id", "fetched_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id"))
    kind: Mapped[str] = mapped_column(String(10))
    url: Mapped[str] = mapped_column(Text)
    final_url: Mapped[str] = mapped_column(Text)
    status: Mapped[int] = mapped_column(Integer)
    content_type: Mapped[str | None] = mapped_column(String(200))
    etag: Mapped[str | None] = mapped_column(Text)
    last_modified: Mapped[str | None] = mapped_column(Text)
    fetched_at: Mapped[datetime] = mapped_column(UTCDateTime)
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    duration_ms: Mapped[int | None] = mapped_column(Integer)
    # Where the raw response is archived (file under <data_dir>/warc), or why it is not.
    warc_file: Mapped[str | None] = mapped_column(Text)
    warc_offset: Mapped[int | None] = mapped_column(BigInteger)
    warc_length: Mapped[int | None] = mapped_column(BigInteger)
    warc_sha256: Mapped[str | None] = mapped_column(String(64))
    warc_error: Mapped[str | None] = mapped_column(Text)


class FeedEntry(Base):
    """An item seen in a source's feed, and what became of it."""

    __tablename__ = "feed_entries"
    __table_args__ = (UniqueConstraint("source_id", "guid"), Index(None, "source_id", "status"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id"))
    fetch_id: Mapped[int] = mapped_column(ForeignKey("fetches.id"))
    guid: Mapped[str] = mapped_column(Text)
    link: Mapped[str] = mapped_column(Text)
    title: Mapped[str | None] = mapped_column(Text)
    summary: Mapped[str | None] = mapped_column(Text)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    authors: Mapped[list] = mapped_column(JSON, default=list)
    categories: Mapped[list] = mapped_column(JSON, default=list)
    image_url: Mapped[str | None] = mapped_column(Text)
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    status: Mapped[str] = mapped_column(String(10), default=EntryStatus.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    article_id: Mapped[int | None] = mapped_column(ForeignKey("articles.id"))


class Article(Base):
    """One article page of one source, with its main text and metadata."""

    __tablename__ = "articles"
    __table_args__ = (
        UniqueConstraint("source_id", "url"),
        Index(None, "canonical_key", unique=True),
        Index(None, "content_hash"),
        Index(None, "first_seen_at"),
        Index(None, "story_id"),
        Index(None, "edition_key"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id"))
    fetch_id: Mapped[int] = mapped_column(ForeignKey("fetches.id"))
    feed_entry_id: Mapped[int | None] = mapped_column(ForeignKey("feed_entries.id", use_alter=True))
    url: Mapped[str] = mapped_column(Text)
    canonical_url: Mapped[str] = mapped_column(Text)
    canonical_key: Mapped[str] = mapped_column(String(64))  # sha256 of canonical_url: unique
    guid: Mapped[str | None] = mapped_column(Text)
    title: Mapped[str | None] = mapped_column(Text)
    authors: Mapped[list] = mapped_column(JSON, default=list)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    date_source: Mapped[str | None] = mapped_column(String(12))  # DateSource
    date_precision: Mapped[str | None] = mapped_column(String(8))  # DatePrecision
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    language: Mapped[str | None] = mapped_column(String(8))
    language_confidence: Mapped[float | None] = mapped_column(Float)
    extraction_path: Mapped[str | None] = mapped_column(String(12))  # ExtractionPath
    description: Mapped[str | None] = mapped_column(Text)
    image_url: Mapped[str | None] = mapped_column(Text)
    categories: Mapped[list] = mapped_column(JSON, default=list)
    tags: Mapped[list] = mapped_column(JSON, default=list)
    text: Mapped[str] = mapped_column(Text)
    html: Mapped[str | None] = mapped_column(Text)
    content_hash: Mapped[str] = mapped_column(String(64))
    fetched_at: Mapped[datetime] = mapped_column(UTCDateTime)
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    story_id: Mapped[int | None] = mapped_column(ForeignKey("stories.id", use_alter=True))
    match_kind: Mapped[str | None] = mapped_column(String(10))  # how it joined its story
    match_score: Mapped[float | None] = mapped_column(Float)
    edition_key: Mapped[str | None] = mapped_column(String(300))  # site + numeric article id


class Story(Base):
    """Copies and editions of one piece of news; the primary is the original or first seen."""

    __tablename__ = "stories"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    primary_article_id: Mapped[int | None] = mapped_column(ForeignKey("articles.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ArticleSignature(Base):
    """The MinHash signature of an article's current text, so the LSH index loads fast, and
    on PostgreSQL its LSH band keys: the near-duplicate index every node of a cluster asks at
    placement (migration 0013 adds their GIN index; SQLite keeps the index in memory)."""

    __tablename__ = "article_signatures"

    article_id: Mapped[int] = mapped_column(
        ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True
    )
    minhash: Mapped[bytes] = mapped_column(LargeBinary)
    shingles: Mapped[int] = mapped_column(Integer)
    bands: Mapped[list[int] | None] = mapped_column(BAND_KEYS)  # band number folded in


class ArticleRevision(Base):
    """Every text an article's page has had; the article row shows the latest."""

    __tablename__ = "article_revisions"
    __table_args__ = (
        UniqueConstraint("article_id", "number"),
        Index(None, "fetched_at"),  # the translation worker's scan of recent revisions
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    fetch_id: Mapped[int] = mapped_column(ForeignKey("fetches.id"))
    fetched_at: Mapped[datetime] = mapped_column(UTCDateTime)
    title: Mapped[str | None] = mapped_column(Text)
    text: Mapped[str] = mapped_column(Text)
    content_hash: Mapped[str] = mapped_column(String(64))


class ProvenanceLink(Base):
    """Where an article comes from or points to (kinds: aggregator.vocabulary.LinkKind), and
    the source whose crawl recorded it. A `cites` link may name an outlet without a URL (url
    NULL, label the name)."""

    __tablename__ = "provenance_links"
    # Its index serves the look-ups by article too (migration 0014 dropped a second one).
    __table_args__ = (UniqueConstraint("article_id", "kind", "url"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"))
    source_id: Mapped[int | None] = mapped_column(ForeignKey("sources.id"))  # who recorded it
    kind: Mapped[str] = mapped_column(String(20))
    url: Mapped[str | None] = mapped_column(Text)
    label: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Crawl(Base):
    """One crawl of one source: when, what came of it, and the error if any."""

    __tablename__ = "crawls"
    __table_args__ = (Index(None, "source_id", "started_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id"))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    outcome: Mapped[str] = mapped_column(String(20), default=CrawlOutcome.RUNNING)
    fetched: Mapped[int] = mapped_column(Integer, default=0)
    new: Mapped[int] = mapped_column(Integer, default=0)
    unchanged: Mapped[int] = mapped_column(Integer, default=0)
    failed: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    node: Mapped[str | None] = mapped_column(String(100))  # the node that crawled


class Screenshot(Base):
    """A capture of an article's original page: queued at store time, filled in by the worker.

    `outcome` is pending until captured or failed; `next_attempt_at` orders the queue and, while
    a worker holds the row, is pushed past its lease so a crashed worker's capture comes back.
    """

    __tablename__ = "screenshots"
    __table_args__ = (Index(None, "outcome", "next_attempt_at"), Index(None, "sha256"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"),
                                            index=True)
    fetch_id: Mapped[int | None] = mapped_column(ForeignKey("fetches.id"))
    requested_url: Mapped[str] = mapped_column(Text)
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    outcome: Mapped[str] = mapped_column(String(10), default=CaptureOutcome.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    error: Mapped[str | None] = mapped_column(Text)
    final_url: Mapped[str | None] = mapped_column(Text)
    http_status: Mapped[int | None] = mapped_column(Integer)
    page_title: Mapped[str | None] = mapped_column(Text)
    width: Mapped[int | None] = mapped_column(Integer)
    height: Mapped[int | None] = mapped_column(Integer)
    bytes: Mapped[int | None] = mapped_column(BigInteger)
    sha256: Mapped[str | None] = mapped_column(String(64))
    format: Mapped[str | None] = mapped_column(String(8))
    path: Mapped[str | None] = mapped_column(Text)
    thumbnail_path: Mapped[str | None] = mapped_column(Text)
    viewport_width: Mapped[int | None] = mapped_column(Integer)
    viewport_height: Mapped[int | None] = mapped_column(Integer)
    full_page: Mapped[bool | None] = mapped_column()
    settled: Mapped[bool | None] = mapped_column()
    captured_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    browser: Mapped[str | None] = mapped_column(String(40))
    browser_version: Mapped[str | None] = mapped_column(String(40))
    duration_ms: Mapped[int | None] = mapped_column(Integer)


class DiscoveryPage(Base):
    """A sitemap or listing page a source's articles are found through: the lastmod it had
    when last walked, and, while a backfill is under way, the pages it has still to walk."""

    __tablename__ = "discovery_pages"
    __table_args__ = (UniqueConstraint("source_id", "url"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id"))
    url: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(10))  # sitemap | listing
    status: Mapped[str] = mapped_column(String(10), default=DiscoveryStatus.PENDING)
    lastmod: Mapped[datetime | None] = mapped_column(UTCDateTime)
    entries: Mapped[int] = mapped_column(Integer, default=0)
    found_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    walked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ExtractionStat(Base):
    """Extraction outcomes of one source on one UTC day: the fill rates `status` compares."""

    __tablename__ = "extraction_stats"
    __table_args__ = (UniqueConstraint("source_id", "day"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id"))
    day: Mapped[date] = mapped_column(Date)
    pages: Mapped[int] = mapped_column(Integer, default=0)
    empty_text: Mapped[int] = mapped_column(Integer, default=0)
    short_text: Mapped[int] = mapped_column(Integer, default=0)
    no_date: Mapped[int] = mapped_column(Integer, default=0)
    no_author: Mapped[int] = mapped_column(Integer, default=0)
    language_mismatch: Mapped[int] = mapped_column(Integer, default=0)


class Translation(Base):
    """A machine translation of one revision of an article into one language: a job queued by
    the translation worker's scan, then the engine's title and text with who made them.

    A new revision gets rows of its own; the rows of earlier revisions stay. `status` is
    pending until done or failed; `next_attempt_at` orders the queue and, while a worker
    holds the row, is pushed past its lease so a crashed worker's job comes back.
    """

    __tablename__ = "translations"
    __table_args__ = (
        UniqueConstraint("article_id", "revision", "language"),
        Index(None, "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"))
    revision: Mapped[int] = mapped_column(Integer)  # article_revisions.number
    content_hash: Mapped[str] = mapped_column(String(64))  # of the revision's text
    source_language: Mapped[str] = mapped_column(String(8))
    language: Mapped[str] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(10), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attempted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    error: Mapped[str | None] = mapped_column(Text)
    engine: Mapped[str | None] = mapped_column(String(20))
    engine_name: Mapped[str | None] = mapped_column(String(100))
    engine_version: Mapped[str | None] = mapped_column(String(200))
    title: Mapped[str | None] = mapped_column(Text)
    text: Mapped[str | None] = mapped_column(Text)
    characters: Mapped[int | None] = mapped_column(Integer)
    duration_ms: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    translated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
class Change(Base):
    """One entry of the change stream (`GET /api/v1/changes`). Written only by the database's
    own triggers (migration 0008), so every writer is covered; ids follow commit order (an
    advisory lock on PostgreSQL, the single writer on SQLite) and are never reused."""

    __tablename__ = "changes"
    __table_args__ = (Index(None, "story_id", "id"), {"sqlite_autoincrement": True})

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(24))
    article_id: Mapped[int | None] = mapped_column(Integer)
    story_id: Mapped[int | None] = mapped_column(Integer)
    merged_story_id: Mapped[int | None] = mapped_column(Integer)
    revision: Mapped[int | None] = mapped_column(Integer)
    screenshot_id: Mapped[int | None] = mapped_column(Integer)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Node(Base):
    """A running `aggregator run`, as its heartbeats tell; a row goes when the node stops."""

    __tablename__ = "nodes"

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    hostname: Mapped[str] = mapped_column(String(255))
    pid: Mapped[int] = mapped_column(Integer)
    http: Mapped[str | None] = mapped_column(String(300))  # its /healthz and /metrics
    hosts: Mapped[int] = mapped_column(Integer, default=0)  # hosts its sources are on
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    heartbeat_at: Mapped[datetime] = mapped_column(UTCDateTime)


class HostLease(Base):
    """Who crawls a host (every source whose URL is on it) and until when, unless renewed."""

    __tablename__ = "host_leases"
    __table_args__ = (Index(None, "node"),)

    host: Mapped[str] = mapped_column(String(255), primary_key=True)
    node: Mapped[str | None] = mapped_column(String(100))  # NULL: free
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    acquired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    wanted_by: Mapped[str | None] = mapped_column(String(100))  # a manual crawl or backfill
    wanted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # its latest ask
