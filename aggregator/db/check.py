"""`aggregator db check`: files and rows that should point at each other but do not.

A crash (kill -9, power loss) can leave a WARC record written but never referenced, a
screenshot file without its row, a row whose file is gone, or an entry marked stored whose
article is missing. Each finding is a line; `fix=True` repairs what is safe to repair.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from aggregator.db.models import Article, FeedEntry, Fetch, Screenshot
from aggregator.vocabulary import CaptureOutcome, EntryStatus

_WRITER_PID = re.compile(r"^aggregator-\d{14}-(\d+)-\d+\.warc\.gz$")


@dataclass
class Finding:
    kind: str
    detail: str
    fixed: bool = False

    def __str__(self) -> str:
        return f"{self.kind}: {self.detail}" + (" (fixed)" if self.fixed else "")


def _writer_alive(name: str) -> bool:
    """A WARC file still being appended to by a running process is left alone."""
    found = _WRITER_PID.match(name)
    if not found:
        return False
    try:
        os.kill(int(found.group(1)), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return int(found.group(1)) != os.getpid()


def check_warc(session: Session, directory: Path, fix: bool) -> list[Finding]:
    ends: dict[str, int] = {}
    findings = []
    for fetch in session.scalars(select(Fetch).where(Fetch.warc_file.is_not(None))):
        path = directory / fetch.warc_file
        if not path.exists():
            finding = Finding("warc record missing", f"fetch {fetch.id} points at {path}")
            if fix:
                fetch.warc_error = f"archive file {fetch.warc_file} missing (db check)"
                fetch.warc_file = fetch.warc_offset = fetch.warc_length = fetch.warc_sha256 = None
                finding.fixed = True
            findings.append(finding)
            continue
        end = fetch.warc_offset + fetch.warc_length
        ends[fetch.warc_file] = max(ends.get(fetch.warc_file, 0), end)
    for path in sorted(directory.glob("*.warc.gz")) if directory.is_dir() else []:
        size, end = path.stat().st_size, ends.get(path.name)
        if size == (end or -1) or _writer_alive(path.name):
            continue
        if end is None:
            finding = Finding("warc file unreferenced", f"{path} ({size} bytes)")
            if fix:
                path.unlink()
                finding.fixed = True
        else:
            finding = Finding("warc bytes unreferenced",
                              f"{path}: {size - end} bytes after the last stored record")
            if fix:
                os.truncate(path, end)
                finding.fixed = True
        findings.append(finding)
    return findings


def check_screenshots(session: Session, data_dir: Path, fix: bool) -> list[Finding]:
    findings, known = [], set()
    for shot in session.scalars(select(Screenshot).where(Screenshot.path.is_not(None))):
        known.update(p for p in (shot.path, shot.thumbnail_path) if p)
        if all((data_dir / p).exists() for p in (shot.path, shot.thumbnail_path) if p):
            continue
        finding = Finding("screenshot file missing", f"screenshot {shot.id}: {shot.path}")
        if fix:
            shot.outcome, shot.attempts = CaptureOutcome.PENDING, 0
            shot.path = shot.thumbnail_path = None
            shot.next_attempt_at = datetime.now(timezone.utc)
            finding.fixed = True  # captured again by the worker
        findings.append(finding)
    root = data_dir / "screenshots"
    for path in sorted(p for p in root.rglob("*") if p.is_file()) if root.is_dir() else []:
        if str(path.relative_to(data_dir)) not in known:
            finding = Finding("screenshot file unreferenced", str(path))
            if fix:
                path.unlink()
                finding.fixed = True
            findings.append(finding)
    return findings


def check_entries(session: Session, fix: bool) -> list[Finding]:
    articles = select(Article.id)
    broken = list(session.scalars(select(FeedEntry.id).where(
        FeedEntry.status == EntryStatus.STORED,
        (FeedEntry.article_id.is_(None)) | FeedEntry.article_id.not_in(articles))))
    if not broken:
        return []
    finding = Finding("feed entries without their article", f"{len(broken)} entries marked stored")
    if fix:
        session.execute(update(FeedEntry).where(FeedEntry.id.in_(broken))
                        .values(status=EntryStatus.PENDING, article_id=None))
        finding.fixed = True  # fetched again by the next crawl
    return [finding]


def check(session: Session, data_dir: Path, fix: bool = False) -> list[Finding]:
    return (check_warc(session, data_dir / "warc", fix) + check_screenshots(session, data_dir, fix)
            + check_entries(session, fix))
