"""Smoke test of the benchmark harness on a tiny corpus: it runs and reports every figure.
(Speed itself is measured by `make bench`, never asserted here.)"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from http.client import HTTPConnection
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_harness_reports_every_figure(tmp_path):
    out = tmp_path / "latest.json"
    subprocess.run([sys.executable, "-m", "bench.run", "--sites", "2", "--articles", "5",
                    "--sample", "4", "--databases", "sqlite", "--out", str(out)],
                   cwd=ROOT, check=True, capture_output=True, timeout=240)
    report = json.loads(out.read_text())
    assert report["floor"]["articles_per_s"] > 0
    assert report["extraction"]["articles_per_s"] > 0
    assert report["floor_after"]["articles_per_s"] > 0  # the floor brackets the ingest
    assert report["ours_over_floor"] == round(
        report["runs"][0]["articles_per_s"] / report["floor_bracket"]["articles_per_s"], 2)
    assert {"ours_over_floor", "ours_over_peer", "extraction_over_floor",
            "server_pages_per_s"} <= report.keys()
    (run,) = report["runs"]
    assert run["stored"] == 10 and run["failed"] == 0
    for key in ("articles_per_s", "peak_daemon_rss_mb", "peak_tree_rss_mb", "db_bytes_per_1000"):
        assert run[key] > 0
    assert {"fetch", "extract", "dedup", "store"} <= run["stages"].keys()
    assert all(s["median_ms"] is not None and s["p95_ms"] is not None
               for s in run["stages"].values())
    assert run["peak_tree_pss_mb"] > 0  # sampled on the first tick, then every second
    assert run["loopback_server_cpu_ms"] >= 0
    threads = run["thread_cpu_ms"]  # by Python thread name, pools' numbers dropped
    assert threads["db-writer"] > 0 and threads["MainThread"] > 0 and "extract" in threads
    assert sum(threads.values()) <= run["cpu_ms"]["process"] * 1.05


def test_corpus_server_answers_keep_alive_requests_split_or_unknown():
    from bench import corpus
    from bench.server import CorpusServer

    with CorpusServer(2, 3) as server:
        conn = HTTPConnection(*server.base.split("//")[1].split(":"))
        conn.request("GET", "/s1/news/2.html")
        first = conn.getresponse()
        assert first.status == 200 and first.read() == corpus.page(server.base, 1, 2, 2)
        assert first.getheader("Content-Type") == "text/html; charset=utf-8"
        conn.request("GET", "/s9/news/0.html")  # the same connection: kept alive
        missing = conn.getresponse()
        assert missing.status == 404 and missing.read() == b"not found"
        conn.close()
        host, port = server.base.split("//")[1].split(":")
        with socket.create_connection((host, int(port))) as raw:
            raw.sendall(b"GET /s0/feed/0.xml HTTP/1.1\r\nHo")  # a head in two pieces
            time.sleep(0.05)
            raw.sendall(b"st: x\r\n\r\n")
            feed = corpus.feed(server.base, 0, 0, 3, 2)
            reply = b""
            while not reply.endswith(feed):
                chunk = raw.recv(65536)
                assert chunk, reply[:200]
                reply += chunk
        assert reply.startswith(b"HTTP/1.1 200 OK\r\n")
    with pytest.raises(OSError):  # closed with the block
        socket.create_connection((host, int(port)), timeout=1)


def test_tree_memory_counts_the_children_and_pss_only_when_asked():
    from bench.procmem import process_rss, tree_memory

    child = subprocess.Popen([sys.executable, "-c",
                              "import time; x = bytearray(60_000_000); time.sleep(60)"])
    try:
        deadline = time.monotonic() + 30
        while process_rss(child.pid) < 60_000_000 and time.monotonic() < deadline:
            time.sleep(0.05)
        rss, pss = tree_memory(os.getpid())
        assert rss >= process_rss(os.getpid()) + 60_000_000
        assert pss > 60_000_000
        assert tree_memory(os.getpid(), pss=False)[1] == 0
    finally:
        child.kill()
        child.wait()


def test_peak_sampler_follows_a_root_that_starts_late_and_keeps_the_peaks():
    from bench.procmem import PeakSampler

    started: list[subprocess.Popen] = []
    with PeakSampler(lambda: started[0].pid if started else None, every=0.02,
                     pss_every=3) as sampler:
        time.sleep(0.1)  # no tree yet: nothing sampled, nothing raised
        assert sampler.tree_rss == 0 and sampler.is_alive()
        started.append(subprocess.Popen([
            sys.executable, "-c", "import time; x = bytearray(60_000_000); time.sleep(1);"
            "del x; time.sleep(60)"]))
        try:
            deadline = time.monotonic() + 30
            while sampler.tree_pss < 60_000_000 and time.monotonic() < deadline:
                time.sleep(0.05)
            time.sleep(1.5)  # the 60 MB are freed: the peaks stay
        finally:
            started[0].kill()
            started[0].wait()
    assert not sampler.is_alive()
    assert sampler.root_rss >= 60_000_000 and sampler.tree_rss >= 60_000_000
    assert sampler.tree_pss >= 60_000_000


def test_postgres_is_compared_with_sqlite_at_the_first_scale_with_both():
    from bench.run import _postgres_over_sqlite

    def run(db: str, scale: int, per_s: float, workers: float, database: float = 0.0) -> dict:
        cpu = {"process": 5.0, "workers": workers} | ({"database": database} if database else {})
        return {"database": db, "scale": scale, "articles_per_s": per_s, "cpu_ms": cpu}

    runs = [run("sqlite", 1, 100.0, 15.0), run("postgres", 4, 10.0, 15.0, 5.0),
            run("postgres", 1, 90.0, 15.0, 5.0), run("sqlite", 4, 20.0, 15.0)]
    assert _postgres_over_sqlite(runs) == {"postgres_over_sqlite": 0.9,
                                           "postgres_over_sqlite_cpu": 0.8}
    assert _postgres_over_sqlite(runs[:1]) == {}


def test_nodes_harness_reports_every_figure(tmp_path):
    out = tmp_path / "nodes.json"
    subprocess.run([sys.executable, "-m", "bench.nodes", "--nodes", "2", "--sites", "6",
                    "--articles", "5", "--out", str(out)],
                   cwd=ROOT, check=True, capture_output=True, timeout=240)
    (run,) = json.loads(out.read_text())
    assert run["articles"] == 30 and run["hosts_per_node"] == [3, 3]
    for key in ("articles_per_s", "placement_lock_s", "lease_tx_s", "store_ms_per_article"):
        assert run[key] > 0


def test_near_index_harness_reports_both_indexes(tmp_path):
    out = tmp_path / "near.json"
    subprocess.run([sys.executable, "-m", "bench.near", "--articles", "2000", "--queries", "50",
                    "--out", str(out)], cwd=ROOT, check=True, capture_output=True, timeout=240)
    report = json.loads(out.read_text())
    for index in ("band_keys", "in_memory"):
        assert report[index]["found"] == 50 and report[index]["median_ms"] > 0
