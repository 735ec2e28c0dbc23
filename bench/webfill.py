"""Bulk fill for the desk benchmark: N stored articles in realistic stories and copies.

Rows go in with SQLAlchemy Core in batches (the crawl path would take hours for 100,000), but
through the real schema: the migration's triggers index every article for search and write
the change stream as they would for the daemon. About 57 % of stories have one article; the
rest are carried by 2-6 outlets, some as Russian or English editions; 3 % of articles get a
second revision; every primary has a captured screenshot row.

Texts are 80-220 words: the corpus's random vocabulary (bench/corpus.py) plus common news
words at Zipf-like rates, so a search term matches a realistic share of articles.
"""

from __future__ import annotations

import hashlib
import random
from datetime import date, datetime, timedelta, timezone
from functools import lru_cache
from itertools import accumulate

from sqlalchemy import bindparam, insert, text, update

from aggregator.db.engine import Database
from aggregator.db.models import (
    Article,
    ArticleRevision,
    ExtractionStat,
    Fetch,
    ProvenanceLink,
    Screenshot,
    Source,
    Story,
)
from aggregator.urls import url_key
from bench.corpus import vocabulary

SOURCES = ("rbc-ukr", "rbc-rus", "pravda", "unian", "ukrinform", "interfax-ukraine", "liga",
           "nv", "suspilne", "zn", "lb", "hromadske", "radiosvoboda", "kyiv-independent")
LANGUAGE = {"rbc-rus": "ru", "kyiv-independent": "en"}
# Common words of Ukrainian news (several forms each), drawn far more often than the rest.
NEWS_WORDS = ("україна україни україні україну удари ударів ударами дрони дронів дронами "
              "енергетика енергетики енергетиці енергетику ракети ракет ракетами уряд уряду "
              "уряді міністр міністра міністерство рада ради раді зима зими зимою світло "
              "світла відключення відключень обстріл обстрілу обстріли фронт фронту "
              "допомога допомоги допомогу євросоюз європейський мільярди мільярдів євро "
              "гривня гривні банк банку ціни цін газ газу експорт зерна порт порту "
              "київ києва києві харків харкова одеса одеси політика політики").split()
_ZIPF = list(accumulate(1 / (i + 1) for i in range(len(NEWS_WORDS))))
EPOCH = datetime(2026, 9, 1, tzinfo=timezone.utc)
BATCH = 2000


@lru_cache(maxsize=1)
def _pool() -> tuple[str, ...]:
    """A long stream of vocabulary words; a text is a random stretch of it (fast to make)."""
    return tuple(random.Random(3).choices(vocabulary(), k=1_000_000))


def _text(rng: random.Random, words: int) -> str:
    start = rng.randrange(len(_pool()) - words)
    out = list(_pool()[start:start + words])
    for _ in range(words // 50 + 1):  # about 2 % news words, the first ones most often
        out[rng.randrange(words)] = rng.choices(NEWS_WORDS, cum_weights=_ZIPF)[0]
    sentences = [" ".join(out[i:i + 15]).capitalize() + "." for i in range(0, len(out), 15)]
    return "\n".join(" ".join(sentences[i:i + 3]) for i in range(0, len(sentences), 3))


def _copies(rng: random.Random) -> int:
    roll = rng.random()
    return 1 if roll < 0.57 else 2 if roll < 0.80 else 3 if roll < 0.92 else rng.randint(4, 6)


def plan(n: int, seed: int = 14) -> list[list[dict]]:
    """Stories as lists of article dicts (the first is the primary), n articles in all."""
    rng = random.Random(seed)
    stories, made = [], 0
    while made < n:
        count = min(_copies(rng), n - made)
        outlets = rng.sample(SOURCES, count)
        base = _text(rng, rng.randint(80, 220))
        title = " ".join(base.split()[:rng.randint(6, 12)]).rstrip(".").capitalize()
        story = []
        for k, name in enumerate(outlets):
            body = base if k == 0 else base + "\n" + _text(rng, rng.randint(5, 30))
            story.append({"source": name, "title": title if k == 0 else f"{title} ({name})",
                          "text": body, "language": LANGUAGE.get(name, "uk"),
                          "kind": "first" if k == 0 else rng.choice(("near", "exact", "edition",
                                                                     "url", "near"))})
        stories.append(story)
        made += count
    return stories


def fill(url: str, n: int, seed: int = 14) -> dict:
    """Store n articles into the migrated database at `url`; returns what was made."""
    rng = random.Random(seed + 1)
    db = Database(url)
    stories = plan(n, seed)
    with db.session() as s:
        s.execute(insert(Source), [{"id": i + 1, "name": name, "title": name.upper(),
                                    "kind": "feed", "url": f"https://{name}.example/rss.xml",
                                    "language": LANGUAGE.get(name, "uk"), "enabled": True,
                                    "consecutive_failures": 0} for i, name in enumerate(SOURCES)])
    source_id = {name: i + 1 for i, name in enumerate(SOURCES)}
    article_id, pending = 0, []
    minutes = 60 * 24 * 60 / max(len(stories), 1)  # two months of news
    for sid, story in enumerate(stories, start=1):
        when = EPOCH + timedelta(minutes=sid * minutes)
        for k, a in enumerate(story):
            article_id += 1
            pending.append((sid, article_id, k, a, when + timedelta(minutes=5 * k)))
        if len(pending) >= BATCH or sid == len(stories):
            _store(db, pending, source_id, rng)
            pending = []
    with db.session() as s:
        if s.get_bind().dialect.name == "postgresql":
            for table in ("sources", "fetches", "stories", "articles", "article_revisions",
                          "provenance_links", "screenshots", "extraction_stats"):
                s.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                               f"(SELECT max(id) FROM {table}))"))
            s.execute(text("ANALYZE"))
        else:
            s.execute(text("ANALYZE"))
        _stats(s, source_id)
    db.dispose()
    return {"articles": article_id, "stories": len(stories)}


def _store(db: Database, rows: list, source_id: dict[str, int], rng: random.Random) -> None:
    """One batch: stories, fetches, articles, revisions, links, then primaries and captures."""
    stories = {sid: when for sid, _, k, _, when in rows if k == 0}
    with db.session() as s:
        s.execute(insert(Story), [{"id": sid, "created_at": when, "updated_at": when}
                                  for sid, when in stories.items()])
        s.execute(insert(Fetch), [{
            "id": aid, "source_id": source_id[a["source"]], "kind": "page",
            "url": _url(a, aid), "final_url": _url(a, aid), "status": 200, "fetched_at": when,
            "size": len(a["text"]) * 2, "sha256": hashlib.sha256(a["text"].encode()).hexdigest(),
        } for _, aid, _, a, when in rows])
        s.execute(insert(Article), [{
            "id": aid, "source_id": source_id[a["source"]], "fetch_id": aid, "url": _url(a, aid),
            "canonical_url": _url(a, aid), "canonical_key": url_key(_url(a, aid)),
            "title": a["title"], "authors": [],
            "published_at": when, "language": a["language"], "categories": [], "tags": [],
            "text": a["text"], "html": None, "content_hash": hashlib.sha256(
                a["text"].encode()).hexdigest(), "fetched_at": when, "first_seen_at": when,
            "last_seen_at": when, "story_id": sid, "match_kind": a["kind"],
        } for sid, aid, _, a, when in rows])
        s.execute(insert(ArticleRevision), [{
            "article_id": aid, "number": 1, "fetch_id": aid, "fetched_at": when,
            "title": a["title"], "text": a["text"], "content_hash": "0" * 64,
        } for _, aid, _, a, when in rows])
        s.execute(insert(ProvenanceLink), [
            link for _, aid, _, a, when in rows for link in (
                {"article_id": aid, "kind": "original", "url": _url(a, aid), "label": a["source"],
                 "created_at": when},
                {"article_id": aid, "kind": "feed", "url": f"https://{a['source']}.example/rss.xml",
                 "label": f"guid-{aid}", "created_at": when})])
        s.execute(update(Story.__table__).where(Story.id == bindparam("sid")).values(
            primary_article_id=bindparam("aid")).execution_options(synchronize_session=False),
            [{"sid": sid, "aid": aid} for sid, aid, k, _, _ in rows if k == 0])
        revised = [(aid, a, when) for _, aid, _, a, when in rows if rng.random() < 0.03]
        if revised:
            s.execute(insert(ArticleRevision), [{
                "article_id": aid, "number": 2, "fetch_id": aid,
                "fetched_at": when + timedelta(hours=1), "title": a["title"] + " (оновлено)",
                "text": a["text"], "content_hash": "1" * 64} for aid, a, when in revised])
        primaries = [(aid, when) for _, aid, k, _, when in rows if k == 0]
        s.execute(insert(Screenshot), [{
            "id": aid, "article_id": aid, "fetch_id": aid, "requested_url": f"https://x/{aid}",
            "requested_at": when, "outcome": "pending", "attempts": 1} for aid, when in primaries])
        digest = {aid: hashlib.sha256(str(aid).encode()).hexdigest() for aid, _ in primaries}
        s.execute(update(Screenshot.__table__).where(Screenshot.id == bindparam("i")).values(
            outcome="captured", sha256=bindparam("h"), format="png", width=1280, height=900,
            path=bindparam("p"), captured_at=bindparam("t"))
            .execution_options(synchronize_session=False),
            [{"i": aid, "h": digest[aid], "p": f"screenshots/{digest[aid]}.png",
              "t": when + timedelta(minutes=2)} for aid, when in primaries])


def _url(a: dict, aid: int) -> str:
    return f"https://{a['source']}.example/news/{aid}.html"


def _stats(s, source_id: dict[str, int]) -> None:
    today = date.today()
    s.execute(insert(ExtractionStat), [{
        "source_id": sid, "day": today - timedelta(days=d), "pages": 40 + (sid * d) % 25,
        "empty_text": 0, "short_text": 1, "no_date": 2, "no_author": 5, "language_mismatch": 0,
    } for sid in source_id.values() for d in range(14)])
