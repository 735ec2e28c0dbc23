"""Feeds of stories: Atom and JSON Feed 1.1, one entry per story linking the original and
every copy, with the filters of `/api/v1/stories` (a reader subscribes to a search).

Atom is written with the standard library's ElementTree: feedgen 1.0 drops the `rel` of entry
links (every copy would become a second rel="alternate", which RFC 4287 forbids).
"""

from __future__ import annotations

import html
import json
from datetime import datetime, timezone
from xml.etree import ElementTree as ET

from fastapi import APIRouter, Depends, Query
from starlette.requests import Request
from starlette.responses import Response

from aggregator.db import story_reads
from aggregator.desk import params, payloads
from aggregator.desk.api_stories import filters
from aggregator.desk.context import session
from aggregator.export import _iso as iso
from aggregator.views import StorySummary

router = APIRouter(prefix="/feeds", tags=["feeds"])
FEED_LIMIT = 50


def _stories(request: Request, flt: story_reads.StoryFilter, limit: int) -> list[StorySummary]:
    with session(request) as s:
        return story_reads.list_stories(s, flt, limit)[0]


def _title(flt: story_reads.StoryFilter) -> str:
    parts = [f"“{flt.q}”" if flt.q else None, flt.source, flt.language]
    named = ", ".join(p for p in parts if p)
    return "Stories" + (f": {named}" if named else "")


def _content(story: StorySummary) -> str:
    """Escaped HTML: the copies, each linked to its original."""
    items = "".join(
        f'<li><a href="{html.escape(c.url)}">{html.escape(c.title or c.url)}</a> '
        f"({html.escape(c.source)}, {html.escape(c.language or '?')}, "
        f"{'original' if c.is_primary else html.escape(c.match or 'copy')})</li>"
        for c in story.copies)
    return f"<p>{len(story.outlets)} outlets</p><ul>{items}</ul>"


def _updated(story: StorySummary) -> datetime:
    return story.last_changed_at or story.first_seen_at


def _element(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    element = ET.SubElement(parent, tag, {k: v for k, v in attrs.items() if v is not None})
    element.text = text
    return element


def atom_document(stories: list[StorySummary], self_url: str, base: str, title: str) -> bytes:
    """RFC 4287: the original as rel="alternate", the story page as "via", copies "related"."""
    feed = ET.Element("feed", xmlns="http://www.w3.org/2005/Atom")
    _element(feed, "id", self_url)
    _element(feed, "title", title)
    _element(feed, "link", href=self_url, rel="self", type="application/atom+xml")
    _element(feed, "link", href=base + "/", rel="alternate", type="text/html")
    updated = max((_updated(s) for s in stories), default=datetime.now(timezone.utc))
    _element(feed, "updated", iso(updated))
    _element(feed, "generator", "aggregator")
    for story in stories:
        primary = story.primary
        entry = _element(feed, "entry")
        _element(entry, "id", f"{base}/stories/{story.id}")
        _element(entry, "title", primary.title or primary.url)
        _element(entry, "link", href=primary.url, rel="alternate", hreflang=primary.language)
        _element(entry, "link", href=f"{base}/stories/{story.id}", rel="via", type="text/html")
        for copy in story.copies[1:]:
            _element(entry, "link", href=copy.url, rel="related", title=copy.source,
                     hreflang=copy.language)
        _element(_element(entry, "author"), "name", primary.source_title)
        _element(entry, "published", iso(primary.published_at or story.first_seen_at))
        _element(entry, "updated", iso(_updated(story)))
        _element(entry, "content", _content(story), type="html")
    return ET.tostring(feed, encoding="utf-8", xml_declaration=True)


@router.get("/stories.atom", summary="Atom feed of stories")
def atom(request: Request, flt: story_reads.StoryFilter = Depends(filters),
         limit: int = Query(FEED_LIMIT, ge=1, le=params.MAX_LIMIT)) -> Response:
    stories = _stories(request, flt, limit)
    body = atom_document(stories, str(request.url), str(request.base_url).rstrip("/"),
                         _title(flt))
    return Response(body, media_type="application/atom+xml; charset=utf-8")


@router.get("/stories.json", summary="JSON Feed 1.1 of stories")
def json_feed(request: Request, flt: story_reads.StoryFilter = Depends(filters),
              limit: int = Query(FEED_LIMIT, ge=1, le=params.MAX_LIMIT)) -> Response:
    stories = _stories(request, flt, limit)
    base = str(request.base_url).rstrip("/")
    feed = {
        "version": "https://jsonfeed.org/version/1.1",
        "title": _title(flt),
        "home_page_url": base + "/",
        "feed_url": str(request.url),
        "items": [{
            "id": f"{base}/stories/{s.id}",
            "url": f"{base}/stories/{s.id}",
            "external_url": s.primary.url,
            "title": s.primary.title or s.primary.url,
            "content_html": _content(s),
            "date_published": iso(s.primary.published_at or s.first_seen_at),
            "date_modified": iso(_updated(s)),
            "authors": [{"name": s.primary.source_title}],
            "language": s.primary.language,
            "_aggregator": payloads.story(s),
        } for s in stories],
    }
    return Response(json.dumps(feed, ensure_ascii=False),
                    media_type="application/feed+json; charset=utf-8")
