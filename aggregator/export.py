"""The downstream contract: one JSON object per article (docs/export.md documents each field)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import IO, Any

from aggregator.views import ArticleView, Citation, CopyView, ScreenshotView, TranslationView
from aggregator.vocabulary import TranslationStatus

SCHEMA_VERSION = 1


def _iso(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


def _copies(copies: list[CopyView]) -> list[dict[str, Any]]:
    return [{"id": c.id, "url": c.url, "source": c.source, "language": c.language,
             "match": c.match} for c in copies]


def screenshot_record(shot: ScreenshotView | None) -> dict[str, Any] | None:
    """The capture of the original (docs/screenshots.md, "Export fields"); None if never queued."""
    if shot is None:
        return None
    record: dict[str, Any] = {
        "outcome": shot.outcome,
        "requested_url": shot.requested_url,
        "attempts": shot.attempts,
        "error": shot.error,
    }
    c = shot.capture
    if c is not None:
        record.update({
            "path": c.path, "thumbnail_path": c.thumbnail_path, "sha256": c.sha256,
            "format": c.format, "width": c.width, "height": c.height, "bytes": c.size,
            "final_url": c.final_url, "http_status": c.http_status, "page_title": c.page_title,
            "viewport": {"width": c.viewport_width, "height": c.viewport_height},
            "full_page": c.full_page, "settled": c.settled, "captured_at": _iso(c.captured_at),
            "browser": c.browser, "browser_version": c.browser_version,
            "duration_ms": c.duration_ms,
        })
    return record


def translation_records(translations: list[TranslationView]) -> list[dict[str, Any]]:
    """Finished translations, every revision's (docs/export.md, "Translations")."""
    return [{
        "language": t.language, "source_language": t.source_language, "revision": t.revision,
        "content_hash": t.content_hash, "current": t.current, "engine": t.engine,
        "engine_name": t.engine_name, "engine_version": t.engine_version, "title": t.title,
        "text": t.text, "characters": t.characters, "translated_at": _iso(t.translated_at),
    } for t in translations if t.status == TranslationStatus.DONE]


def citation_records(citation: dict[str, Citation] | None) -> dict[str, dict[str, str]]:
    return {language: {"text": c.text, "markdown": c.markdown, "html": c.html}
            for language, c in (citation or {}).items()}


def article_record(article: ArticleView,
                   citation: dict[str, Citation] | None = None) -> dict[str, Any]:
    story = article.story
    return {
        "schema_version": SCHEMA_VERSION,
        "id": article.id,
        "source": article.source,
        "source_title": article.source_title,
        "url": article.url,
        "canonical_url": article.canonical_url,
        "guid": article.guid,
        "title": article.title,
        "authors": article.authors,
        "published_at": _iso(article.published_at),
        "date_source": article.date_source,
        "date_precision": article.date_precision,
        "updated_at": _iso(article.updated_at),
        "fetched_at": _iso(article.fetched_at),
        "first_seen_at": _iso(article.first_seen_at),
        "last_seen_at": _iso(article.last_seen_at),
        "language": article.language,
        "language_confidence": article.language_confidence,
        "description": article.description,
        "image_url": article.image_url,
        "categories": article.categories,
        "tags": article.tags,
        "text": article.text,
        "html": article.html,
        "extraction_path": article.extraction_path,
        "content_hash": article.content_hash,
        "provenance": [
            {"kind": link.kind, "url": link.url, "label": link.label, "source": link.source}
            for link in article.provenance
        ],
        "story_id": story.story_id,
        "is_primary": story.is_primary,
        "match": story.match,
        "duplicates": _copies(story.duplicates),
        "alternates": _copies(story.alternates),
        "cites": [{"outlet": link.label, "url": link.url}
                  for link in article.provenance if link.kind == "cites"],
        "revisions": story.revisions,
        "warc": {"file": story.warc.file, "offset": story.warc.offset,
                 "length": story.warc.length, "sha256": story.warc.sha256}
        if story.warc else None,
        "screenshot": screenshot_record(article.screenshot),
        "translations": translation_records(article.translations),
        "citation": citation_records(citation),
    }


def write_jsonl(articles: Iterable[ArticleView], out: IO[str],
                cite: Callable[[ArticleView], dict[str, Citation]] | None = None) -> int:
    count = 0
    for article in articles:
        record = article_record(article, cite(article) if cite else None)
        out.write(json.dumps(record, ensure_ascii=False) + "\n")
        count += 1
    return count
