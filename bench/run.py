"""`make bench`: one full ingest of a loopback corpus into SQLite and PostgreSQL through the real
code path, the floor, our extraction alone and the peer over the same pages, and optionally the
scale curve.

    .venv/bin/python -m bench.run [--sites 20] [--articles 250] [--scales 1 4 16]
                                  [--databases sqlite postgres] [--sample 600]
                                  [--peer-sample 300] [--repeat N] [--yardsticks-only]
    .venv/bin/python -m bench.run --nodes 1 2 3 [--sites 12] [--articles 100]

`--nodes`: N daemons on one PostgreSQL instead (bench/nodes.py).

Prints a table and writes bench/results/latest.json. Politeness is off for the loopback
server (no delay, no AutoThrottle, no robots.txt, high per-host concurrency).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import psycopg
import yaml
from sqlalchemy.engine import make_url

from aggregator.db.migrate import upgrade
from bench import peers
from bench.procmem import PeakSampler, cpu_seconds
from bench.server import CorpusServer, throughput

RESULTS = Path(__file__).resolve().parent / "results" / "latest.json"
PG_ADMIN_URL = os.environ.get(
    "AGGREGATOR_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
BENCH_SETTINGS = {"download_delay": 0, "autothrottle": False, "obey_robots": False,
                  "concurrency": 32, "per_host_concurrency": 32, "max_concurrent_crawls": 8,
                  "http_port": 0}
MB = 2**20


def _admin() -> psycopg.Connection:
    url = make_url(PG_ADMIN_URL)
    return psycopg.connect(host=url.host, port=url.port or 5432, user=url.username,
                           password=url.password, dbname=url.database or "postgres",
                           autocommit=True)


def _database(kind: str, workdir: Path) -> tuple[str, str | None]:
    """A fresh, migrated database: (URL, PostgreSQL name to drop afterwards)."""
    if kind == "sqlite":
        url = f"sqlite:///{workdir / 'bench.db'}"
        upgrade(url)
        return url, None
    name = f"aggbench_{uuid.uuid4().hex[:10]}"
    with _admin() as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    upgrade(url)
    return url, name


def _database_bytes(kind: str, workdir: Path, name: str | None) -> int:
    if kind == "sqlite":
        return sum(p.stat().st_size for p in workdir.glob("bench.db*"))
    with _admin() as admin:
        return admin.execute("SELECT pg_database_size(%s)", (name,)).fetchone()[0]


def ingest(server: CorpusServer, kind: str, workers: int, profile: Path | None = None) -> dict:
    """One ingest of the whole corpus into a fresh `kind` database, in a child process."""
    workdir = Path(tempfile.mkdtemp(prefix=f"bench-{kind}-"))
    url, pg_name = _database(kind, workdir)
    config = workdir / "config"
    (config / "sources").mkdir(parents=True)
    settings = {**BENCH_SETTINGS, "data_dir": str(workdir / "data"), "database_url": url,
                "extract_workers": workers}
    (config / "aggregator.yaml").write_text(yaml.safe_dump(settings))
    for name, feed_url in server.feed_urls():
        (config / "sources" / f"{name}.yaml").write_text(yaml.safe_dump({
            "name": name, "title": name, "kind": "feed", "url": feed_url, "language": "uk",
            "schedule": {"every": "1h"}, "allowed_domains": ["127.0.0.1"],
            "allow_private_addresses": True}))
    out = workdir / "ingest.json"
    with open(workdir / "ingest.log", "w") as log:
        command = [sys.executable, "-m", "bench.ingest", str(config), str(out)]
        if profile is not None:  # py-spy samples every thread of the measured process
            profile.mkdir(parents=True, exist_ok=True)
            spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
            command = [spy, "record", "--threads", "--rate", "200", "--format", "raw",
                       "-o", str(profile / f"{kind}.txt"), "--", *command]
        server_cpu = cpu_seconds("postgres") if pg_name else 0.0
        loopback_cpu = time.process_time()  # this process: the corpus server and the sampler
        child = subprocess.Popen(command, stderr=log, cwd=Path(__file__).resolve().parents[1])
        with PeakSampler(lambda: child.pid) as sampler:
            child.wait()
            loopback_cpu = time.process_time() - loopback_cpu
    if child.returncode:
        raise SystemExit(f"ingest into {kind} failed: see {workdir / 'ingest.log'}")
    result = json.loads(out.read_text())
    stored = max(result["stored"], 1)
    if pg_name:  # the database server's share: its processes' CPU over the ingest
        result["cpu_ms"]["database"] = round((cpu_seconds("postgres") - server_cpu) / stored
                                             * 1000, 2)
    # the sites' side and the sampler, neither of which production runs beside the daemon
    result["loopback_server_cpu_ms"] = round(loopback_cpu / stored * 1000, 2)
    result.update(
        database=kind, articles_per_s=round(result["stored"] / result["seconds"], 2),
        peak_daemon_rss_mb=round(sampler.root_rss / MB, 1),
        peak_tree_rss_mb=round(sampler.tree_rss / MB, 1),
        peak_tree_pss_mb=round(sampler.tree_pss / MB, 1),
        db_bytes_per_1000=int(_database_bytes(kind, workdir, pg_name) / stored * 1000),
        warc_bytes_per_1000=int(sum(p.stat().st_size for p in (workdir / "data").rglob("*.warc*"))
                                / stored * 1000))
    if pg_name:
        with _admin() as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)')
    shutil.rmtree(workdir)
    return result


def _ratio(ours: float, theirs: dict | None) -> float | None:
    return round(ours / theirs["articles_per_s"], 2) if theirs else None


def print_table(report: dict) -> None:
    print(f"{'scale':>5} {'db':<8} {'articles':>8} {'seconds':>8} {'art/s':>7} "
          f"{'daemon MB':>9} {'tree MB':>8} {'DB KB/1k':>9}   stage median/p95 ms")
    for run in report["runs"]:
        stages = "  ".join(f"{name} {s['median_ms']}/{s['p95_ms']}"
                           for name, s in sorted(run["stages"].items()))
        print(f"{run['scale']:>4}x {run['database']:<8} {run['stored']:>8} {run['seconds']:>8} "
              f"{run['articles_per_s']:>7} {run['peak_daemon_rss_mb']:>9} "
              f"{run['peak_tree_rss_mb']:>8} {run['db_bytes_per_1000'] // 1024:>9}   {stages}")
    for run in report["runs"]:
        if run.get("cpu_ms"):
            print(f"CPU ms an article, {run['database']} {run['scale']}x: " + ", ".join(
                f"{name} {ms}" for name, ms in run["cpu_ms"].items())
                + f"; loopback sites {run.get('loopback_server_cpu_ms')}")
        if run.get("thread_cpu_ms"):
            print("  by thread: " + ", ".join(
                f"{name} {ms}" for name, ms in run["thread_cpu_ms"].items()))
    for name in ("floor", "floor_after", "extraction", "peer"):
        if report.get(name):
            print(f"{name}: {report[name]['articles_per_s']} articles/s "
                  f"({report[name]['articles_per_cpu_s']} per CPU second) over "
                  f"{report[name]['pages']} pages ({report[name]['empty']} empty)")
    if report.get("extraction_over_floor"):
        print(f"extraction/floor {report['extraction_over_floor']} "
              f"({report['extraction_over_floor_cpu']} in CPU time)")
    if report.get("postgres_over_sqlite"):
        print(f"postgres/sqlite {report['postgres_over_sqlite']} "
              f"({report['postgres_over_sqlite_cpu']} by CPU an article)")
    if report["runs"]:
        print(f"ours/floor {report['ours_over_floor']} (against the mean of the floor before "
              f"and after the ingests)  ours/peer {report['ours_over_peer']}  "
              f"(SQLite, {report['runs'][0]['scale']}x)")


def one_round(args: argparse.Namespace, databases: list[str]) -> dict:
    """Yardsticks, then one ingest per scale and database (in `databases`' order)."""
    pages = peers.sample_pages(args.sites, args.articles, args.sample)
    report = {"sites": args.sites, "articles": args.articles, "cpus": os.cpu_count(),
              "floor": peers.floor(pages), "extraction": peers.extraction(pages),
              "peer": peers.news_please(pages[:args.peer_sample or args.sample // 2]),
              "runs": []}
    del pages
    report["extraction_over_floor"] = _ratio(report["extraction"]["articles_per_s"],
                                             report["floor"])
    report["extraction_over_floor_cpu"] = round(report["extraction"]["articles_per_cpu_s"]
                                                 / report["floor"]["articles_per_cpu_s"], 2)
    for scale in [] if args.yardsticks_only else args.scales:
        with CorpusServer(args.sites, args.articles * scale) as server:
            if not report.get("server_pages_per_s"):
                report["server_pages_per_s"] = round(throughput(server, pages=500))
            for kind in databases:
                started = time.strftime("%H:%M:%S")
                print(f"{started} ingest {scale}x into {kind} ...", flush=True)
                report["runs"].append({"scale": scale, **ingest(server, kind, args.workers,
                                                                   args.profile)})
    first = next((r for r in report["runs"] if r["database"] == "sqlite"),
                 report["runs"][0] if report["runs"] else None)
    ours = first["articles_per_s"] if first else None
    if ours:  # the floor again, after: the machine's pace drifts over the minutes between
        report["floor_after"] = peers.floor(
            peers.sample_pages(args.sites, args.articles, args.sample))
        report["floor_bracket"] = {"articles_per_s": round(
            (report["floor"]["articles_per_s"] + report["floor_after"]["articles_per_s"]) / 2, 2)}
    report["ours_over_floor"] = _ratio(ours, report["floor_bracket"]) if ours else None
    report["ours_over_peer"] = _ratio(ours, report["peer"]) if ours else None
    report.update(_postgres_over_sqlite(report["runs"]))
    return report


def _cpu_ms(run: dict) -> float:
    """CPU an article on the whole machine's part in it: the daemon, its workers, the server."""
    cpu = run["cpu_ms"]
    return cpu["process"] + cpu["workers"] + cpu.get("database", 0.0)


def _postgres_over_sqlite(runs: list[dict]) -> dict:
    """PostgreSQL's articles/s over SQLite's at the first scale that has both, and the same
    by CPU an article (which moves less with the machine's pace between the two ingests)."""
    for scale in dict.fromkeys(r["scale"] for r in runs):
        at = {r["database"]: r for r in runs if r["scale"] == scale}
        if {"sqlite", "postgres"} <= at.keys():
            sqlite, postgres = at["sqlite"], at["postgres"]
            return {"postgres_over_sqlite": _ratio(postgres["articles_per_s"], sqlite),
                    "postgres_over_sqlite_cpu": round(_cpu_ms(sqlite) / _cpu_ms(postgres), 3)}
    return {}


def figures(report: dict) -> dict[str, float]:
    """The headline figures of one round, by name (what --repeat compares)."""
    out = {}
    for name in ("floor", "floor_after", "extraction", "peer"):
        if report.get(name):
            out[f"{name} articles/s"] = report[name]["articles_per_s"]
            out[f"{name} articles/CPU s"] = report[name]["articles_per_cpu_s"]
    for run in report["runs"]:
        out[f"{run['database']} {run['scale']}x articles/s"] = run["articles_per_s"]
    for key in ("extraction_over_floor", "ours_over_floor", "ours_over_peer",
                "postgres_over_sqlite", "postgres_over_sqlite_cpu"):
        if report.get(key):
            out[key] = report[key]
    return out


def spread(rounds: list[dict]) -> dict[str, dict]:
    """Per figure: the values of every round, their mean and (max - min) / mean."""
    names = [n for n in figures(rounds[0]) if all(n in figures(r) for r in rounds)]
    out = {}
    for name in names:
        values = [figures(r)[name] for r in rounds]
        mean = sum(values) / len(values)
        out[name] = {"values": values, "mean": round(mean, 2),
                     "spread_percent": round((max(values) - min(values)) / mean * 100, 1)}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sites", type=int, default=20, help="sites (S)")
    parser.add_argument("--articles", type=int, default=250, help="articles per site (N)")
    parser.add_argument("--scales", type=int, nargs="+", default=[1],
                        help="multipliers of N for the scale curve, e.g. 1 4 16")
    parser.add_argument("--databases", nargs="+", default=["sqlite", "postgres"],
                        choices=["sqlite", "postgres"])
    parser.add_argument("--sample", type=int, default=600, help="pages for the floor")
    parser.add_argument("--peer-sample", type=int, default=0,
                        help="pages for the peer (0: half the sample)")
    parser.add_argument("--repeat", type=int, default=1,
                        help="rounds; above 1 the spread of every figure is printed")
    parser.add_argument("--yardsticks-only", action="store_true",
                        help="the floor, our extraction alone and the peer, no ingest")
    parser.add_argument("--workers", type=int, default=0, help="extraction processes (0: cores)")
    parser.add_argument("--profile", type=Path, help="py-spy collapsed stacks of each ingest "
                        "(threads apart) into this directory")
    parser.add_argument("--out", type=Path, default=RESULTS, help="where the JSON goes")
    parser.add_argument("--nodes", type=int, nargs="+", default=None,
                        help="N daemons on one PostgreSQL, e.g. 1 2 3 (bench/nodes.py)")
    args = parser.parse_args()
    if args.nodes:
        from bench import nodes

        sites = args.sites if "--sites" in sys.argv else 12
        articles = args.articles if "--articles" in sys.argv else 100
        nodes.main(["--nodes", *map(str, args.nodes), "--sites", str(sites),
                    "--articles", str(articles), "--workers", str(args.workers or 1)])
        return

    rounds = []
    for n in range(args.repeat):
        if args.repeat > 1:
            print(f"{time.strftime('%H:%M:%S')} round {n + 1} of {args.repeat}", flush=True)
        # Every other round the other way round: the database ingested second does not
        # always meet the machine a minute more tired.
        rounds.append(one_round(args, args.databases[::-1] if n % 2 else args.databases))
        print_table(rounds[-1])
    report = rounds[-1]
    if args.repeat > 1:
        report["rounds"] = [figures(r) for r in rounds]
        report["spread"] = spread(rounds)
        print(f"{'figure':<28} {'mean':>8} {'spread %':>9}   values")
        for name, s in report["spread"].items():
            print(f"{name:<28} {s['mean']:>8} {s['spread_percent']:>9}   {s['values']}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2))
    print(f"written {args.out}")


if __name__ == "__main__":
    main()
