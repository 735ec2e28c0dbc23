"""The planner's statistics on PostgreSQL (aggregator/db/statistics.py): the writer analyses
the tables the store path changed past autovacuum's threshold, and the near-duplicate look-up
reads the band keys' GIN index however many keys a chunk asks for."""

from __future__ import annotations

import time

from sqlalchemy import event, text

from aggregator.db import batch, statistics
from aggregator.db.statistics import Activity, TableActivity
from tests.test_batch_store import Desk, _text


def test_a_table_is_stale_past_autovacuums_analyze_threshold():
    found = Activity([TableActivity("articles", 1000.0, 151), TableActivity("stories", 1000.0, 150),
                      TableActivity("sources", 0.0, 51), TableActivity("crawls", 0.0, 50)],
                     threshold=50, scale=0.1, autovacuum=False)
    assert statistics.stale(found) == ["articles", "sources"]
    assert statistics.stale(found._replace(scale=0.2)) == ["sources"]


def _analysed(desk: Desk) -> dict[str, tuple[bool, int]]:
    with desk.db.session() as session:
        return {name: (last is not None, changed) for name, last, changed in session.execute(text(
            "SELECT relname, last_analyze, n_mod_since_analyze FROM pg_stat_user_tables"))}


def test_the_writer_analyses_what_it_changed_past_the_threshold(pg_url, caplog):
    desk = Desk(pg_url, ("rbc", "unian"))
    outcomes = desk.ingestor.store_articles(
        [desk.arrival("rbc" if n % 2 else "unian", f"a{n}", _text(n)) for n in range(80)])
    assert not any(isinstance(o, Exception) for o in outcomes)
    assert not _analysed(desk)["articles"][0]

    # The server's counters reach pg_stat_user_tables within a second or so of the commit.
    deadline = time.monotonic() + 20
    while not _analysed(desk)["articles"][0]:
        assert time.monotonic() < deadline, "the articles table was never analysed"
        time.sleep(0.3)
        desk.ingestor.keep_statistics()
    after = _analysed(desk)
    assert after["articles"][1] < 80 and after["article_revisions"][0]
    assert not after["sources"][0]  # two rows: far below the threshold
    assert desk.ingestor.statistics_due > time.monotonic()  # the next look waits CHECK_EVERY
    with desk.db.session() as session:
        autovacuum = session.scalar(text("SELECT current_setting('autovacuum')::bool"))
    told = caplog.text.count("autovacuum is off on this PostgreSQL server")
    assert told == (0 if autovacuum else 1)  # once, however many looks it took
    desk.db.dispose()


def test_a_failed_analysis_is_logged_and_the_batch_kept(pg_url, caplog):
    desk = Desk(pg_url, ("rbc",))
    desk.ingestor.statistics_due = 0.0
    event.listen(desk.db.engine, "before_cursor_execute", _refuse_analyze, retval=True)
    [stored] = desk.ingestor.store_articles([desk.arrival("rbc", "a", _text(1))])
    assert stored.created
    assert "could not refresh the planner's statistics" in caplog.text
    desk.db.dispose()


def _refuse_analyze(conn, cursor, statement, parameters, context, executemany):
    if statement.startswith("SELECT relname, n_live_tup"):
        statement = "SELECT no_such_column FROM pg_stat_user_tables"
    return statement, parameters


def _copies(desk: Desk, times: int) -> None:
    """Each stored article `times` more times (new URL and key), each with a signature of
    random band keys: a table big enough for the planner to weigh an index against a scan."""
    with desk.db.session() as session:
        columns = [c for c in session.execute(text(
            "SELECT column_name FROM information_schema.columns WHERE table_name = 'articles' "
            "AND table_schema = current_schema() AND column_name <> 'id'")).scalars()]
        changed = {"url": "url || '?copy=' || g", "canonical_key": "md5(canonical_key || g)"}
        session.execute(text(
            f"INSERT INTO articles ({', '.join(columns)}) SELECT "
            f"{', '.join(changed.get(c, c) for c in columns)} "
            f"FROM articles, generate_series(1, {times}) AS g"))
        session.execute(text(
            "INSERT INTO article_signatures (article_id, minhash, shingles, bands) "
            "SELECT a.id, s.minhash, s.shingles, ARRAY(SELECT (random() * 1e15)::bigint + a.id "
            "FROM generate_series(1, 37)) FROM articles a, (SELECT minhash, shingles FROM "
            "article_signatures LIMIT 1) s WHERE a.id NOT IN (SELECT article_id FROM "
            "article_signatures)"))
        session.execute(text("ANALYZE articles, article_signatures"))


def test_the_band_look_up_reads_the_index_for_a_thousand_keys(pg_url):
    desk = Desk(pg_url, ("rbc",))
    desk.ingestor.store_articles([desk.arrival("rbc", f"a{n}", _text(n)) for n in range(30)])
    _copies(desk, 100)
    seen: list[tuple[str, dict]] = []
    event.listen(desk.db.engine, "before_cursor_execute",
                 lambda c, cur, statement, parameters, ctx, many: seen.append(
                     (statement, parameters)))
    with desk.db.session() as session:
        assert batch.band_signatures(session, set(range(1, 1101))) == {}
        statement, parameters = seen[-1]
        plan = "\n".join(session.connection().exec_driver_sql(
            "EXPLAIN " + statement, parameters).scalars())
    assert "ix_article_signatures_bands" in plan and "Seq Scan" not in plan, plan
    desk.db.dispose()
