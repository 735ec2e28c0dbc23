"""Sitemap bytes -> ParsedSitemap: urlsets (Google News and image extensions) and indexes.

A urlset becomes the same FeedEntry records a feed gives (guid = the URL; title and date from
news:title and news:publication_date, else lastmod), so entries, pending retries, pages and
the pipeline never know where an entry came from. The XML parser resolves no entities, loads
no DTD, never touches the network, and a body (gzip unpacked) above the bound is refused.
"""

from __future__ import annotations

import zlib
from datetime import datetime, timezone
from urllib.parse import urljoin

from lxml import etree

from aggregator.dates import parse_timestamp
from aggregator.errors import FeedError
from aggregator.records import FeedEntry, ParsedSitemap, SitemapRef, collect_entries

MAX_BYTES = 50 * 1024 * 1024  # the sitemap protocol's own limit, uncompressed
_GZIP = b"\x1f\x8b"


def unpack(body: bytes, limit: int = MAX_BYTES) -> bytes:
    """The XML of a plain or gzip sitemap; a gzip bomb stops at `limit`, never in memory."""
    if body[:2] != _GZIP:
        if len(body) > limit:
            raise FeedError(f"sitemap larger than {limit} bytes")
        return body
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        data = inflater.decompress(body, limit + 1)
    except zlib.error as exc:
        raise FeedError(f"broken gzip sitemap: {exc}") from exc
    if len(data) > limit:
        raise FeedError(f"sitemap larger than {limit} bytes once unpacked")
    return data


def _parser() -> etree.XMLParser:
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False,
                           huge_tree=False, remove_comments=True, remove_pis=True)


def _local(element) -> str:
    return etree.QName(element).localname if isinstance(element.tag, str) else ""


def _child(element, name: str):
    """The first child called `name` in any namespace (publishers get namespaces wrong)."""
    return next((c for c in element if _local(c) == name), None)


def _text(element, *path: str) -> str | None:
    for name in path:
        element = _child(element, name) if element is not None else None
    text = (element.text or "").strip() if element is not None else ""
    return text or None


def _entry(url_element, base: str) -> FeedEntry:
    loc = _text(url_element, "loc")
    if not loc:
        raise ValueError("<url> without <loc>")
    link = urljoin(base, loc)
    lastmod = parse_timestamp(_text(url_element, "lastmod"))
    news = _child(url_element, "news")
    published = parse_timestamp(_text(news, "publication_date"))
    return FeedEntry(
        guid=link,
        link=link,
        title=_text(news, "title"),
        published_at=published or lastmod,
        updated_at=lastmod,
        categories=tuple(k.strip() for k in (_text(news, "keywords") or "").split(",")
                         if k.strip()),
        image_url=_text(url_element, "image", "loc"),
        language=(_text(news, "publication", "language") or "").lower()[:2] or None,
    )


def parse_sitemap(body: bytes, url: str) -> ParsedSitemap:
    """Parse a fetched sitemap; `url` is the final URL, used to resolve relative locations."""
    data = unpack(body)
    if not data.strip():
        raise FeedError("empty response body")
    try:
        root = etree.fromstring(data, parser=_parser())
    except etree.XMLSyntaxError as exc:
        raise FeedError(f"malformed sitemap: {exc}") from exc
    kind = _local(root)
    if kind == "sitemapindex":
        children = []
        for element in root:
            loc = _text(element, "loc") if _local(element) == "sitemap" else None
            if loc:
                children.append(SitemapRef(urljoin(url, loc),
                                           parse_timestamp(_text(element, "lastmod"))))
        return ParsedSitemap(children=tuple(dict.fromkeys(children)))
    if kind != "urlset":
        raise FeedError(f"not a sitemap (root element <{kind or '?'}>)")
    entries, skipped = collect_entries((e for e in root if _local(e) == "url"),
                                       lambda element: _entry(element, url))
    return ParsedSitemap(entries=tuple(entries), skipped=tuple(skipped))


def children_to_walk(children: tuple[SitemapRef, ...], walked: dict[str, datetime | None],
                     since: datetime | None, limit: int | None = None) -> list[SitemapRef]:
    """Which children of an index to fetch: those changed since `since` (an undated child
    might have) and not walked at the lastmod they have now; most recently changed first."""
    chosen = []
    for child in children:
        if since is not None and child.lastmod is not None and child.lastmod < since:
            continue
        if child.url in walked and child.lastmod is not None:
            before = walked[child.url]
            if before is not None and child.lastmod <= before:
                continue
        chosen.append(child)
    floor = datetime.min.replace(tzinfo=timezone.utc)
    chosen.sort(key=lambda c: c.lastmod or floor, reverse=True)
    return chosen[:limit] if limit is not None else chosen
