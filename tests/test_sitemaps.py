"""Sitemaps and listing pages as bytes: news sitemaps, indexes, gzip, hostile XML, selectors."""

from __future__ import annotations

import gzip
from datetime import datetime, timedelta, timezone

import pytest

from aggregator.errors import FeedError
from aggregator.listing import parse_listing
from aggregator.records import SitemapRef
from aggregator.sitemaps import children_to_walk, parse_sitemap, unpack
from tests.newssite import listing_page, sitemap, sitemap_index

T = datetime(2026, 11, 20, 7, 15, tzinfo=timezone.utc)


def test_google_news_sitemap_becomes_feed_entries():
    body = sitemap([
        {"loc": "https://www.pravda.com.ua/news/2026/11/20/1/", "lastmod": T + timedelta(hours=1),
         "title": "Заголовок & новини", "published": T},
        {"loc": "/rus/news/2026/11/20/2/", "title": "Заголовок", "published": T, "language": "ru"},
        {"loc": "https://www.pravda.com.ua/news/3/", "lastmod": T},
    ])
    parsed = parse_sitemap(body, "https://www.pravda.com.ua/sitemap/news.xml")
    first, second, third = parsed.entries
    assert first.guid == first.link == "https://www.pravda.com.ua/news/2026/11/20/1/"
    assert first.title == "Заголовок & новини" and first.language == "uk"
    assert first.published_at == T and first.updated_at == T + timedelta(hours=1)
    assert second.link == "https://www.pravda.com.ua/rus/news/2026/11/20/2/"
    assert second.language == "ru"
    assert third.title is None and third.published_at == third.updated_at == T
    assert parsed.children == ()


def test_index_children_gzip_and_choice_of_what_to_walk():
    old, new = T - timedelta(days=30), T
    index = sitemap_index([("https://x.ua/sm/old.xml", old), ("https://x.ua/sm/new.xml.gz", new),
                           ("https://x.ua/sm/undated.xml", None)])
    parsed = parse_sitemap(gzip.compress(index), "https://x.ua/sitemap.xml")
    assert [c.url for c in parsed.children] == ["https://x.ua/sm/old.xml",
                                                "https://x.ua/sm/new.xml.gz", "https://x.ua/sm/undated.xml"]
    chosen = children_to_walk(parsed.children, {}, since=T - timedelta(days=2))
    assert [c.url for c in chosen] == ["https://x.ua/sm/new.xml.gz", "https://x.ua/sm/undated.xml"]
    walked = {"https://x.ua/sm/new.xml.gz": new, "https://x.ua/sm/old.xml": old - timedelta(1)}
    assert [c.url for c in children_to_walk(parsed.children, walked, None)] == [
        "https://x.ua/sm/old.xml", "https://x.ua/sm/undated.xml"]
    chosen = children_to_walk((SitemapRef("a", T), SitemapRef("b", new)), {}, None, limit=1)
    assert chosen[0].url == "a"


def test_hostile_sitemaps_are_refused_not_obeyed():
    entity = (b'<?xml version="1.0"?><!DOCTYPE u [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
              b'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
              b'<url><loc>https://x.ua/&x;</loc></url></urlset>')
    parsed = parse_sitemap(entity, "https://x.ua/s.xml")
    assert all("root:" not in e.link for e in parsed.entries)
    bomb = gzip.compress(b"<urlset>" + b" " * 5_000_000 + b"</urlset>")
    with pytest.raises(FeedError, match="larger than"):
        unpack(bomb, limit=1_000_000)
    with pytest.raises(FeedError, match="not a sitemap"):
        parse_sitemap(b"<html><body>hi</body></html>", "https://x.ua/")
    with pytest.raises(FeedError, match="malformed"):
        parse_sitemap(b"<urlset><url>", "https://x.ua/")
    with pytest.raises(FeedError, match="broken gzip"):
        parse_sitemap(b"\x1f\x8bnot gzip at all", "https://x.ua/")


@pytest.mark.parametrize("links, pager", [
    ("div.news-feed .item a", "a.next"),
    ("//div[@class='news-feed']//a/@href", "//div[@class='pager']/a"),
    ("div.news-feed .item", "div.pager"),  # containers holding the links
])
def test_listing_links_by_css_or_xpath(links, pager):
    body = listing_page([("/news/1.html#comments", "Перша"), ("https://x.ua/news/2.html", "Друга"),
                         ("/news/1.html", "Перша ще раз")], next_url="/news?page=2")
    parsed = parse_listing(body, "https://x.ua/news", "text/html", links, pager)
    assert [e.link for e in parsed.entries] == ["https://x.ua/news/1.html", "https://x.ua/news/2.html"]
    assert all(e.guid == e.link for e in parsed.entries)
    if not links.startswith("//"):
        assert parsed.entries[0].title == "Перша"
    assert parsed.next_pages == ("https://x.ua/news?page=2",)
