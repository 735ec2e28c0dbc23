"""Capture throughput and browser memory with 1, 2 and 4 pages in the pool.

Serves article pages from a loopback site, queues one capture per article through the real
ingestion path, drains the queue with the real worker and real Chromium, and samples the
memory of the browser's whole process tree (browser, renderers, GPU and utility processes):
the sum of RSS (counts shared pages once per process) and of PSS (shares them out).

    .venv/bin/python bench/screenshots.py [--captures 24] [--pools 1 2 4]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from aggregator.capture import ScreenshotWorker  # noqa: E402
from aggregator.db.migrate import upgrade  # noqa: E402
from aggregator.settings import Settings  # noqa: E402
from bench.procmem import PeakSampler  # noqa: E402
from tests import stories  # noqa: E402
from tests.httpsite import Site  # noqa: E402
from tests.newssite import article_page  # noqa: E402
from tests.test_screenshots import make_source, store  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results" / "screenshots.json"


def one_run(site: Site, pool: int, captures: int) -> dict:
    workdir = Path(tempfile.mkdtemp(prefix="bench-shots-"))
    url = f"sqlite:///{workdir / 'bench.db'}"
    upgrade(url)
    source = make_source("bench", site)
    for n in range(captures):
        story = stories.ALL[n % len(stories.ALL)]
        path = f"/news/{n}-{story.slug}.html"
        store(url, source, site.add(path, article_page(story, site.url(path))))
    settings = Settings(data_dir=workdir / "data", database_url=url,
                        screenshots={"pages": pool, "poll_interval": 0.2})
    worker = ScreenshotWorker(settings, [source])
    with PeakSampler(lambda: worker.browser.pid) as sampler:  # the pid moves on a relaunch
        started = time.monotonic()
        outcomes = asyncio.run(worker.run(asyncio.Event(), once=True))
        elapsed = time.monotonic() - started
    return {"pages": pool, "captures": outcomes["captured"], "failed": outcomes["failed"],
            "seconds": round(elapsed, 2),
            "per_minute": round(outcomes["captured"] / elapsed * 60, 1),
            "peak_rss_mb": round(sampler.tree_rss / 2**20, 1),
            "peak_pss_mb": round(sampler.tree_pss / 2**20, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--captures", type=int, default=24, help="captures per run")
    parser.add_argument("--pools", type=int, nargs="+", default=[1, 2, 4], help="pool sizes")
    args = parser.parse_args()
    with Site() as site:
        results = [one_run(site, pool, args.captures) for pool in args.pools]
    print(f"{'pages':>5} {'captures':>8} {'seconds':>8} {'per min':>8} "
          f"{'peak RSS MB':>11} {'peak PSS MB':>11}")
    for r in results:
        print(f"{r['pages']:>5} {r['captures']:>8} {r['seconds']:>8} {r['per_minute']:>8} "
              f"{r['peak_rss_mb']:>11} {r['peak_pss_mb']:>11}")
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
