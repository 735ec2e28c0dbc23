"""The JSONL contract: field names, types and UTC timestamps."""

from __future__ import annotations

import io
import json
from datetime import datetime, timezone

from aggregator.export import write_jsonl
from aggregator.views import ArticleView, LinkView


def sample_view() -> ArticleView:
    when = datetime(2026, 11, 20, 7, 15, tzinfo=timezone.utc)
    return ArticleView(
        id=1, source="rbc-ukr", source_title="RBC", url="https://www.rbc.ua/ukr/news/x.html",
        canonical_url="https://www.rbc.ua/ukr/news/x.html", guid="x", title="Заголовок",
        authors=["Автор"], published_at=when, updated_at=None, fetched_at=when,
        first_seen_at=when, last_seen_at=when, language="uk", description=None,
        image_url=None, categories=[], tags=[], text="Текст", content_hash="0" * 64,
        provenance=[LinkView("original", "https://www.rbc.ua/ukr/news/x.html", "RBC", "rbc-ukr")],
    )


def test_one_utf8_object_per_line_with_utc_timestamps():
    out = io.StringIO()
    assert write_jsonl([sample_view(), sample_view()], out) == 2
    lines = out.getvalue().splitlines()
    record = json.loads(lines[0])
    assert len(lines) == 2 and "Заголовок" in lines[0]  # not \u-escaped
    assert record["published_at"] == "2026-11-20T07:15:00Z" and record["updated_at"] is None
    assert record["provenance"] == [{"kind": "original", "label": "RBC", "source": "rbc-ukr",
                                     "url": "https://www.rbc.ua/ukr/news/x.html"}]
