"""`GET /api/v1/stories` and `GET /api/v1/stories/{id}`."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Path, Query
from starlette.requests import Request

from aggregator.db import story_reads
from aggregator.desk import params, payloads
from aggregator.desk.context import desk, not_found, session, shown_html
from aggregator.searchterms import MAX_QUERY

router = APIRouter(prefix="/api/v1", tags=["stories"])


def filters(
    source: str | None = Query(None, max_length=params.MAX_NAME,
                               description="Only stories with a copy from this source."),
    language: str | None = Query(None, max_length=16,
                                 description="Only stories with a copy in this language."),
    since: str | None = Query(None, max_length=40,
                              description="First seen at or after (ISO-8601, UTC if no zone)."),
    until: str | None = Query(None, max_length=40, description="First seen before."),
    q: str | None = Query(None, max_length=MAX_QUERY,
                          description="Full-text query over titles and texts; ranks results."),
    min_sources: str | None = Query(
        None, max_length=8, description="Only stories carried by at least this many outlets "
        "(an integer 1-50; empty means any, as an HTML form sends it)."),
) -> story_reads.StoryFilter:
    return params.story_filter(source, language, since, until, q, min_sources)


@router.get("/stories", summary="Stories, newest first (ranked when q is given)")
def list_stories(
    request: Request,
    limit: int = Query(20, ge=1, le=params.MAX_LIMIT, description="Stories per page."),
    cursor: str | None = Query(None, max_length=200,
                               description="`next_cursor` of the page before."),
    flt: story_reads.StoryFilter = Depends(filters),
) -> dict:
    after = params.decode_cursor(cursor, ranked=flt.q is not None)
    with session(request) as s:
        items, key = story_reads.list_stories(s, flt, limit, after)
    return {"items": [payloads.story(i) for i in items], "next_cursor": params.encode_cursor(key)}


@router.get("/stories/{story_id}", summary="One story: every copy with its provenance chain")
def get_story(request: Request, story_id: int = Path(ge=1, le=2**62)) -> dict:
    with session(request) as s:
        detail = story_reads.story_detail(s, story_id)
    if detail is None:
        raise not_found(f"story {story_id}")
    d = desk(request)
    chains = []
    for chain in detail.chains:
        record_id, matches, _ = d.warc_check(chain.fetch)
        chains.append(payloads.chain(chain, record_id, matches))
    html = shown_html(detail.html, detail.summary.primary.url)
    return payloads.story_detail(detail, chains, html)
