"""Listing page bytes -> ParsedListing: article links by a source's selector, and next pages.

For sites without feeds or sitemaps: the page is read like any HTML page (bytes decoded by
their content), links are made absolute with their fragment dropped, and each becomes a
FeedEntry (guid = the link, title = the anchor text) for the same path feeds take.
"""

from __future__ import annotations

from urllib.parse import urldefrag, urljoin

from lxml import html as lxml_html
from lxml.etree import ParserError

from aggregator.encoding import decode_html
from aggregator.errors import FeedError
from aggregator.records import FeedEntry, ParsedListing
from aggregator.selectors import select, text_of


def _links(tree, selector: str, base: str) -> list[tuple[str, str]]:
    """(absolute URL, anchor text) for each match: an <a>, an element holding one, or an href."""
    found = []
    for match in select(tree, selector):
        if isinstance(match, str):
            href, title = match, ""
        else:
            anchor = match if match.get("href") else next(iter(match.xpath(".//a[@href]")), None)
            if anchor is None:
                continue
            href, title = anchor.get("href"), text_of(anchor)
        url = urldefrag(urljoin(base, href.strip()))[0]
        if url.startswith(("http://", "https://")):
            found.append((url, title))
    return found


def parse_listing(body: bytes, url: str, content_type: str | None, links: str,
                  next_page: str | None = None) -> ParsedListing:
    """Entries in page order, each URL once; `next_page` selects the pagination link(s)."""
    text, _ = decode_html(body, content_type)
    if not text.strip():
        raise FeedError("empty response body")
    try:
        tree = lxml_html.document_fromstring(text)
    except (ParserError, ValueError) as exc:
        raise FeedError(f"unparseable listing page: {exc}") from exc
    entries: dict[str, FeedEntry] = {}
    for link, title in _links(tree, links, url):
        entries.setdefault(link, FeedEntry(guid=link, link=link, title=title or None))
    following = [u for u, _ in _links(tree, next_page, url)] if next_page else []
    return ParsedListing(tuple(entries.values()),
                         tuple(u for u in dict.fromkeys(following) if u != url))
