"""The reactor's lean Scrapy components (spiders/lean.py): same outcomes, less work."""

from __future__ import annotations

from scrapy.downloadermiddlewares.redirect import MetaRefreshMiddleware
from scrapy.http import HtmlResponse, Request
from scrapy.utils.test import get_crawler

from spiders.lean import MetaRefreshWhenPresent, QuietLogFormatter


def _middleware() -> MetaRefreshWhenPresent:
    return MetaRefreshWhenPresent.from_crawler(get_crawler(settings_dict={}))


def _page(body: bytes) -> HtmlResponse:
    url = "https://example.org/news/1.html"
    return HtmlResponse(url, body=body, request=Request(url), encoding="utf-8")


def test_a_page_without_a_refresh_is_passed_on_undecoded():
    response = _page("<html><head><title>Новина</title></head><body>текст</body></html>"
                     .encode())
    assert _middleware().process_response(response.request, response) is response
    assert response._cached_ubody is None  # never decoded: no text copy of the page


def test_a_page_with_a_refresh_still_redirects():
    response = _page(b'<html><head><META HTTP-EQUIV="Refresh" CONTENT="0; URL=/news/2.html">'
                     b"</head><body></body></html>")
    redirected = _middleware().process_response(response.request, response)
    assert isinstance(redirected, Request)
    assert redirected.url == "https://example.org/news/2.html"


def test_the_refresh_is_looked_for_where_scrapy_reads_it_in_characters_not_bytes():
    """Scrapy reads a refresh in the first 4,096 characters: 4,000 Cyrillic ones (8,000
    bytes) before it still redirect; one past that is neither followed nor decoded for."""
    tag = b'<meta http-equiv="refresh" content="0; URL=/news/2.html">'
    near = _page(b"<html><head><title>" + ("ї" * 4000).encode() + b"</title>" + tag)
    assert isinstance(_middleware().process_response(near.request, near), Request)
    far = _page(b"<html><head><title>" + ("ї" * 20000).encode() + b"</title>" + tag)
    assert _middleware().process_response(far.request, far) is far
    assert far._cached_ubody is None
    stock = MetaRefreshMiddleware.from_crawler(get_crawler(settings_dict={}))
    assert stock.process_response(far.request, far) is far  # Scrapy does not follow it either


def test_per_page_log_records_are_skipped():
    formatter = QuietLogFormatter()
    assert formatter.crawled(None, None, None) is None
    assert formatter.scraped({}, None, None) is None


def test_settings_use_them():
    from aggregator.settings import Settings
    from spiders.settings import scrapy_settings

    values = scrapy_settings(Settings())
    assert values["CONCURRENT_ITEMS"] == 1
    assert values["LOG_FORMATTER"] == "spiders.lean.QuietLogFormatter"
    assert "spiders.lean.MetaRefreshWhenPresent" in values["DOWNLOADER_MIDDLEWARES"]
