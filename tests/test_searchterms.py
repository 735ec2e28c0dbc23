"""Search terms: inflected Ukrainian and Russian words meet at a shared prefix."""

from __future__ import annotations

from aggregator.db.search import fts5_query, tsquery
from aggregator.searchterms import MAX_TERMS, terms


def test_cyrillic_words_lose_their_endings_latin_words_do_not():
    assert terms("Енергетика") == ["енергети"]
    for form in ("енергетики", "енергетиці", "енергетику", "енергетичний"):
        assert form.startswith(terms("енергетика")[0]), form
    assert terms("мостом") == ["мост"] and "мосту".startswith(terms("мости")[0])
    assert terms("Politico sanctions") == ["politico", "sanctions"]
    assert terms("ЄС") == ["єс"]


def test_syntax_in_the_query_is_only_words():
    assert terms('"OR" NEAR(a b) -x * ^') == ["or", "near", "a", "b", "x"]
    assert fts5_query(terms('він сказав "так"')) == '"він"* AND "сказ"* AND "так"*'
    assert tsquery(terms("п'ять o'clock")) == "'п':* & 'ять':* & 'o':* & 'clock':*"
    assert terms("   ") == []
    assert len(terms(" ".join(chr(0x430 + i) * 4 for i in range(20)))) == MAX_TERMS
