"""Screenshot files by content hash: the request names a hash, the database names the file.

Nothing from the request becomes a path: the hash must be 64 hex digits, the path comes from
the screenshots row, and it must resolve inside the data directory's screenshots folder.
"""

from __future__ import annotations

import re

from fastapi import APIRouter, HTTPException
from fastapi import Path as PathParam
from starlette.requests import Request
from starlette.responses import FileResponse

from aggregator.db import desk_reads
from aggregator.desk.context import desk, not_found, session
from aggregator.images import ROOT

router = APIRouter(tags=["screenshots"])
SHA256 = re.compile(r"[0-9a-f]{64}")
TYPES = {"png": "image/png", "webp": "image/webp"}


def _serve(request: Request, sha256: str, thumbnail: bool) -> FileResponse:
    if not SHA256.fullmatch(sha256):
        raise HTTPException(400, detail="sha256: expected 64 lower-case hex digits")
    with session(request) as s:
        found = desk_reads.screenshot_file(s, sha256, thumbnail)
    if found is None or found[1] not in TYPES:
        raise not_found(f"screenshot {sha256}")
    relative, fmt = found
    root = (desk(request).data_dir / ROOT).resolve()
    path = (desk(request).data_dir / relative).resolve()
    if not path.is_relative_to(root) or not path.is_file():
        raise not_found(f"file of screenshot {sha256}")
    return FileResponse(path, media_type=TYPES[fmt],
                        headers={"Cache-Control": "public, max-age=31536000, immutable"})


@router.get("/screenshots/{sha256}", summary="A captured screenshot, by its sha256")
def screenshot(request: Request, sha256: str = PathParam(max_length=64)) -> FileResponse:
    return _serve(request, sha256, thumbnail=False)


@router.get("/screenshots/{sha256}/thumb", summary="Its thumbnail")
def thumbnail(request: Request, sha256: str = PathParam(max_length=64)) -> FileResponse:
    return _serve(request, sha256, thumbnail=True)
