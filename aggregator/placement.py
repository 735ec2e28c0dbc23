"""Which story a new article joins, as a pure function of the candidates one query found.

Every rule is asked, because an article can be the missing link between two stories (a uk
original, its ru edition stored first and a rewrite): the first story found wins and the
others are merged into it. Rules in order: the same canonical URL stored by another source,
the same text, near-same text (best match first), another language edition (one declared by
hreflang before one paired by URL or article id); else the article starts its own story.
"""

from __future__ import annotations

from dataclasses import dataclass

from aggregator.records import Placement, StoryCandidate
from aggregator.vocabulary import PlacementKind

_RULES = (PlacementKind.URL, PlacementKind.EXACT, PlacementKind.NEAR, PlacementKind.EDITION)


def _order(candidate: StoryCandidate) -> tuple:
    return (_RULES.index(candidate.kind), not candidate.declared, -(candidate.score or 0.0),
            candidate.article_id)


def choose_story(candidates: list[StoryCandidate]) -> Placement:
    """The story to join (URL, exact and edition rules name one story each, the earliest
    stored; near matches name every story they reach), and the stories to merge into it."""
    found: list[StoryCandidate] = []
    for candidate in sorted(candidates, key=_order):
        if candidate.kind != PlacementKind.NEAR and any(f.kind == candidate.kind for f in found):
            continue
        found.append(candidate)
    if not found:
        return Placement(None, PlacementKind.FIRST)
    chosen = found[0]
    score = 1.0 if chosen.kind in (PlacementKind.URL, PlacementKind.EXACT) else None
    if chosen.kind == PlacementKind.NEAR:
        score = round(chosen.score or 0.0, 3)
    merge = tuple(dict.fromkeys(c.story_id for c in found if c.story_id != chosen.story_id))
    return Placement(chosen.story_id, chosen.kind, score, merge)


@dataclass(frozen=True)
class StoredRow:
    """What placement needs to know of one stored (or earlier in the batch) article."""

    id: int
    story_id: int | None
    canonical_key: str
    content_hash: str
    edition_key: str | None
    language: str | None


def candidates(rows: list[StoredRow], canonical_key: str, content_hash: str,
               near: dict[int, float], alternate_keys: set[str], counterpart_keys: set[str],
               edition_key: str | None, language: str | None) -> list[StoryCandidate]:
    """Every story a new article might join, from the rows one batch query found (and the
    batch's own earlier articles): by canonical URL, by text hash, through a near match, by
    a declared alternate, or as another language's edition. The URL, hash and edition rules
    name the earliest stored article they reach (the lowest id); near matches name each."""
    rows = sorted((r for r in rows if r.story_id is not None), key=lambda r: r.id)

    def first(kind: PlacementKind, test, declared: bool = False) -> list[StoryCandidate]:
        found = next((r for r in rows if test(r)), None)
        return [StoryCandidate(found.story_id, kind, found.id, None, declared)] if found else []

    def edition(r: StoredRow) -> bool:
        paired = r.canonical_key in counterpart_keys or (edition_key is not None
                                                         and r.edition_key == edition_key)
        return paired and (not language or r.language is None or r.language != language)

    out = first(PlacementKind.URL, lambda r: r.canonical_key == canonical_key)
    out += first(PlacementKind.EXACT, lambda r: r.content_hash == content_hash)
    if alternate_keys:
        out += first(PlacementKind.EDITION, lambda r: r.canonical_key in alternate_keys, True)
    if counterpart_keys or edition_key:
        out += first(PlacementKind.EDITION, edition)
    out += [StoryCandidate(r.story_id, PlacementKind.NEAR, r.id, near[r.id])
            for r in rows if r.id in near]
    return out
