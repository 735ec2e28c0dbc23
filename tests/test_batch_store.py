"""The bulk store path (aggregator/storing.py): a batch costs a fixed number of statements,
and copies, repeats and revisions inside one batch end as storing them one by one would."""

from __future__ import annotations

import math
import random
from datetime import datetime, timezone

from sqlalchemy import event, func, select

from aggregator.db.engine import Database
from aggregator.db.models import (
    Article,
    ArticleRevision,
    ArticleSignature,
    FeedEntry,
    ProvenanceLink,
    Screenshot,
    Story,
)
from aggregator.dedup import fingerprint
from aggregator.ingest import KEYS_PER_ARTICLE, Arrival, Ingestor, lock_budget
from aggregator.ledger import CrawlLedger
from aggregator.records import ArticleDraft, FetchRecord
from aggregator.records import FeedEntry as Entry
from aggregator.sources import Source

NOW = datetime(2026, 11, 20, 8, 0, tzinfo=timezone.utc)
WORDS = ("міст", "рада", "уряд", "енергетика", "фронт", "обстріл", "Київ", "Харків", "світло",
         "вибори", "бюджет", "податки", "школа", "лікарня", "вокзал", "потяг", "зерно", "порт")


def _text(seed: int, sentences: int = 12) -> str:
    rng = random.Random(seed)
    return " ".join(" ".join(rng.choices(WORDS, k=12)).capitalize() + "."
                    for _ in range(sentences))


def _source(name: str) -> Source:
    return Source(name=name, title=name.upper(), kind="feed", url=f"http://127.0.0.1/{name}.xml",
                  language="uk", allowed_domains=["127.0.0.1"])


class Desk:
    """Sources registered in one database, and arrivals made the way the spider makes them."""

    def __init__(self, db_url: str, names: tuple[str, ...]):
        self.db = Database(db_url)
        self.ledger, self.ingestor = CrawlLedger(self.db), Ingestor(self.db)
        # No statistics look after a slow batch to blur the statement counts below: it has
        # tests of its own (tests/test_statistics.py).
        self.ingestor.statistics_due = float("inf")
        self.sources = {n: (_source(n), self.ledger.register(_source(n))) for n in names}

    def arrival(self, name: str, slug: str, text: str, title: str = "Заголовок") -> Arrival:
        source, source_id = self.sources[name]
        url = f"http://127.0.0.1/{name}/{slug}.html"
        entry = Entry(guid=f"{name}-{slug}", link=url, title=title, published_at=NOW)
        feed = FetchRecord(url=source.url, final_url=source.url, status=200, fetched_at=NOW,
                           size=1, sha256="0" * 64, kind="feed")
        _, pending = self.ledger.accept_entries(source_id, feed, (entry,))
        draft = ArticleDraft(url=url, text=text, title=title, language="uk",
                             fingerprint=fingerprint(text))
        fetch = FetchRecord(url=url, final_url=url, status=200, fetched_at=NOW, size=len(text),
                            sha256="0" * 64, kind="page")
        return Arrival(source, source_id, [p.id for p in pending], entry, fetch, draft)

    def count(self, model) -> int:
        with self.db.session() as session:
            return session.scalar(select(func.count()).select_from(model))


def test_a_batch_costs_a_fixed_number_of_statements(db_url):
    desk = Desk(db_url, ("a", "b", "c", "d"))
    batch = [desk.arrival("abcd"[n % 4], f"n{n}", _text(n)) for n in range(32)]
    statements = []
    event.listen(desk.db.engine, "before_cursor_execute",
                 lambda *args: statements.append(args[2]))
    outcomes = desk.ingestor.store_articles(batch)

    assert all(o.created for o in outcomes) and len({o.id for o in outcomes}) == 32
    per_transaction = 32 if desk.db.engine.dialect.name == "sqlite" else lock_budget(
        desk.ingestor.lock_table, desk.ingestor.nodes) // KEYS_PER_ARTICLE
    transactions = math.ceil(32 / per_transaction)
    # fetches, 2 look-ups, stories, articles, revisions, signatures, entries, links,
    # screenshot rows, counters (2), members (2), primaries (2); PostgreSQL adds its locks
    # and the band look-up (the band keys go in with the signatures); the WARC pointers go in
    # with the fetches
    assert len(statements) <= transactions * 18, statements
    assert desk.count(Article) == desk.count(Story) == desk.count(ArticleRevision) == 32
    assert desk.count(ArticleSignature) == desk.count(Screenshot) == 32
    assert desk.count(ProvenanceLink) == 64  # original + feed each
    with desk.db.session() as session:
        assert set(session.scalars(select(FeedEntry.status))) == {"stored"}
        primaries = set(session.scalars(select(Story.primary_article_id)))
    assert primaries == {o.id for o in outcomes}
    desk.db.dispose()


def test_each_live_node_takes_its_share_of_the_lock_table():
    assert lock_budget(6400, 1) == 3200  # one node: a whole batch of 64 in one transaction
    assert lock_budget(6400, 3) // KEYS_PER_ARTICLE == 23
    assert lock_budget(6400, 500) == KEYS_PER_ARTICLE  # never less than one article
    assert lock_budget(6400, 0) == lock_budget(6400, 1)


def test_more_live_nodes_split_a_batch_into_smaller_transactions(pg_url):
    desk = Desk(pg_url, ("a", "b"))
    assert desk.ingestor.lock_table >= 64 * 10  # read from the server's settings
    locks = []
    event.listen(desk.db.engine, "before_cursor_execute",
                 lambda *args: locks.append(args[2]) if "pg_advisory_xact_lock" in args[2]
                 else None)
    desk.ingestor.store_articles([desk.arrival("ab"[n % 2], f"one{n}", _text(n))
                                  for n in range(12)])
    one_node = len(locks)
    desk.ingestor.nodes = desk.ingestor.lock_table // (2 * 3 * KEYS_PER_ARTICLE)  # 3 a txn
    locks.clear()
    outcomes = desk.ingestor.store_articles([desk.arrival("ab"[n % 2], f"many{n}",
                                                          _text(n + 100)) for n in range(12)])
    assert one_node == 1 and len(locks) == 4
    assert all(o.created for o in outcomes) and desk.count(Article) == 24
    desk.db.dispose()


def test_copies_repeats_and_revisions_within_one_batch(db_url):
    desk = Desk(db_url, ("rbc", "korr", "unian"))
    original = _text(1)
    near = original + " " + _text(2, sentences=1)
    batch = [
        desk.arrival("rbc", "bridge", original),
        desk.arrival("korr", "copy", original),  # the same text: joins the story
        desk.arrival("unian", "rewrite", near),  # a near copy: joins it too
        desk.arrival("rbc", "bridge", original),  # the same page again: nothing new
        desk.arrival("rbc", "other", _text(3)),  # another story
        desk.arrival("rbc", "bridge", original + " Оновлено.", title="Новий заголовок"),
    ]
    first, copy, rewrite, again, other, revised = desk.ingestor.store_articles(batch)

    assert first.created and copy.created and rewrite.created and other.created
    assert (again.id, again.created, again.revised) == (first.id, False, False)
    assert (revised.id, revised.created, revised.revised) == (first.id, False, True)
    assert first.story_id == copy.story_id == rewrite.story_id != other.story_id
    with desk.db.session() as session:
        story = session.get(Story, first.story_id)
        assert story.primary_article_id == first.id
        kinds = dict(session.execute(select(Article.id, Article.match_kind)).all())
        numbers = list(session.scalars(select(ArticleRevision.number)
                                       .where(ArticleRevision.article_id == first.id)
                                       .order_by(ArticleRevision.number)))
        title = session.scalar(select(Article.title).where(Article.id == first.id))
    assert (kinds[copy.id], kinds[rewrite.id]) == ("exact", "near")
    assert numbers == [1, 2] and title == "Новий заголовок"
    assert desk.count(Article) == 4 and desk.count(Story) == 2
    desk.db.dispose()


def test_a_copy_of_a_text_revised_in_the_same_batch_joins_its_story(db_url):
    desk = Desk(db_url, ("rbc", "korr"))
    first = desk.ingestor.store_article(desk.arrival("rbc", "bridge", _text(1)))
    new_text = _text(4)
    revised, copy = desk.ingestor.store_articles([
        desk.arrival("rbc", "bridge", new_text, title="Новий заголовок"),
        desk.arrival("korr", "copy", new_text),
    ])
    assert revised.revised and revised.id == first.id
    assert copy.created and copy.story_id == first.story_id
    with desk.db.session() as session:
        assert session.scalar(select(Article.match_kind).where(Article.id == copy.id)) == "exact"
    desk.db.dispose()
