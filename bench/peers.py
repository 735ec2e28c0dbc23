"""The yardsticks, measured in this process over a sample of the corpus: the floor
(trafilatura's `bare_extraction` in a plain loop) and a peer (news-please's `from_html`)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from bench import corpus

BASE = "http://127.0.0.1:8000"  # only in the markup: nothing is fetched


def _rate(pages: list[tuple[str, bytes]], extract: Callable[[bytes, str], object]) -> dict:
    started, empty = time.perf_counter(), 0
    for url, body in pages:
        empty += extract(body, url) is None
    seconds = time.perf_counter() - started
    return {"pages": len(pages), "empty": empty, "seconds": round(seconds, 2),
            "articles_per_s": round(len(pages) / seconds, 2)}


def sample_pages(sites: int, articles: int, count: int) -> list[tuple[str, bytes]]:
    return [(f"{BASE}/s{s}/news/{n}.html", corpus.page(BASE, s, n, sites))
            for s, n in corpus.sample(sites, articles, count)]


def floor(pages: list[tuple[str, bytes]]) -> dict:
    from trafilatura import bare_extraction

    return _rate(pages, lambda body, url: bare_extraction(body, url=url, with_metadata=True))


def news_please(pages: list[tuple[str, bytes]]) -> dict | None:
    """None when news-please is not installed (`pip install -e '.[bench]'`)."""
    try:
        from newsplease import NewsPlease
    except ImportError:
        return None
    logging.getLogger("newsplease").setLevel(logging.ERROR)
    return _rate(pages, lambda body, url: NewsPlease.from_html(
        body.decode("utf-8"), url=url, fetch_images=False).maintext)
