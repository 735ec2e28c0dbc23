"""The URL guard (aggregator/guard.py): one rule for the crawl, robots.txt, the dry run and the
screenshot browser. Pure rules here; each caller is driven over loopback below and in
test_faults.py (crawl), test_screenshots.py (browser)."""

from __future__ import annotations

import pytest

from aggregator import guard
from aggregator.sources import Source
from aggregator.vocabulary import RequestKind

NEWS = Source(name="news", title="News", kind="feed", url="https://feeds.example.ua/rss",
              language="uk", allowed_domains=["example.ua"])
TEST_SITE = Source(name="lab", title="Lab", kind="feed", url="http://127.0.0.1:8080/rss",
                   language="uk", allowed_domains=["127.0.0.1"], allow_private_addresses=True)


@pytest.mark.parametrize("host", ["127.0.0.1", "127.1", "0x7f.1", "2130706433", "0177.0.0.1",
                                  "127.0.0.1.", "[::1]", "[::ffff:127.0.0.1]", "10.0.0.5",
                                  "169.254.169.254", "0.0.0.0", "localhost", "localhost.",
                                  "api.localhost", "[fe80::1]", "192.168.1.1"])
def test_every_spelling_of_a_private_address_is_refused_before_sending(host):
    for kind in RequestKind:
        reason = guard.refusal(f"http://{host}:8080/x", NEWS, kind)
        assert reason and ("private" in reason or "local name" in reason), (host, kind, reason)
    assert guard.refusal(f"http://{host}:8080/x", TEST_SITE, RequestKind.ROOT) is None


def test_numeric_spellings_normalise_to_the_address_they_name():
    assert str(guard.host_address("0x7f.1")) == "127.0.0.1"
    assert str(guard.host_address("2130706433")) == "127.0.0.1"
    assert str(guard.host_address("0177.0.0.1")) == "127.0.0.1"
    assert str(guard.host_address("[::ffff:10.1.2.3]")) == "10.1.2.3"
    assert guard.host_address("www.example.ua") is None


def test_pages_stay_on_the_allowed_domains_roots_and_robots_may_not():
    assert guard.refusal("https://www.example.ua/news/1.html", NEWS, RequestKind.PAGE) is None
    assert "outside" in guard.refusal("https://evil.example.com/a", NEWS, RequestKind.PAGE)
    assert guard.refusal("https://feeds.other.com/rss", NEWS, RequestKind.ROOT) is None
    assert guard.refusal("https://cdn.other.com/robots.txt", NEWS, RequestKind.ROBOTS) is None
    assert "scheme" in guard.refusal("ftp://www.example.ua/x", NEWS, RequestKind.ROOT)
    assert "scheme" in guard.refusal("file:///etc/passwd", NEWS, RequestKind.PAGE)


def test_subresources_the_third_party_list_is_a_parameter():
    own = ("example.ua", "cdn.example.net")
    assert guard.refusal("https://img.cdn.example.net/x.jpg", NEWS, RequestKind.SUBRESOURCE,
                         own) is None
    assert "third-party" in guard.refusal("https://ads.tracker.io/t.js", NEWS,
                                          RequestKind.SUBRESOURCE, own)
    assert guard.refusal("https://ads.tracker.io/t.js", NEWS, RequestKind.SUBRESOURCE) is None
    assert guard.refusal("data:image/png;base64,AAAA", NEWS, RequestKind.SUBRESOURCE, own) is None
    assert guard.refusal("wss://live.example.ua/socket", NEWS, RequestKind.SUBRESOURCE) is None
    assert "private" in guard.refusal("ws://127.0.0.1:9/socket", NEWS, RequestKind.SUBRESOURCE)
    assert guard.refusal("http://127.0.0.1:8080/x", TEST_SITE, RequestKind.SUBRESOURCE) is None


def test_resolved_addresses_are_judged_per_source():
    assert guard.address_refusal("93.184.216.34", NEWS) is None
    assert "private" in guard.address_refusal("127.0.0.1", NEWS)
    assert "private" in guard.address_refusal("::ffff:127.0.0.1", NEWS)
    assert guard.address_refusal("127.0.0.1", TEST_SITE) is None
    assert [str(a) for a in guard.resolve("127.1")] == ["127.0.0.1"]


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_the_dry_run_obeys_robots_txt_and_the_guard_on_every_hop(site, workspace):
    """`sources test` fetches as the crawl does: robots.txt first, then only allowed pages;
    a redirect hop to a private address is refused on a source that does not allow them."""
    site.add("/robots.txt", "User-agent: *\nDisallow: /private/\n", content_type="text/plain")
    site.add("/private/a.html", "<html><body><p>secret</p></body></html>")
    site.add("/rss.xml", "<rss/>")
    workspace.source("lab", site.url("/rss.xml"))
    refused = workspace.run("sources", "test", "lab", "--url", site.url("/private/a.html"),
                            check=False)
    assert "forbidden by robots.txt" in refused.stdout
    assert site.requests_for("/private/a.html") == [] and len(site.requests_for("/robots.txt")) == 1

    site.add("/go", b"", status=302, headers={"Location": "ftp://127.0.0.1/feed"})
    hop = workspace.run("sources", "test", "lab", "--url", site.url("/go"), check=False)
    assert "refused ftp://127.0.0.1/feed: scheme 'ftp' is not fetched" in hop.stdout

    workspace.source("public", site.url("/rss.xml"), allow_private_addresses=False)
    blocked = workspace.run("sources", "test", "public", check=False)
    assert blocked.returncode != 0 and "private or loopback address 127.0.0.1" in blocked.stderr
    assert site.requests_for("/rss.xml") == []  # refused before a byte was sent
