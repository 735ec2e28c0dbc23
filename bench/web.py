"""The desk under 100,000 stored articles: p50/p95 of the pages a reader and a syncing
consumer hit, over HTTP against a real `aggregator web` (uvicorn) on loopback.

    python -m bench.web [--articles 100000] [--databases sqlite postgres] [--requests 200]

For each database: a fresh migrated database, bulk-filled by bench/webfill.py (the triggers
index and journal every row), then sequential requests from one client after a warm-up.
Targets (docs/benchmarks.md): p95 under 50 ms for the story list, a story and /changes,
under 200 ms for a search. Also measures how the search configuration copes with Ukrainian
inflection (`forms`, PostgreSQL): share of inflected forms found per strategy.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from urllib.parse import quote

from sqlalchemy import create_engine, text

from aggregator.desk.params import encode_cursor
from aggregator.searchterms import terms
from bench.run import _admin, _database
from bench.webfill import fill

RESULTS = Path(__file__).resolve().parent / "results" / "web.json"
TARGETS = {"floor: a static file": 50, "list": 50, "list, 2+ outlets": 50, "story (API)": 50,
           "story page (HTML)": 50, "changes": 50, "search: енергетика": 200,
           "search: удари дронів": 200, "search: україна": 200}
# Lemma -> inflected forms as they appear in Ukrainian news (the search-box word is the lemma).
FORMS = {
    "енергетика": ["енергетики", "енергетиці", "енергетику", "енергетикою"],
    "україна": ["україни", "україні", "україну", "україною"],
    "міст": ["мосту", "мостом", "мости", "мостів"],
    "ракета": ["ракети", "ракет", "ракетою", "ракетами"],
    "обстріл": ["обстрілу", "обстріли", "обстрілів", "обстрілами"],
    "уряд": ["уряду", "уряді", "урядом", "урядові"],
    "зима": ["зими", "зимою", "взимку", "зимі"],
    "допомога": ["допомоги", "допомогу", "допомозі", "допомогою"],
    "дрон": ["дрона", "дронів", "дронами", "дрони"],
    "вибори": ["виборів", "виборах", "виборами", "виборцям"],
    "санкції": ["санкцій", "санкціями", "санкціях", "санкційний"],
    "переговори": ["переговорів", "переговорах", "переговорами", "переговорний"],
}


class WebProcess:
    def __init__(self, url: str, workdir: Path):
        self.port = _free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        config = workdir / "config"
        (config / "sources").mkdir(parents=True, exist_ok=True)
        (config / "aggregator.yaml").write_text(f"data_dir: {workdir / 'data'}\n"
                                                "log:\n  level: WARNING\n")
        env = {**os.environ, "AGGREGATOR_DATABASE_URL": url}
        self.proc = subprocess.Popen([sys.executable, "-m", "aggregator", "--config",
                                      str(config), "web", "--port", str(self.port)], env=env,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(150):
            try:
                self.get("/api/v1/openapi.json")
                return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError("aggregator web did not start")

    def get(self, path: str) -> bytes:
        with urllib.request.urlopen(self.base + path, timeout=30) as answer:
            return answer.read()

    def close(self) -> None:
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(15)


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _quantiles(samples: list[float]) -> dict:
    cuts = statistics.quantiles(samples, n=100, method="inclusive")
    return {"p50": round(cuts[49], 1), "p95": round(cuts[94], 1), "n": len(samples)}


def _cpu_seconds(pid: int) -> float:
    """User + system CPU of a process so far (/proc/PID/stat, clock ticks)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure(web: WebProcess, paths: list[str], warmup: int = 10) -> dict:
    """Wall-clock quantiles, and the web process's own CPU per request: on a machine shared
    with other work the CPU figure is the steadier one (PostgreSQL's is not in it)."""
    for path in paths[:warmup]:
        web.get(path)
    samples = []
    cpu = _cpu_seconds(web.proc.pid)
    for path in paths:
        started = time.perf_counter()
        web.get(path)
        samples.append((time.perf_counter() - started) * 1000)
    cpu_ms = (_cpu_seconds(web.proc.pid) - cpu) * 1000 / len(paths)
    return {**_quantiles(samples), "web_cpu_ms": round(cpu_ms, 1)}


def scenarios(url: str, requests: int, rng: random.Random) -> dict[str, list[str]]:
    """Request paths per scenario: random pages of the list, random stories, random cursors."""
    engine = create_engine(url)
    with engine.connect() as conn:
        stories = conn.execute(text("SELECT max(id) FROM stories")).scalar()
        changes = conn.execute(text("SELECT max(id) FROM changes")).scalar()
    engine.dispose()

    def pick(make):
        return [make() for _ in range(requests)]

    def list_page(extra: str = "") -> str:
        cursor = encode_cursor(rng.randint(stories // 2, stories))
        return f"/api/v1/stories?limit=20&cursor={cursor}{extra}"

    return {
        "floor: a static file": ["/static/desk.css"] * requests,
        "list": pick(list_page),
        "list, 2+ outlets": pick(lambda: list_page("&min_sources=2")),
        "story (API)": pick(lambda: f"/api/v1/stories/{rng.randint(1, stories)}"),
        "story page (HTML)": pick(lambda: f"/stories/{rng.randint(1, stories)}"),
        "changes": pick(lambda: f"/api/v1/changes?limit=100&cursor={rng.randint(0, changes)}"),
        **{f"search: {q}": [f"/api/v1/stories?limit=20&q={quote(q)}"] * requests
           for q in ("енергетика", "удари дронів", "україна")},
    }


def forms_recall(pg_url: str) -> dict[str, float]:
    """Share of inflected forms a lemma query finds in PostgreSQL, per strategy."""
    engine = create_engine(pg_url)
    found = {"simple, whole word": 0, "russian stemmer": 0, "ours (prefix of the stem)": 0}
    total = 0
    with engine.connect() as conn:
        for lemma, forms in FORMS.items():
            for form in forms:
                total += 1
                doc = f"Новина: {form} сьогодні"
                for name, config, query in (
                    ("simple, whole word", "simple", lemma),
                    ("russian stemmer", "russian", lemma),
                    ("ours (prefix of the stem)", "simple", terms(lemma)[0] + ":*"),
                ):
                    hit = conn.execute(text(
                        "SELECT to_tsvector(CAST(:c AS regconfig), :d) "
                        "@@ to_tsquery(CAST(:c AS regconfig), :q)"),
                        {"c": config, "d": doc, "q": query}).scalar()
                    found[name] += bool(hit)
    engine.dispose()
    return {name: round(hits / total, 3) for name, hits in found.items()}


def run(kind: str, articles: int, requests: int) -> dict:
    workdir = Path(tempfile.mkdtemp(prefix=f"bench-web-{kind}-"))
    url, name = _database(kind, workdir)
    try:
        started = time.perf_counter()
        made = fill(url, articles)
        made["fill_seconds"] = round(time.perf_counter() - started, 1)
        made["load_average"] = os.getloadavg()
        print(f"{kind}: {made}", flush=True)
        web = WebProcess(url, workdir)
        try:
            paths = scenarios(url, requests, random.Random(5))
            made["latency_ms"] = {k: measure(web, v) for k, v in paths.items()}
        finally:
            web.close()
        if kind == "postgres":
            made["forms_recall"] = forms_recall(url)
        return made
    finally:
        if name:
            with _admin() as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        shutil.rmtree(workdir, ignore_errors=True)


def print_table(report: dict) -> None:
    kinds = list(report)
    print(f"\n{'ms: p50 / p95 (web CPU)':<24}" + "".join(f"{k:>28}" for k in kinds)
          + "   target p95")
    for scenario, target in TARGETS.items():
        cells = []
        for kind in kinds:
            q = report[kind]["latency_ms"][scenario]
            mark = "ok" if q["p95"] < target else "MISS"
            cells.append(f"{q['p50']:>7} / {q['p95']:<6} ({q['web_cpu_ms']:>5}) {mark:<4}")
        print(f"{scenario:<24}" + "".join(f"{c:>28}" for c in cells) + f"   < {target}")
    for kind in kinds:
        print(f"load average during {kind}: {report[kind]['load_average']}")
    for kind in kinds:
        if "forms_recall" in report[kind]:
            print(f"\ninflected forms found ({kind}): {report[kind]['forms_recall']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--databases", nargs="+", default=["sqlite", "postgres"],
                        choices=["sqlite", "postgres"])
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    report = {kind: run(kind, args.articles, args.requests) for kind in args.databases}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2, ensure_ascii=False))
    print_table(report)
    print(f"\nwritten to {args.out}")


if __name__ == "__main__":
    main()
