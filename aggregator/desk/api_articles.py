"""`GET /api/v1/articles/{id}`: the export record, its provenance chain and its revisions."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Path
from starlette.requests import Request

from aggregator.db import queries, story_reads
from aggregator.desk import diff, payloads
from aggregator.desk.context import Desk, desk, not_found, session, shown_html
from aggregator.export import _iso as iso
from aggregator.export import article_record
from aggregator.views import ArticleView, Chain

router = APIRouter(prefix="/api/v1", tags=["articles"])


@dataclass(frozen=True)
class ArticleEvidence:
    """One article with what proves it: chain, WARC check, revisions and their diffs."""

    article: ArticleView
    chain: Chain | None
    record_id: str | None
    file_matches: bool | None
    problem: str | None
    history: list[diff.RevisionDiff]


def evidence(request: Request, article_id: int) -> ArticleEvidence:
    """Everything the article page and the API show; 404 for an unknown id."""
    with session(request) as s:
        article = queries.get_article(s, article_id)
        if article is None:
            raise not_found(f"article {article_id}")
        revisions = queries.revisions(s, article_id)
        found = story_reads.member(s, article_id)
        chain = story_reads.chains(s, [found])[0] if found else None
    d: Desk = desk(request)
    record_id, matches, problem = d.warc_check(chain.fetch if chain else None)
    return ArticleEvidence(article, chain, record_id, matches, problem, diff.history(revisions))


@router.get("/articles/{article_id}", summary="One article: everything the export has, "
            "its provenance chain, and every revision with its diff")
def get_article(request: Request, article_id: int = Path(ge=1, le=2**62)) -> dict[str, Any]:
    ev = evidence(request, article_id)
    record = article_record(ev.article)
    record["html"] = shown_html(ev.article.html, ev.article.url)
    record["provenance_chain"] = (payloads.chain(ev.chain, ev.record_id, ev.file_matches)
                                  if ev.chain else None)
    record["warc_problem"] = ev.problem
    record["revision_history"] = [
        {"number": h.revision.number, "fetched_at": iso(h.revision.fetched_at),
         "title": h.revision.title, "text": h.revision.text, "diff": h.unified}
        for h in ev.history
    ]
    return record
