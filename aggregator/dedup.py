"""Content identity: the hash of normalised main text (exact duplicates)."""

from __future__ import annotations

import hashlib
import re
import unicodedata

_SPACE = re.compile(r"\s+")


def normalise_text(text: str) -> str:
    """NFC, case-folded, whitespace collapsed: what a reader would call 'the same text'."""
    return _SPACE.sub(" ", unicodedata.normalize("NFC", text).casefold()).strip()


def content_hash(text: str) -> str:
    return hashlib.sha256(normalise_text(text).encode("utf-8")).hexdigest()
