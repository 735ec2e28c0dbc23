"""Near-duplicate precision and recall on labelled sets (tests/labelled.py) stay >= 0.97."""

from __future__ import annotations

import pytest

from tests.labelled import SHARED, build, corpus_documents, evaluate, own_documents

GOAL = 0.97


def test_own_texts_and_their_copies_are_found():
    precision, recall, positives, negatives = evaluate(build(own_documents()))
    assert positives and negatives
    assert precision >= GOAL and recall >= GOAL, (precision, recall)


@pytest.mark.skipif(not (SHARED / "corpus" / "pages").is_dir(), reason="no ../shared corpus")
def test_real_pages_and_their_copies_are_found():
    items = build(corpus_documents())
    assert {i.kind for i in items} >= {"capture", "edited", "truncated", "reheadlined", "wrapped"}
    precision, recall, positives, negatives = evaluate(items)
    assert positives > 200 and negatives > 5000
    assert precision >= GOAL and recall >= GOAL, (precision, recall)
