"""The language of an article's text: py3langid's bundled model (nothing downloaded at run
time), with the letters only Ukrainian or only Russian has deciding between those two, which
the model confuses on short or mixed texts."""

from __future__ import annotations

from functools import lru_cache

_UK_ONLY = set("іїєґІЇЄҐ")
_RU_ONLY = set("ыэъёЫЭЪЁ")
SAMPLE = 5000  # characters the letter rule looks at
# Characters the model looks at. py3langid walks its automaton in Python a byte at a time
# (Cyrillic is two bytes a letter): 1,000 gave the same language as 2,000 on every one of 335
# texts (the gold pages and the bench corpus) at 0.47 ms a text against 0.82.
MODEL_SAMPLE = 1000
MIN_CHARS = 40  # below this a detector's answer is noise
MIN_CONFIDENCE = 0.5  # below this the model's answer is not kept


def guess_language(text: str) -> str | None:
    """Tell Ukrainian from Russian by the letters only one of them has; None if undecided."""
    sample = text[:SAMPLE]
    uk = sum(map(sample.count, _UK_ONLY))
    ru = sum(map(sample.count, _RU_ONLY))
    if uk + ru < 5:
        return None
    if uk >= 3 * ru:
        return "uk"
    if ru >= 3 * uk:
        return "ru"
    return None


@lru_cache(maxsize=1)
def _identifier():
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


def detect(text: str) -> tuple[str | None, float | None]:
    """(ISO 639-1 code, probability) of the text, or (None, None) when it cannot tell.
    Cyrillic uk/ru: the letter rule wins over the model when the two disagree."""
    sample = " ".join(text[:MODEL_SAMPLE].split())
    letters = guess_language(text)
    if len(sample) < MIN_CHARS:
        return letters, None
    code, probability = _identifier().classify(sample)
    if letters and code in ("uk", "ru", "bg", "mk", "be", "sr") and code != letters:
        return letters, None  # the letters decide; the model's probability was for another
    if probability < MIN_CONFIDENCE:
        return letters, None
    return code, round(float(probability), 4)


def preload() -> None:
    """Load the model now (about a second): an extraction worker does it while starting, not
    on its first page, where it would count against that page's time limit."""
    _identifier()
