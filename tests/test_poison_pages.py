"""Poison pages: a control byte, a broken attribute or a `javascript:` refresh costs nothing
but that byte; the article is stored, and its kept HTML is safe to inline elsewhere."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, select

from aggregator.db.models import Article, FeedEntry
from aggregator.extract import extract_article
from aggregator.records import ExtractRules
from tests.helpers import story
from tests.newssite import article_page, rss

on_sqlite = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
URL = "http://127.0.0.1/ukr/news/poison.html"


def poisoned(slug: str, before: str, replacement: str) -> tuple[bytes, str]:
    """An article page with `before` (a piece of its markup) replaced; and its first paragraph."""
    item = story(slug)
    page = article_page(item, URL).decode()
    assert before in page
    return page.replace(before, replacement, 1).encode(), item.paragraphs[0]


def test_a_control_character_in_an_attribute_name_does_not_break_a_body_rule():
    first = story("p1").paragraphs[0]
    page, _ = poisoned("p1", f"<p>{first}</p>",
                       f"<p><img onerror\x0b=alert(1) src=x>{first}</p>")
    for rules in (None, ExtractRules(body="div.txt")):
        result = extract_article(page, URL, "text/html; charset=utf-8", "uk", rules)
        assert result.draft is not None, result.failure
        assert first in result.draft.text
        assert "onerror" not in result.draft.html and "alert" not in result.draft.html


@pytest.mark.parametrize("stray", ["\x1b", "\x07", "\x00", "\x0b", "\x85"])
def test_one_stray_control_byte_does_not_lose_the_article(stray):
    first = story("p2").paragraphs[0]
    page, _ = poisoned("p2", f"<p>{first}</p>", f"<p>{first[:20]}{stray}{first[20:]}</p>")
    result = extract_article(page, URL, "text/html; charset=utf-8", "uk")
    assert result.draft is not None, result.failure
    assert first in result.draft.text
    assert not any(ch in result.draft.text + result.draft.html for ch in "\x1b\x07\x00")


def test_a_refresh_to_javascript_leaves_the_page_storable():
    page, first = poisoned("p3", "<meta charset=\"utf-8\">",
                           "<meta charset=\"utf-8\"><meta http-equiv=\"refresh\" "
                           "content=\"0;url=javascript:alert(1)\">")
    result = extract_article(page, URL, "text/html; charset=utf-8", "uk")
    assert result.draft is not None and first in result.draft.text
    assert "javascript" not in result.draft.html


@on_sqlite
def test_the_crawl_stores_every_poisoned_page_once(site, workspace):
    workspace.settings(max_entry_attempts=2, screenshots={"enabled": False})
    pages = {
        "attr": ("<div class=\"txt\">", "<div class=\"txt\"><img onerror\x0b=alert(1) src=x>"),
        "esc": ("</h1>", "\x1b[2J\x07</h1>"),
        "refresh": ("<meta charset=\"utf-8\">", "<meta charset=\"utf-8\"><meta "
                    "http-equiv=\"refresh\" content=\"0;url=javascript:alert(1)\">"),
    }
    items = []
    for slug, (before, after) in pages.items():
        path = f"/poison/{slug}.html"
        page = article_page(story(slug), site.url(path)).decode().replace(before, after, 1)
        items.append((story(slug), site.add(path, page.encode())))
    site.add("/poison/rss.xml", rss(items))
    workspace.source("poison", site.url("/poison/rss.xml"), extract={"body": "div.txt"})
    done = workspace.run("crawl", "poison", check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "\x1b" not in done.stdout + done.stderr
    engine = create_engine(workspace.db_url)
    with engine.connect() as conn:
        stored = {row.url: row for row in conn.execute(select(Article))}
        entries = conn.execute(select(FeedEntry.status, FeedEntry.attempts)).all()
    engine.dispose()
    assert set(stored) == {url for _, url in items}, done.stderr
    assert {tuple(e) for e in entries} == {("stored", 0)}
    for (item, url) in items:
        assert item.paragraphs[1] in stored[url].text
        assert "\x1b" not in stored[url].title and "onerror" not in stored[url].html
