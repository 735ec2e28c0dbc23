"""HTTP for the translation services: the one module that speaks urllib3.

JSON in, JSON out, no retries or redirects of its own (the worker owns back-off), and every
failure turned into a reason an operator can act on, with the secret key masked out of it:
a key may travel in a header or a body, never into a log line, a job's row or `status`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Any

import urllib3
from urllib3.exceptions import HTTPError, ReadTimeoutError

from aggregator.errors import EngineUnavailable, TranslationError


@dataclass(frozen=True)
class Answer:
    status: int
    data: Any  # the decoded JSON body; the text when it is not JSON
    retry_after: float | None
    location: str | None


def retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds from a Retry-After header: a number of seconds, or an HTTP date."""
    if not value:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max((when - (now or datetime.now(timezone.utc))).total_seconds(), 0.0)


class Service:
    """One translation service at one base URL."""

    def __init__(self, name: str, base_url: str, user_agent: str, secret: str | None = None,
                 headers: dict[str, str] | None = None):
        self.name = name
        self.base_url = base_url.rstrip("/")
        self.secret = secret
        self.headers = {"User-Agent": user_agent, "Accept": "application/json",
                        **(headers or {})}
        self.pool = urllib3.PoolManager(retries=False)

    def mask(self, text: str) -> str:
        return text.replace(self.secret, "***") if self.secret else text

    def call(self, method: str, path: str, timeout: float, payload: Any = None) -> Answer:
        """One request; EngineUnavailable when the service cannot be reached."""
        url = f"{self.base_url}{path}"
        body = None if payload is None else json.dumps(payload, ensure_ascii=False).encode()
        headers = {**self.headers, **({"Content-Type": "application/json"} if body else {})}
        try:
            response = self.pool.request(
                method, url, body=body, headers=headers, redirect=False,
                timeout=urllib3.Timeout(connect=min(timeout, 10.0), read=timeout),
            )
        except ReadTimeoutError as exc:
            raise TranslationError(f"{self.name} gave no answer within {timeout:g}s "
                                   f"(translation.timeout)") from exc
        except HTTPError as exc:
            reason = self.mask(str(getattr(exc, "reason", None) or exc))
            raise EngineUnavailable(
                f"{self.name} unreachable at {self.base_url}: {reason}") from exc
        text = response.data.decode("utf-8", errors="replace")
        try:
            data = json.loads(text) if text else None
        except ValueError:
            data = text
        return Answer(response.status, data, retry_after(response.headers.get("Retry-After")),
                      response.headers.get("Location"))

    def refusal(self, answer: Answer, message: str | None) -> TranslationError:
        """The error for a non-200 answer: does it concern this job, or every job?"""
        said = f"{self.name} answered HTTP {answer.status}"
        if message:
            said += f": {self.mask(str(message))[:300]}"
        status = answer.status
        if status == 429:
            return EngineUnavailable(f"{said} (too many requests: waiting)", answer.retry_after)
        if status == 456:  # DeepL: the character quota of the billing period is used up
            return EngineUnavailable(f"{said} (quota exceeded: waiting)", answer.retry_after)
        if status in (401, 403):
            return EngineUnavailable(f"{said} (refused: check translation.api_key)")
        if status in (502, 503, 504, 529):
            return EngineUnavailable(f"{said} (service unavailable: waiting)", answer.retry_after)
        if 300 <= status < 400:
            return EngineUnavailable(f"{said} (redirected to {answer.location}: "
                                     "set translation.url to the service itself)")
        if status == 404:
            return EngineUnavailable(f"{said} (no such endpoint: check translation.url)")
        if 400 <= status < 500:  # this request (language pair, size) will not do
            return TranslationError(said, permanent=True)
        return TranslationError(said)

    def close(self) -> None:
        self.pool.clear()
