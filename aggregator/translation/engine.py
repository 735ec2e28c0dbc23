"""The engine interface, and the one thing every engine needs done the same way: an article
cut into requests within the engine's limits, and the answers put back in order.

An article goes out as its title and its paragraphs (one per line of the stored text), each
a text of its own, so the paragraph structure survives any engine. A paragraph longer than a
request may carry is cut at sentence ends (then spaces) and its pieces joined again.
"""

from __future__ import annotations

import re
import time
from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import datetime, timezone

from aggregator.errors import TranslationError
from aggregator.records import Translated
from aggregator.vocabulary import EngineKind

_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+")
_UNKNOWN = object()


@dataclass(frozen=True)
class Limits:
    max_chars: int  # characters in one request, all its texts together
    max_texts: int  # texts in one request


class Engine(ABC):
    """Translates lists of plain texts; raises TranslationError (EngineUnavailable when no
    job can succeed until the engine is back) with a reason an operator can act on."""

    kind: EngineKind

    def __init__(self, name: str, limits: Limits):
        self.name = name
        self.limits = limits
        self._version: object = _UNKNOWN

    @abstractmethod
    def translate(self, texts: list[str], source: str, target: str, timeout: float) -> list[str]:
        """One request: a translation for each text, in order."""

    def version(self, timeout: float) -> str | None:
        """The engine's version or model as it reports it: asked once it answers at all."""
        if self._version is _UNKNOWN:
            try:
                self._version = self.ask_version(timeout)
            except TranslationError:
                return None  # unreachable now: ask again next time
        return self._version  # type: ignore[return-value]

    def ask_version(self, timeout: float) -> str | None:
        """Ask the engine; raise TranslationError when it cannot be asked now."""
        return None

    def close(self) -> None:  # noqa: B027 - most engines hold nothing to release
        """Release connections or processes; the engine may be used again afterwards."""


def pieces(paragraph: str, max_chars: int) -> list[str]:
    """A paragraph as consecutive pieces of at most `max_chars`: whole sentences where they
    fit, else words, else hard cuts; joined with spaces they give the paragraph back."""
    if len(paragraph) <= max_chars:
        return [paragraph]
    parts: list[str] = []
    for sentence in _SENTENCE_END.split(paragraph):
        if len(sentence) <= max_chars:
            parts.append(sentence)
            continue
        for word in sentence.split():
            parts.extend(word[i:i + max_chars] for i in range(0, len(word), max_chars))
    out: list[str] = []
    for part in parts:
        if out and len(out[-1]) + 1 + len(part) <= max_chars:
            out[-1] = f"{out[-1]} {part}"
        else:
            out.append(part)
    return out


def batches(texts: list[str], limits: Limits) -> list[list[int]]:
    """Indices of `texts` grouped into requests within the limits, in order."""
    groups: list[list[int]] = []
    size = 0
    for index, text in enumerate(texts):
        if groups and len(groups[-1]) < limits.max_texts and size + len(text) <= limits.max_chars:
            groups[-1].append(index)
            size += len(text)
        else:
            groups.append([index])
            size = len(text)
    return groups


def translate_article(engine: Engine, title: str | None, text: str, source: str, target: str,
                      timeout: float, job_timeout: float) -> Translated:
    """Title and text through `engine`, request by request, within `job_timeout` overall."""
    started = time.monotonic()
    deadline = started + job_timeout
    engine.version(timeout)  # an engine may learn its limits with its version
    lines = text.split("\n")
    units = ([title.strip()] if title and title.strip() else []) + [
        line.strip() for line in lines if line.strip()]
    cut = [pieces(unit, engine.limits.max_chars) for unit in units]
    flat = [piece for unit in cut for piece in unit]
    done: list[str] = []
    for group in batches(flat, engine.limits):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TranslationError(f"the article took longer than {job_timeout:g}s "
                                   f"(translation.job_timeout); {len(done)} of {len(flat)} "
                                   "texts were translated")
        answers = engine.translate([flat[i] for i in group], source, target,
                                   min(timeout, remaining))
        done.extend(" ".join(a.split()) for a in answers)  # one paragraph stays one line
    joined, at = [], 0
    for unit in cut:
        joined.append(" ".join(done[at:at + len(unit)]))
        at += len(unit)
    translated = iter(joined)
    new_title = next(translated) if title and title.strip() else title
    body = "\n".join(next(translated) if line.strip() else "" for line in lines)
    return Translated(
        title=new_title, text=body, engine=engine.kind, engine_name=engine.name,
        engine_version=engine.version(timeout), characters=sum(map(len, flat)),
        duration_ms=int((time.monotonic() - started) * 1000),
        translated_at=datetime.now(timezone.utc),
    )
