"""What readers see: the read-side records the CLI, the export and the web view are built from.

Read queries in `aggregator/db/queries.py` return these; nothing here touches the database.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from aggregator.policy import Health
from aggregator.quality import Outcomes
from aggregator.records import Capture, WarcPointer
from aggregator.vocabulary import CaptureOutcome, LinkKind, PlacementKind, TranslationStatus


@dataclass(frozen=True)
class ScreenshotView:
    """A screenshot row as readers see it: the queue state, and the capture once there is one."""

    id: int
    article_id: int
    requested_url: str
    outcome: CaptureOutcome
    attempts: int
    requested_at: datetime
    next_attempt_at: datetime | None
    error: str | None
    capture: Capture | None


@dataclass(frozen=True)
class TranslationView:
    """A translation job of one revision into one language, and its text once done."""

    id: int
    article_id: int
    revision: int
    content_hash: str
    source_language: str
    language: str
    status: TranslationStatus
    attempts: int
    created_at: datetime
    next_attempt_at: datetime | None = None
    attempted_at: datetime | None = None
    error: str | None = None
    engine: str | None = None
    engine_name: str | None = None
    engine_version: str | None = None
    title: str | None = None
    text: str | None = None
    characters: int | None = None
    duration_ms: int | None = None
    translated_at: datetime | None = None
    current: bool = True  # it translates the article's latest revision


@dataclass(frozen=True)
class TranslationSummary:
    """The translation queue at a glance, for `aggregator status`."""

    counts: dict[str, int]
    last_error: str | None = None
    last_error_at: datetime | None = None


@dataclass(frozen=True)
class Citation:
    """The citation block in one language, in each output format."""

    text: str
    markdown: str
    html: str


@dataclass(frozen=True)
class LinkView:
    kind: LinkKind
    url: str | None
    label: str | None
    source: str | None = None  # the source whose crawl recorded it


@dataclass(frozen=True)
class CopyView:
    """Another article of the same story."""

    id: int
    url: str
    source: str
    language: str | None
    match: PlacementKind | None


@dataclass(frozen=True)
class StoryFacts:
    """Where an article stands among its copies, its revisions and its archived response."""

    story_id: int | None = None
    is_primary: bool = False
    match: PlacementKind | None = None
    duplicates: list[CopyView] = field(default_factory=list)
    alternates: list[CopyView] = field(default_factory=list)
    revisions: int = 0
    warc: WarcPointer | None = None
    warc_error: str | None = None


@dataclass(frozen=True)
class RevisionView:
    number: int
    fetched_at: datetime
    title: str | None
    text: str


@dataclass(frozen=True)
class ArticleView:
    id: int
    source: str
    source_title: str
    url: str
    canonical_url: str
    guid: str | None
    title: str | None
    authors: list[str]
    published_at: datetime | None
    updated_at: datetime | None
    fetched_at: datetime
    first_seen_at: datetime
    last_seen_at: datetime
    language: str | None
    description: str | None
    image_url: str | None
    categories: list[str]
    tags: list[str]
    text: str
    content_hash: str
    html: str | None = None
    provenance: list[LinkView] = field(default_factory=list)
    story: StoryFacts = field(default_factory=StoryFacts)
    screenshot: ScreenshotView | None = None
    translations: list[TranslationView] = field(default_factory=list)


@dataclass(frozen=True)
class SourceStatus:
    """One line of `aggregator status`: health, counts and extraction outcomes of a source."""

    name: str
    health: Health
    articles: int
    new_24h: int
    pending: int
    backoff_seconds: float | None
    last_error: str | None
    recent: Outcomes = Outcomes()  # extraction outcomes of today and yesterday
    baseline: Outcomes = Outcomes()  # of the two weeks before
