"""Downloader middleware: every request (redirect hops and robots.txt included) passes the URL
guard (aggregator/guard.py) for its source and kind, and its host's address is resolved and
checked before a byte is sent; once the spider is stopping, requests not yet sent are dropped.
"""

from __future__ import annotations

import asyncio
from urllib.parse import urlsplit

from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Request, Response

from aggregator import guard
from aggregator.sources import Source
from aggregator.vocabulary import RequestKind

KIND = "request_kind"  # meta key: what the request is for, as the guard judges it


class ShuttingDown(IgnoreRequest):
    """The daemon is stopping: the request is dropped before download, not failed."""


def source_of(request: Request) -> Source | None:
    run = request.meta.get("run")
    return run.source if run is not None else None


def kind_of(request: Request) -> RequestKind:
    return RequestKind(request.meta.get(KIND, RequestKind.PAGE))


class AddressGuardMiddleware:
    """Refuses what the guard refuses, before download: the URL, then every address its host
    resolves to. The crawler's resolver (spiders/resolver.py) checks the address actually
    connected to, and the response's address is checked once more."""

    def __init__(self, crawler: Crawler):
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> AddressGuardMiddleware:
        return cls(crawler)

    async def process_request(self, request: Request) -> None:
        if getattr(self.crawler.spider, "stopping", False):
            raise ShuttingDown(f"not fetched, shutting down: {request.url}")
        source = source_of(request)
        if reason := guard.refusal(request.url, source, kind_of(request)):
            raise IgnoreRequest(f"refused {request.url}: {reason}")
        host = urlsplit(request.url).hostname or ""
        if guard.host_address(host) is None:  # a name: check every address it resolves to
            try:
                addresses = await asyncio.get_running_loop().run_in_executor(
                    None, guard.resolve, host)
            except OSError:
                return  # the download fails with the lookup error, reported there
            for address in addresses:
                if reason := guard.address_refusal(address, source):
                    raise IgnoreRequest(f"refused {request.url}: {host} resolves to {reason}")

    def process_response(self, request: Request, response: Response) -> Response:
        if response.ip_address is not None:
            if reason := guard.address_refusal(response.ip_address, source_of(request)):
                raise IgnoreRequest(f"refused {response.url}: answered from {reason}")
        return response

