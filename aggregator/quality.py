"""Extraction quality per source, as pure policy: what one page counts as, fill rates, and
when a source's own history says its layout probably changed (selectors stop matching, so
text, dates or authors go missing while fetches still succeed)."""

from __future__ import annotations

from dataclasses import astuple, dataclass, fields

from aggregator.records import ArticleDraft
from aggregator.vocabulary import ExtractionOutcome

MIN_PAGES = 5  # too few pages say nothing about a source's layout
DROP = 0.5  # flagged below half of the baseline's fill rate
MIN_BASELINE = 0.3  # a field the source rarely fills cannot drop "well below" it
LANGUAGE_SHARE = 0.5  # of recent pages in another language than the source's: flagged


@dataclass(frozen=True)
class Outcomes:
    """Counters of extraction outcomes; sums of pages over any span of days."""

    pages: int = 0
    empty_text: int = 0
    short_text: int = 0
    no_date: int = 0
    no_author: int = 0
    language_mismatch: int = 0

    def __add__(self, other: Outcomes) -> Outcomes:
        return Outcomes(*(a + b for a, b in zip(astuple(self), astuple(other))))

    @property
    def rates(self) -> dict[str, float]:
        """Share of pages with text, and of those with text, with a date and an author."""
        if not self.pages:
            return {}
        texts = self.pages - self.empty_text - self.short_text
        share = (lambda missing: (texts - missing) / texts) if texts else (lambda _m: 0.0)
        return {"text": texts / self.pages, "date": share(self.no_date),
                "author": share(self.no_author)}


COUNTERS = tuple(f.name for f in fields(Outcomes))


def of_draft(draft: ArticleDraft, declared_language: str) -> Outcomes:
    """A page with text, as the page itself gave it (before the feed fills gaps)."""
    return Outcomes(pages=1, no_date=int(draft.published_at is None),
                    no_author=int(not draft.authors),
                    language_mismatch=int(bool(draft.language)
                                          and draft.language != declared_language))


def of_failure(outcome: ExtractionOutcome) -> Outcomes:
    """A page without usable text (empty or too short)."""
    return Outcomes(pages=1, **{str(outcome): 1})


def layout_changed(recent: Outcomes, baseline: Outcomes) -> tuple[str, ...]:
    """Fields (text, date, author) whose recent fill rate fell well below the baseline's."""
    if recent.pages < MIN_PAGES or baseline.pages < MIN_PAGES:
        return ()
    now, usual = recent.rates, baseline.rates
    return tuple(k for k in ("text", "date", "author")
                 if usual[k] >= MIN_BASELINE and now[k] < usual[k] * DROP)


def language_disagrees(recent: Outcomes) -> float | None:
    """The share of recent pages with text whose detected language is not the source's
    configured one, when it is most of them (a wrong `language:` or another edition's feed)."""
    texts = recent.pages - recent.empty_text - recent.short_text
    if texts < MIN_PAGES:
        return None
    share = recent.language_mismatch / texts
    return share if share >= LANGUAGE_SHARE else None


def fill(outcomes: Outcomes) -> str:
    """'text/date/author' fill rates in percent, or '-' before any page."""
    rates = outcomes.rates
    return "/".join(f"{rates[k] * 100:.0f}" for k in ("text", "date", "author")) if rates else "-"
