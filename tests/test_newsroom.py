"""Smoke test of the newsroom bench (bench/newsroom.py): two sites, half a simulated hour,
the real daemon; the report has its shape and the delays are computed. (Freshness itself is
measured by `python -m bench.newsroom`, never asserted here.)"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from bench.newsroom import quantiles, slope
from bench.newsroom_sites import PUBLISHERS, Newsroom, SimClock, timetable

ROOT = Path(__file__).resolve().parents[1]


def test_the_newsroom_reports_delays_requests_and_memory(tmp_path):
    out = tmp_path / "newsroom.json"
    subprocess.run([sys.executable, "-m", "bench.newsroom", "--hours", "0.5", "--factor", "90",
                    "--sources", "2", "--volume", "30", "--settle", "300", "--out", str(out)],
                   cwd=ROOT, check=True, capture_output=True, timeout=240)
    report = json.loads(out.read_text())
    assert report["daemon_exit"] == 0
    assert set(report["per_source"]) == {"pravda", "unian"}
    for source in report["per_source"].values():
        assert source["judged"] > 0 and source["stored"] > 0
        assert source["p50_s"] is not None and source["p95_s"] >= source["p50_s"] >= 0
        assert source["feed_requests"] > 0 and 0 <= source["share_304"] <= 1
    assert report["overall"]["n"] == sum(s["stored"] for s in report["per_source"].values())
    assert report["samples"] and report["samples"][0]["daemon_rss_mb"] > 0
    assert report["balance"]["entries_equal_stored_plus_pending_plus_failed"]
    assert {"rss_trend", "db_bytes_per_1000", "warc_files"} <= report.keys()


def test_sites_publish_on_their_timetable_with_validators():
    clock = SimClock(60.0, wall0=0.0)  # long past: every item of the first hour is out
    with Newsroom(PUBLISHERS[:2], clock, 3600, volume=20) as room:
        pravda, unian = room.sites
        status, headers, body = pravda.root({})
        assert status == 200 and b"<item>" in body
        assert pravda.root({"If-Modified-Since": headers["Last-Modified"]})[0] == 304
        status, headers, _ = unian.root({})
        assert unian.root({"If-None-Match": headers["ETag"]})[0] == 304
        assert pravda.respond("/news/0.html", {})[0] == 200
        assert pravda.respond(f"/news/{len(pravda.times)}.html", {})[0] == 404


def test_mornings_are_busier_than_nights():
    times = timetable(PUBLISHERS[0], 86400, volume=5, seed=3)
    night = sum(1 for t in times if t < 5 * 3600)
    morning = sum(1 for t in times if 7 * 3600 <= t < 12 * 3600)
    assert morning > 3 * night


def test_figures():
    assert quantiles([1.0, 2.0, 3.0])["p50_s"] == 2.0
    flat = [{"sim_hour": h, "rss": 100.0} for h in range(10)]
    assert slope(flat, "rss")["mb_per_day"] == 0.0
