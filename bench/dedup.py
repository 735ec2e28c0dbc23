"""Near-duplicate quality and speed: precision/recall on the labelled sets, then the time and
memory to index N synthetic articles from stored signatures and to look one up.

    .venv/bin/python bench/dedup.py [--articles 100000] [--lookups 2000] [--compare]
"""

from __future__ import annotations

import argparse
import random
import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from aggregator import dedup  # noqa: E402
from tests.labelled import SHARED, build, corpus_documents, evaluate, own_documents  # noqa: E402


def _vocabulary(rng: random.Random, size: int = 20000) -> list[str]:
    letters = "абвгґдеєжзиіїйклмнопрстуфхцчшщьюя"
    return ["".join(rng.choice(letters) for _ in range(rng.randint(3, 10))) for _ in range(size)]


def _datasketch_load(fingerprints) -> None:
    """The same load through datasketch's MinHashLSH, which NearIndex replaced."""
    from datasketch import LeanMinHash, MinHashLSH

    tracemalloc.start()
    started = time.perf_counter()
    lsh = MinHashLSH(threshold=dedup.LSH_THRESHOLD, num_perm=dedup.NUM_PERM)
    for key, fp in enumerate(fingerprints):
        values = dedup._values(fp.minhash)
        lsh.insert(key, LeanMinHash(seed=dedup.SEED, hashvalues=values, scheme=dedup.SCHEME))
    seconds = time.perf_counter() - started
    memory = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    print(f"datasketch MinHashLSH: load {len(fingerprints)} signatures in {seconds:.1f} s, "
          f"{memory / 2**20:.0f} MiB")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--articles", type=int, default=100_000)
    parser.add_argument("--lookups", type=int, default=2000)
    parser.add_argument("--compare", action="store_true",
                        help="also load the signatures into datasketch's MinHashLSH")
    args = parser.parse_args()
    print(f"parameters: shingle={dedup.SHINGLE_WORDS} words, num_perm={dedup.NUM_PERM}, "
          f"lsh_threshold={dedup.LSH_THRESHOLD}, min_containment={dedup.MIN_CONTAINMENT}")
    sets = [("own texts", own_documents)]
    if (SHARED / "corpus" / "pages").is_dir():
        sets.append(("corpus", corpus_documents))
    for name, docs in sets:
        items = build(docs())
        precision, recall, pos, neg = evaluate(items)
        print(f"{name}: {len(items)} texts, {pos} positive / {neg} negative pairs: "
              f"precision {precision:.3f} recall {recall:.3f}")

    rng = random.Random(1)
    vocabulary = _vocabulary(rng)
    started = time.perf_counter()
    fingerprints = [dedup.fingerprint(" ".join(rng.choices(vocabulary, k=250)))
                    for _ in range(args.articles)]
    print(f"fingerprint: {(time.perf_counter() - started) / args.articles * 1000:.2f} ms "
          f"per 250-word article (done in the extraction workers)")

    if args.compare:
        _datasketch_load(fingerprints)
    tracemalloc.start()
    started = time.perf_counter()
    index = dedup.NearIndex()
    index.add_many(list(enumerate(fingerprints)))  # as Ingestor.load_index does at start
    seconds = time.perf_counter() - started
    memory = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    print(f"NearIndex: load {args.articles} stored signatures in {seconds:.1f} s, "
          f"{memory / 2**20:.0f} MiB ({memory / args.articles / 1024:.1f} KiB per article)")
    started = time.perf_counter()
    for key, fp in enumerate(fingerprints[:2000], start=args.articles):
        index.add(key, fp)
    print(f"NearIndex: add one new article: "
          f"{(time.perf_counter() - started) / 2000 * 1000:.3f} ms (mean of 2000)")

    queries = [dedup.fingerprint(" ".join(rng.choices(vocabulary, k=250)))
               for _ in range(args.lookups // 2)]
    copies = [fingerprints[i] for i in rng.sample(range(args.articles), args.lookups // 2)]
    started = time.perf_counter()
    found = sum(bool(index.matches(fp)) for fp in queries + copies)
    per = (time.perf_counter() - started) / len(queries + copies) * 1000
    print(f"lookup: {per:.3f} ms each over {len(queries + copies)} lookups "
          f"(half new texts, half stored ones; {found} found a match)")


if __name__ == "__main__":
    main()
