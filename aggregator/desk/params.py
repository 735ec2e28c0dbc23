"""Request parameters the desk shares: bounds, timestamps, opaque cursors, story filters.

Every bad value raises BadParameter naming the parameter; the app answers it with a 400.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
from datetime import datetime, timezone

from aggregator.db.story_reads import Key, StoryFilter
from aggregator.searchterms import MAX_QUERY

MAX_LIMIT = 100  # stories, feed entries
MAX_CHANGES = 1000  # changes per page
MAX_NAME = 64  # source names, language codes


class BadParameter(ValueError):
    def __init__(self, name: str, message: str):
        super().__init__(f"{name}: {message}")
        self.name = name
        self.message = message


def timestamp(name: str, value: str | None) -> datetime | None:
    """ISO-8601 date or time; UTC when it names no zone."""
    if value is None or value == "":
        return None
    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise BadParameter(name, f"{value[:40]!r} is not an ISO-8601 date or time") from exc
    return when if when.tzinfo else when.replace(tzinfo=timezone.utc)


def bounded_int(name: str, value: str | None, low: int, high: int) -> int | None:
    """An integer in [low, high]; empty or absent means None (a form's empty field)."""
    if value is None or value.strip() == "":
        return None
    if not value.strip().isdigit() or not low <= int(value) <= high:
        raise BadParameter(name, f"expected an integer from {low} to {high}")
    return int(value)


def story_filter(source: str | None, language: str | None, since: str | None,
                 until: str | None, q: str | None, min_sources: str | None) -> StoryFilter:
    if q is not None and len(q) > MAX_QUERY:
        raise BadParameter("q", f"longer than {MAX_QUERY} characters")
    return StoryFilter(source=source or None, language=language or None,
                       since=timestamp("since", since), until=timestamp("until", until),
                       q=(q or "").strip() or None,
                       min_sources=bounded_int("min_sources", min_sources, 1, 50))


def encode_cursor(key: Key | None) -> str | None:
    if key is None:
        return None
    raw = json.dumps(list(key) if isinstance(key, tuple) else [key]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(value: str | None, ranked: bool) -> Key | None:
    """A cursor from `next_cursor`; a ranked one (a search) holds (rank, id), others an id."""
    if not value:
        return None
    try:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
        key = json.loads(raw)
    except (binascii.Error, ValueError) as exc:
        raise BadParameter("cursor", "not a cursor this API gave out") from exc
    if ranked and _is_ranked(key):
        return float(key[0]), key[1]
    if not ranked and isinstance(key, list) and len(key) == 1 and _is_id(key[0]):
        return key[0]
    raise BadParameter("cursor", "not a cursor of this query (was q changed?)")


def _is_id(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _is_ranked(key) -> bool:
    return (isinstance(key, list) and len(key) == 2 and isinstance(key[0], int | float)
            and not isinstance(key[0], bool) and math.isfinite(key[0]) and _is_id(key[1]))


def change_cursor(value: str | None) -> int:
    """The change id to continue after: '' or absent means from the start."""
    if not value:
        return 0
    if not value.isdigit() or len(value) > 18:
        raise BadParameter("cursor", "expected the number given as next_cursor")
    return int(value)
