"""The near-duplicate index at 1,000,000 articles: the signatures' band keys in PostgreSQL (an
array in each signature row under a GIN index, what placement asks on PostgreSQL) against
the in-memory LSH index each node would keep (and refresh through LISTEN/NOTIFY). Measures
lookup time (median, p95) and memory.

Signatures are random 128 x uint32 (as MinHash values are uniform); queries are stored
signatures with 30 % of their values changed, so each finds its original through the bands
(a near copy) and scores it, as placement does.

    python -m bench.near [--articles 1000000] [--queries 1000]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
import uuid
from pathlib import Path

import numpy as np
from sqlalchemy import create_engine
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from aggregator import dedup
from aggregator.db import batch, stories
from aggregator.records import Fingerprint
from bench.procmem import process_rss
from bench.run import PG_ADMIN_URL, _admin

ROOT = Path(__file__).resolve().parents[1]
MB = 2**20
# As migration 0013, without the foreign key to `articles` (not filled here).
DDL = "CREATE TABLE article_signatures (article_id integer PRIMARY KEY, minhash bytea NOT NULL, " \
      "shingles integer NOT NULL, bands bigint[])"
INDEX = ("CREATE INDEX ix_article_signatures_bands ON article_signatures USING gin (bands) "
         "WITH (fastupdate = off)")


def _signatures(count: int, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return (rng.integers(0, 2**32, size=(count, dedup.NUM_PERM), dtype=np.uint32),
            rng.integers(100, 1000, size=count))


def _banded(session: Session, fp: Fingerprint) -> list[tuple[int, bytes, int]]:
    """The stored signatures sharing a band key with `fp` (the store path's look-up)."""
    found = batch.band_signatures(session, set(dedup.band_keys(fp)))
    return list({s[0]: s for rows in found.values() for s in rows}.values())


def _fp(values: np.ndarray, size: int) -> Fingerprint:
    return Fingerprint("", values.astype("<u4").tobytes(), int(size))


def _queries(matrix: np.ndarray, sizes: np.ndarray, count: int) -> list[Fingerprint]:
    rng = np.random.default_rng(2)
    picked = rng.choice(len(matrix), size=count, replace=False)
    out = []
    for row in picked:
        values = matrix[row].copy()
        changed = rng.choice(dedup.NUM_PERM, size=int(dedup.NUM_PERM * 0.3), replace=False)
        values[changed] = rng.integers(0, 2**32, size=len(changed), dtype=np.uint32)
        out.append(_fp(values, sizes[row]))
    return out


def _keys(values: np.ndarray) -> np.ndarray:
    """dedup.band_keys of many signatures at once (checked against it on the first rows)."""
    bands, rows, fold = dedup._folds(dedup.LSH_THRESHOLD, dedup.NUM_PERM)
    used = values[:, : bands * rows].astype(np.uint64).reshape(len(values), bands, rows)
    keys = (used * fold).sum(axis=2) + np.arange(bands, dtype=np.uint64) * np.uint64(
        dedup.BAND_STEP)
    return keys.view(np.int64)


def _quantiles(times: list[float]) -> dict:
    times = sorted(times)
    return {"median_ms": round(statistics.median(times) * 1000, 3),
            "p95_ms": round(times[int(len(times) * 0.95)] * 1000, 3)}


def band_keys(matrix: np.ndarray, sizes: np.ndarray, queries: list[Fingerprint]) -> dict:
    name = f"aggbench_near_{uuid.uuid4().hex[:8]}"
    with _admin() as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    engine = create_engine(url)
    try:
        started = time.perf_counter()
        raw = engine.raw_connection()
        with raw.cursor() as cur:
            cur.execute(DDL)
            assert _keys(matrix[:3]).tolist() == [dedup.band_keys(_fp(matrix[r], sizes[r]))
                                                  for r in range(3)]
            chunk = 50_000
            with cur.copy("COPY article_signatures (article_id, minhash, shingles, bands) "
                          "FROM STDIN") as copy:
                for start in range(0, len(matrix), chunk):
                    keys = _keys(matrix[start:start + chunk]).tolist()
                    for n, row in enumerate(range(start, start + len(keys))):
                        copy.write_row((row + 1, matrix[row].astype("<u4").tobytes(),
                                        int(sizes[row]), keys[n]))
            cur.execute(INDEX)
            cur.execute("ANALYZE")
        raw.commit()
        raw.close()
        load = time.perf_counter() - started
        times, found = [], 0
        with Session(engine) as session:
            for fp in queries[:20]:  # warm the cache as a running node's would be
                _banded(session, fp)
            for fp in queries:
                started = time.perf_counter()
                matches = dedup.containment(fp, _banded(session, fp))
                times.append(time.perf_counter() - started)
                found += bool(matches)
        with Session(engine) as session:  # what a node's start reads: signatures lacking keys
            started = time.perf_counter()
            assert stories.unbanded(session, dedup.MIN_SHINGLES) == []
            start_scan = time.perf_counter() - started
        with engine.connect() as conn:
            size = conn.exec_driver_sql(
                "SELECT pg_relation_size('ix_article_signatures_bands'), "
                "pg_total_relation_size('article_signatures')").one()
    finally:
        engine.dispose()
        with _admin() as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    return {"load_s": round(load, 1), **_quantiles(times), "found": found,
            "start_scan_s": round(start_scan, 2), "band_index_mb": round(size[0] / MB),
            "signatures_mb": round(size[1] / MB), "node_memory_mb": 0}


def in_memory(matrix: np.ndarray, sizes: np.ndarray, queries: list[Fingerprint]) -> dict:
    before = process_rss(os.getpid())
    started = time.perf_counter()
    index = dedup.NearIndex()
    chunk = 50_000
    for start in range(0, len(matrix), chunk):
        index.add_many([(r + 1, _fp(matrix[r], sizes[r]))
                        for r in range(start, min(start + chunk, len(matrix)))])
    index._sort()  # as after a start-up load
    load = time.perf_counter() - started
    memory = process_rss(os.getpid()) - before
    times, found = [], 0
    for fp in queries:
        started = time.perf_counter()
        found += bool(index.matches(fp))
        times.append(time.perf_counter() - started)
    return {"load_s": round(load, 1), **_quantiles(times), "found": found,
            "node_memory_mb": round(memory / MB)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "near.json")
    args = parser.parse_args()
    matrix, sizes = _signatures(args.articles)
    queries = _queries(matrix, sizes, args.queries)
    print(f"{time.strftime('%H:%M:%S')} band keys ({args.articles} articles) ...", flush=True)
    shared = band_keys(matrix, sizes, queries)
    print(f"{time.strftime('%H:%M:%S')} in-memory index ...", flush=True)
    memory = in_memory(matrix, sizes, queries)
    report = {"articles": args.articles, "queries": args.queries, "band_keys": shared,
              "in_memory": memory}
    for name, r in (("band keys (PostgreSQL)", shared), ("in-memory LSH (per node)", memory)):
        print(f"{name:<26} lookup median {r['median_ms']} ms, p95 {r['p95_ms']} ms; "
              f"found {r['found']}/{args.queries}; load {r['load_s']} s; "
              f"node memory {r['node_memory_mb']} MB"
              + (f"; GIN index {r['band_index_mb']} MB of signatures {r['signatures_mb']} MB;"
                 f" start-up scan {r['start_scan_s']} s" if "band_index_mb" in r else ""))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
