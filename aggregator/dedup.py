"""Content identity: exact copies by a hash of normalised text, near copies by MinHash + LSH.

Copies of a story differ at the edges (a new lead, a truncated tail, boilerplate wrapped
around), so a match is decided on estimated *containment* of the smaller text in the larger,
derived from the MinHash Jaccard estimate and both shingle counts; LSH only finds candidates.
Parameters were tuned on tests/labelled.py: 4-word shingles, 128 permutations, LSH at
Jaccard 0.3, match at containment 0.7 gave precision 1.000 / recall 0.993 on the corpus set
(3-word shingles: 1.000 / 1.000 but more chance hits on stock phrases at scale; 5: 0.993).
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

import numpy as np
from datasketch import MinHash, MinHashLSH

from aggregator.records import Fingerprint

SHINGLE_WORDS = 4  # words per shingle
NUM_PERM = 128  # MinHash permutations (signature = NUM_PERM * 4 bytes)
SEED = 1
SCHEME = "affine32"  # datasketch >= 2.0: 32-bit values, stored as they are
LSH_THRESHOLD = 0.3  # Jaccard at which LSH reports a candidate (recall of the first pass)
MIN_CONTAINMENT = 0.7  # estimated share of the smaller text found in the larger one
MIN_SHINGLES = 10  # shorter texts are matched only exactly: too few shingles to judge

_WORD = re.compile(r"\w+")


@lru_cache(maxsize=4)
def _permutations(num_perm: int):
    return MinHash(num_perm=num_perm, seed=SEED, scheme=SCHEME).permutations


def normalise_text(text: str) -> str:
    """NFC, case-folded, whitespace collapsed: what a reader would call 'the same text'.
    (`str.split` splits on what `\\s` matches, the same 29 characters, at half the cost.)"""
    return " ".join(unicodedata.normalize("NFC", text).casefold().split())


def _digest(flat: str) -> str:
    return hashlib.sha256(flat.encode("utf-8")).hexdigest()


def content_hash(text: str) -> str:
    return _digest(normalise_text(text))


def shingles(flat: str, size: int = SHINGLE_WORDS) -> set[str]:
    """The `size`-word shingles of an already normalised text (normalise_text)."""
    words = _WORD.findall(flat)
    if len(words) <= size:
        return {" ".join(words)} if words else set()
    return {" ".join(words[i:i + size]) for i in range(len(words) - size + 1)}


def fingerprint(text: str, size: int = SHINGLE_WORDS, num_perm: int = NUM_PERM) -> Fingerprint:
    """Hash, MinHash signature (uint32 little-endian bytes) and shingle count of a text.

    CPU-bound: workers.py runs it in the extraction processes, next to extract_article.
    """
    flat = normalise_text(text)  # once, for the hash and the shingles
    grams = shingles(flat, size)
    minhash = MinHash(num_perm=num_perm, seed=SEED, permutations=_permutations(num_perm),
                      scheme=SCHEME)
    minhash.update_batch([g.encode("utf-8") for g in grams])
    values = minhash.hashvalues.astype("<u4")
    return Fingerprint(_digest(flat), values.tobytes(), len(grams))


def _values(signature: bytes) -> np.ndarray:
    return np.frombuffer(signature, dtype="<u4")


def lsh_bands(threshold: float, num_perm: int) -> tuple[int, int]:
    """(bands, rows per band) that datasketch finds optimal for this threshold (37 x 3 here)."""
    lsh = MinHashLSH(threshold=threshold, num_perm=num_perm)
    return lsh.b, lsh.r


@lru_cache(maxsize=4)
def _folds(threshold: float, num_perm: int) -> tuple[int, int, np.ndarray]:
    bands, rows = lsh_bands(threshold, num_perm)
    rng = np.random.default_rng(SEED)
    return bands, rows, rng.integers(1, 2**63, size=rows, dtype=np.uint64) | np.uint64(1)


def band_keys(fp: Fingerprint, threshold: float = LSH_THRESHOLD) -> list[int]:
    """The signature's LSH band keys as signed 64-bit integers with the band number folded
    in, for the shared index (`article_signatures.bands`); none for texts too short to match."""
    return list(_band_keys(fp, threshold))


@lru_cache(maxsize=1024)  # a batch asks three times an article: its locks, look-up and row
def _band_keys(fp: Fingerprint, threshold: float) -> tuple[int, ...]:
    if fp.shingles < MIN_SHINGLES:
        return ()
    values = _values(fp.minhash)
    bands, rows, fold = _folds(threshold, len(values))
    used = values[: bands * rows].astype(np.uint64).reshape(bands, rows)
    keys = (used * fold).sum(axis=1) + np.arange(bands, dtype=np.uint64) * np.uint64(BAND_STEP)
    return tuple(keys.view(np.int64).tolist())


BAND_STEP = 0x9E3779B97F4A7C15  # odd: keeps equal values of different bands apart


def containment(fp: Fingerprint, signatures: list[tuple[int, bytes, int]],
                min_containment: float = MIN_CONTAINMENT) -> list[tuple[int, float]]:
    """Scores of stored (id, signature, shingles) against `fp`, those that match, best
    first: the same estimate NearIndex.matches makes."""
    signatures = [s for s in signatures if s[2] >= MIN_SHINGLES]
    if fp.shingles < MIN_SHINGLES or not signatures:
        return []
    values = _values(fp.minhash)
    matrix = np.stack([_values(bytes(s[1])) for s in signatures])
    sizes = np.array([s[2] for s in signatures], dtype=np.int64)
    jaccard = (matrix == values).mean(axis=1)
    shared = jaccard * (sizes + fp.shingles) / (1 + jaccard)
    scores = np.minimum(1.0, shared / np.minimum(sizes, fp.shingles))
    pairs = [(s[0], float(score)) for s, score in zip(signatures, scores.tolist())
             if score >= min_containment]
    return sorted(pairs, key=lambda pair: (-pair[1], pair[0]))


class NearIndex:
    """Banded LSH over stored signatures; keys are article ids.

    datasketch's MinHashLSH keeps a Python set per bucket: 12 KiB and 0.27 ms per article
    to load (27 s and 1.2 GiB for 100,000). Here each band's key is one uint64 (the band's
    values folded with odd multipliers), kept in a sorted array searched with `searchsorted`;
    articles added since the last sort wait in a small dict until the next one. Candidates are
    scored on the full signatures, so a stale or colliding band key costs a comparison, never
    a wrong match. bench/dedup.py measures both.
    """

    def __init__(self, num_perm: int = NUM_PERM, threshold: float = LSH_THRESHOLD,
                 min_containment: float = MIN_CONTAINMENT) -> None:
        self.num_perm, self.min_containment = num_perm, min_containment
        self.bands, self.rows = lsh_bands(threshold, num_perm)
        rng = np.random.default_rng(SEED)
        self._fold = rng.integers(1, 2**63, size=self.rows, dtype=np.uint64) | np.uint64(1)
        self._row: dict[int, int] = {}
        self._ids = np.zeros(0, dtype=np.int64)
        self._matrix = np.zeros((0, num_perm), dtype=np.uint32)
        self._sizes = np.zeros(0, dtype=np.int64)
        self._band_keys = np.zeros((0, self.bands), dtype=np.uint64)
        self._sorted: list[tuple[np.ndarray, np.ndarray]] = []
        self._recent: dict[tuple[int, int], list[int]] = {}

    def __len__(self) -> int:
        return len(self._row)

    def _keys(self, values: np.ndarray) -> np.ndarray:
        """Band keys of signature rows: (n, num_perm) uint32 -> (n, bands) uint64."""
        used = values[:, : self.bands * self.rows].astype(np.uint64)
        return (used.reshape(len(values), self.bands, self.rows) * self._fold).sum(axis=2)

    def _grow(self, rows: int) -> None:
        if rows <= len(self._ids):
            return
        size = max(rows, 2 * len(self._ids), 1024)
        self._ids = np.resize(self._ids, size)
        self._matrix = np.resize(self._matrix, (size, self.num_perm))
        self._sizes = np.resize(self._sizes, size)
        self._band_keys = np.resize(self._band_keys, (size, self.bands))

    def add(self, key: int, fp: Fingerprint) -> None:
        """Index (or re-index, after a revision) one article's fingerprint."""
        self.add_many([(key, fp)])

    def add_many(self, items: list[tuple[int, Fingerprint]]) -> None:
        """Index many fingerprints at once (start-up loads every stored signature this way)."""
        items = [(k, fp) for k, fp in items if fp.shingles >= MIN_SHINGLES]
        if not items:
            return
        values = np.stack([_values(fp.minhash) for _, fp in items])
        keys = self._keys(values)
        self._grow(len(self._row) + len(items))
        rows = []
        for key, _ in items:
            row = self._row.setdefault(key, len(self._row))
            self._ids[row] = key
            rows.append(row)
        rows_array = np.array(rows, dtype=np.int64)
        self._matrix[rows_array] = values
        self._sizes[rows_array] = [fp.shingles for _, fp in items]
        self._band_keys[rows_array] = keys
        if len(self._recent) + keys.size > max(4096, len(self._row) * self.bands // 10):
            self._sort()  # cheaper than the dict for a bulk load, and keeps the dict small
            return
        for row, band_keys in zip(rows, keys.tolist()):
            for band, band_key in enumerate(band_keys):
                self._recent.setdefault((band, band_key), []).append(row)

    def _sort(self) -> None:
        count = len(self._row)
        self._sorted = []
        for band in range(self.bands):
            column = self._band_keys[:count, band]
            order = np.argsort(column, kind="stable")
            self._sorted.append((column[order], order))
        self._recent.clear()

    def matches(self, fp: Fingerprint) -> list[tuple[int, float]]:
        """Indexed keys whose text is a near copy of `fp`'s, best first, with the score."""
        if fp.shingles < MIN_SHINGLES or not self._row:
            return []
        values = _values(fp.minhash)
        query = self._keys(values[None, :])[0]
        found: set[int] = set()
        for band, band_key in enumerate(query):  # np.uint64: a Python int would make
            if self._sorted:                      # searchsorted cast the whole array
                keys, order = self._sorted[band]
                low = np.searchsorted(keys, band_key, side="left")
                high = np.searchsorted(keys, band_key, side="right")
                found.update(order[low:high].tolist())
            found.update(self._recent.get((band, int(band_key)), ()))
        if not found:
            return []
        rows = np.fromiter(found, dtype=np.int64, count=len(found))
        jaccard = (self._matrix[rows] == values).mean(axis=1)
        sizes = self._sizes[rows]
        shared = jaccard * (sizes + fp.shingles) / (1 + jaccard)
        scores = np.minimum(1.0, shared / np.minimum(sizes, fp.shingles))
        keep = scores >= self.min_containment
        pairs = zip(self._ids[rows[keep]].tolist(), scores[keep].tolist())
        return sorted(pairs, key=lambda pair: (-pair[1], pair[0]))


@dataclass(frozen=True)
class StoryMember:
    """What the primary choice needs to know about one copy of a story."""

    article_id: int
    url: str  # canonical
    site: str  # registered domain
    at_canonical: bool  # fetched at its canonical URL, not through a tracking or AMP link
    first_seen_at: datetime
    published_at: datetime | None
    cites: frozenset[str] = frozenset()  # canonical URLs the copy cites
    cited_sites: frozenset[str] = frozenset()


def choose_primary(members: list[StoryMember]) -> int:
    """The original: a copy another copy cites by URL, else one on a site another copy cites,
    else the first seen. A copy fetched at its canonical URL beats one that reached the same
    page through a tracking link; ties go to the earlier publication time, then the lower id."""
    def citation(m: StoryMember) -> int:
        others = [n for n in members if n.article_id != m.article_id]
        if any(m.url in n.cites for n in others):
            return 0
        if any(m.site != n.site and m.site in n.cited_sites for n in others):
            return 1
        return 2

    return min(members, key=lambda m: (citation(m), not m.at_canonical, m.first_seen_at,
                                       m.published_at or m.first_seen_at,
                                       m.article_id)).article_id
