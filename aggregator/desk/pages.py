"""The web view: server-rendered pages (Jinja2, autoescaped), no JavaScript needed.

`/` stories with filters and search, `/stories/{id}` the primary's text beside its screenshot
and every copy's provenance, `/articles/{id}` revisions, screenshot and WARC evidence,
`/sources` the status table with a chart per source.
"""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import urlencode, urlsplit

from fastapi import APIRouter, Depends, Query
from fastapi import Path as PathParam
from fastapi.templating import Jinja2Templates
from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import HTMLResponse

from aggregator.db import story_reads
from aggregator.db.models import Source
from aggregator.desk import params, sources_table
from aggregator.desk.api_articles import evidence
from aggregator.desk.api_stories import filters
from aggregator.desk.context import desk, not_found, session, shown_html

router = APIRouter(include_in_schema=False)
templates = Jinja2Templates(directory=Path(__file__).with_name("templates"))
PAGE = 20


def web_url(value: str | None) -> str | None:
    """Only http(s) URLs become links; anything else (javascript:, data:) is shown as text."""
    return value if value and urlsplit(value).scheme in ("http", "https") else None


def when(value: datetime | None) -> str:
    return value.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M UTC") if value else "–"


templates.env.filters.update(web_url=web_url, when=when,
                             host=lambda url: urlsplit(url or "").hostname or "")


def _choices(request: Request) -> tuple[list[str], list[str]]:
    with session(request) as s:
        sources = list(s.scalars(select(Source.name).order_by(Source.name)))
        languages = list(s.scalars(select(Source.language).distinct()))  # no article scan
    return sources, sorted(languages)


@router.get("/", response_class=HTMLResponse)
def stories_page(request: Request, cursor: str | None = Query(None, max_length=200),
                 flt: story_reads.StoryFilter = Depends(filters)):
    after = params.decode_cursor(cursor, ranked=flt.q is not None)
    with session(request) as s:
        items, key = story_reads.list_stories(s, flt, PAGE, after)
    sources, languages = _choices(request)
    query = {k: v for k, v in request.query_params.items() if k != "cursor" and v}
    next_url = ("/?" + urlencode({**query, "cursor": params.encode_cursor(key)})) if key else None
    return templates.TemplateResponse(request, "stories.html", {
        "stories": items, "flt": flt, "sources": sources, "languages": languages,
        "next_url": next_url, "feed_query": urlencode(query)})


@router.get("/stories/{story_id}", response_class=HTMLResponse)
def story_page(request: Request, story_id: int = PathParam(ge=1, le=2**62)):
    with session(request) as s:
        detail = story_reads.story_detail(s, story_id)
    if detail is None:
        raise not_found(f"story {story_id}")
    checks = {c.member.id: desk(request).warc_check(c.fetch) for c in detail.chains}
    return templates.TemplateResponse(request, "story.html", {
        "d": detail, "s": detail.summary, "checks": checks,
        "html": shown_html(detail.html, detail.summary.primary.url)})


@router.get("/articles/{article_id}", response_class=HTMLResponse)
def article_page(request: Request, article_id: int = PathParam(ge=1, le=2**62)):
    ev = evidence(request, article_id)
    return templates.TemplateResponse(request, "article.html", {
        "ev": ev, "a": ev.article, "html": shown_html(ev.article.html, ev.article.url)})


@router.get("/sources", response_class=HTMLResponse)
def sources_page(request: Request):
    with session(request) as s:
        rows = sources_table.rows(s, desk(request).settings, datetime.now(timezone.utc))
    return templates.TemplateResponse(request, "sources.html", {"rows": rows})


def error_page(request: Request, status: int, message: str) -> HTMLResponse:
    return templates.TemplateResponse(request, "error.html",
                                      {"status": status, "message": message},
                                      status_code=status)
