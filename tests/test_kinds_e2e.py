"""End to end through the CLI: sitemap and listing sources, rules, dry-run, backfill, status."""

from __future__ import annotations

import gzip
import os
import re
import subprocess
import sys
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import create_engine, func, select

from aggregator.db.models import Article, DiscoveryPage, ExtractionStat, FeedEntry, Source
from tests import stories
from tests.newssite import Story, article_page, listing_page, sitemap, sitemap_index

NOW = datetime.now(timezone.utc).replace(microsecond=0)
RBC_RULES = {"body": "article", "drop": [".lang-publication", ".share", ".read-in-google",
                                         ".intext-tags", "ins", ".article_info"]}


def story(i: int, published: datetime) -> Story:
    base = stories.BRIDGE
    return Story(slug=f"s{i}", title=f"{base.title} ({i})", published=published,
                 paragraphs=[f"{p} Випуск {i}." for p in base.paragraphs], author=base.author)


def add_article(site, path: str, s: Story) -> str:
    return site.add(path, article_page(s, site.url(path)))


def count(engine, model, *where) -> int:
    with engine.connect() as conn:
        return conn.scalar(select(func.count()).select_from(model).where(*where))


def test_news_sitemap_index_gzip_and_lastmod(site, workspace):
    fresh, old = NOW - timedelta(hours=3), NOW - timedelta(days=40)
    a, b, c, ru = (story(i, fresh) for i in range(4))
    news = sitemap([
        {"loc": add_article(site, "/news/a.html", a), "title": a.title, "published": fresh},
        {"loc": add_article(site, "/news/b.html", b), "title": b.title, "published": fresh},
        {"loc": site.url("/rus/news/ru.html"), "title": ru.title, "published": fresh,
         "language": "ru"},  # another edition: not this source's
        {"loc": site.url("/news/stale.html"), "lastmod": old},  # older than max_age
    ])
    site.add("/sm/news.xml.gz", gzip.compress(news), content_type="application/x-gzip")
    site.add("/sm/more.xml", sitemap([{"loc": add_article(site, "/news/c.html", c),
                                       "lastmod": fresh}]), content_type="application/xml")
    site.add("/sm/archive-2020.xml", sitemap([{"loc": site.url("/news/x.html")}]))
    site.add("/sitemap.xml", sitemap_index([
        (site.url("/sm/news.xml.gz"), fresh), (site.url("/sm/more.xml"), fresh),
        (site.url("/sm/archive-2020.xml"), old)]), content_type="application/xml")
    workspace.source("smap", site.url("/sitemap.xml"), kind="sitemap",
                     sitemap={"max_age": "7d"})

    first = workspace.run("crawl", "smap")
    assert "3 new articles" in first.stdout, first.stdout + first.stderr
    second = workspace.run("crawl", "smap")
    assert "0 new articles" in second.stdout
    assert site.requests_for("/sitemap.xml")[-1].status == 304
    for path in ("/sm/news.xml.gz", "/sm/more.xml", "/news/a.html", "/news/b.html", "/news/c.html"):
        assert len(site.requests_for(path)) == 1, path  # unchanged lastmod: not walked again
    for path in ("/sm/archive-2020.xml", "/news/stale.html", "/rus/news/ru.html"):
        assert site.requests_for(path) == [], path
    engine = create_engine(workspace.db_url)
    with engine.connect() as conn:
        titles = set(conn.scalars(select(Article.title)))
    assert titles == {a.title, b.title, c.title}
    assert count(engine, DiscoveryPage, DiscoveryPage.status == "walked") == 2
    engine.dispose()


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_listing_source_with_rules_pagination_and_status(site, workspace):
    when = NOW - timedelta(hours=1)
    pieces = [story(i, when) for i in range(4)]
    for i, s in enumerate(pieces):
        add_article(site, f"/ukr/news/{i}.html", s)
    site.add("/ukr/list", listing_page([(f"/ukr/news/{i}.html", p.title) for i, p in
                                        enumerate(pieces[:2])] + [("/ukr/styler/x.html", "Стиль")],
                                       next_url="/ukr/list?page=2"))
    site.add("/ukr/list?page=2", listing_page([("/ukr/news/2.html", "")], "/ukr/list?page=3"))
    site.add("/ukr/list?page=3", listing_page([("/ukr/news/3.html", "")]))
    workspace.source("lst", site.url("/ukr/list"), kind="listing",
                     listing={"links": "div.news-feed .item a", "next_page": "a.next",
                              "max_pages": 2},
                     extract={**RBC_RULES, "author": ".article_info .author"},
                     exclude=["/styler/"])

    done = workspace.run("crawl", "lst")
    assert "3 new articles" in done.stdout, done.stdout + done.stderr
    assert site.requests_for("/ukr/list?page=3") == []  # max_pages
    assert site.requests_for("/ukr/styler/x.html") == []  # exclude
    engine = create_engine(workspace.db_url)
    with engine.connect() as conn:
        rows = conn.execute(select(Article.text, Article.authors)).all()
        stat = conn.execute(select(ExtractionStat)).one()
    for text, authors in rows:
        assert "Google News" not in text and "Читати російською" not in text
        assert authors == [stories.BRIDGE.author]
    assert (stat.pages, stat.no_author, stat.empty_text) == (3, 0, 0)
    status = workspace.run("status").stdout
    assert "fill t/d/a" in status and "100/100/100" in status
    engine.dispose()


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_layout_change_is_flagged_in_status(site, workspace):
    engine = create_engine(workspace.db_url)
    workspace.source("lst", site.url("/x"))
    today = NOW.date()
    with engine.begin() as conn:
        conn.execute(Source.__table__.insert().values(
            id=1, name="lst", title="L", kind="feed", url="http://x", language="uk",
            enabled=True, created_at=NOW, updated_at=NOW,
            consecutive_failures=0))
        for day, pages, no_author in ((today - timedelta(days=5), 40, 2), (today, 10, 10)):
            conn.execute(ExtractionStat.__table__.insert().values(
                source_id=1, day=day, pages=pages, empty_text=0, short_text=0, no_date=0,
                no_author=no_author, language_mismatch=0))
    status = workspace.run("status").stdout
    assert "layout changed? (author fill dropped)" in status
    assert "language disagrees?" not in status
    with engine.begin() as conn:
        conn.execute(ExtractionStat.__table__.update().where(ExtractionStat.day == today)
                     .values(no_author=0, language_mismatch=8))
    status = workspace.run("status").stdout
    assert "language disagrees? (80% not uk)" in status
    engine.dispose()


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_dry_run_prints_what_would_be_stored_and_stores_nothing(site, workspace):
    good = story(1, NOW)
    add_article(site, "/ukr/news/good.html", good)
    site.add("/ukr/news/teaser.html",
             "<html><body><article><p>Коротко.</p></article></body></html>")
    site.add("/ukr/list", listing_page([("/ukr/news/good.html", good.title),
                                        ("/ukr/news/teaser.html", "Тизер")]))
    workspace.source("lst", site.url("/ukr/list"), kind="listing",
                     listing={"links": "div.news-feed .item a"}, extract=RBC_RULES)

    out = workspace.run("sources", "test", "lst", "--limit", "5").stdout
    assert "2 entries to fetch, 2 tried" in out
    assert f"title:    {good.title}" in out and "language: uk" in out
    assert f"| {good.paragraphs[0]}" in out
    assert "nothing stored: main text too short" in out
    single = workspace.run("sources", "test", "lst", "--url",
                           site.url("/ukr/news/good.html")).stdout
    assert "1 entries to fetch, 1 tried" in single
    assert "characters, by rule" in single  # RBC_RULES has a body selector: the path shown
    assert len(site.requests_for("/ukr/list")) == 1  # --url skips the listing
    engine = create_engine(workspace.db_url)
    assert count(engine, Source) == 0 and count(engine, FeedEntry) == 0
    engine.dispose()


def test_backfill_is_interrupted_and_resumed_without_fetching_twice(site, workspace):
    months = [datetime(2025, m, 15, tzinfo=timezone.utc) for m in (1, 2, 3)]
    children = []
    for n, month in enumerate(months):
        entries = []
        for k in range(2):
            s = story(n * 10 + k, month)
            entries.append({"loc": add_article(site, f"/news/{n}-{k}.html", s),
                            "lastmod": month})
        children.append((site.add(f"/sm/2025-{n + 1}.xml", sitemap(entries)), month))
    site.add("/sm/2024-12.xml", sitemap([{"loc": site.url("/news/old.html"),
                                          "lastmod": datetime(2024, 12, 1, tzinfo=timezone.utc)}]))
    children.append((site.url("/sm/2024-12.xml"), datetime(2024, 12, 31, tzinfo=timezone.utc)))
    site.add("/sitemap.xml", sitemap_index(children))
    workspace.source("arch", site.url("/sitemap.xml"), kind="sitemap")

    first = workspace.run("backfill", "arch", "--since", "2025-01-01", "--limit", "2")
    assert "pages still planned" in first.stdout, first.stdout + first.stderr
    assert "2 new articles" in first.stdout  # the index and the newest month only
    second = workspace.run("backfill", "arch", "--since", "2025-01-01", "--until", "2026-01-01")
    assert "backfill complete" in second.stdout and "4 new articles" in second.stdout
    assert len(site.requests_for("/sitemap.xml")) == 1  # resumed from the frontier
    for n in range(3):
        assert len(site.requests_for(f"/sm/2025-{n + 1}.xml")) == 1
        for k in range(2):
            assert len(site.requests_for(f"/news/{n}-{k}.html")) == 1
    assert site.requests_for("/sm/2024-12.xml") == [] and site.requests_for("/news/old.html") == []

    again = workspace.run("backfill", "arch", "--since", "2025-01-01")
    assert "0 new articles" in again.stdout
    assert len(site.requests_for("/sitemap.xml")) == 2  # a new backfill reads the index ...
    assert all(len(site.requests_for(f"/sm/2025-{n + 1}.xml")) == 1 for n in range(3))  # only


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_listing_backfill_follows_pagination_and_resumes(site, workspace):
    pieces = [story(i, NOW - timedelta(days=i)) for i in range(3)]
    for i, s in enumerate(pieces):
        add_article(site, f"/ukr/news/{i}.html", s)
        nxt = f"/ukr/list?page={i + 2}" if i < 2 else None
        path = "/ukr/list" if i == 0 else f"/ukr/list?page={i + 1}"
        site.add(path, listing_page([(f"/ukr/news/{i}.html", s.title)], nxt))
    workspace.source("lst", site.url("/ukr/list"), kind="listing",
                     listing={"links": "div.news-feed .item a", "next_page": "a.next"})
    first = workspace.run("backfill", "lst", "--since", "2000-01-01", "--limit", "1")
    assert "1 new articles" in first.stdout and "1 pages still planned" in first.stdout
    second = workspace.run("backfill", "lst", "--since", "2000-01-01")
    assert "2 new articles" in second.stdout and "backfill complete" in second.stdout
    assert len(site.requests_for("/ukr/list")) == 1
    for i in range(3):
        assert len(site.requests_for(f"/ukr/news/{i}.html")) == 1


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_failed_child_sitemap_is_walked_again_next_crawl(site, workspace):
    fresh = NOW - timedelta(hours=1)
    a = story(1, fresh)
    site.add("/sm/broken.xml", b"oops", status=500, content_type="text/plain")
    site.add("/sm/ok.xml",
             sitemap([{"loc": add_article(site, "/news/a.html", a), "lastmod": fresh}]))
    site.add("/sitemap.xml", sitemap_index([(site.url("/sm/broken.xml"), fresh),
                                            (site.url("/sm/ok.xml"), fresh)]))
    workspace.settings(retries=0)
    workspace.source("smap", site.url("/sitemap.xml"), kind="sitemap")
    first = workspace.run("crawl", "smap")
    assert "1 new articles" in first.stdout and "discovery page failed: HTTP 500" in first.stderr
    workspace.run("crawl", "smap")
    assert len(site.requests_for("/sm/broken.xml")) == 2  # not walked: tried again
    assert len(site.requests_for("/sm/ok.xml")) == 1


# Runs the CLI with the real parsers wrapped to report the thread each parse ran in.
WHERE_PARSED = """
import sys, threading
import aggregator.listing as listing, aggregator.sitemaps as sitemaps
def told(parse):
    def parse_and_tell(*args, **kwargs):
        sys.stderr.write(f"PARSED {parse.__name__} IN {threading.current_thread().name}\\n")
        return parse(*args, **kwargs)
    return parse_and_tell
sitemaps.parse_sitemap = told(sitemaps.parse_sitemap)
listing.parse_listing = told(listing.parse_listing)
from aggregator.cli import main
sys.argv = ["aggregator"] + sys.argv[1:]
main()
"""


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_sitemaps_and_listings_are_parsed_off_the_reactor(site, workspace):
    """A sitemap of 50,000 URLs is seconds of parsing: in the reactor's thread it would stall
    every download and hand-off meanwhile, as a huge feed once did (tests/test_faults.py)."""
    when = NOW - timedelta(hours=1)
    s = story(1, when)
    site.add("/sitemap.xml", sitemap([{"loc": add_article(site, "/news/1.html", s),
                                       "title": s.title, "published": when}]),
             content_type="application/xml")
    site.add("/ukr/list", listing_page([("/news/1.html", s.title)]))
    workspace.source("smap", site.url("/sitemap.xml"), kind="sitemap")
    workspace.source("lst", site.url("/ukr/list"), kind="listing",
                     listing={"links": "div.news-feed .item a"})
    env = {**os.environ, "AGGREGATOR_DATABASE_URL": workspace.db_url}
    done = subprocess.run([sys.executable, "-c", WHERE_PARSED, "--config",
                           str(workspace.config), "crawl", "--all"],
                          capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    parsed = re.findall(r"PARSED (\w+) IN (.+)", done.stderr)
    assert {name for name, _ in parsed} == {"parse_sitemap", "parse_listing"}, done.stderr
    assert all(thread.startswith("PoolThread-parse") for _, thread in parsed), parsed
    assert "1 new article" in done.stdout, done.stdout
