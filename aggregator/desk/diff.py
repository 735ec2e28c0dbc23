"""Revision diffs for readers: unified text for the API, word runs for the visual diff."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

from aggregator.provenance import revision_diff
from aggregator.views import RevisionView

_TOKENS = re.compile(r"\s+|[^\s]+")


@dataclass(frozen=True)
class Run:
    """A stretch of text that is the same, added or removed between two revisions."""

    op: str  # "same" | "added" | "removed"
    text: str


@dataclass(frozen=True)
class RevisionDiff:
    revision: RevisionView
    unified: str
    runs: list[Run]


def _document(r: RevisionView | None) -> str:
    return "" if r is None else f"{r.title or ''}\n\n{r.text}\n"


def word_runs(before: str, after: str) -> list[Run]:
    a, b = _TOKENS.findall(before), _TOKENS.findall(after)
    runs: list[Run] = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if op == "equal":
            runs.append(Run("same", "".join(a[i1:i2])))
            continue
        if i2 > i1:
            runs.append(Run("removed", "".join(a[i1:i2])))
        if j2 > j1:
            runs.append(Run("added", "".join(b[j1:j2])))
    return runs


def history(revisions: list[RevisionView]) -> list[RevisionDiff]:
    """Each revision with its change from the one before (the first against nothing)."""
    out, previous = [], None
    for r in revisions:
        before, after = _document(previous), _document(r)
        unified = revision_diff(before, after, f"revision {r.number - 1}", f"revision {r.number}")
        runs = word_runs(before, after) if previous is not None else [Run("same", after)]
        out.append(RevisionDiff(r, unified, runs))
        previous = r
    return out
