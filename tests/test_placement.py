"""Which story a new article joins: aggregator/placement.py, a pure function of candidates."""

from __future__ import annotations

from aggregator.placement import choose_story
from aggregator.records import StoryCandidate as C
from aggregator.vocabulary import PlacementKind as K


def test_an_article_with_no_candidate_starts_its_own_story():
    placement = choose_story([])
    assert (placement.story_id, placement.kind, placement.merge) == (None, K.FIRST, ())


def test_rules_in_order_url_exact_near_edition_and_the_others_are_merged():
    candidates = [C(40, K.EDITION, 4), C(30, K.NEAR, 3, 0.8), C(20, K.EXACT, 2), C(10, K.URL, 1)]
    placement = choose_story(candidates)
    assert (placement.story_id, placement.kind, placement.score) == (10, K.URL, 1.0)
    assert placement.merge == (20, 30, 40)


def test_near_matches_best_first_and_every_story_they_reach_is_merged():
    placement = choose_story([C(5, K.NEAR, 50, 0.74), C(6, K.NEAR, 60, 0.9123),
                              C(5, K.NEAR, 51, 0.95)])
    assert (placement.story_id, placement.kind, placement.score) == (5, K.NEAR, 0.95)
    assert placement.merge == (6,)


def test_one_story_per_rule_the_earliest_stored_and_a_declared_edition_first():
    placement = choose_story([C(8, K.EDITION, 80), C(9, K.EDITION, 90, declared=True),
                              C(7, K.EXACT, 71), C(3, K.EXACT, 70)])
    assert (placement.story_id, placement.kind) == (3, K.EXACT)
    assert placement.merge == (9,)  # the paired edition (story 8) is not asked once one is declared
    assert choose_story([C(8, K.EDITION, 80), C(9, K.EDITION, 90, declared=True)]).story_id == 9
