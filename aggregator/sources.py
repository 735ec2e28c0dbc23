"""Source files: one YAML file per source in `<config>/sources/`, validated one by one.

A broken file never stops the others: loading returns the good sources and one problem per
bad field, each naming the file, the field and the reason.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    IPvAnyNetwork,
    ValidationError,
    field_validator,
    model_validator,
)

from aggregator.records import ExtractRules, FeedEntry
from aggregator.selectors import compile_selector
from aggregator.settings import world_writable
from aggregator.vocabulary import SourceKind
from aggregator.yamlfile import YamlProblem, load_file

SLUG = r"^[a-z0-9][a-z0-9_-]{0,63}$"
_DURATION = re.compile(r"(\d+)\s*([smhd])")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


def parse_duration(text: str | int | float | timedelta) -> timedelta:
    """'10m', '1h30m', '45s', '2d' or a number of seconds -> timedelta."""
    if isinstance(text, timedelta):
        return text
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        return timedelta(seconds=float(text))
    compact = str(text).strip().lower()
    parts = _DURATION.findall(compact)
    if not parts or _DURATION.sub("", compact).strip():
        raise ValueError(f"invalid duration {text!r} (expected e.g. 45s, 10m, 1h30m, 2d)")
    return sum((timedelta(**{_UNITS[u]: int(n)}) for n, u in parts), timedelta())


class Schedule(BaseModel):
    """When a source is crawled: an interval (`every`, adapted to the source's publishing
    rhythm within [`min`, `max`]) or a fixed cron expression."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    every: timedelta | None = None
    cron: str | None = None
    min: timedelta | None = None
    max: timedelta | None = None

    @field_validator("every", "min", "max", mode="before")
    @classmethod
    def _duration(cls, value: Any) -> Any:
        return None if value is None else parse_duration(value)

    @field_validator("every")
    @classmethod
    def _at_least_a_minute(cls, value: timedelta | None) -> timedelta | None:
        if value is not None and value < timedelta(seconds=1):
            raise ValueError("must be at least 1s")
        return value

    @field_validator("cron")
    @classmethod
    def _cron_fields(cls, value: str | None) -> str | None:
        if value is not None and len(value.split()) != 5:
            raise ValueError("a cron expression has 5 fields: minute hour day month weekday")
        return value

    @model_validator(mode="after")
    def _exactly_one(self) -> Schedule:
        if (self.every is None) == (self.cron is None):
            raise ValueError("give exactly one of 'every' or 'cron'")
        if self.cron and (self.min or self.max):
            raise ValueError("'min' and 'max' bound an adaptive 'every' schedule, not a cron one")
        if self.every and not self.bounds[0] <= self.every.total_seconds() <= self.bounds[1]:
            raise ValueError("'every' must lie between 'min' and 'max'")
        return self

    @property
    def base_seconds(self) -> float:
        """The interval a source starts from: `every`, or an hour for cron schedules (used
        for spreading first runs and judging staleness; cron fire times come from cron)."""
        return self.every.total_seconds() if self.every else 3600.0

    @property
    def bounds(self) -> tuple[float, float]:
        """[min, max] seconds of the adaptive interval: by default every/6 .. every*6."""
        every = self.every.total_seconds() if self.every else 0.0
        low = self.min.total_seconds() if self.min else max(every / 6, 1.0)
        high = self.max.total_seconds() if self.max else every * 6
        return low, high


class ScreenshotOptions(BaseModel):
    """How this source's pages are captured, beyond the daemon-wide screenshot settings."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    hide: tuple[str, ...] = Field(
        default=(), description="CSS selectors hidden before the capture (cookie/consent overlays)."
    )
    full_page: bool | None = Field(
        None, description="Capture the whole page; empty means the `screenshots.full_page` setting."
    )
    block_third_party: bool = Field(
        False, description="Refuse requests to hosts outside the page's site, allowed_domains "
        "and `cdn_hosts` (ads, trackers, widgets)."
    )
    cdn_hosts: tuple[str, ...] = Field(
        default=(), description="Extra hosts (and their subdomains) allowed when blocking."
    )

    @field_validator("hide", "cdn_hosts", mode="before")
    @classmethod
    def _listify(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    @field_validator("cdn_hosts")
    @classmethod
    def _lower(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(v.strip().lower().lstrip(".") for v in value)


def _selector(value: str) -> str:
    compile_selector(value)  # raises ValueError naming the selector
    return value


def _http_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{value!r} is not an absolute http(s) URL")
    return value


def _pattern(value: str) -> str:
    try:
        re.compile(value)
    except re.error as exc:
        raise ValueError(f"invalid regular expression {value!r}: {exc}") from exc
    return value


def _listify(value: Any) -> Any:
    return [value] if isinstance(value, str) else value


Selector = Annotated[str, AfterValidator(_selector)]
HttpUrl = Annotated[str, AfterValidator(_http_url)]
Pattern = Annotated[str, AfterValidator(_pattern)]


def _names(value: Any) -> Any:
    """`{de: RBK-Ukrajina}` -> (("de", "RBK-Ukrajina"),): a tuple keeps the source hashable."""
    if isinstance(value, dict):
        for language, name in value.items():
            if not re.fullmatch(r"[a-z]{2}", str(language)):
                raise ValueError(f"{language!r} is not an ISO 639-1 language code")
            if not isinstance(name, str) or not name.strip():
                raise ValueError(f"the {language} name must be a non-empty string")
        return tuple(sorted((str(k), v.strip()) for k, v in value.items()))
    return value


class ExtractOptions(BaseModel):
    """A source's own extraction rules: CSS, or XPath when a selector starts with `/`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    title: Selector | None = Field(
        None, description="Selector of the headline; overrides trafilatura.")
    body: Selector | None = Field(None, description="Selector of the article body: its text is the "
                             "main text, instead of trafilatura's.")
    date: Selector | None = Field(None, description="Selector of the publication time (datetime or "
                             "content attribute, or text like 20.11.2026, 09:15).")
    author: Selector | None = Field(None, description="Selector of the author name(s).")
    drop: Annotated[tuple[Selector, ...], BeforeValidator(_listify)] = Field(
        default=(), description="Selectors of elements removed before extraction "
        "(share bars, ads, 'read also').")

    def rules(self) -> ExtractRules:
        return ExtractRules(self.title, self.body, self.date, self.author, self.drop)


class SitemapOptions(BaseModel):
    """How a `kind: sitemap` source is walked on a regular crawl (backfill has its own range)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    max_age: timedelta = Field(default=timedelta(days=2), description="Entries and child "
                               "sitemaps last changed longer ago are not fetched.")
    max_children: int = Field(10, ge=1, description="Child sitemaps of an index followed per "
                              "crawl, most recently changed first.")

    @field_validator("max_age", mode="before")
    @classmethod
    def _duration(cls, value: Any) -> Any:
        return parse_duration(value)


class ListingOptions(BaseModel):
    """Where a `kind: listing` source finds its article links."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    links: Selector = Field(description="Selector of the article links (an <a>, or an "
                            "element holding one).")
    next_page: Selector | None = Field(None, description="Selector of the link to the next page.")
    max_pages: int = Field(1, ge=1, description="Listing pages read per start URL and crawl.")
    start_urls: Annotated[tuple[HttpUrl, ...], BeforeValidator(_listify)] = Field(
        default=(), description="More listing pages to start from, besides `url`.")


class Source(BaseModel):
    """One validated source file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=SLUG, description="Unique slug; the key everywhere.")
    title: str = Field(min_length=1, description="Human name shown in status and exports.")
    kind: SourceKind = Field(
        description="How the source is read: `feed` (RSS/Atom), `sitemap`, `listing`.")
    url: HttpUrl = Field(description="Feed, sitemap (or index) or first listing page URL.")
    language: str = Field(pattern=r"^[a-z]{2}$", description="ISO 639-1 code of the edition.")
    schedule: Schedule = Field(default_factory=lambda: Schedule(every=timedelta(minutes=10)))
    enabled: bool = True
    allowed_domains: tuple[str, ...] = Field(
        default=(), description="Hosts pages may come from; default: the feed's host."
    )
    screenshots: bool = Field(True, description="Capture a screenshot of every new article.")
    names: Annotated[tuple[tuple[str, str], ...], BeforeValidator(_names)] = Field(
        default=(), description="The outlet's name per language, for the citation block "
        "(`{de: RBK-Ukrajina, en: RBC-Ukraine}`).")
    screenshot: ScreenshotOptions = Field(
        default_factory=ScreenshotOptions, description="How pages are captured."
    )
    download_delay: float | None = Field(
        None, ge=0, description="Seconds between requests to this source's host(s)."
    )
    allow_private_addresses: bool | tuple[IPvAnyNetwork, ...] = Field(
        False, description="Allow loopback/private targets: `true` for any (test sites only), "
        "or a list of addresses/networks (an intranet wire, one loopback test address)."
    )
    sitemap: SitemapOptions = Field(default_factory=SitemapOptions,
                                    description="How a sitemap source is walked.")
    listing: ListingOptions | None = Field(None, description="Required for `kind: listing`.")
    extract: ExtractOptions | None = Field(None, description="Extraction rules of this source.")
    include: Annotated[tuple[Pattern, ...], BeforeValidator(_listify)] = Field(
        default=(), description="Regexes: only article URLs matching one are fetched.")
    exclude: Annotated[tuple[Pattern, ...], BeforeValidator(_listify)] = Field(
        default=(), description="Regexes: article URLs matching one are never fetched.")

    def name_in(self, language: str) -> str | None:
        """The outlet's name in `language` from `names`, if the file gives one."""
        return dict(self.names).get(language)

    @property
    def rules(self) -> ExtractRules | None:
        """Extraction rules for the worker process, or None for trafilatura's defaults."""
        return self.extract.rules() if self.extract else None

    def wants(self, url: str) -> bool:
        """Whether an article URL passes the source's include/exclude patterns."""
        if self.include and not any(re.search(p, url) for p in self.include):
            return False
        return not any(re.search(p, url) for p in self.exclude)

    def allows_private(self, address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
        """Whether a non-global `address` may be fetched for this source."""
        allowed = self.allow_private_addresses
        if isinstance(allowed, bool):
            return allowed
        return any(address in network for network in allowed)

    @field_validator("allow_private_addresses", mode="before")
    @classmethod
    def _networks(cls, value: Any) -> Any:
        if isinstance(value, bool):
            return value
        try:
            return tuple(ipaddress.ip_network(str(v), strict=False) for v in _listify(value))
        except (TypeError, ValueError) as exc:
            raise ValueError("expected true, false or a list of addresses or networks "
                             f"(e.g. [10.1.2.0/24]): {exc}") from exc

    @field_validator("allowed_domains", mode="before")
    @classmethod
    def _lower_hosts(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = [value]
        return tuple(str(v).strip().lower().lstrip(".") for v in value or ())

    @model_validator(mode="after")
    def _listing_needs_selectors(self) -> Source:
        if self.kind == SourceKind.LISTING and self.listing is None:
            raise ValueError("kind: listing needs a 'listing' section with a 'links' selector")
        return self

    @model_validator(mode="after")
    def _default_domains(self) -> Source:
        if not self.allowed_domains:
            host = urlsplit(self.url).hostname or ""
            object.__setattr__(self, "allowed_domains", (host.removeprefix("www."),))
        return self


def admit(entries: tuple[FeedEntry, ...], source: Source, since: datetime | None,
          until: datetime | None = None) -> tuple[FeedEntry, ...]:
    """Entries worth a page fetch: in the date window (undated ones are), in the source's
    language (a news sitemap may list every edition), and passing include/exclude."""
    def fits(entry: FeedEntry) -> bool:
        when = entry.published_at or entry.updated_at
        if when is not None and ((since and when < since) or (until and when >= until)):
            return False
        if entry.language and entry.language != source.language:
            return False
        return source.wants(entry.link)

    return tuple(e for e in entries if fits(e))


@dataclass(frozen=True)
class SourceProblem:
    """One reason a source file was refused."""

    file: Path
    field: str
    reason: str

    def __str__(self) -> str:
        return f"{self.file}: {self.field}: {self.reason}"


@dataclass(frozen=True)
class LoadedSources:
    sources: tuple[Source, ...]
    problems: tuple[SourceProblem, ...]
    files: dict[str, Path]

    def by_name(self, name: str) -> Source | None:
        return next((s for s in self.sources if s.name == name), None)


def _problems_from(path: Path, exc: ValidationError) -> list[SourceProblem]:
    out = []
    for err in exc.errors():
        field = ".".join(str(p) for p in err["loc"]) or "(file)"
        reason = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            reason = "unknown key (typo?)"
        out.append(SourceProblem(path, field, reason))
    return out


def load_source_file(path: Path) -> tuple[Source | None, list[SourceProblem]]:
    """Parse and validate one file; never raises for bad content."""
    if problem := world_writable(path):
        return None, [SourceProblem(path, "(file)", problem)]
    try:
        data = load_file(path)
    except YamlProblem as exc:
        return None, [SourceProblem(path, exc.field, exc.reason)]
    if not isinstance(data, dict):
        return None, [SourceProblem(path, "(file)", "expected a mapping of keys to values")]
    try:
        return Source(**data), []
    except ValidationError as exc:
        return None, _problems_from(path, exc)


def load_sources(directory: Path) -> LoadedSources:
    """Every `*.yaml`/`*.yml` under `directory`, sorted; duplicate names are problems."""
    sources: list[Source] = []
    problems: list[SourceProblem] = []
    files: dict[str, Path] = {}
    found = [*directory.glob("*.yaml"), *directory.glob("*.yml")] if directory.is_dir() else []
    paths = sorted(found)
    for path in paths:
        source, file_problems = load_source_file(path)
        problems.extend(file_problems)
        if source is None:
            continue
        if source.name in files:
            problems.append(
                SourceProblem(path, "name",
                              f"{source.name!r} is already defined in {files[source.name]}")
            )
            continue
        files[source.name] = path
        sources.append(source)
    return LoadedSources(tuple(sources), tuple(problems), files)
