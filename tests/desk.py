"""The desk's test bed: a loopback news site crawled through the real pipeline (feeds, pages,
extraction, dedup, WARC, screenshots with Chromium), then `aggregator web` as a subprocess."""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import datetime, timezone
from email.message import Message

from aggregator.db.engine import Database
from aggregator.ingest import Arrival, Ingestor
from aggregator.ledger import CrawlLedger
from aggregator.records import ArticleDraft, FetchRecord
from aggregator.sources import Source
from tests import stories
from tests.helpers import free_port
from tests.newssite import article_page, rss

UK_PATH, RU_PATH = "/ukr/news/energy-1763600000.html", "/rus/news/energy-1763600000.html"
BRIDGE_PATH, KORR_PATH = "/ukr/news/bridge-1763500000.html", "/korr/news/energy.html"
POLITICO = "https://www.politico.eu/article/eu-energy-package-ukraine/"
NEW_TITLE = "Politico: ЄС виділить Україні понад два мільярди євро на енергетику"
FAST_SHOTS = {"timeout": 10, "settle_timeout": 2, "retry_delay": 0, "poll_interval": 0.2,
              "max_attempts": 2}
# Stored as if an older extractor had let it through: the desk must neutralise all of it.
HOSTILE_TITLE = '<img src=x onerror="window.__pwned=1">Заголовок <script>window.__pwned=2</script>'
HOSTILE_TEXT = ("Текст з пасткою <script>window.__pwned=3</script> і ще "
                '<a href="javascript:window.__pwned=4">посилання</a>.')
HOSTILE_HTML = ('<p>Текст з пасткою</p><script>window.__pwned=5</script>'
                '<img src="x" onerror="window.__pwned=6"><p onclick="window.__pwned=7">абзац</p>'
                '<a href="javascript:window.__pwned=8">клік</a>'
                '<iframe src="javascript:window.__pwned=9"></iframe>')


@dataclass(frozen=True)
class Bed:
    """What the filled database holds, as the tests need to find it."""

    uk_url: str
    ru_url: str
    korr_url: str
    bridge_url: str
    hostile_url: str


def with_link(page: bytes, text: str, anchor: str) -> bytes:
    """Put a link into the article body (not into the <meta> description)."""
    head, body = page.decode().split("<body>", 1)
    return (head + "<body>" + body.replace(text, anchor, 1)).encode()


def publish_rbc(site, title: str, bridge: bool = True) -> tuple[str, str]:
    """rbc.ua-like uk and ru editions of one story (the uk one cites Politico) and their
    feeds; with `bridge`, another uk story in the uk feed."""
    uk_url, ru_url = site.url(UK_PATH), site.url(RU_PATH)
    alternates = {"uk": uk_url, "ru": ru_url}
    uk = dataclasses.replace(stories.ENERGY_UK, title=title, alternates=alternates)
    ru = dataclasses.replace(stories.ENERGY_RU, alternates=alternates)
    site.add(UK_PATH, with_link(article_page(uk, uk_url), "видання Politico.",
                                 f'видання <a href="{POLITICO}">Politico</a>.'))
    site.add(RU_PATH, article_page(ru, ru_url))
    items = [(uk, uk_url)]
    if bridge:
        items.append((stories.BRIDGE, site.url(BRIDGE_PATH)))
        site.add(BRIDGE_PATH, article_page(stories.BRIDGE, site.url(BRIDGE_PATH)))
    site.add("/rss/uk.xml", rss(items), content_type="application/rss+xml")
    site.add("/rss/ru.xml", rss([(ru, ru_url)], title="РБК-Украина"),
             content_type="application/rss+xml")
    return uk_url, ru_url


def publish_korr(other, uk_url: str) -> str:
    """Another outlet's rewrite of the energy story that credits rbc.ua."""
    lead = ("Євросоюз збирається виділити українській енергетиці ще понад два мільярди євро, "
            "пише РБК-Україна з посиланням на Politico. Остаточне рішення поки не ухвалене.")
    rewrite = dataclasses.replace(
        stories.ENERGY_UK, slug="korr-energy", title="ЄС дасть Україні гроші на енергетику",
        author="Редакція Кореспондента", alternates={},
        paragraphs=[lead, *stories.ENERGY_UK.paragraphs[:3],
                    stories.ENERGY_UK.paragraphs[3].replace("Міністр", "Український міністр")])
    url = other.url(KORR_PATH)
    other.add(KORR_PATH, with_link(article_page(rewrite, url, site="Кореспондент"),
                                    "пише РБК-Україна", f'пише <a href="{uk_url}">РБК-Україна</a>'))
    other.add("/korr/rss.xml", rss([(rewrite, url)], title="Кореспондент"))
    return url


def store_hostile(db_url: str, site) -> str:
    """A stored article whose title, text and HTML try to run script (through the real store
    path, with a draft that skipped the sanitiser)."""
    url = site.url("/hostile.html")
    source = Source(name="hostile", title="Hostile <b>outlet</b>", kind="feed",
                    url=site.url("/hostile.xml"), language="uk", allowed_domains=["127.0.0.1"],
                    allow_private_addresses=True, screenshots=False)
    db = Database(db_url)
    ingestor = Ingestor(db, screenshots=False)
    now = datetime.now(timezone.utc)
    fetch = FetchRecord(url=url, final_url=url, status=200, fetched_at=now, size=1,
                        sha256="0" * 64, kind="page")
    draft = ArticleDraft(url=url, text=HOSTILE_TEXT, title=HOSTILE_TITLE, language="uk",
                         html=HOSTILE_HTML, links=(("javascript:window.__pwned=10", "x"),))
    ingestor.store_article(Arrival(source, CrawlLedger(db).register(source), [], None, fetch,
                                   draft))
    db.dispose()
    return url


def fill(site, other, workspace) -> Bed:
    """Crawl the loopback outlets, capture screenshots, edit a headline, crawl again."""
    workspace.settings(screenshots=FAST_SHOTS)
    uk_url, ru_url = publish_rbc(site, stories.ENERGY_UK.title)
    korr_url = publish_korr(other, uk_url)
    workspace.source("rbc-ukr", site.url("/rss/uk.xml"), title="РБК-Україна")
    workspace.source("rbc-rus", site.url("/rss/ru.xml"), title="РБК-Украина", language="ru")
    workspace.source("korr", other.url("/korr/rss.xml"), title="Кореспондент")
    assert "2 new articles" in workspace.run("crawl", "rbc-rus", "korr").stdout
    assert "2 new articles" in workspace.run("crawl", "rbc-ukr").stdout
    shots = workspace.run("screenshots", "run", "--once", timeout=180).stdout
    assert "4 captured" in shots, shots
    publish_rbc(site, NEW_TITLE)  # the outlet edits its headline: a second revision
    assert "0 new articles" in workspace.run("crawl", "rbc-ukr").stdout
    hostile = store_hostile(workspace.db_url, site)
    return Bed(uk_url, ru_url, korr_url, site.url(BRIDGE_PATH), hostile)


class Web:
    """`aggregator web` on a free loopback port, stopped with SIGTERM."""

    def __init__(self, workspace, token: str | None = None):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        env = {**os.environ, "AGGREGATOR_DATABASE_URL": workspace.db_url}
        if token:
            env["AGGREGATOR_WEB__TOKEN"] = token
        self.log = open(workspace.root / f"web-{self.port}.log", "w+")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "aggregator", "--config", str(workspace.config), "web",
             "--port", str(self.port)], stdout=self.log, stderr=subprocess.STDOUT, env=env)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, f"web exited:\n{self.output()}"
            try:
                urllib.request.urlopen(self.base + "/api/v1/openapi.json", timeout=2).close()
                return
            except urllib.error.HTTPError:
                return  # it answers (401 with a token)
            except OSError:
                time.sleep(0.2)
        raise AssertionError(f"web did not answer:\n{self.output()}")

    def get(self, path: str, headers: dict | None = None) -> tuple[int, Message, bytes]:
        request = urllib.request.Request(self.base + path, headers=headers or {})
        try:
            with urllib.request.urlopen(request, timeout=30) as answer:
                return answer.status, answer.headers, answer.read()
        except urllib.error.HTTPError as err:
            return err.code, err.headers, err.read()

    def json(self, path: str, status: int = 200):
        code, _, body = self.get(path)
        assert code == status, (path, code, body[:500])
        return json.loads(body)

    def output(self) -> str:
        self.log.flush()
        self.log.seek(0)
        return self.log.read()

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()

    def __enter__(self) -> Web:
        return self

    def __exit__(self, *_exc) -> None:
        self.close()
