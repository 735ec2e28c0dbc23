"""Feed parsing: every format into one entry model; broken feeds become warnings or errors."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest

from aggregator.errors import FeedError
from aggregator.feeds import parse_feed
from tests.helpers import SHARED
from tests.newssite import atom, rss
from tests.stories import BRIDGE, ENERGY_UK

RSS1 = """<?xml version="1.0" encoding="utf-8"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/"
 xmlns:dc="http://purl.org/dc/elements/1.1/">
<channel rdf:about="http://127.0.0.1/"><title>RDF</title><link>http://127.0.0.1/</link></channel>
<item rdf:about="http://127.0.0.1/a"><title>Перша</title><link>/news/a</link>
<dc:date>2026-11-20T10:00:00+02:00</dc:date><dc:creator>Автор</dc:creator></item>
</rdf:RDF>""".encode()


def test_rss2_entries_carry_guid_link_date_and_category():
    feed = parse_feed(rss([(ENERGY_UK, "http://127.0.0.1/a"), (BRIDGE, "http://127.0.0.1/b")]),
                      "http://127.0.0.1/rss.xml")
    first = feed.entries[0]
    assert (first.guid, first.link) == ("energy-uk", "http://127.0.0.1/a")
    assert first.title == ENERGY_UK.title
    assert first.published_at == ENERGY_UK.published.astimezone(timezone.utc)
    assert first.categories == ("Новини",)
    assert feed.warning is None and len(feed.entries) == 2


def test_atom_and_rss1_land_in_the_same_model_with_relative_links_resolved():
    entry = parse_feed(atom([(BRIDGE, "http://127.0.0.1/b")]), "http://127.0.0.1/atom").entries[0]
    assert entry.guid == "urn:story:bridge" and entry.authors == (BRIDGE.author,)
    rdf = parse_feed(RSS1, "http://127.0.0.1/feeds/rdf").entries[0]
    assert rdf.link == "http://127.0.0.1/news/a"
    assert rdf.published_at == datetime(2026, 11, 20, 8, 0, tzinfo=timezone.utc)
    assert rdf.authors == ("Автор",)


def test_windows_1251_feed_is_decoded_from_its_declaration():
    body = rss([(BRIDGE, "http://127.0.0.1/b")]).decode()
    body = body.replace('encoding="utf-8"', 'encoding="windows-1251"')
    entry = parse_feed(body.encode("cp1251"), "http://127.0.0.1/rss").entries[0]
    assert entry.title == BRIDGE.title


def test_malformed_feed_with_entries_is_used_with_a_warning_and_linkless_entries_skipped():
    item = '<item><title>raw & ampersand</title><guid isPermaLink="false">x</guid></item>'
    feed = parse_feed(rss([(BRIDGE, "http://127.0.0.1/b")], extra_item=item), "http://127.0.0.1/rss")
    assert [e.guid for e in feed.entries] == ["bridge"]
    assert feed.warning and feed.warning.startswith("malformed feed, used anyway")
    assert any("has no link" in s for s in feed.skipped)


def test_duplicate_guids_are_kept_once():
    feed = parse_feed(rss([(BRIDGE, "http://127.0.0.1/b"), (BRIDGE, "http://127.0.0.1/b2")]), "http://127.0.0.1/")
    assert len(feed.entries) == 1 and "duplicate guid 'bridge'" in feed.skipped


@pytest.mark.parametrize("body,message", [
    (b"", "empty response body"),
    (b"<html><body><p>Just a web page</p></body></html>", "not a feed"),
    (b"<rss><channel><item><title>cut off", "malformed feed"),
])
def test_unusable_bodies_raise_feed_error(body, message):
    with pytest.raises(FeedError, match=message):
        parse_feed(body, "http://127.0.0.1/rss")


CORPUS_FEEDS = sorted((SHARED / "corpus" / "feeds").glob("*/*")) if SHARED.exists() else []


@pytest.mark.skipif(not CORPUS_FEEDS, reason="shared corpus not present")
@pytest.mark.parametrize("path", CORPUS_FEEDS, ids=lambda p: p.name[:40])
def test_real_feeds_yield_linked_titled_entries(path: Path):
    feed = parse_feed(path.read_bytes(), "https://example.org/feed")
    assert feed.entries
    for entry in feed.entries:
        assert entry.link.startswith("http") and entry.title
        assert "\ufffd" not in entry.title  # decoded right (windows-1251, ISO-8859-7 ...)
