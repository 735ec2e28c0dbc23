"""What readers see: the read-side records the CLI, the export and the web view are built from.

Read queries in `aggregator/db/queries.py` return these; nothing here touches the database.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from aggregator.policy import Health
from aggregator.quality import Outcomes
from aggregator.records import Capture, WarcPointer
from aggregator.vocabulary import (
    CaptureOutcome,
    ChangeKind,
    LinkKind,
    PlacementKind,
    TranslationStatus,
)


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
    date_source: str | None = None  # DateSource
    date_precision: str | None = None  # DatePrecision
    language_confidence: float | None = None
    extraction_path: str | None = None  # ExtractionPath
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


@dataclass(frozen=True)
class NodeView:
    """One line of `aggregator nodes`."""

    name: str
    hostname: str
    pid: int
    http: str | None
    hosts: int  # configured
    started_at: datetime
    heartbeat_at: datetime


# --- The desk (aggregator web): stories, provenance chains, the change stream -------------


@dataclass(frozen=True)
class ShotRef:
    """A captured screenshot as the desk links it: by content hash only."""

    id: int
    sha256: str
    format: str
    width: int | None
    height: int | None
    captured_at: datetime | None


@dataclass(frozen=True)
class StoryMember:
    """One article of a story, as lists, feeds and story pages show it."""

    id: int
    story_id: int
    source: str
    source_title: str
    url: str
    canonical_url: str
    title: str | None
    language: str | None
    published_at: datetime | None
    first_seen_at: datetime
    match: PlacementKind | None
    match_score: float | None
    is_primary: bool
    date_precision: str | None = None  # DatePrecision of published_at


@dataclass(frozen=True)
class StorySummary:
    """A story in a list: its primary, its copies (primary first) and what they add up to."""

    id: int
    primary: StoryMember
    copies: list[StoryMember]
    first_seen_at: datetime
    last_changed_at: datetime
    thumbnail: ShotRef | None = None
    rank: float | None = None  # search relevance when the list answers a query

    @property
    def outlets(self) -> list[str]:
        return list(dict.fromkeys(c.source for c in self.copies))

    @property
    def languages(self) -> list[str]:
        return list(dict.fromkeys(c.language for c in self.copies if c.language))


@dataclass(frozen=True)
class FetchStep:
    """The HTTP exchange behind a copy (or behind the feed that listed it)."""

    id: int
    url: str
    final_url: str
    status: int
    fetched_at: datetime
    sha256: str
    warc: WarcPointer | None = None
    warc_error: str | None = None


@dataclass(frozen=True)
class EntryStep:
    """The feed, sitemap or listing entry a copy came from."""

    guid: str
    link: str
    first_seen_at: datetime
    feed: FetchStep | None


@dataclass(frozen=True)
class Chain:
    """Provenance of one copy: source -> entry -> fetch -> original URL -> canonical URL ->
    WARC record -> screenshot."""

    member: StoryMember
    source_url: str
    entry: EntryStep | None
    fetch: FetchStep | None
    screenshot: ShotRef | None
    links: list[LinkView] = field(default_factory=list)


@dataclass(frozen=True)
class StoryDetail:
    summary: StorySummary
    chains: list[Chain]  # primary first
    text: str
    html: str | None

    @property
    def editions(self) -> list[StoryMember]:
        language = self.summary.primary.language
        return [c for c in self.summary.copies if c.language != language]

    @property
    def cites(self) -> list[LinkView]:
        seen: dict[tuple, LinkView] = {}
        for chain in self.chains:
            for link in chain.links:
                if link.kind == LinkKind.CITES:
                    seen.setdefault((link.label or "", link.url or ""), link)
        return list(seen.values())


@dataclass(frozen=True)
class ChangeView:
    """One entry of the change stream, in commit order."""

    id: int
    kind: ChangeKind
    changed_at: datetime
    article_id: int | None
    story_id: int | None
    merged_story_id: int | None
    revision: int | None
    screenshot_id: int | None


@dataclass(frozen=True)
class DailyCount:
    day: date
    articles: int
