"""`GET /api/v1/changes`: one monotonic stream of what changed, for consumers that sync."""

from __future__ import annotations

from fastapi import APIRouter, Query
from starlette.requests import Request

from aggregator.db import desk_reads
from aggregator.desk import params, payloads
from aggregator.desk.context import session

router = APIRouter(prefix="/api/v1", tags=["changes"])


@router.get("/changes", summary="Changes after a cursor, in commit order")
def list_changes(
    request: Request,
    cursor: str | None = Query(
        None, max_length=40, description="`next_cursor` of the page before; absent: the start."),
    limit: int = Query(100, ge=1, le=params.MAX_CHANGES, description="Changes per page."),
) -> dict:
    after = params.change_cursor(cursor)
    with session(request) as s:
        items = desk_reads.changes(s, after, limit)
    last = items[-1].id if items else after
    return {"items": [payloads.change(c) for c in items], "next_cursor": str(last)}
