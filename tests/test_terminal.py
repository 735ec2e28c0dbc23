"""Terminal and log hygiene: escape sequences a feed or a redirect sends never reach the
operator's terminal (CLI tables, error lines, the text and JSON logs); the database keeps them."""

from __future__ import annotations

import json
import logging
import re

import pytest
from sqlalchemy import create_engine, select

from aggregator.db.models import Article, FeedEntry
from aggregator.logs import JsonFormatter, TextFormatter
from aggregator.terminal import block, one_line
from tests.helpers import Daemon
from tests.httpsite import Page

pytestmark = pytest.mark.faults
RETITLE = "\x1b]0;pwned\x07"  # OSC 0: sets the terminal window's title
CLEAR = "\x1b[2J"  # CSI 2J: clears the screen
OTHERS = "\x9b31m\x7f\u202e\x00"  # C1 CSI, DEL, a right-to-left override, NUL
# Anything a terminal could act on; a newline ends a line, a tab is a tab.
CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
PARAGRAPHS = "".join(f"<p>Абзац {i}: текст статті з мережі, досить довгий, щоб стати основним "
                     "текстом сторінки без заголовка і автора.</p>" for i in range(8))


def hostile_feed(page: str, away: str) -> bytes:
    """An RSS item whose title, GUID, author and category carry escape sequences (raw bytes:
    the XML parser refuses them and feedparser's loose parser keeps them), and a second item
    whose page redirects to a Location carrying them."""
    item = (f"<item><title>{RETITLE}Заголовок{CLEAR} новини{OTHERS}</title><link>{page}</link>"
            f'<guid isPermaLink="false">guid-{RETITLE}1</guid>'
            f"<author>desk@example.ua ({CLEAR}Автор{RETITLE})</author>"
            f"<category>{RETITLE}Категорія\x07</category>"
            "<pubDate>Mon, 02 Mar 2026 10:00:00 +0000</pubDate></item>")
    away_item = f'<item><title>Далі</title><link>{away}</link><guid>away</guid></item>'
    return (f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
            f"<title>Стрічка</title>{item}{away_item}</channel></rss>").encode()


def assert_clean(text: str, what: str) -> None:
    found = CONTROL.findall(text)
    assert not found, f"{what}: control characters {found!r} in\n{text}"
    assert "pwned" not in text, f"{what}: an escape sequence's payload is shown\n{text}"


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_no_control_character_reaches_the_terminal_or_the_log(site, workspace):
    workspace.settings(max_entry_attempts=9)
    page = site.add("/h/a.html", f"<html><body><article>{PARAGRAPHS}</article></body></html>")
    evil = f"file:///{RETITLE}y{CLEAR}"  # refused by Scrapy and urllib alike: never fetched
    away = site.add("/h/away.html", b"", status=302, headers={"Location": evil}, conditional=False)
    site.routes["/h/rss.xml"] = Page(hostile_feed(page, away), content_type="application/rss+xml",
                                     conditional=False)
    site.add("/m", b"", status=302, headers={"Location": evil}, conditional=False)
    workspace.source("hostile", site.url("/h/rss.xml"))
    workspace.source("moved", site.url("/m"))  # short: status shows 70 characters of error
    engine = create_engine(workspace.db_url)

    def stored():
        with engine.connect() as conn:
            return conn.execute(select(Article)).first()

    # The daemon's log, as journald gets it: one JSON object per line.
    workspace.settings(max_entry_attempts=9, http_port=0, first_run_spread=0, reload_poll=0,
                       log={"format": "json"})
    daemon = Daemon(workspace)
    try:
        daemon.wait_for(lambda: stored() and daemon.crawls("moved"), what="both sources crawled")
        assert daemon.stop() == 0
    finally:
        daemon.close()
    log = daemon.output()
    assert_clean(log, "daemon log")  # JSON leaves DEL, C1 and bidi controls as they are
    events = [json.loads(line) for line in log.splitlines()]
    for event in events:  # and escapes C0 ones: look inside
        assert_clean(" ".join(map(str, event.values())), "daemon log event")
    assert any("redirect to file:///y not followed" in e["message"] for e in events)

    # Stored as received: the text keeps its visible words and the sequences.
    article = stored()
    with engine.connect() as conn:
        away_entry = conn.execute(select(FeedEntry).where(FeedEntry.guid == "away")).one()
    engine.dispose()
    assert article.title.startswith(f"{RETITLE}Заголовок{CLEAR} новини")
    assert article.title.endswith("31m\x7f\u202e\x00")  # feedparser reads \x9b as cp1252's ›
    assert article.guid == f"guid-{RETITLE}1" and article.categories == [f"{RETITLE}Категорія\x07"]
    assert article.authors == [f"{CLEAR}Автор{RETITLE}"]
    assert RETITLE in away_entry.last_error and "not followed" in away_entry.last_error

    workspace.settings(max_entry_attempts=9)  # the text log on a terminal
    runs = {}
    for args in (("crawl", "hostile", "moved"), ("articles", "list"),
                 ("articles", "show", str(article.id)), ("status",), ("screenshots", "list"),
                 ("sources", "test", "hostile"), ("sources", "test", "moved")):
        runs[" ".join(a for a in args[:3] if not a.isdigit())] = workspace.run(*args, check=False)
    for name, done in runs.items():
        assert_clean(done.stdout, f"{name} stdout")
        assert_clean(done.stderr, f"{name} stderr")
    crawl = runs["crawl hostile moved"]
    assert crawl.returncode == 1  # the moved feed failed
    assert "/m: redirect to file:///y not followed" in crawl.stdout
    assert "page failed: HTTP 302" in crawl.stderr and "malformed feed, used anyway" in crawl.stderr
    visible = "Заголовок новини›31m"  # what is left of the title once controls are gone
    assert visible in runs["articles list"].stdout
    assert visible in runs["sources test hostile"].stdout
    show = runs["articles show"].stdout
    assert "guid-1" in show and "Автор" in show and "Категорія" in show
    assert "/m: redirect to file:///y" in runs["status"].stdout
    assert "file:///y" in runs["sources test moved"].stderr  # the dry run's refusal names it


def test_log_formatters_clean_message_context_and_traceback():
    try:
        raise ValueError(f"bad title {RETITLE}x")
    except ValueError:
        import sys

        exc_info = sys.exc_info()
    record = logging.LogRecord("spiders.feed", logging.WARNING, __file__, 1,
                               "page failed: %s\nFAKE 2026-01-01 ERROR forged line", (CLEAR,),
                               exc_info)
    record.source, record.url = f"s{OTHERS}", f"http://127.0.0.1/{RETITLE}"
    text = TextFormatter().format(record)
    first, *traceback = text.split("\n")
    assert_clean(text, "text log")
    assert first.endswith("page failed:  FAKE 2026-01-01 ERROR forged line "
                          "[source=s31m url=http://127.0.0.1/]")
    assert traceback[-1] == "ValueError: bad title x"  # the traceback keeps its lines
    data = json.loads(JsonFormatter().format(record))
    assert_clean(json.dumps(data, ensure_ascii=False), "JSON log")
    assert data["source"] == "s31m" and data["exception"].endswith("ValueError: bad title x")


@pytest.mark.parametrize("text,line,lines", [
    (f"{RETITLE}a{CLEAR}b", "ab", "ab"),
    ("a\r\nb\tc\rd\u2028e", "a b c d e", "a\nb\tcd\ne"),
    (f"x{OTHERS}y", "x31my", "x31my"),
    ("Київ \x1b(B\x1bcчисто", "Київ чисто", "Київ чисто"),
    ("\x1b]8;;http://127.0.0.1/\x1b\\link\x1b]8;;\x1b\\", "link", "link"),
])
def test_one_line_and_block(text, line, lines):
    assert one_line(text) == line and block(text) == lines
    assert one_line("Звичайний рядок") == "Звичайний рядок"
