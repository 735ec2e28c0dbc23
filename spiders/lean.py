"""Scrapy components that keep per-response work off the reactor's hot path.

Profiled on the bench ingest (py-spy, `bench.run --profile`): Scrapy's MetaRefreshMiddleware
decoded every 100 KB page into text on the reactor (and kept that copy with the response) to
look for a `<meta http-equiv="refresh">` that news articles almost never carry; and its log
formatter built a "Crawled" and a "Scraped" record per page that our logging drops anyway.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from scrapy.downloadermiddlewares.redirect import MetaRefreshMiddleware
from scrapy.http import HtmlResponse, Response
from scrapy.logformatter import LogFormatter
from scrapy.utils.response import get_meta_refresh

_REFRESH = re.compile(rb"http-equiv\W{0,3}refresh", re.IGNORECASE)
# get_meta_refresh reads the first 4,096 characters: 8 bytes each at worst (UTF-7), and a BOM
_HEAD_BYTES = 4096 * 8 + 4


class MetaRefreshWhenPresent(MetaRefreshMiddleware):
    """Scrapy's meta refresh, run only on pages whose bytes mention one (a byte search; pages
    in an encoding that could hide it from a byte search, UTF-16/32, take Scrapy's path), and
    followed only to a web URL: a refresh to `javascript:` or `data:` is not a redirect (Scrapy
    raises building that request, losing the page)."""

    def process_response(self, request, response: Response, spider=None):  # type: ignore[override]
        if not isinstance(response, HtmlResponse):
            return super().process_response(request, response)
        # A case-folded byte search first (5x faster than the regex's), over what Scrapy's
        # get_meta_refresh reads (its first 4,096 characters), not the whole page.
        head = response.body[:_HEAD_BYTES]
        if b"\x00" not in head[:512] and (b"refresh" not in head.lower()
                                          or not _REFRESH.search(head)):
            return response
        _, url = get_meta_refresh(response, ignore_tags=self._ignore_tags)
        if url and urlsplit(url).scheme not in ("http", "https"):
            return response
        return super().process_response(request, response)


class QuietLogFormatter(LogFormatter):
    """No per-page "Crawled" and "Scraped" records (Scrapy skips a None); errors as usual."""

    def crawled(self, request, response, spider):  # type: ignore[override]
        return None

    def scraped(self, item, response, spider):  # type: ignore[override]
        return None
