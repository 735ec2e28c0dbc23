"""What every desk route needs: the settings, a read-only database, evidence checks."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from fastapi import HTTPException
from sqlalchemy.orm import Session
from starlette.requests import Request

from aggregator import archive
from aggregator.db.engine import Database
from aggregator.sanitize import safe_html
from aggregator.settings import Settings
from aggregator.views import FetchStep


@dataclass
class Desk:
    settings: Settings
    db: Database

    @property
    def data_dir(self) -> Path:
        return self.settings.data_dir

    def warc_check(self, step: FetchStep | None) -> tuple[str | None, bool | None, str | None]:
        """(record id, stored file matches, problem) of a fetch's WARC record; all None when
        it has none."""
        if step is None or step.warc is None:
            return None, None, None
        record_id, problem = archive.inspect(self.data_dir / "warc", step.warc)
        return record_id, problem is None, problem


def desk(request: Request) -> Desk:
    return request.app.state.desk


@contextmanager
def session(request: Request) -> Iterator[Session]:
    with desk(request).db.session() as s:
        yield s


def not_found(what: str) -> HTTPException:
    return HTTPException(status_code=404, detail=f"no {what}")


def shown_html(html: str | None, url: str) -> str | None:
    """Article HTML as the desk shows it: cleaned again on the way out, whatever is stored."""
    return safe_html(html, url) if html else None
