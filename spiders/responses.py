"""What a Scrapy response or failure was, as our records and operator-readable reasons."""

from __future__ import annotations

import hashlib
import re
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime

from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response
from twisted.python.failure import Failure

from aggregator.records import FetchRecord, RawPage
from aggregator.vocabulary import FetchKind, FetchOutcome
from spiders.middlewares import ShuttingDown


def fetch_record(response: Response, kind: FetchKind) -> FetchRecord:
    """What the exchange was: requested and final URL, validators, size and body hash."""
    body = response.body or b""
    latency = response.meta.get("download_latency")
    return FetchRecord(
        url=(response.meta.get("redirect_urls") or [response.url])[0],
        final_url=response.url,
        status=response.status,
        fetched_at=datetime.now(timezone.utc),
        size=len(body),
        sha256=hashlib.sha256(body).hexdigest(),
        kind=kind,
        content_type=header(response, "Content-Type"),
        etag=header(response, "ETag"),
        last_modified=header(response, "Last-Modified"),
        duration_ms=int(latency * 1000) if latency is not None else None,
    )


def raw_page(response: Response, fetch: FetchRecord) -> RawPage:
    """The response as received, for the WARC archive."""
    headers = tuple(
        (k.decode("latin-1"), v.decode("latin-1"))
        for k, values in response.headers.items() for v in values
    )
    return RawPage(response.url, response.status, headers, response.body or b"", fetch.fetched_at)


def header(response: Response, name: str) -> str | None:
    value = response.headers.get(name)
    return value.decode("latin-1") if value else None


def first_headers(response: Response) -> dict[str, str]:
    """Each header's first value, as text (what the feed parser reads)."""
    return {k.decode("latin-1"): v[0].decode("latin-1") for k, v in response.headers.items() if v}


def seconds_header(response: Response | None, name: str) -> float | None:
    """Retry-After (seconds or HTTP date) or Cache-Control max-age, as seconds."""
    if response is None:
        return None
    value = header(response, name)
    if not value:
        return None
    if name.lower() == "cache-control":
        found = re.search(r"max-age=(\d+)", value)
        return float(found.group(1)) if found else None
    if value.strip().isdigit():
        return float(value)
    try:
        return max(0.0, (parsedate_to_datetime(value) - datetime.now(timezone.utc)).total_seconds())
    except (TypeError, ValueError):
        return None


def failure_kind(failure: Failure) -> FetchOutcome:
    """The metrics label of a failed request."""
    if getattr(failure.value, "response", None) is not None:
        return FetchOutcome.HTTP_ERROR
    if failure.check(ShuttingDown):
        return FetchOutcome.SHUTDOWN
    if failure.check(IgnoreRequest):
        return FetchOutcome.REFUSED
    return FetchOutcome.NETWORK_ERROR


def describe_failure(failure: Failure) -> str:
    """A short, operator-readable reason for a failed request."""
    response = getattr(failure.value, "response", None)
    if response is not None:
        location = header(response, "Location")
        if 300 <= response.status < 400 and location:
            return (f"HTTP {response.status} from {response.url}: redirect to {location} "
                    "not followed (only http and https are)")
        return f"HTTP {response.status} from {response.url}"
    return f"{type(failure.value).__name__}: {failure.getErrorMessage()}"
