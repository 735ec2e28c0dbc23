"""The change stream under load: a consumer paging `/api/v1/changes` over HTTP while several
writers store articles through the real store path misses nothing and sees nothing twice;
on PostgreSQL one writer holds its transaction open after its row got an id, the case where
sequence ids alone would let a consumer pass a row that commits late."""

from __future__ import annotations

import random
import threading
import time
from datetime import datetime, timezone

from sqlalchemy import create_engine, select

from aggregator.db.engine import Database
from aggregator.db.models import Article
from aggregator.ingest import Arrival, Ingestor
from aggregator.ledger import CrawlLedger
from aggregator.records import ArticleDraft, FetchRecord
from aggregator.sources import Source
from tests.desk import Web

WORDS = ("енергетика мост уряд рада фронт зерно порт газ ціни школа лікарня вибори суд банк "
         "гривня експорт дрони ракети зима світло вода метро вокзал аеропорт податки").split()
WRITERS, EACH = 3, 12


def _arrival(ingestor: Ingestor, source: Source, source_id: int, n: int) -> Arrival:
    url = f"http://127.0.0.1:9/{source.name}/{n}.html"
    text = " ".join(random.Random(f"{source.name}{n}").choices(WORDS, k=80))
    now = datetime.now(timezone.utc)
    fetch = FetchRecord(url=url, final_url=url, status=200, fetched_at=now, size=len(text),
                        sha256="0" * 64, kind="page")
    draft = ArticleDraft(url=url, text=f"{source.name} {n}. {text}", title=f"{source.name} {n}",
                         language="uk")
    return Arrival(source, source_id, [], None, fetch, draft)


def _source(name: str) -> Source:
    return Source(name=name, title=name, kind="feed", url=f"http://127.0.0.1:9/{name}.xml",
                  language="uk", allowed_domains=["127.0.0.1"], allow_private_addresses=True)


def _writer(db_url: str, name: str, hold: float = 0.0) -> None:
    """Store EACH articles one transaction at a time; with `hold`, keep each transaction
    open that long after the article (and its change row) was written."""
    db = Database(db_url)
    ingestor = Ingestor(db, screenshots=False)
    source = _source(name)
    source_id = CrawlLedger(db).register(source)
    for n in range(EACH):
        arrival = _arrival(ingestor, source, source_id, n)
        if hold:
            with db.session() as session:
                ingestor._store(session, [arrival])  # the store path, inside our transaction
                time.sleep(hold)
        else:
            ingestor.store_articles([arrival])
        time.sleep(random.random() * 0.02)
    db.dispose()


def test_consumer_sees_every_change_once_while_writers_store(workspace):
    is_pg = workspace.db_url.startswith("postgresql")
    with Web(workspace) as web:
        writers = [threading.Thread(target=_writer, args=(workspace.db_url, f"w{i}"))
                   for i in range(WRITERS)]
        writers.append(threading.Thread(target=_writer, args=(workspace.db_url, "late"),
                                        kwargs={"hold": 0.3 if is_pg else 0.0}))
        seen, cursor, polls = [], "0", 0
        for thread in writers:
            thread.start()
        while True:
            done = not any(t.is_alive() for t in writers)
            page = web.json(f"/api/v1/changes?cursor={cursor}&limit=5")
            polls += 1
            seen += page["items"]
            cursor = page["next_cursor"]
            if done and not page["items"]:
                break
            time.sleep(0.01)
        for thread in writers:
            thread.join()

    engine = create_engine(workspace.db_url)
    with engine.connect() as conn:
        stored = set(conn.scalars(select(Article.id)))
    engine.dispose()
    ids = [c["id"] for c in seen]
    assert ids == sorted(ids) and len(ids) == len(set(ids)), "repeated or out of order"
    arrived = [c["article_id"] for c in seen if c["kind"] == "article_stored"]
    assert len(stored) == (WRITERS + 1) * EACH
    assert sorted(arrived) == sorted(stored), "an article_stored change was missed"
    assert polls > 10  # the consumer really paged while the writers wrote
