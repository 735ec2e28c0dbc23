"""JSON shapes of the read API (docs/api.md documents every field): views in, dicts out."""

from __future__ import annotations

from typing import Any

from aggregator.export import _iso
from aggregator.views import (
    Chain,
    ChangeView,
    FetchStep,
    ShotRef,
    StoryDetail,
    StoryMember,
    StorySummary,
)

API = "/api/v1"


def shot(ref: ShotRef | None) -> dict[str, Any] | None:
    if ref is None:
        return None
    return {"sha256": ref.sha256, "format": ref.format, "width": ref.width,
            "height": ref.height, "captured_at": _iso(ref.captured_at),
            "url": f"/screenshots/{ref.sha256}",
            "thumbnail_url": f"/screenshots/{ref.sha256}/thumb"}


def member(m: StoryMember) -> dict[str, Any]:
    return {"id": m.id, "title": m.title, "source": m.source, "source_title": m.source_title,
            "url": m.url, "canonical_url": m.canonical_url, "language": m.language,
            "published_at": _iso(m.published_at), "date_precision": m.date_precision,
            "first_seen_at": _iso(m.first_seen_at),
            "match": m.match, "match_score": m.match_score, "is_primary": m.is_primary,
            "api_url": f"{API}/articles/{m.id}"}


def story(s: StorySummary) -> dict[str, Any]:
    return {
        "id": s.id,
        "primary": member(s.primary),
        "outlets": len(s.outlets),
        "sources": s.outlets,
        "languages": s.languages,
        "first_seen_at": _iso(s.first_seen_at),
        "last_changed_at": _iso(s.last_changed_at),
        "rank": s.rank,
        "screenshot": shot(s.thumbnail),
        "copies": [{"article_id": c.id, "source": c.source, "url": c.url, "match": c.match,
                    "language": c.language, "title": c.title} for c in s.copies],
        "api_url": f"{API}/stories/{s.id}",
        "html_url": f"/stories/{s.id}",
    }


def fetch(step: FetchStep | None) -> dict[str, Any] | None:
    if step is None:
        return None
    return {"id": step.id, "url": step.url, "final_url": step.final_url, "status": step.status,
            "fetched_at": _iso(step.fetched_at), "sha256": step.sha256}


def warc(step: FetchStep | None, record_id: str | None, matches: bool | None
         ) -> dict[str, Any] | None:
    if step is None or step.warc is None:
        return None
    p = step.warc
    return {"file": p.file, "offset": p.offset, "length": p.length, "sha256": p.sha256,
            "record_id": record_id, "file_matches": matches}


def chain(c: Chain, record_id: str | None = None, matches: bool | None = None) -> dict[str, Any]:
    """A copy with its provenance: source -> entry -> fetch -> URLs -> WARC -> screenshot."""
    entry = c.entry
    return {
        "article": member(c.member),
        "source": {"name": c.member.source, "title": c.member.source_title, "url": c.source_url},
        "feed_entry": {"guid": entry.guid, "link": entry.link,
                       "first_seen_at": _iso(entry.first_seen_at),
                       "feed_fetch": fetch(entry.feed)} if entry else None,
        "fetch": fetch(c.fetch),
        "original_url": c.member.url,
        "canonical_url": c.member.canonical_url,
        "warc": warc(c.fetch, record_id, matches),
        "warc_error": c.fetch.warc_error if c.fetch else None,
        "screenshot": shot(c.screenshot),
        "links": [{"kind": link.kind, "url": link.url, "label": link.label} for link in c.links],
    }


def story_detail(d: StoryDetail, chains: list[dict[str, Any]], html: str | None
                 ) -> dict[str, Any]:
    return {**story(d.summary), "text": d.text, "html": html, "copies": chains,
            "editions": [member(m) for m in d.editions],
            "cites": [{"outlet": link.label, "url": link.url} for link in d.cites]}


def change(c: ChangeView) -> dict[str, Any]:
    return {"id": c.id, "kind": c.kind, "changed_at": _iso(c.changed_at),
            "article_id": c.article_id, "story_id": c.story_id,
            "merged_story_id": c.merged_story_id, "revision": c.revision,
            "screenshot_id": c.screenshot_id}
