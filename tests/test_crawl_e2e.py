"""End to end: `aggregator crawl` against loopback sites, on SQLite and on PostgreSQL."""

from __future__ import annotations

import json
from datetime import timezone

import pytest
from sqlalchemy import create_engine, func, select

from aggregator.db.models import Article, FeedEntry, Fetch
from tests import stories
from tests.newssite import Story, article_page, rss

BROKEN_ITEM = """<item><title>Entry without a link & with a raw ampersand</title>
<guid isPermaLink="false">nolink</guid></item>"""

EXTRA = Story(
    slug="extra",
    title="Львів запускає нові електробуси на трьох маршрутах",
    published=stories.BRIDGE.published,
    paragraphs=[
        "Львівське комунальне підприємство отримало партію нових електробусів, які вже з "
        "понеділка вийдуть на три міські маршрути у спальних районах міста.",
        "Машини обладнані кондиціонерами, пандусами для людей на візках і зарядними портами "
        "для телефонів, а їхній запас ходу становить понад двісті кілометрів.",
        "У мерії кажуть, що до кінця року автопарк поповниться ще десятьма такими машинами.",
    ],
)


def build_sites(site):
    """Four sources on one loopback server: uk and ru editions, windows-1251, a broken feed."""
    uk_url, ru_url = site.url("/ukr/news/energy-uk.html"), site.url("/rus/news/energy-ru.html")
    stories.ENERGY_UK.alternates = {"uk": uk_url, "ru": ru_url}
    stories.ENERGY_RU.alternates = {"uk": uk_url, "ru": ru_url}
    pages = {
        "/ukr/news/energy-uk.html": (stories.ENERGY_UK, {}),
        "/rus/news/energy-ru.html": (stories.ENERGY_RU, {}),
        "/ukr/news/bridge.html": (stories.BRIDGE, {}),
        "/ukr/news/mislabelled.html": (stories.MISLABELLED, {"declared_charset": "windows-1251"}),
        "/pravda/news/weather/": (stories.WEATHER_1251, {"charset": "windows-1251"}),
        "/broken/news/extra.html": (EXTRA, {}),
    }
    for path, (story, options) in pages.items():
        charset = options.get("declared_charset") or options.get("charset", "utf-8")
        site.add(path, article_page(story, site.url(path), **options),
                 content_type=f"text/html; charset={charset}")
    u = site.url
    site.add("/rss/uk.xml", rss([(stories.ENERGY_UK, uk_url),
                                 (stories.BRIDGE, u("/ukr/news/bridge.html")),
                                 (stories.MISLABELLED, u("/ukr/news/mislabelled.html"))]),
             content_type="application/rss+xml")
    site.add("/rss/ru.xml", rss([(stories.ENERGY_RU, ru_url)], title="РБК-Украина"),
             content_type="application/rss+xml")
    weather_feed = rss([(stories.WEATHER_1251, u("/pravda/news/weather/"))], title="УП")
    labelled = weather_feed.decode().replace('encoding="utf-8"', 'encoding="windows-1251"')
    site.add("/pravda/rss/", labelled
             .encode("cp1251"), content_type="text/xml")
    site.add("/broken/rss.xml",
             rss([(EXTRA, u("/broken/news/extra.html"))], extra_item=BROKEN_ITEM),
             content_type="application/rss+xml")
    return {
        "rbc-ukr": u("/rss/uk.xml"), "rbc-rus": u("/rss/ru.xml"),
        "pravda": u("/pravda/rss/"), "broken": u("/broken/rss.xml"),
    }


EXPECTED = {
    "/ukr/news/energy-uk.html": (stories.ENERGY_UK, "uk"),
    "/rus/news/energy-ru.html": (stories.ENERGY_RU, "ru"),
    "/ukr/news/bridge.html": (stories.BRIDGE, "uk"),
    "/ukr/news/mislabelled.html": (stories.MISLABELLED, "uk"),
    "/pravda/news/weather/": (stories.WEATHER_1251, "uk"),
    "/broken/news/extra.html": (EXTRA, "uk"),
}


def test_crawl_stores_every_article_once_and_exports_them(site, workspace):
    feeds = build_sites(site)
    for name, url in feeds.items():
        workspace.source(name, url, language="ru" if name == "rbc-rus" else "uk")

    first = workspace.run("crawl", *feeds)
    assert "6 new articles" in first.stdout
    assert "malformed feed, used anyway" in first.stderr
    assert "has no link" in first.stderr

    engine = create_engine(workspace.db_url)
    with engine.connect() as conn:
        rows = {r.url.removeprefix(site.base): r for r in conn.execute(select(Article))}
        page_fetches = conn.scalar(select(func.count()).select_from(Fetch)
                                   .where(Fetch.kind == "page"))
    assert set(rows) == set(EXPECTED)
    assert page_fetches == 6
    for path, (story, language) in EXPECTED.items():
        row = rows[path]
        for paragraph in story.paragraphs:
            assert paragraph in row.text, f"{path}: paragraph missing from stored text"
        assert "Читайте також" not in row.text and "Google News" not in row.text
        assert row.title == story.title
        assert row.language == language
        assert row.published_at == story.published.astimezone(timezone.utc)
        assert row.authors == [story.author]
        assert len(row.content_hash) == 64
        assert row.extraction_path in ("fast", "full", "structured", "rule")
        assert (row.date_source, row.date_precision) == ("page", "second")
        assert row.language_confidence is None or 0.5 <= row.language_confidence <= 1

    second = workspace.run("crawl", *feeds)
    assert "0 new articles" in second.stdout
    for path in ("/rss/uk.xml", "/rss/ru.xml", "/pravda/rss/", "/broken/rss.xml"):
        last = site.requests_for(path)[-1]
        assert last.status == 304 and last.headers.get("If-None-Match")
    assert len(site.requests_for("/ukr/news/bridge.html")) == 1  # stored pages are not refetched
    with engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(Article)) == 6
        assert conn.scalar(select(func.count()).select_from(FeedEntry)) == 6

    exported = workspace.run("export", "--format", "jsonl").stdout.splitlines()
    records = {json.loads(line)["url"].removeprefix(site.base): json.loads(line)
               for line in exported}
    assert set(records) == set(EXPECTED)
    energy = records["/ukr/news/energy-uk.html"]
    for key in ("id", "source", "url", "canonical_url", "title", "text", "language",
                "published_at", "fetched_at", "authors"):
        assert energy[key], key
    assert energy["source"] == "rbc-ukr"
    assert stories.ENERGY_UK.paragraphs[1] in energy["html"] and "<p>" in energy["html"]
    assert energy["published_at"] == "2026-11-20T07:15:00Z"
    assert (energy["date_source"], energy["date_precision"]) == ("page", "second")
    assert energy["extraction_path"] == "fast" and energy["language_confidence"] > 0.9
    kinds = {(p["kind"], p["url"]) for p in energy["provenance"]}
    assert ("original", site.url("/ukr/news/energy-uk.html")) in kinds
    assert ("feed", feeds["rbc-ukr"]) in kinds
    assert ("alternate", site.url("/rus/news/energy-ru.html")) in kinds

    later = workspace.run("export", "--since", "2099-01-01").stdout
    assert later == ""
    engine.dispose()


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_failed_page_is_retried_on_the_next_crawl(site, workspace):
    story = stories.BRIDGE
    site.add("/rss.xml", rss([(story, site.url("/news/bridge.html"))]))
    site.add("/news/bridge.html", b"temporarily broken", status=500, content_type="text/plain")
    workspace.settings(retries=0)
    workspace.source("flaky", site.url("/rss.xml"))

    first = workspace.run("crawl", "flaky")
    assert "HTTP 500" in first.stderr
    assert "0 new articles" in first.stdout

    site.add("/news/bridge.html", article_page(story, site.url("/news/bridge.html")))
    second = workspace.run("crawl", "flaky")  # the feed answers 304; the entry is still pending
    assert "1 new articles" in second.stdout
    assert site.requests_for("/rss.xml")[-1].status == 304


def slow_feed(site, prefix: str, count: int) -> str:
    items = []
    for i in range(count):
        story = Story(slug=f"{prefix}{i}", title=f"{EXTRA.title} {prefix}{i}",
                      published=EXTRA.published,
                      paragraphs=[f"{p} ({prefix}{i})" for p in EXTRA.paragraphs])
        path = f"/{prefix}/{i}.html"
        items.append((story, site.add(path, article_page(story, site.url(path)), delay=0.3)))
    return site.add(f"/{prefix}/rss.xml", rss(items))


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_per_host_concurrency_is_enforced(site, workspace):
    workspace.settings(per_host_concurrency=2)
    workspace.source("polite", slow_feed(site, "c", 6))
    assert "6 new articles" in workspace.run("crawl", "polite").stdout
    assert site.max_in_flight == 2


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_sources_on_one_host_share_its_budget(site, workspace):
    """Like rbc.ua's Ukrainian and Russian feeds: two sources, one host, one limit."""
    workspace.settings(per_host_concurrency=1)
    workspace.source("edition-uk", slow_feed(site, "uk", 3))
    workspace.source("edition-ru", slow_feed(site, "ru", 3))
    assert "6 new articles" in workspace.run("crawl", "edition-uk", "edition-ru").stdout
    assert site.max_in_flight == 1
