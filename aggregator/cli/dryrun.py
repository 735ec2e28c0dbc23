"""`aggregator sources test`: fetch a source live and show what would be stored, storing nothing.

A plain sequential fetcher (aggregator/cli/fetcher.py: the URL guard, robots.txt, the per-host
delay) feeds the real parsers and the real extraction with the source's rules, so a new source
file or a new selector can be tried before the daemon sees it. No database is opened.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone

from aggregator.cli.fetcher import Fetcher
from aggregator.errors import FeedError
from aggregator.extract import MIN_TEXT_CHARS, extract_article
from aggregator.feeds import parse_feed
from aggregator.ingest import fill_from_feed
from aggregator.listing import parse_listing
from aggregator.records import ArticleDraft, FeedEntry
from aggregator.sitemaps import children_to_walk, parse_sitemap
from aggregator.sources import Source, admit
from aggregator.terminal import one_line
from aggregator.vocabulary import RequestKind, SourceKind

SHORT_TEXT = 400  # stored, but worth a look: a teaser or a cut-off body
MAX_CHILDREN = 3  # child sitemaps read to find entries


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


def _entries(source: Source, fetcher: Fetcher, trial: Trial) -> list[FeedEntry]:
    """The source's first step, as a crawl would take it."""
    root = fetcher.get(source.url, RequestKind.ROOT)
    if source.kind == SourceKind.FEED:
        feed = parse_feed(root.body, root.url, root.headers)
        return list(admit(feed.entries, source, None))
    if source.kind == SourceKind.LISTING:
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
            sure = f" ({draft.date_source}, {draft.date_precision})" if draft.date_source else ""
            conf = f" ({draft.language_confidence:.2f})" if draft.language_confidence else ""
            out += [f"   title:    {draft.title or '-'}", f"   date:     {when}{sure}",
                    f"   language: {draft.language or '-'}{conf}",
                    f"   authors:  {', '.join(draft.authors) or '-'}",
                    f"   text:     {len(draft.text)} characters, "
                    f"by {draft.extraction_path or '-'}"]
            out += [f"     | {line}" for line in draft.text.splitlines()[:lines]]
            out.append(f"   links:    {len(draft.links)}")
            out += [f"     -> {link}" for link, _ in draft.links[:5]]
        out += [f"   warning:  {p}" for p in problems]
    out.append(f"dry run: nothing stored (texts under {MIN_TEXT_CHARS} characters never are)")
    return "\n".join(map(one_line, out))  # titles, URLs, text: all from the network
