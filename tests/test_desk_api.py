"""The read API and the feeds against a real `aggregator web` (uvicorn on loopback), over a
database filled by real crawls of loopback outlets; on SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
import json
from urllib.parse import quote

import feedparser
import pytest

from aggregator.searchterms import MAX_QUERY
from tests import stories
from tests.desk import NEW_TITLE, POLITICO, Web, fill
from tests.helpers import Workspace
from tests.httpsite import Site


@pytest.fixture(scope="module")
def bed(module_db_url, tmp_path_factory):
    """One crawled database of each kind, shared by this module's tests (they only read)."""
    workspace = Workspace(tmp_path_factory.mktemp("desk"), module_db_url)
    (workspace.config / "sources").mkdir(parents=True)
    with Site() as site, Site() as other:
        facts = fill(site, other, workspace)
        with Web(workspace) as web:
            yield facts, web, workspace


def _stories(web: Web, query: str = "") -> list[dict]:
    return web.json("/api/v1/stories" + query)["items"]


def _energy(web: Web, bed_facts) -> dict:
    return next(s for s in _stories(web) if bed_facts.uk_url in {c["url"] for c in s["copies"]})


def test_stories_list_filters_search_and_pages(bed):
    facts, web, _ = bed
    items = _stories(web)
    assert [s["id"] for s in items] == sorted((s["id"] for s in items), reverse=True)
    energy = _energy(web, facts)
    # one story for the uk original, its ru edition and the other outlet's rewrite
    assert {c["url"] for c in energy["copies"]} == {facts.uk_url, facts.ru_url, facts.korr_url}
    assert energy["primary"]["url"] == facts.uk_url and energy["primary"]["title"] == NEW_TITLE
    assert energy["primary"]["date_precision"] == "second"  # the page's meta gives a time
    assert energy["outlets"] == 3 and set(energy["languages"]) == {"uk", "ru"}
    assert energy["screenshot"]["sha256"] and energy["last_changed_at"] >= energy["first_seen_at"]
    assert {c["match"] for c in energy["copies"]} >= {"near"}

    # keyset pages: every story once, in order, whatever the page size
    seen, cursor = [], None
    while True:
        page = web.json("/api/v1/stories?limit=1" + (f"&cursor={cursor}" if cursor else ""))
        seen += [s["id"] for s in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [s["id"] for s in items]

    assert [s["id"] for s in _stories(web, "?min_sources=3")] == [energy["id"]]
    assert [s["id"] for s in _stories(web, "?source=korr")] == [energy["id"]]
    assert [s["id"] for s in _stories(web, "?language=ru")] == [energy["id"]]
    assert _stories(web, "?source=nobody") == []
    assert _stories(web, "?since=2999-01-01") == []

    # Cyrillic search, inflected: "енергетика" finds "енергетиці"; "мостом" finds the bridge
    found = _stories(web, "?q=" + quote("енергетика"))
    assert found and found[0]["id"] == energy["id"] and found[0]["rank"] > 0
    bridge = _stories(web, "?q=" + quote("мости Дніпра"))
    assert [s["primary"]["url"] for s in bridge] == [facts.bridge_url]
    assert _stories(web, "?q=" + quote("Politico")) and not _stories(web, "?q=zzzxqv")
    searched, cursor = [], None
    while True:
        page = web.json("/api/v1/stories?limit=1&q=" + quote("що")
                        + (f"&cursor={cursor}" if cursor else ""))
        searched += [(s["rank"], s["id"]) for s in page["items"]]
        if not (cursor := page["next_cursor"]):
            break
    assert len(searched) >= 2 and searched == sorted(searched, reverse=True)  # ties included
    assert len(set(searched)) == len(searched)


def test_story_shows_every_copy_with_its_provenance_chain(bed):
    facts, web, workspace = bed
    story = web.json(f"/api/v1/stories/{_energy(web, facts)['id']}")
    assert story["copies"][0]["article"]["is_primary"]
    chains = {c["original_url"]: c for c in story["copies"]}
    uk = chains[facts.uk_url]
    assert uk["source"]["name"] == "rbc-ukr" and uk["source"]["url"].endswith("/rss/uk.xml")
    assert uk["feed_entry"]["guid"] and uk["feed_entry"]["feed_fetch"]["status"] == 200
    assert uk["fetch"]["status"] == 200 and len(uk["fetch"]["sha256"]) == 64
    assert uk["canonical_url"] == facts.uk_url
    warc = uk["warc"]
    assert warc["record_id"].startswith("<urn:uuid:") and warc["file_matches"] is True
    raw = (workspace.root / "data" / "warc" / warc["file"]).read_bytes()
    assert hashlib.sha256(raw[warc["offset"]:warc["offset"] + warc["length"]]).hexdigest() \
        == warc["sha256"]
    assert uk["screenshot"]["sha256"] and uk["screenshot"]["captured_at"]
    assert [e["url"] for e in story["editions"]] == [facts.ru_url]
    assert {"outlet": "Politico", "url": POLITICO} in story["cites"]
    assert stories.ENERGY_UK.paragraphs[1] in story["text"]
    assert "<script" not in (story["html"] or "")

    code, headers, image = web.get(uk["screenshot"]["url"])
    assert code == 200 and headers["Content-Type"] == "image/png"
    assert hashlib.sha256(image).hexdigest() == uk["screenshot"]["sha256"]
    assert web.get(uk["screenshot"]["thumbnail_url"])[0] == 200


def test_article_has_the_export_record_and_revisions_with_diffs(bed):
    facts, web, _ = bed
    energy = _energy(web, facts)
    article = web.json(f"/api/v1/articles/{energy['primary']['id']}")
    assert article["url"] == facts.uk_url and article["revisions"] == 2
    assert (article["date_source"], article["date_precision"]) == ("page", "second")
    assert article["extraction_path"] and article["language_confidence"] > 0.9
    history = article["revision_history"]
    assert [h["number"] for h in history] == [1, 2]
    assert history[1]["title"] == NEW_TITLE
    assert f"-{stories.ENERGY_UK.title}" in history[1]["diff"]
    assert f"+{NEW_TITLE}" in history[1]["diff"]
    assert article["provenance_chain"]["warc"]["file_matches"] is True
    assert article["screenshot"]["outcome"] == "captured"


def test_changes_stream_every_change_once_in_order(bed):
    facts, web, _ = bed
    items, cursor = [], None
    while True:
        page = web.json("/api/v1/changes?limit=2" + (f"&cursor={cursor}" if cursor else ""))
        items += page["items"]
        if not page["items"]:
            assert page["next_cursor"] == (cursor or "0")
            break
        cursor = page["next_cursor"]
    ids = [c["id"] for c in items]
    assert ids == sorted(set(ids))
    kinds = [c["kind"] for c in items]
    stored = [c["article_id"] for c in items if c["kind"] == "article_stored"]
    assert len(stored) == len(set(stored)) == 5  # four crawled, one hostile
    energy = _energy(web, facts)
    revised = [c for c in items if c["kind"] == "article_revised"]
    assert [(c["article_id"], c["revision"]) for c in revised] == [(energy["primary"]["id"], 2)]
    assert kinds.count("screenshot_captured") == 4
    # The uk original arrived last and joined two stories into one, then became the primary.
    merged = [c for c in items if c["kind"] == "story_merged"]
    assert merged and all(c["story_id"] == energy["id"] for c in merged)
    assert any(c["kind"] == "primary_changed" and c["article_id"] == energy["primary"]["id"]
               for c in items)
    assert web.json(f"/api/v1/changes?cursor={ids[-1]}")["items"] == []


def test_feeds_one_entry_per_story_with_filters(bed):
    facts, web, _ = bed
    energy = _energy(web, facts)
    for path in ("/feeds/stories.atom", "/feeds/stories.atom?q=" + quote("енергетиці")):
        code, headers, body = web.get(path)
        assert code == 200 and headers["Content-Type"].startswith("application/atom+xml")
        feed = feedparser.parse(body)
        assert not feed.bozo, feed.bozo_exception
        entry = next(e for e in feed.entries if e.id.endswith(f"/stories/{energy['id']}"))
        assert entry.link == facts.uk_url and entry.title == NEW_TITLE
        related = {link.href for link in entry.links if link.rel == "related"}
        assert related == {facts.ru_url, facts.korr_url}
    atom = feedparser.parse(web.get("/feeds/stories.atom")[2])
    assert len(atom.entries) == len(_stories(web, "?limit=100"))
    searched = feedparser.parse(web.get("/feeds/stories.atom?q=" + quote("мостом"))[2])
    assert [e.link for e in searched.entries] == [facts.bridge_url]

    code, headers, body = web.get("/feeds/stories.json?source=korr")
    assert code == 200 and headers["Content-Type"].startswith("application/feed+json")
    feed = json.loads(body)
    assert feed["version"] == "https://jsonfeed.org/version/1.1"
    assert [i["external_url"] for i in feed["items"]] == [facts.uk_url]
    # feedparser 6 reads no JSON Feed: check what JSON Feed 1.1 requires of each item
    assert isinstance(feed["title"], str) and feed["feed_url"].endswith("source=korr")
    for item in feed["items"]:
        assert isinstance(item["id"], str)
        assert item.get("content_html") or item.get("content_text")
        assert item["date_published"].endswith("Z") and item["authors"][0]["name"]


def test_sources_and_openapi(bed):
    _, web, _ = bed
    sources = {s["name"]: s for s in web.json("/api/v1/sources")["items"]}
    assert set(sources) >= {"rbc-ukr", "rbc-rus", "korr"}
    rbc = sources["rbc-ukr"]
    assert rbc["state"] == "ok" and rbc["articles"] == 2 and rbc["last_success_at"]
    assert len(rbc["articles_per_day"]) == 14 and rbc["articles_per_day"][-1]["articles"] >= 2
    spec = web.json("/api/v1/openapi.json")
    for path in ("/api/v1/stories", "/api/v1/stories/{story_id}", "/api/v1/articles/{article_id}",
                 "/api/v1/changes", "/api/v1/sources", "/feeds/stories.atom"):
        assert path in spec["paths"], path
    names = {p["name"] for p in spec["paths"]["/api/v1/stories"]["get"]["parameters"]}
    assert names >= {"limit", "cursor", "source", "language", "since", "until", "q",
                     "min_sources"}


@pytest.mark.parametrize("path,parameter", [
    ("/api/v1/stories?limit=0", "limit"),
    ("/api/v1/stories?limit=101", "limit"),
    ("/api/v1/stories?cursor=bm90LWEtY3Vyc29y", "cursor"),
    ("/api/v1/stories?since=yesterday", "since"),
    ("/api/v1/stories?min_sources=x", "min_sources"),
    ("/api/v1/stories?q=" + quote("й" * (MAX_QUERY + 1)), "q"),
    ("/api/v1/stories/abc", "story_id"),
    ("/api/v1/changes?cursor=-1", "cursor"),
    ("/api/v1/changes?limit=1001", "limit"),
    ("/feeds/stories.atom?limit=1000", "limit"),
])
def test_bad_parameters_are_400_naming_the_parameter(sqlite_workspace, path, parameter):
    with Web(sqlite_workspace) as web:
        code, _, body = web.get(path)
    answer = json.loads(body)
    assert code == 400 and answer["parameter"] == parameter, body
    assert answer["message"].startswith(parameter)


def test_unknown_ids_are_404(sqlite_workspace):
    with Web(sqlite_workspace) as web:
        for path in ("/api/v1/stories/99", "/api/v1/articles/99", "/stories/99",
                     "/articles/99", "/screenshots/" + "a" * 64):
            assert web.get(path)[0] == 404, path
        assert web.get("/screenshots/" + "A" * 64)[0] == 400
        assert web.get("/screenshots/..%2f..%2fetc%2fpasswd")[0] in (400, 404)
