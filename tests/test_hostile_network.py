"""A hostile site reaches nothing inside (issue 12, items 1-3).

The "public" news site is 127.0.0.2, the only address its source allows; the internal server
is 127.0.0.1 and counts every connection it accepts. The site's pages, feed, redirects and
robots.txt point inside in every spelling; the crawler, the dry run and the screenshot
browser must not open a single connection to it. Loopback only.
"""

from __future__ import annotations

import asyncio
import io
from datetime import datetime, timezone

import numpy as np
import pytest
from PIL import Image
from sqlalchemy import create_engine, select

from aggregator.capture import ScreenshotWorker
from aggregator.db.engine import Database
from aggregator.db.models import FeedEntry, Screenshot
from aggregator.ingest import Arrival, Ingestor
from aggregator.ledger import CrawlLedger
from aggregator.records import ArticleDraft, FetchRecord
from aggregator.settings import Settings
from aggregator.sources import Source
from tests import stories
from tests.helpers import story
from tests.hostile import Internal, loopback_spellings
from tests.httpsite import Page, Site
from tests.newssite import article_page, rss

pytestmark = [pytest.mark.faults, pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)]
PUBLIC = "127.0.0.2"


@pytest.fixture
def public():
    with Site(PUBLIC) as running:
        yield running


@pytest.fixture
def internal():
    with Internal() as running:
        yield running


def hostile_page(site: Site, internal: Internal) -> str:
    """An article that frames, redirects, loads, fetches and opens sockets inside."""
    inside = loopback_spellings(internal.port)
    site.add("/redir", b"", status=302, headers={"Location": inside[-1]}, conditional=False)
    frames = "".join(f'<iframe src="{u}" width="300" height="200"></iframe>' for u in inside)
    images = "".join(f'<img src="{u}.png">' for u in inside)
    script = ("<script>"
              + "".join(f'try{{new WebSocket("ws://{u[7:]}")}}catch(e){{}}'
                        f'fetch("{u}").catch(()=>0);' for u in inside)
              + "</script>")
    body = article_page(stories.BRIDGE, site.url("/news/a.html")).decode().replace(
        "</body>", f'<iframe src="{site.url("/redir")}"></iframe>{frames}{images}{script}'
                   "</body>")
    return site.add("/news/a.html", body)


def capture(tmp_path, db_url: str, source: Source, url: str) -> tuple[str, bytes | None]:
    """Store the article through the real path and let the worker capture it once."""
    db = Database(db_url)
    now = datetime.now(timezone.utc)
    fetch = FetchRecord(url, url, 200, now, 1, "0" * 64, "page")
    Ingestor(db).store_article(Arrival(source, CrawlLedger(db).register(source), [], None,
                                       fetch, ArticleDraft(url=url, text="Текст.", title="T")))
    db.dispose()
    settings = Settings(data_dir=tmp_path / "data", database_url=db_url,
                        screenshots={"timeout": 10, "settle_timeout": 3, "max_attempts": 1})
    asyncio.run(ScreenshotWorker(settings, [source]).run(asyncio.Event(), once=True))
    engine = create_engine(db_url)
    with engine.connect() as conn:
        row = conn.execute(select(Screenshot)).one()
    engine.dispose()
    png = (tmp_path / "data" / row.path).read_bytes() if row.path else None
    return row.outcome, png


def red_pixels(png: bytes) -> int:
    rgb = np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(int)
    return int(((rgb[..., 0] > 200) & (rgb[..., 1] < 60) & (rgb[..., 2] < 60)).sum())


def source(site: Site, allow) -> Source:
    return Source(name="public", title="Public", kind="feed", url=site.url("/rss.xml"),
                  language="uk", allowed_domains=[PUBLIC], allow_private_addresses=allow)


def test_the_screenshot_shows_nothing_internal_and_sends_it_nothing(tmp_path, db_url, public,
                                                                    internal):
    url = hostile_page(public, internal)
    outcome, png = capture(tmp_path / "guarded", db_url, source(public, [PUBLIC]), url)
    assert outcome == "captured"
    assert internal.connections == 0
    assert red_pixels(png) == 0


def test_the_same_page_with_private_addresses_allowed_does_show_it(tmp_path, db_url, public,
                                                                   internal):
    """The control: the measurement above can see the internal page when it is let in."""
    url = hostile_page(public, internal)
    outcome, png = capture(tmp_path, db_url, source(public, True), url)
    assert outcome == "captured" and internal.connections > 0 and red_pixels(png) > 1000


def test_the_crawler_sends_no_byte_to_any_spelling_of_loopback(workspace, public, internal):
    inside = loopback_spellings(internal.port)
    urls = [*inside, public.url("/redir")]
    links = [(story(f"s{n}"), u) for n, u in enumerate(urls)]
    public.add("/redir", b"", status=302, headers={"Location": inside[0]}, conditional=False)
    public.add("/rss.xml", rss(links))
    public.add("/robots.txt", b"", status=302, headers={"Location": inside[-1]},
               conditional=False)
    hosts = [PUBLIC, "127.1", "0x7f.1", "2130706433", "0177.0.0.1", "::ffff:127.0.0.1",
             "localhost", "127.0.0.1", *[u.split("/")[2].rsplit(":", 1)[0] for u in inside]]
    workspace.settings(obey_robots=True, retries=0, max_entry_attempts=1)
    workspace.source("public", public.url("/rss.xml"), allowed_domains=hosts,
                     allow_private_addresses=[PUBLIC])
    workspace.run("crawl", "public", check=False)
    workspace.run("sources", "test", "public", "--limit", "20", check=False)
    assert internal.connections == 0
    assert public.requests_for("/robots.txt")  # asked, and its redirect not followed
    engine = create_engine(workspace.db_url)
    with engine.connect() as conn:
        errors = dict(conn.execute(select(FeedEntry.link, FeedEntry.last_error)).all())
    engine.dispose()
    assert len(errors) == len(links)
    for link, error in errors.items():
        assert error and ("private or loopback" in error or "local name" in error), (link, error)


def test_a_robots_txt_redirect_inside_is_not_followed_and_the_crawl_goes_on(workspace, public,
                                                                          internal):
    page = public.url("/news/a.html")
    public.add("/news/a.html", article_page(stories.BRIDGE, page))
    public.add("/rss.xml", rss([(stories.BRIDGE, page)]))
    public.add("/robots.txt", Page(b"", status=302, conditional=False,
                                   headers={"Location": loopback_spellings(internal.port)[-1]}))
    workspace.settings(obey_robots=True)
    workspace.source("public", public.url("/rss.xml"), allowed_domains=[PUBLIC],
                     allow_private_addresses=[PUBLIC])
    done = workspace.run("crawl", "public")
    assert " 1 new articles" in done.stdout and internal.connections == 0
