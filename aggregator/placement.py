"""Which story a new article joins, as a pure function of the candidates one query found.

Every rule is asked, because an article can be the missing link between two stories (a uk
original, its ru edition stored first and a rewrite): the first story found wins and the
others are merged into it. Rules in order: the same canonical URL stored by another source,
the same text, near-same text (best match first), another language edition (one declared by
hreflang before one paired by URL or article id); else the article starts its own story.
"""

from __future__ import annotations

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
