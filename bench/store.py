"""The store stage alone: `python -m bench.store [--sites 10] [--articles 60] [--baseline DIR]`.

The corpus's pages are extracted once in this process (the extraction workers' own function);
then a child process per database stores them through `Ingestor.store_articles` in batches of
BATCH (as the writer thread does, WARC records included), first as new articles, then every
10th again (the known-article path), and reports per article: wall ms, the storing thread's
CPU ms, and the SQL statements sent (an `executemany` counts once). `--baseline DIR` runs the
same children with DIR's `aggregator` (another checkout, e.g. the commit before a change),
taking turns, and prints both and their ratio: a before/after in one run.
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

BATCH = 32
BASE = "http://127.0.0.1:8000"  # only in the markup: nothing is fetched
ROOT = Path(__file__).resolve().parent.parent


def _arrival_parts(sites: int, articles: int) -> list[tuple]:
    """(site, entry, fetch, draft, raw) for every page of the corpus, extracted once."""
    from datetime import datetime, timezone

    from aggregator import records
    from aggregator.workers import extract_and_fingerprint
    from bench import corpus

    now = datetime(2026, 11, 20, 12, 0, tzinfo=timezone.utc)
    parts = []
    for number in range(articles):
        for site in range(sites):
            a = corpus.article(site, number, sites)
            url, body = f"{BASE}{a.path}", corpus.page(BASE, site, number, sites)
            draft = extract_and_fingerprint(body, url, "text/html; charset=utf-8", "uk").draft
            entry = records.FeedEntry(guid=f"s{site}-{number}", link=url, title=a.title,
                                      published_at=a.published)
            fetch = records.FetchRecord(url=url, final_url=url, status=200, fetched_at=now,
                                        size=len(body), sha256="0" * 64, kind="page",
                                        content_type="text/html; charset=utf-8",
                                        duration_ms=5)
            raw = records.RawPage(url, 200, (("Content-Type", "text/html"),), body, now)
            parts.append((site, entry, fetch, draft, raw))
    return parts


def child(parts_file: str, db_url: str, warc_dir: str) -> dict:
    """Store the pickled pages into db_url with this interpreter's `aggregator`."""
    from sqlalchemy import event

    from aggregator import records
    from aggregator.archive import WarcArchive
    from aggregator.db.engine import Database
    from aggregator.ingest import Arrival, Ingestor
    from aggregator.ledger import CrawlLedger
    from aggregator.sources import Source

    parts = pickle.loads(Path(parts_file).read_bytes())
    db = Database(db_url)
    ledger, ingestor = CrawlLedger(db), Ingestor(db, WarcArchive(Path(warc_dir)))
    sites = sorted({site for site, *_ in parts})
    sources = {s: Source(name=f"s{s}", title=f"Новини {s}", kind="feed",
                         url=f"{BASE}/s{s}/feed/0.xml", language="uk",
                         allowed_domains=["127.0.0.1"]) for s in sites}
    ids = {s: ledger.register(sources[s]) for s in sites}
    feed = records.FetchRecord(url="x", final_url="x", status=200, fetched_at=parts[0][2]
                               .fetched_at, size=1, sha256="0" * 64, kind="feed")
    pending = {}
    for s in sites:
        _, found = ledger.accept_entries(ids[s], feed, tuple(p[1] for p in parts if p[0] == s))
        pending.update({p.entry.guid: p.id for p in found})
    arrivals = [Arrival(sources[s], ids[s], [pending[e.guid]], e, f, d, r)
                for s, e, f, d, r in parts]
    statements = [0]

    def counted(*_args) -> None:
        statements[0] += 1

    event.listen(db.engine, "before_cursor_execute", counted)
    out = {}
    for name, todo in (("new", arrivals), ("known", arrivals[::10])):
        statements[0] = 0
        wall, cpu = time.perf_counter(), time.thread_time()
        for start in range(0, len(todo), BATCH):
            for outcome in ingestor.store_articles(todo[start:start + BATCH]):
                if isinstance(outcome, Exception):
                    raise outcome
        wall, cpu = time.perf_counter() - wall, time.thread_time() - cpu
        out[name] = {"articles": len(todo), "ms": round(wall / len(todo) * 1000, 2),
                     "cpu_ms": round(cpu / len(todo) * 1000, 2),
                     "statements": round(statements[0] / len(todo), 2)}
    db.dispose()
    return out


def _run_child(checkout: Path, parts_file: Path, kind: str, workdir: Path) -> dict:
    from bench.run import _admin, _database

    here = workdir / uuid.uuid4().hex[:8]
    (here / "warc").mkdir(parents=True)
    url, pg_name = _database(kind, here)
    env = {**os.environ, "PYTHONPATH": str(checkout)}
    done = subprocess.run([sys.executable, __file__, "--child", str(parts_file), url,
                           str(here / "warc")], env=env, cwd=checkout, capture_output=True,
                          text=True, check=False)
    if pg_name:
        with _admin() as admin:
            admin.execute(f'DROP DATABASE "{pg_name}"')
    if done.returncode:
        raise SystemExit(f"{checkout} on {kind} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sites", type=int, default=10)
    parser.add_argument("--articles", type=int, default=60, help="articles per site")
    parser.add_argument("--databases", nargs="+", default=["sqlite", "postgres"])
    parser.add_argument("--baseline", type=Path, help="another checkout to time alongside")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(*args.child)))
        return
    checkouts = {"this": ROOT} | ({"baseline": args.baseline.resolve()} if args.baseline else {})
    with tempfile.TemporaryDirectory(prefix="bench-store-") as tmp:
        workdir = Path(tmp)
        parts_file = workdir / "parts.pickle"
        parts_file.write_bytes(pickle.dumps(_arrival_parts(args.sites, args.articles)))
        best: dict = {}
        for _ in range(args.rounds):
            for kind in args.databases:
                for name, checkout in checkouts.items():
                    result = _run_child(checkout, parts_file, kind, workdir)
                    for path, figures in result.items():
                        key = (name, kind, path)
                        if key not in best or figures["ms"] < best[key]["ms"]:
                            best[key] = figures
    print(f"{'checkout':<9} {'database':<9} {'path':<6} {'articles':>8} {'ms/art':>7} "
          f"{'cpu ms':>7} {'stmts/art':>9}")
    for (name, kind, path), f in best.items():
        print(f"{name:<9} {kind:<9} {path:<6} {f['articles']:>8} {f['ms']:>7} {f['cpu_ms']:>7} "
              f"{f['statements']:>9}")
    if args.baseline:
        for kind in args.databases:
            ratio = best[("baseline", kind, "new")]["ms"] / best[("this", kind, "new")]["ms"]
            print(f"{kind}: new articles stored {ratio:.2f}x as fast as the baseline")


if __name__ == "__main__":
    main()
