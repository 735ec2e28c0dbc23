"""What a search box means: words in, prefix terms out (pure; both databases use it).

PostgreSQL has no Ukrainian stemmer and SQLite's FTS5 none for any Cyrillic language, so both
index words as they are (lower-cased) and the query does the stemming's work: a Cyrillic
word loses its last letters (inflection lives there: енергетика, енергетики, енергетиці) and
matches as a prefix; a Latin word matches as a prefix whole (sanction -> sanctions). Every
term must match (AND). bench/web.py measures the recall this buys on inflected forms.
"""

from __future__ import annotations

import re

MAX_QUERY = 200  # characters of `q` accepted
MAX_TERMS = 8
_WORD = re.compile(r"\w+", re.UNICODE)
_CYRILLIC = re.compile(r"[\u0400-\u04ff]")


def prefix_of(word: str) -> str:
    """The part of one lower-case word that every inflected form shares, near enough."""
    if not _CYRILLIC.search(word) or len(word) <= 3:
        return word
    if len(word) <= 5:
        return word[:-1] if len(word) == 5 else word
    return word[:-2]


def terms(query: str) -> list[str]:
    """Distinct prefixes of the query's words, in order; digits and letters only."""
    words = [w.casefold() for w in _WORD.findall(query) if not w.isdigit() or len(w) >= 2]
    return list(dict.fromkeys(prefix_of(w) for w in words if w.strip("_")))[:MAX_TERMS]
