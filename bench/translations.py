"""What the translation worker's queue scan costs a database on every poll: the anti-join that
finds revisions without a job (`db.translations.enqueue_missing`), once everything is queued,
next to the floor of reading the same rows once (`SELECT count(*)` over the revisions in the
window), and how it grows with the archive. Also the same scan with `max_age` bounding it.

    .venv/bin/python bench/translations.py [--articles 20000 80000] [--postgres URL]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import func, insert, select  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from aggregator.db import translations as queue  # noqa: E402
from aggregator.db.engine import Database  # noqa: E402
from aggregator.db.migrate import upgrade  # noqa: E402
from aggregator.db.models import Article, ArticleRevision, Fetch, Source  # noqa: E402


def fill(db: Database, articles: int) -> None:
    """`articles` articles, a tenth of them with a second revision, fetched over 30 days."""
    now = datetime.now(timezone.utc)
    with db.session() as session:
        session.execute(insert(Source).values(id=1, name="rbc-ukr", title="RBC", kind="feed",
                                              url="https://www.rbc.ua/rss", language="uk"))
        session.execute(insert(Fetch).values(
            id=1, source_id=1, kind="page", url="u", final_url="u", status=200, fetched_at=now,
            size=1, sha256="0" * 64))
        for start in range(0, articles, 5000):
            ids = range(start + 1, min(start + 5001, articles + 1))
            when = {i: now - timedelta(days=30 * i / articles) for i in ids}
            session.execute(insert(Article), [dict(
                id=i, source_id=1, fetch_id=1, url=f"https://www.rbc.ua/ukr/news/{i}.html",
                canonical_url=f"https://www.rbc.ua/ukr/news/{i}.html", text="Текст.",
                content_hash=f"{i:064x}", fetched_at=when[i], first_seen_at=when[i],
                last_seen_at=when[i], language="uk") for i in ids])
            session.execute(insert(ArticleRevision), [dict(
                article_id=i, number=n, fetch_id=1, fetched_at=when[i], text="Текст.",
                content_hash=f"{i * n:064x}") for i in ids for n in ((1, 2) if i % 10 == 0
                                                                     else (1,))])


def timed(db: Database, step, repeats: int = 5) -> float:
    times = []
    for _ in range(repeats):
        with db.session() as session:
            started = time.perf_counter()
            step(session)
            times.append(time.perf_counter() - started)
    return statistics.median(times)


def measure(url: str, articles: int) -> None:
    upgrade(url)
    db = Database(url)
    fill(db, articles)
    now = datetime.now(timezone.utc)
    window = now - timedelta(days=2)
    with db.session() as session:
        queued = queue.enqueue_missing(session, ["de"], None, None, now, limit=10**9)
    scan = timed(db, lambda s: queue.enqueue_missing(s, ["de"], None, None, now))
    floor = timed(db, lambda s: s.scalar(select(func.count()).select_from(ArticleRevision)))
    bounded = timed(db, lambda s: queue.enqueue_missing(s, ["de"], None, window, now))
    bounded_floor = timed(db, lambda s: s.scalar(
        select(func.count()).select_from(ArticleRevision)
        .where(ArticleRevision.fetched_at >= window)))
    db.dispose()
    print(f"{make_url(url).get_backend_name():<10} {articles:>7} articles ({queued} queued): "
          f"scan {scan * 1000:7.1f} ms vs count(*) {floor * 1000:6.1f} ms = {scan / floor:5.1f}x; "
          f"max_age 2d: {bounded * 1000:6.1f} ms vs {bounded_floor * 1000:6.1f} ms = "
          f"{bounded / bounded_floor:5.1f}x")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--articles", type=int, nargs="+", default=[20_000, 80_000])
    parser.add_argument("--postgres", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres",
                        help="admin URL of a PostgreSQL server; 'none' to skip")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.articles:
            measure(f"sqlite:///{tmp}/bench-{n}.db", n)
    if args.postgres == "none":
        return
    import psycopg

    admin = make_url(args.postgres)
    for n in args.articles:
        name = f"bench_translations_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(host=admin.host, port=admin.port or 5432, user=admin.username,
                             dbname=admin.database or "postgres", autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        try:
            measure(admin.set(database=name).render_as_string(hide_password=False), n)
        finally:
            with psycopg.connect(host=admin.host, port=admin.port or 5432, user=admin.username,
                                 dbname=admin.database or "postgres", autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
