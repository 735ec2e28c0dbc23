"""The extraction quality harness: `python -m bench.quality [--timing] [--baseline DIR]`.

Every gold page (bench/gold.py: the shared corpus where present, and tests/pages/) goes
through the aggregator's extractor, trafilatura's `bare_extraction` with default options and
news-please (when installed: the `bench` extra); each is scored on body F1 over word tokens,
title exact (whitespace and case normalised), date to the day and language. Prints a table
and writes JSON (per page and totals) to bench/results/quality.json. `--timing` adds the
median extraction time per page; `--baseline DIR` also times DIR's `aggregator.extract` (for
example /work/main, today's extractor) against this checkout's, each in child processes
taking turns (three rounds, the best median of each), and gives their ratio.
"""

from __future__ import annotations

import argparse
import json
import logging
import re
import statistics
import subprocess
import sys
import warnings
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit

from aggregator.records import ExtractRules
from aggregator.sources import load_sources
from bench.gold import ROOT, GoldPage, all_pages, own_pages

RESULTS = ROOT / "bench" / "results" / "quality.json"
_WORD = re.compile(r"\w+")


@dataclass(frozen=True)
class Found:
    """What one extractor made of a page, reduced to the scored fields."""

    body: str = ""
    title: str | None = None
    date: datetime | date | None = None
    language: str | None = None


def f1(found: str, gold: str) -> float:
    """Token-bag F1 over lower-cased word tokens."""
    a, b = Counter(_WORD.findall(found.lower())), Counter(_WORD.findall(gold.lower()))
    common = sum((a & b).values())
    if not common:
        return 0.0
    precision, recall = common / sum(a.values()), common / sum(b.values())
    return 2 * precision * recall / (precision + recall)


def _norm(title: str | None) -> str:
    return " ".join((title or "").split()).casefold()


def _days(value: datetime | date, tz) -> set[date]:
    if not isinstance(value, datetime):
        return {value}
    if value.tzinfo is None:  # a naive date: the day as written
        return {value.date()}
    return {value.astimezone(z).date() for z in tz}


def date_right(found: datetime | date | None, page: GoldPage) -> bool:
    """To the day, in the gold's own offset (a naive gold: UTC or the page's local day)."""
    if page.date is None:
        return found is None
    if found is None:
        return False
    gold = page.date
    if isinstance(gold, datetime) and gold.tzinfo is not None:
        zones = [gold.tzinfo]
        gold_day = gold.date()
    else:
        gold_day = gold.date() if isinstance(gold, datetime) else gold
        zones = [timezone.utc, timezone(timedelta(hours=-5)), timezone(timedelta(hours=2))]
    return gold_day in _days(found, zones)


def score(found: Found, page: GoldPage) -> dict:
    out: dict = {}
    if page.body is not None:
        out["body_f1"] = round(f1(found.body, page.body), 4)
    if page.title is not None:
        out["title"] = _norm(found.title) == _norm(page.title)
    if page.date_known:
        out["date"] = date_right(found.date, page)
    if page.language is not None:
        out["language"] = found.language == page.language
    return out


@lru_cache(maxsize=1)
def _shipped_rules() -> dict[str, ExtractRules]:
    """The shipped sources' extraction rules by domain, as the crawler would apply them."""
    loaded = load_sources(ROOT / "config" / "sources")
    return {domain: s.rules for s in loaded.sources for domain in s.allowed_domains}


def rules_for(url: str) -> ExtractRules | None:
    host = urlsplit(url).hostname or ""
    return next((rules for domain, rules in _shipped_rules().items()
                 if host == domain or host.endswith("." + domain)), None)


def ours(page: GoldPage) -> Found:
    from aggregator.extract import extract_article

    draft = extract_article(page.html, page.url, rules=rules_for(page.url)).draft
    if draft is None:
        return Found()
    return Found(draft.text, draft.title, draft.published_at, draft.language)


def trafilatura_default(page: GoldPage) -> Found:
    from trafilatura import bare_extraction

    doc = bare_extraction(page.html, url=page.url, with_metadata=True)
    if doc is None:
        return Found()
    day = date.fromisoformat(doc.date) if doc.date else None
    return Found(doc.text or "", doc.title, day, doc.language)


def _news_please() -> Callable[[GoldPage], Found] | None:
    try:
        with warnings.catch_warnings():  # newspaper4k warns that nltk is missing
            warnings.simplefilter("ignore")
            from newsplease import NewsPlease
    except ImportError:
        return None
    from aggregator.encoding import decode_html

    logging.getLogger("newsplease").setLevel(logging.CRITICAL)

    def run(page: GoldPage) -> Found:
        text, _ = decode_html(page.html, None)
        with warnings.catch_warnings():  # its BeautifulSoup calls are deprecated
            warnings.simplefilter("ignore")
            art = NewsPlease.from_html(text, url=page.url, fetch_images=False)
        return Found(art.maintext or "", art.title, art.date_publish, art.language)

    return run


def extractors() -> dict[str, Callable[[GoldPage], Found]]:
    out = {"ours": ours, "trafilatura": trafilatura_default}
    if (peer := _news_please()) is not None:
        out["news-please"] = peer
    return out


def _mean(values: list) -> float | None:
    return round(statistics.mean(float(v) for v in values), 4) if values else None


def totals(rows: list[dict], name: str, groups: set[str] | None = None) -> dict:
    """Means of each score over the pages that have it (optionally only some groups)."""
    chosen = [r[name] for r in rows if groups is None or r["group"] in groups]
    return {key: _mean([s[key] for s in chosen if key in s])
            for key in ("body_f1", "title", "date", "language")} | {"pages": len(chosen)}


def run(pages: list[GoldPage], names: dict[str, Callable[[GoldPage], Found]]) -> list[dict]:
    rows = []
    for page in pages:
        row = {"page": page.name, "group": page.group, "url": page.url}
        for name, extract in names.items():
            try:
                row[name] = score(extract(page), page)
            except Exception as exc:  # noqa: BLE001 - a peer failing on a page scores zero
                row[name] = score(Found(), page) | {"error": str(exc)[:200]}
        rows.append(row)
    return rows


_CHILD = """
import json, sys, time, statistics
sys.path.insert(0, sys.argv[1]); sys.path.insert(1, sys.argv[2])
from bench.gold import all_pages, own_pages
if sys.argv[5] == "trafilatura":
    from trafilatura import bare_extraction
    extract = lambda p: bare_extraction(p.html, url=p.url, with_metadata=True)
else:
    from aggregator.extract import extract_article
    extract = lambda p: extract_article(p.html, p.url)
pages = own_pages() if sys.argv[4] == "own" else all_pages()
repeat, per_page = int(sys.argv[3]), []
for p in pages:
    best = float('inf')
    for _ in range(repeat):
        t = time.perf_counter()
        extract(p)
        best = min(best, time.perf_counter() - t)
    per_page.append(best)
print(json.dumps(round(statistics.median(per_page) * 1000, 2)))
"""


def child_ms(checkout: Path, repeat: int, own: bool = False, extractor: str = "ours") -> float:
    """Median time of a checkout's extractor (or of stock trafilatura: `extractor`) over the
    same pages, in a process of its own (no rules: the same call for both checkouts; stock,
    because importing aggregator.extract swaps stand-ins into trafilatura)."""
    out = subprocess.run([sys.executable, "-c", _CHILD, str(checkout), str(ROOT), str(repeat),
                          "own" if own else "all", extractor],
                         capture_output=True, text=True, check=True, cwd=checkout)
    return json.loads(out.stdout.strip().splitlines()[-1])


def _cell(s: dict) -> str:
    body = f"{s['body_f1']:.2f}" if "body_f1" in s else "  - "
    flag = lambda key, mark: (mark if s.get(key) else "·") if key in s else " "  # noqa: E731
    return f"{body} {flag('title', 'T')}{flag('date', 'D')}{flag('language', 'L')}"


def table(rows: list[dict], names: list[str]) -> str:
    """One line per page: body F1, then T/D/L for a right title, date, language (· wrong)."""
    lines = [f"{'page':42} " + " ".join(f"{n:>12}" for n in names)]
    for r in rows:
        lines.append(f"{r['page'][:42]:42} " + " ".join(f"{_cell(r[n]):>12}" for n in names))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.quality", description=__doc__)
    parser.add_argument("--timing", action="store_true", help="median extraction time per page")
    parser.add_argument("--baseline", type=Path, help="also time this checkout's extractor")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--own", action="store_true", help="only the project's own pages")
    args = parser.parse_args(argv)
    pages = own_pages() if args.own else all_pages()
    names = extractors()
    rows = run(pages, names)
    shared = {"fundus", "newspaper4k", "kraiany"}
    report: dict = {"pages": rows, "totals": {
        n: {"all": totals(rows, n), "shared": totals(rows, n, shared),
            "own": totals(rows, n, {"own"})} for n in names}}
    if args.timing:
        # Both in fresh child processes: the same conditions, and trafilatura stock.
        timing = {"ours": child_ms(ROOT, args.repeat, args.own),
                  "trafilatura": child_ms(ROOT, args.repeat, args.own, "trafilatura")}
        if args.baseline:  # both in child processes, taking turns: the load hits both alike
            rounds = [(child_ms(ROOT, args.repeat, args.own),
                       child_ms(args.baseline, args.repeat, args.own)) for _ in range(3)]
            timing["ours_child"] = min(r[0] for r in rounds)
            timing["baseline"] = min(r[1] for r in rounds)
            timing["ours_vs_baseline"] = round(timing["ours_child"] / timing["baseline"], 3)
        timing["ours_vs_trafilatura"] = round(timing["ours"] / timing["trafilatura"], 3)
        report["timing_ms"] = timing
    print(table(rows, list(names)))
    for scope in ("all", "shared", "own"):
        print(f"\n{scope}:")
        for n in names:
            print(f"  {n:12} {json.dumps(report['totals'][n][scope])}")
    if "timing_ms" in report:
        print("\nmedian ms per page:", json.dumps(report["timing_ms"]))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, ensure_ascii=False, indent=1, default=str))
    print(f"\nwritten {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
