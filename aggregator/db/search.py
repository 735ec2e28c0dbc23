"""Full-text search: the one module that speaks FTS5 (SQLite) and tsvector (PostgreSQL).

Both index what migration 0008 set up (`article_search`, kept in step with `articles` by
triggers); `aggregator.searchterms` turns the user's words into prefix terms first.
"""

from __future__ import annotations

from sqlalchemy import Float, Integer, text
from sqlalchemy.orm import Session
from sqlalchemy.sql import Subquery

from aggregator.searchterms import terms

# Tables migration 0008 creates outside the models (FTS5 makes shadow tables of its own).
SEARCH_TABLE = "article_search"
TITLE_WEIGHT = 10.0  # bm25 column weight of the title against the text (SQLite)
# A search ranks the newest MAX_MATCHES matching articles: a common word ("Україна") then
# costs the same as a rare one, and for news the newest matches are the ones wanted.
MAX_MATCHES = 2000


def outside_models(name: str | None) -> bool:
    """True for the search tables, which the models do not describe (schema comparisons)."""
    return bool(name) and (name == SEARCH_TABLE or name.startswith(SEARCH_TABLE + "_"))


def fts5_query(words: list[str]) -> str:
    """"term"* AND "term"*: each term quoted, so no word is read as FTS5 syntax."""
    return " AND ".join('"' + w.replace('"', '""') + '"*' for w in words)


def tsquery(words: list[str]) -> str:
    """'term':* & 'term':* for to_tsquery('simple', ...)."""
    return " & ".join("'" + w.replace("'", "''").replace("\\", "") + "':*" for w in words)


def matches(session: Session, query: str) -> Subquery | None:
    """(article_id, rank) of the articles matching every term of `query`; a higher rank is
    more relevant. None when the query has no searchable word."""
    words = terms(query)
    if not words:
        return None
    if session.get_bind().dialect.name == "sqlite":
        # bm25() is computed only for the rows the LIMIT lets through; the LIMIT also keeps
        # it out of the caller's GROUP BY (SQLite would otherwise flatten this query).
        found = text(
            "SELECT rowid AS article_id, "
            f"-bm25(article_search, {TITLE_WEIGHT}, 1.0) AS rank "
            "FROM article_search WHERE article_search MATCH :match "
            "ORDER BY rowid DESC LIMIT :cap"
        ).bindparams(match=fts5_query(words), cap=MAX_MATCHES)
    else:
        # float8: a real would not survive the JSON round trip of a cursor exactly.
        found = text(
            "SELECT article_id, "
            "CAST(ts_rank(document, to_tsquery('simple', :match)) AS float8) AS rank "
            "FROM (SELECT article_id, document FROM article_search "
            "WHERE document @@ to_tsquery('simple', :match) "
            "ORDER BY article_id DESC LIMIT :cap) AS recent"
        ).bindparams(match=tsquery(words), cap=MAX_MATCHES)
    return found.columns(article_id=Integer, rank=Float).subquery("matches")
