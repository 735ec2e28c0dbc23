"""End to end: one story carried as uk/ru editions, a rewrite on another outlet, a link with
tracking parameters in another source (a sighting of the stored article, not a copy), and a
later headline edit; on SQLite and PostgreSQL."""

from __future__ import annotations

import json

from sqlalchemy import create_engine, select

from aggregator.db.models import Article, ArticleRevision, Fetch, ProvenanceLink, Story
from tests import stories
from tests.desk import NEW_TITLE, POLITICO, publish_korr, publish_rbc
from tests.httpsite import Site
from tests.newssite import rss


def _rbc(site: Site, title: str) -> dict[str, str]:
    uk_url, ru_url = publish_rbc(site, title, bridge=False)
    return {"uk": uk_url, "ru": ru_url}


def _other_outlet(other: Site, uk_url: str) -> None:
    """A rewrite with its own lead that credits rbc.ua, and a digest linking with utm tags."""
    publish_korr(other, uk_url)
    tracked = uk_url + "?utm_source=digest&utm_medium=rss&utm_campaign=morning"
    other.add("/digest/rss.xml", rss([(stories.ENERGY_UK, tracked)], title="Дайджест"))


def test_one_story_every_copy_linked(site, workspace):
    with Site() as other:
        urls = _rbc(site, stories.ENERGY_UK.title)
        _other_outlet(other, urls["uk"])
        workspace.source("rbc-ukr", site.url("/rss/uk.xml"), title="РБК-Україна")
        workspace.source("rbc-rus", site.url("/rss/ru.xml"), title="РБК-Украина", language="ru")
        workspace.source("korr", other.url("/korr/rss.xml"), title="Кореспондент")
        workspace.source("digest", other.url("/digest/rss.xml"), title="Дайджест")
        names = ("rbc-ukr", "rbc-rus", "korr", "digest")
        # The ru edition and the rewrite first: two stories, until the uk original joins them.
        assert "2 new articles" in workspace.run("crawl", "rbc-rus", "korr").stdout
        assert "1 new articles" in workspace.run("crawl", "rbc-ukr").stdout
        # The digest lists the uk original with utm tags: one article per canonical URL, so
        # the entry is stored at once (no page fetch) and the article gains the sighting.
        assert "0 new articles" in workspace.run("crawl", "digest").stdout

        _rbc(site, NEW_TITLE)  # the outlet edits its headline; feed and page change
        assert "0 new articles" in workspace.run("crawl", *names).stdout
        korr_url = other.url("/korr/news/energy.html")

    engine = create_engine(workspace.db_url)
    with engine.connect() as conn:
        rows = {r.url: r for r in conn.execute(select(Article))}
        story_rows = conn.execute(select(Story)).all()
        links = conn.execute(select(ProvenanceLink)).all()
        revisions = conn.execute(select(ArticleRevision).order_by(ArticleRevision.number)).all()
        fetches = conn.execute(select(Fetch).where(Fetch.kind == "page")).all()
    engine.dispose()

    tracked = urls["uk"] + "?utm_source=digest&utm_medium=rss&utm_campaign=morning"
    assert set(rows) == {urls["uk"], urls["ru"], korr_url}
    assert len(story_rows) == 1 and len({r.story_id for r in rows.values()}) == 1
    uk = rows[urls["uk"]]
    assert story_rows[0].primary_article_id == uk.id  # the rewrite credits it
    assert rows[urls["ru"]].match_kind == "first" and rows[korr_url].match_kind == "first"
    assert uk.match_kind == "near" and uk.match_score >= 0.7  # and it merged the ru story
    sightings = {(link.kind, link.url) for link in links if link.article_id == uk.id}
    assert {("feed", other.url("/digest/rss.xml")), ("listed_as", tracked)} <= sightings

    assert uk.title == NEW_TITLE
    history = [r for r in revisions if r.article_id == uk.id]
    assert [r.number for r in history] == [1, 2]
    assert [r.title for r in history] == [stories.ENERGY_UK.title, NEW_TITLE]
    assert all(len([r for r in revisions if r.article_id == a.id]) == 1
               for a in rows.values() if a.id != uk.id)

    cites = {(link.article_id, link.label, link.url) for link in links if link.kind == "cites"}
    assert (uk.id, "Politico", POLITICO) in cites
    assert (rows[korr_url].id, "РБК-Україна", urls["uk"]) in cites
    assert not any(a == uk.id and label == "РБК-Україна" for a, label, _ in cites)

    assert len(fetches) == 4 and all(f.warc_file and f.warc_length and not f.warc_error
                                     for f in fetches)
    raw = workspace.run("articles", "show", str(uk.id), "--raw").stdout
    assert raw.startswith("HTTP/1.1 200") and NEW_TITLE in raw
    diff = workspace.run("articles", "show", str(uk.id), "--history").stdout
    assert f"-{stories.ENERGY_UK.title}" in diff and f"+{NEW_TITLE}" in diff

    exported = [json.loads(line) for line in workspace.run("export").stdout.splitlines()]
    by_url = {r["url"]: r for r in exported}
    record = by_url[urls["uk"]]
    assert record["is_primary"] and record["revisions"] == 2
    assert {d["url"] for d in record["duplicates"]} == {korr_url}
    assert {"kind": "listed_as", "url": tracked, "label": "digest",
            "source": "digest"} in record["provenance"]
    assert [(a["url"], a["language"]) for a in record["alternates"]] == [(urls["ru"], "ru")]
    assert {"outlet": "Politico", "url": POLITICO} in record["cites"]
    assert record["warc"]["sha256"] and record["warc"]["length"] > 0
    assert {r["story_id"] for r in exported} == {record["story_id"]}
    assert sum(r["is_primary"] for r in exported) == 1
