"""`GET /api/v1/sources`: the status table as JSON."""

from __future__ import annotations

from datetime import datetime, timezone

from fastapi import APIRouter
from starlette.requests import Request

from aggregator.desk import sources_table
from aggregator.desk.context import desk, session

router = APIRouter(prefix="/api/v1", tags=["sources"])


@router.get("/sources", summary="Every source: state, health, fill rates, articles a day")
def list_sources(request: Request) -> dict:
    with session(request) as s:
        rows = sources_table.rows(s, desk(request).settings, datetime.now(timezone.utc))
    return {"items": [sources_table.payload(r) for r in rows]}
