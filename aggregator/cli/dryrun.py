"""`aggregator sources test`: fetch a source live and show what would be stored, storing nothing.

A plain sequential fetcher (urllib, the source's address rules, the per-host delay) feeds the
real parsers and the real extraction with the source's rules, so a new source file or a new
selector can be tried before the daemon sees it. No database is opened.
"""

from __future__ import annotations

import time
import urllib.request
from dataclasses import dataclass, field
from datetime import datetime, timezone
from urllib.error import URLError
from urllib.parse import urlsplit

from aggregator.errors import FeedError
from aggregator.extract import MIN_TEXT_CHARS, extract_article
from aggregator.feeds import parse_feed
from aggregator.ingest import fill_from_feed
from aggregator.listing import parse_listing
from aggregator.records import ArticleDraft, FeedEntry
from aggregator.settings import Settings
from aggregator.sitemaps import children_to_walk, parse_sitemap
from aggregator.sources import Source, admit
from aggregator.urls import is_private_host, same_site

SHORT_TEXT = 400  # stored, but worth a look: a teaser or a cut-off body
MAX_CHILDREN = 3  # child sitemaps read to find entries


@dataclass
class Fetched:
    url: str
    body: bytes
    content_type: str | None
    headers: dict[str, str]


@dataclass(frozen=True)
class TriedPage:
    """One page the dry run fetched: its draft, or None, and what looked wrong."""

    url: str
    draft: ArticleDraft | None
    warnings: list[str]


@dataclass
class Trial:
    """What a dry run found: entries, and per tried page its draft or failure and warnings."""

    entries: list[FeedEntry] = field(default_factory=list)
    pages: list[TriedPage] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


class Fetcher:
    """One request at a time, the source's delay between them, the source's address rules."""

    def __init__(self, source: Source, settings: Settings):
        self.source, self.user_agent = source, settings.user_agent
        self.timeout, self.max_bytes = settings.download_timeout, settings.max_body_size
        self.delay = (source.download_delay if source.download_delay is not None
                      else settings.download_delay)
        self._last = 0.0

    def get(self, url: str, page: bool = True) -> Fetched:
        host = urlsplit(url).hostname or ""
        if urlsplit(url).scheme not in ("http", "https"):
            raise FeedError(f"refused {url}: not http(s)")
        if not self.source.allow_private_addresses and is_private_host(host):
            raise FeedError(f"refused {url}: private or loopback address")
        if page and not same_site(url, self.source.allowed_domains):
            raise FeedError(f"refused {url}: outside the source's allowed domains")
        time.sleep(max(0.0, self._last + self.delay - time.monotonic()))
        request = urllib.request.Request(url, headers={"User-Agent": self.user_agent})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as answer:
                body = answer.read(self.max_bytes + 1)
                headers = {k: v for k, v in answer.headers.items()}
                final = answer.geturl()
        except (URLError, OSError, ValueError) as exc:
            raise FeedError(f"{url}: {exc}") from exc
        finally:
            self._last = time.monotonic()
        if len(body) > self.max_bytes:
            raise FeedError(f"{url}: larger than {self.max_bytes} bytes")
        return Fetched(final, body, headers.get("Content-Type"), headers)


def _entries(source: Source, fetcher: Fetcher, trial: Trial) -> list[FeedEntry]:
    """The source's first step, as a crawl would take it."""
    root = fetcher.get(source.url, page=False)
    if source.kind == "feed":
        feed = parse_feed(root.body, root.url, root.headers)
        return list(admit(feed.entries, source, None))
    if source.kind == "listing":
        listing = source.listing
        parsed = parse_listing(root.body, root.url, root.content_type, listing.links,
                               listing.next_page)
        trial.notes.append(f"next pages: {', '.join(parsed.next_pages) or '-'}")
        return list(admit(parsed.entries, source, None))
    since = datetime.now(timezone.utc) - source.sitemap.max_age
    parsed = parse_sitemap(root.body, root.url)
    entries = list(admit(parsed.entries, source, since))
    if parsed.children:
        trial.notes.append(f"sitemap index with {len(parsed.children)} child sitemaps")
    for child in children_to_walk(parsed.children, {}, since, MAX_CHILDREN):
        sub = parse_sitemap(fetcher.get(child.url).body, child.url)
        entries.extend(admit(sub.entries, source, since))
    return entries


def warnings(draft: ArticleDraft, source: Source) -> list[str]:
    out = []
    if len(draft.text) < SHORT_TEXT:
        out.append(f"suspiciously short text ({len(draft.text)} characters)")
    if draft.published_at is None:
        out.append("no publication date")
    if not draft.authors:
        out.append("no author")
    if draft.language and draft.language != source.language:
        out.append(f"language {draft.language}, source declares {source.language}")
    return out


def dry_run(source: Source, fetcher: Fetcher, url: str | None = None, limit: int = 3) -> Trial:
    """Fetch, parse and extract up to `limit` pages (or only `url`); never raises FeedError
    for a page, only for the source's own URL."""
    trial = Trial()
    if url is not None:
        trial.entries = [FeedEntry(guid=url, link=url)]
    else:
        trial.entries = _entries(source, fetcher, trial)
    for entry in trial.entries[:limit]:
        try:
            page = fetcher.get(entry.link)
        except FeedError as exc:
            trial.pages.append(TriedPage(entry.link, None, [str(exc)]))
            continue
        result = extract_article(page.body, page.url, page.content_type, source.language,
                                 source.rules)
        if result.draft is None:
            reason = result.failure or "extraction failed"
            trial.pages.append(TriedPage(page.url, None, [f"nothing stored: {reason}"]))
            continue
        draft = fill_from_feed(result.draft, entry if url is None else None)
        trial.pages.append(TriedPage(page.url, draft, warnings(result.draft, source)))
    return trial


def render(source: Source, trial: Trial, lines: int = 3) -> str:
    out = [f"source {source.name} ({source.kind}) {source.url}", *trial.notes,
           f"{len(trial.entries)} entries to fetch, {len(trial.pages)} tried"]
    for number, tried in enumerate(trial.pages, 1):
        draft, problems = tried.draft, tried.warnings
        out.append(f"{number}. {tried.url}")
        if draft is not None:
            when = draft.published_at.strftime("%Y-%m-%d %H:%MZ") if draft.published_at else "-"
            out += [f"   title:    {draft.title or '-'}", f"   date:     {when}",
                    f"   language: {draft.language or '-'}",
                    f"   authors:  {', '.join(draft.authors) or '-'}",
                    f"   text:     {len(draft.text)} characters"]
            out += [f"     | {line}" for line in draft.text.splitlines()[:lines]]
            out.append(f"   links:    {len(draft.links)}"
                       + "".join(f"\n     -> {link}" for link, _ in draft.links[:5]))
        out += [f"   warning:  {p}" for p in problems]
    out.append(f"dry run: nothing stored (texts under {MIN_TEXT_CHARS} characters never are)")
    return "\n".join(out)
