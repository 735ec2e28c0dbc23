"""Downloader middleware: only http(s), the source's own hosts, no private targets unless allowed."""

from __future__ import annotations

from urllib.parse import urlsplit

from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Request, Response

from aggregator.sources import Source
from aggregator.urls import is_private_host, same_site


class ShuttingDown(IgnoreRequest):
    """The daemon is stopping: the request is dropped before download, not failed."""


def refusal(url: str, source: Source | None, check_domain: bool) -> str | None:
    """Why `url` may not be fetched for `source`, or None."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        return f"scheme {parts.scheme!r} is not fetched"
    # Requests without a source are Scrapy's own (robots.txt), made for a request checked here.
    allow_private = source is None or source.allow_private_addresses
    if not allow_private and is_private_host(parts.hostname or ""):
        return f"private or loopback address {parts.hostname} (source does not allow it)"
    if check_domain and source and not same_site(url, source.allowed_domains):
        return f"host {parts.hostname} is outside the source's allowed domains"
    return None


def _source(request: Request) -> Source | None:
    run = request.meta.get("run")
    return run.source if run is not None else None


class AddressGuardMiddleware:
    """Checks every request (redirects included) against its source's rules and the address
    each response came from; once the spider is stopping, drops requests not yet sent."""

    def __init__(self, crawler: Crawler):
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> AddressGuardMiddleware:
        return cls(crawler)

    def process_request(self, request: Request) -> None:
        if getattr(self.crawler.spider, "stopping", False):
            raise ShuttingDown(f"not fetched, shutting down: {request.url}")
        reason = refusal(request.url, _source(request), check_domain=not request.meta.get("is_feed"))
        if reason:
            raise IgnoreRequest(f"refused {request.url}: {reason}")

    def process_response(self, request: Request, response: Response) -> Response:
        ip = response.ip_address
        source = _source(request)
        allowed = source is None or source.allow_private_addresses
        if ip is not None and not allowed and not ip.is_global:
            raise IgnoreRequest(f"refused {response.url}: resolved to private address {ip}")
        return response
