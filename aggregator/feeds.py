"""Feed bytes + headers -> ParsedFeed (RSS 0.9x/1.0/2.0, Atom); the only feedparser user.

feedparser is never handed a URL: we fetch, it parses. A `bozo` feed that still yields
entries is used with a warning; one that yields nothing raises FeedError with the cause.
"""

from __future__ import annotations

import calendar
from datetime import datetime, timezone
from urllib.parse import urljoin

import feedparser

from aggregator.encoding import feed_charset
from aggregator.errors import FeedError
from aggregator.records import FeedEntry, ParsedFeed, collect_entries

_MAX_TEXT = 20_000


def _when(struct) -> datetime | None:
    if not struct:
        return None
    try:
        return datetime.fromtimestamp(calendar.timegm(struct), tz=timezone.utc)
    except (OverflowError, ValueError, TypeError):
        return None


def _image(entry) -> str | None:
    for media in (*entry.get("media_content", ()), *entry.get("media_thumbnail", ())):
        if media.get("url") and media.get("medium", "image") == "image":
            return media["url"]
    for link in (*entry.get("enclosures", ()), *entry.get("links", ())):
        if str(link.get("type", "")).startswith("image/") and link.get("href"):
            return link["href"]
    return None


def _authors(entry) -> tuple[str, ...]:
    names = [a.get("name", "").strip() for a in entry.get("authors", ()) if isinstance(a, dict)]
    if not any(names) and entry.get("author"):
        names = [entry["author"].strip()]
    return tuple(dict.fromkeys(n for n in names if n))


def _entry(raw, base_url: str) -> FeedEntry:
    link = (raw.get("link") or "").strip()
    if not link:
        raise ValueError(f"entry {raw.get('id') or raw.get('title') or '?'!r} has no link")
    link = urljoin(base_url, link)
    categories = tuple(
        dict.fromkeys(t.get("term", "").strip() for t in raw.get("tags", ()) if t.get("term"))
    )
    return FeedEntry(
        guid=(raw.get("id") or "").strip() or link,
        link=link,
        title=(raw.get("title") or "").strip() or None,
        summary=(raw.get("summary") or "")[:_MAX_TEXT] or None,
        published_at=_when(raw.get("published_parsed"))
        or _when(raw.get("created_parsed"))
        or _when(raw.get("updated_parsed")),
        updated_at=_when(raw.get("updated_parsed")),
        authors=_authors(raw),
        categories=categories,
        image_url=_image(raw),
    )


def parse_feed(body: bytes, url: str, headers: dict[str, str] | None = None,
               max_entries: int | None = None) -> ParsedFeed:
    """Parse a fetched feed body; `url` is the final URL, used to resolve relative links.
    Only the first `max_entries` entries are used (a hostile feed may hold millions)."""
    if not body.strip():
        raise FeedError("empty response body")
    headers = {k.lower(): v for k, v in (headers or {}).items()}
    if charset := feed_charset(body, headers.get("content-type")):
        headers["content-type"] = f"application/xml; charset={charset}"  # beats the XML label
    parsed = feedparser.parse(body, response_headers=headers)
    raws, skipped = parsed.entries, []
    if max_entries is not None and len(raws) > max_entries:
        skipped.append(f"feed has {len(raws)} entries, only the first {max_entries} are used")
        raws = raws[:max_entries]
    entries, dropped = collect_entries(raws, lambda raw: _entry(raw, url))
    skipped += dropped
    problem = parsed.get("bozo_exception") if parsed.get("bozo") else None
    if not entries:
        if problem is not None:
            raise FeedError(f"malformed feed: {problem}")
        if not parsed.get("version"):
            raise FeedError("not a feed (no RSS or Atom root element; HTML page?)")
    warning = f"malformed feed, used anyway: {problem}" if problem is not None else None
    title = (parsed.feed.get("title") or "").strip() or None
    return ParsedFeed(tuple(entries), title=title, warning=warning, skipped=tuple(skipped),
                      ttl_seconds=_ttl(parsed.feed))


_PERIODS = {"hourly": 3600, "daily": 86400, "weekly": 604800, "monthly": 2592000,
            "yearly": 31536000}


def _ttl(feed) -> float | None:
    """How long the publisher says the feed stays fresh: RSS <ttl> (minutes) or sy:update*."""
    candidates = []
    try:
        if feed.get("ttl"):
            candidates.append(float(feed["ttl"]) * 60)
    except (TypeError, ValueError):
        pass
    period = _PERIODS.get(str(feed.get("sy_updateperiod", "")).strip().lower())
    if period:
        try:
            frequency = max(1, int(feed.get("sy_updatefrequency") or 1))
        except (TypeError, ValueError):
            frequency = 1
        candidates.append(period / frequency)
    return max(candidates) if candidates else None
