"""The extraction pool against a plain ProcessPoolExecutor (what the pool was before it had a
time limit): the same pages, the same worker count, rounds taken in turn, in one run.

    .venv/bin/python -m bench.pool [--workers 2] [--rounds 5] [--pages 200]

Pages: the real ones in ../shared/corpus/pages (when present) and the benchmark corpus's
generated ones, repeated to --pages. A first pass warms every worker of both pools (imports,
dateparser's locale tables), and recycling is off for the run (it costs both designs the same
fresh process every `extract_recycle_pages` pages), so the rounds compare the steady state of
the two ways of handing pages to workers. Prints pages/s per round, the medians and ours/executor.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import statistics
import time
from concurrent.futures import ProcessPoolExecutor
from itertools import cycle, islice

from aggregator.workers import ExtractionPool, extract_and_fingerprint
from bench.peers import sample_pages
from tests.helpers import SHARED


def pages(count: int) -> list[tuple[str, bytes]]:
    real = sorted((SHARED / "corpus" / "pages").rglob("*.html"))
    found = [(f"http://127.0.0.1/real/{i}.html", p.read_bytes()) for i, p in enumerate(real)]
    found += sample_pages(20, 250, 40)
    return list(islice(cycle(found), count))


async def through_executor(executor: ProcessPoolExecutor, batch) -> float:
    loop = asyncio.get_running_loop()
    started = time.perf_counter()
    await asyncio.gather(*(loop.run_in_executor(executor, extract_and_fingerprint, body, url,
                                                "text/html", None) for url, body in batch))
    return len(batch) / (time.perf_counter() - started)


async def through_pool(pool: ExtractionPool, batch) -> float:
    started = time.perf_counter()
    await asyncio.gather(*(pool.extract(body, url, "text/html", None) for url, body in batch))
    return len(batch) / (time.perf_counter() - started)


async def compare(processes: int, rounds: int, count: int) -> None:
    batch = pages(count)
    executor = ProcessPoolExecutor(processes, mp_context=multiprocessing.get_context("spawn"))
    pool = ExtractionPool(processes, timeout=60.0)
    try:
        warm = list(dict(batch).items()) * processes
        await through_executor(executor, warm)
        await through_pool(pool, warm)
        rates: dict[str, list[float]] = {"executor": [], "ours": []}
        for number in range(rounds):
            order = [("executor", through_executor, executor), ("ours", through_pool, pool)]
            for name, run, target in order if number % 2 == 0 else order[::-1]:
                rates[name].append(await run(target, batch))
            print(f"round {number + 1}: executor {rates['executor'][-1]:.1f} pages/s, "
                  f"ours {rates['ours'][-1]:.1f} pages/s")
    finally:
        executor.shutdown(wait=True)
        pool.close()
    ours, theirs = statistics.median(rates["ours"]), statistics.median(rates["executor"])
    print(f"{len(batch)} pages x {rounds} rounds, {processes} workers: median executor "
          f"{theirs:.1f} pages/s, ours {ours:.1f} pages/s, ours/executor {ours / theirs:.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--pages", type=int, default=200)
    args = parser.parse_args()
    asyncio.run(compare(args.workers, args.rounds, args.pages))


if __name__ == "__main__":
    main()
