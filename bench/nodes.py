"""`make bench BENCH_ARGS="--nodes 1 2 3"`: N daemons (`aggregator run`) on one fresh
PostgreSQL database ingest the loopback corpus, its sites spread over six loopback hosts
(127.0.0.1-6) so host leases have something to divide.

Every source's first run is stored 30 s ahead before the nodes start, so the nodes share the
hosts out while idle and all begin together (a node starting alone would take every host and
hand the surplus back only between crawls, and a one-shot ingest has no "between").
Reported per N: articles/s (first to last article stored), the time the nodes spent in lease
transactions (heartbeats) and waiting for placement locks, and both per article, from each
node's /metrics. The machine has two cores: watch the coordination overhead, not a speed-up.

    python -m bench.nodes [--nodes 1 2 3] [--sites 12] [--articles 100]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import ExitStack
from datetime import datetime, timedelta, timezone
from pathlib import Path

import yaml
from sqlalchemy import create_engine, func, select

from aggregator.db.models import Article, HostLease
from bench.run import BENCH_SETTINGS, _admin, _database
from bench.server import CorpusServer

HOSTS = [f"127.0.0.{i}" for i in range(1, 7)]
FIRST_RUN = 30  # seconds from registration to every source's first crawl
ROOT = Path(__file__).resolve().parents[1]


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _metric(body: str, name: str, **labels: str) -> float:
    total = 0.0
    for line in body.splitlines():
        if line.startswith(name + "{") and all(f'{k}="{v}"' in line for k, v in labels.items()):
            total += float(line.rsplit(" ", 1)[1])
    return total


def _configure(servers: list[CorpusServer], config: Path, url: str) -> int:
    """Source files (site s on host s mod 6), their rows registered with the first run
    FIRST_RUN seconds ahead; returns the articles to expect."""
    from sqlalchemy import update

    from aggregator.db.engine import Database
    from aggregator.db.models import Source as SourceRow
    from aggregator.ledger import CrawlLedger
    from aggregator.sources import load_sources

    for server in servers:
        host = server.base.split("//")[1].split(":")[0]
        for name, feed_url in server.feed_urls():
            if HOSTS[int(re.match(r"s(\d+)", name)[1]) % len(HOSTS)] != host:
                continue
            (config / "sources" / f"{name}.yaml").write_text(yaml.safe_dump({
                "name": name, "title": name, "kind": "feed", "url": feed_url,
                "language": "uk", "schedule": {"every": "1h"}, "allowed_domains": [host],
                "allow_private_addresses": True}))
    db = Database(url)
    ledger = CrawlLedger(db)
    for source in load_sources(config / "sources").sources:
        ledger.register(source)
    with db.session() as session:
        session.execute(update(SourceRow).values(
            next_run_at=datetime.now(timezone.utc) + timedelta(seconds=FIRST_RUN)))
    db.dispose()
    return servers[0].sites * servers[0].articles


def run_cluster(servers: list[CorpusServer], nodes: int, workers: int) -> dict:
    workdir = Path(tempfile.mkdtemp(prefix=f"bench-nodes{nodes}-"))
    url, pg_name = _database("postgres", workdir)
    engine = create_engine(url)
    config = workdir / "config"
    (config / "sources").mkdir(parents=True)
    settings = {**BENCH_SETTINGS, "data_dir": str(workdir / "data"), "database_url": url,
                "extract_workers": workers, "first_run_spread": 0, "reload_poll": 0,
                "screenshots": {"enabled": False}, "node": {"lease_ttl": 10, "heartbeat": 1}}
    (config / "aggregator.yaml").write_text(yaml.safe_dump(settings))
    expected = _configure(servers, config, url)
    ports = [_free_port() for _ in range(nodes)]
    procs, logs = [], []
    try:
        for n, port in enumerate(ports):
            logs.append(open(workdir / f"node{n}.log", "w"))
            env = {**os.environ, "AGGREGATOR_NODE__NAME": f"node{n}",
                   "AGGREGATOR_HTTP_PORT": str(port)}
            procs.append(subprocess.Popen(
                [sys.executable, "-m", "aggregator", "--config", str(config), "run"],
                stdout=logs[-1], stderr=subprocess.STDOUT, env=env, cwd=ROOT))
        started = time.perf_counter()
        with engine.connect() as conn:
            while conn.scalar(select(func.count()).select_from(Article)) < expected:
                if any(p.poll() is not None for p in procs):
                    raise SystemExit(f"a node exited: see {workdir}")
                time.sleep(0.5)
                conn.rollback()
            wall = time.perf_counter() - started
            first, last = conn.execute(select(func.min(Article.first_seen_at),
                                              func.max(Article.first_seen_at))).one()
            shares = dict(conn.execute(select(HostLease.node, func.count())
                                       .group_by(HostLease.node)).all())
        pages = [urllib.request.urlopen(f"http://127.0.0.1:{p}/metrics", timeout=10)
                 .read().decode() for p in ports]
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(60)
            except subprocess.TimeoutExpired:
                proc.kill()
        for log in logs:
            log.close()
        engine.dispose()
    stored = sum(_metric(b, "aggregator_articles_stored_total", result="new") for b in pages)
    placement = sum(_metric(b, "aggregator_lock_wait_seconds_total", lock="placement")
                    for b in pages)
    lease = sum(_metric(b, "aggregator_lock_wait_seconds_total", lock="lease") for b in pages)
    store = sum(_metric(b, "aggregator_stage_seconds_sum", stage="store") for b in pages)
    with _admin() as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)')
    shutil.rmtree(workdir)
    span = (last - first).total_seconds() or 1.0
    return {"nodes": nodes, "articles": expected, "wall_s": round(wall, 1),
            "articles_per_s": round(expected / span, 1),
            "hosts_per_node": sorted(v for k, v in shares.items() if k),
            "placement_lock_s": round(placement, 2), "lease_tx_s": round(lease, 2),
            "placement_lock_ms_per_article": round(placement / max(stored, 1) * 1000, 2),
            "lease_tx_ms_per_article": round(lease / max(stored, 1) * 1000, 2),
            "store_ms_per_article": round(store / max(stored, 1) * 1000, 2)}


def main(argv: list[str] | None = None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--sites", type=int, default=12)
    parser.add_argument("--articles", type=int, default=100)
    parser.add_argument("--workers", type=int, default=1, help="extraction processes per node")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "nodes.json")
    args = parser.parse_args(argv)
    results = []
    with ExitStack() as stack:
        servers = [stack.enter_context(CorpusServer(args.sites, args.articles, host))
                   for host in HOSTS]
        for n in args.nodes:
            print(f"{time.strftime('%H:%M:%S')} {n} node(s) ...", flush=True)
            results.append(run_cluster(servers, n, args.workers))
    print(f"{'nodes':>5} {'articles':>8} {'art/s':>6} {'hosts':>10} {'placement lock s':>16} "
          f"{'ms/article':>10} {'lease tx s':>10} {'ms/article':>10} {'store ms/article':>16}")
    for r in results:
        print(f"{r['nodes']:>5} {r['articles']:>8} {r['articles_per_s']:>6} "
              f"{'/'.join(map(str, r['hosts_per_node'])):>10} {r['placement_lock_s']:>16} "
              f"{r['placement_lock_ms_per_article']:>10} {r['lease_tx_s']:>10} "
              f"{r['lease_tx_ms_per_article']:>10} {r['store_ms_per_article']:>16}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2))
    return results


if __name__ == "__main__":
    main()
