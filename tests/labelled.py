"""A labelled near-duplicate set: real pages and their generated copies, grouped by story.

Positives are every pair within a group: the same URL captured at different times (kraiany),
and copies of one text that are edited, truncated, re-headlined or wrapped in another site's
boilerplate. Negatives are every pair across groups. Pages are read from ../shared/corpus at
run time (never copied into the project); `own_documents` uses the project's own texts.
"""

from __future__ import annotations

import itertools
import random
from dataclasses import dataclass
from pathlib import Path

from aggregator import dedup
from aggregator.extract import extract_article
from tests.helpers import SHARED

MIN_CHARS = 300

WRAPPERS = [
    ("Новини України та світу на нашому сайті.",
     "Читайте також: головні новини дня. Підписуйтесь на наш канал у Telegram."),
    ("Новости Украины — главное за сегодня.", "Подписывайтесь на наш Telegram-канал."),
    ("Breaking news from Ukraine.", "Follow us on Telegram and subscribe to our newsletter."),
]


@dataclass(frozen=True)
class Item:
    group: str
    kind: str  # original | capture | edited | truncated | reheadlined | wrapped
    text: str


def corpus_documents(shared: Path = SHARED) -> list[tuple[str, str, str]]:
    """(group, title, text) of every article page in the corpus; kraiany captures of one
    URL share a group. Listing pages (homepages) are left out: they are not articles."""
    pages = shared / "corpus" / "pages"
    docs = []
    for path in sorted(pages.rglob("*.html")):
        if "homepage" in path.name or path.name.startswith("espreso.tv__news__") \
                or "fragment" in path.name:
            continue
        result = extract_article(path.read_bytes(), f"https://example.org/{path.stem}")
        if result.draft is None or len(result.draft.text) < MIN_CHARS:
            continue
        group = path.name.rsplit("__", 1)[0] if path.parent.name == "kraiany" else str(path)
        docs.append((group, result.draft.title or "", result.draft.text))
    return docs


def own_documents() -> list[tuple[str, str, str]]:
    """The project's own test stories (tests/stories.py): always available."""
    from tests import stories

    return [(s.slug, s.title, s.text) for s in stories.ALL]


def _edit(words: list[str], rng: random.Random, share: float) -> list[str]:
    out = list(words)
    for i in rng.sample(range(len(out)), max(1, int(len(out) * share))):
        out[i] = rng.choice(["також", "зокрема", "вже", "нібито", "ще", "2026", "понад"])
    return out


def variants(title: str, text: str, rng: random.Random) -> list[tuple[str, str]]:
    """Copies of one text as other outlets and later captures carry it."""
    words = text.split()
    lead, tail = rng.choice(WRAPPERS)
    return [
        ("edited", " ".join(_edit(words, rng, 0.04))),
        ("truncated", " ".join(words[: max(40, int(len(words) * 0.6))])),
        ("reheadlined", f"Оновлено: {title} — що відомо на цю хвилину\n{text}"),
        ("wrapped", f"{lead}\n{text}\n{tail}"),
    ]


def build(docs: list[tuple[str, str, str]], seed: int = 7) -> list[Item]:
    """Every document, plus generated copies of the first document of each group."""
    rng = random.Random(seed)
    items: list[Item] = []
    seen: set[str] = set()
    for group, title, text in docs:
        items.append(Item(group, "capture" if group in seen else "original", text))
        if group not in seen:
            items += [Item(group, kind, copy) for kind, copy in variants(title, text, rng)]
        seen.add(group)
    return items


def evaluate(items: list[Item], shingle: int = dedup.SHINGLE_WORDS, num_perm: int = dedup.NUM_PERM,
             threshold: float = dedup.LSH_THRESHOLD,
             containment: float = dedup.MIN_CONTAINMENT) -> tuple[float, float, int, int]:
    """(precision, recall, positive pairs, negative pairs) of the near-duplicate decision."""
    index = dedup.NearIndex(num_perm, threshold, containment)
    predicted = set()
    for key, item in enumerate(items):
        fp = dedup.fingerprint(item.text, shingle, num_perm)
        predicted |= {frozenset((key, other)) for other, _ in index.matches(fp)}
        index.add(key, fp)
    truth = {frozenset((a, b)) for a, b in itertools.combinations(range(len(items)), 2)
             if items[a].group == items[b].group}
    hits = len(predicted & truth)
    precision = hits / len(predicted) if predicted else 1.0
    recall = hits / len(truth) if truth else 1.0
    total = len(items) * (len(items) - 1) // 2
    return precision, recall, len(truth), total - len(truth)
