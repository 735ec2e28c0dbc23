"""Timestamps as publishers write them -> aware UTC datetimes; naive ones are Kyiv time."""

from __future__ import annotations

import re
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

from aggregator.vocabulary import DatePrecision

# Naive timestamps on these sites are local time in Kyiv.
LOCAL_TZ = ZoneInfo("Europe/Kyiv")
# "20.11.2026, 09:15" or "20.11.2026 09:15" or "20.11.2026": bylines of Ukrainian outlets.
_CLOCK = re.compile(r"\d{1,2}:\d{2}")
_DOTTED = re.compile(r"(\d{1,2})\.(\d{1,2})\.(\d{4})(?:[,\s]+(\d{1,2}):(\d{2}))?")


def parse_timestamp(value: str | None) -> datetime | None:
    """ISO-8601 (or W3C date) text -> aware UTC datetime; naive values are Kyiv local time."""
    if not value:
        return None
    text = value.strip().replace(" ", "T", 1)
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    text = re.sub(r"([+-]\d\d)(\d\d)$", r"\1:\2", text)
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=LOCAL_TZ)
    return when.astimezone(timezone.utc)


def parse_loose(value: str | None) -> datetime | None:
    """ISO-8601, else a dd.mm.yyyy[, hh:mm] byline found anywhere in the text (Kyiv time)."""
    when = parse_timestamp(value)
    if when is not None or not value:
        return when
    found = _DOTTED.search(value)
    if not found:
        return None
    day, month, year, hour, minute = (int(g) if g else 0 for g in found.groups())
    try:
        return datetime(year, month, day, hour, minute, tzinfo=LOCAL_TZ).astimezone(timezone.utc)
    except ValueError:
        return None


def precision_of(value: str | None) -> DatePrecision:
    """What a stated date says: a time of day (second), a day only, or nothing."""
    if not value or not value.strip():
        return DatePrecision.NONE
    return DatePrecision.SECOND if _CLOCK.search(value) else DatePrecision.DAY
