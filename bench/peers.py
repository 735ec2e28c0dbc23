"""The yardsticks, measured in this process over a sample of the corpus: the floor
(trafilatura's `bare_extraction` in a plain loop, one core), a peer (news-please's
`from_html`) and our extraction alone (`extract_article`, no fingerprint, no database) over
the same pages, so that `extraction / floor` compares like with like.

Stable figures: both are warmed up on WARM_UP pages first (lazy imports and caches cost the
peer about 0.4 s on its first page, which moved a 100-page figure by several percent), the
sample is the same pages every run, each page counts with its best time of PASSES passes,
and each rate is given in wall time (what the ratios use) and in the process's own CPU time
(which other processes on a shared machine move less).
"""

from __future__ import annotations

import logging
import multiprocessing
import sys
import time
from collections.abc import Callable

from bench import corpus

BASE = "http://127.0.0.1:8000"  # only in the markup: nothing is fetched
WARM_UP = 10
PASSES = 2


def _rate(pages: list[tuple[str, bytes]], extract: Callable[[bytes, str], object],
          passes: int = PASSES) -> dict:
    """Each page's best time of `passes` (wall and CPU): a page slowed by another process
    in one pass is timed again in the next, so the figure is the page's own cost."""
    for url, body in pages[-WARM_UP:]:
        extract(body, url)
    wall = [float("inf")] * len(pages)
    cpu = [float("inf")] * len(pages)
    empty = 0
    for done in range(passes):
        for n, (url, body) in enumerate(pages):
            w, c = time.perf_counter(), time.process_time()
            result = extract(body, url)
            wall[n] = min(wall[n], time.perf_counter() - w)
            cpu[n] = min(cpu[n], time.process_time() - c)
            empty += done == 0 and result is None
    seconds, cpu_seconds = sum(wall), sum(cpu)
    return {"pages": len(pages), "passes": passes, "empty": empty,
            "seconds": round(seconds, 2), "articles_per_s": round(len(pages) / seconds, 2),
            "articles_per_cpu_s": round(len(pages) / max(cpu_seconds, 1e-9), 2)}


def sample_pages(sites: int, articles: int, count: int) -> list[tuple[str, bytes]]:
    return [(f"{BASE}/s{s}/news/{n}.html", corpus.page(BASE, s, n, sites))
            for s, n in corpus.sample(sites, articles, count)]


def _stock_floor(pages: list[tuple[str, bytes]]) -> dict:
    from trafilatura import bare_extraction

    assert "aggregator.extract" not in sys.modules, "the floor must be stock trafilatura"
    return _rate(pages, lambda body, url: bare_extraction(body, url=url, with_metadata=True))


def floor(pages: list[tuple[str, bytes]]) -> dict:
    """Stock trafilatura, in a fresh interpreter: importing aggregator.extract swaps faster
    stand-ins for some of trafilatura's expressions (aggregator/prunepaths.py), which would
    speed up the yardstick too."""
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        return pool.apply(_stock_floor, (pages,))


def extraction(pages: list[tuple[str, bytes]]) -> dict:
    """The aggregator's extractor alone, as an extraction worker calls it (no source rules)."""
    from aggregator.extract import extract_article

    return _rate(pages, lambda body, url: extract_article(body, url).draft)


def news_please(pages: list[tuple[str, bytes]]) -> dict | None:
    """None when news-please is not installed (`pip install -e '.[bench]'`)."""
    try:
        from newsplease import NewsPlease
    except ImportError:
        return None
    logging.getLogger("newsplease").setLevel(logging.ERROR)
    return _rate(pages, lambda body, url: NewsPlease.from_html(
        body.decode("utf-8"), url=url, fetch_images=False).maintext)
