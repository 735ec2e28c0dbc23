"""Smoke test of the benchmark harness on a tiny corpus: it runs and reports every figure.
(Speed itself is measured by `make bench`, never asserted here.)"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

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
