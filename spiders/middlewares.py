"""Downloader middleware: only http(s), and no private or loopback targets unless allowed."""

from __future__ import annotations

from urllib.parse import urlsplit

from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Request, Response

from aggregator.urls import is_private_host


def refusal(url: str, allow_private: bool) -> str | None:
    """Why `url` may not be fetched, or None."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        return f"scheme {parts.scheme!r} is not fetched"
    if not allow_private and is_private_host(parts.hostname or ""):
        return f"private or loopback address {parts.hostname} (source does not allow it)"
    return None


class AddressGuardMiddleware:
    """Checks every request (redirects included) and the address each response came from."""

    def __init__(self, crawler: Crawler):
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> AddressGuardMiddleware:
        return cls(crawler)

    def _allowed(self) -> bool:
        source = getattr(self.crawler.spider, "source", None)
        return bool(source and source.allow_private_addresses)

    def process_request(self, request: Request) -> None:
        reason = refusal(request.url, self._allowed())
        if reason:
            raise IgnoreRequest(f"refused {request.url}: {reason}")

    def process_response(self, request: Request, response: Response) -> Response:
        ip = response.ip_address
        if ip is not None and not self._allowed() and not ip.is_global:
            raise IgnoreRequest(f"refused {response.url}: resolved to private address {ip}")
        return response
