"""The desk's ASGI app: routers, the token check, security headers, errors as 400/404.

Reads only: the database connection itself refuses writes (`Database(read_only=True)`).
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from aggregator.db.engine import Database
from aggregator.desk import (
    api_articles,
    api_changes,
    api_sources,
    api_stories,
    feeds,
    pages,
    screenshots,
    security,
)
from aggregator.desk.context import Desk
from aggregator.desk.params import BadParameter
from aggregator.settings import Settings

OPENAPI = "/api/v1/openapi.json"


def _wants_json(request: Request) -> bool:
    path = request.url.path
    return path.startswith(("/api/", "/feeds/", "/screenshots/"))


def _error(request: Request, status: int, error: str, message: str,
           parameter: str | None = None) -> Response:
    if _wants_json(request):
        body = {"error": error, "message": message}
        if parameter:
            body["parameter"] = parameter
        return JSONResponse(body, status_code=status)
    return pages.error_page(request, status, message)


def create_app(settings: Settings, db: Database | None = None) -> FastAPI:
    app = FastAPI(title="aggregator desk", version="1", openapi_url=OPENAPI, docs_url=None,
                  redoc_url=None, description="Read API of the aggregator: stories, articles "
                  "with their provenance, the change stream and sources (docs/api.md).")
    app.state.desk = Desk(settings, db or Database(settings.effective_database_url,
                                                   read_only=True))
    token = settings.web.token

    app.add_middleware(security.Guard, token=token)

    @app.exception_handler(RequestValidationError)
    async def bad_request(request: Request, exc: RequestValidationError) -> Response:
        first = exc.errors()[0] if exc.errors() else {}
        name = str((first.get("loc") or ("", "request"))[-1])
        return _error(request, 400, "bad parameter", f"{name}: {first.get('msg', 'invalid')}",
                      name)

    @app.exception_handler(BadParameter)
    async def bad_parameter(request: Request, exc: BadParameter) -> Response:
        return _error(request, 400, "bad parameter", str(exc), exc.name)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> Response:
        kind = {404: "not found", 400: "bad parameter"}.get(exc.status_code, "error")
        return _error(request, exc.status_code, kind, str(exc.detail))

    for module in (api_stories, api_articles, api_changes, api_sources, feeds, screenshots,
                   pages):
        app.include_router(module.router)
    app.mount("/static", StaticFiles(directory=Path(__file__).with_name("static")),
              name="static")
    return app
