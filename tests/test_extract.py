"""Extraction: main text and metadata from our templates and from real saved pages."""

from __future__ import annotations

import gzip
import json
from datetime import datetime, timezone

import pytest

from aggregator.dates import parse_timestamp
from aggregator.extract import extract_article
from aggregator.language import guess_language
from aggregator.vocabulary import DatePrecision, DateSource
from tests.helpers import SHARED
from tests.newssite import article_page
from tests.stories import ENERGY_RU, ENERGY_UK, WEATHER_1251

CORPUS = SHARED / "corpus" / "pages"
needs_corpus = pytest.mark.skipif(not CORPUS.exists(), reason="shared corpus not present")


def test_template_page_gives_full_text_without_boilerplate_and_precise_metadata():
    url = "http://127.0.0.1/ukr/news/energy-uk.html"
    ENERGY_UK.alternates = {"ru": "http://127.0.0.1/rus/news/energy-ru.html"}
    draft = extract_article(article_page(ENERGY_UK, url), url, "text/html").draft
    assert draft.text.splitlines() == ENERGY_UK.paragraphs
    assert draft.title == ENERGY_UK.title and draft.authors == (ENERGY_UK.author,)
    assert draft.published_at == ENERGY_UK.published.astimezone(timezone.utc)
    assert (draft.date_source, draft.date_precision) == (DateSource.PAGE, DatePrecision.SECOND)
    assert draft.language == "uk" and draft.canonical_url == url
    assert ("ru", "http://127.0.0.1/rus/news/energy-ru.html") in draft.alternates


def test_windows_1251_and_lying_charset_are_both_decoded():
    url = "http://127.0.0.1/w"
    cp1251 = extract_article(article_page(WEATHER_1251, url, charset="windows-1251"), url,
                             "text/html; charset=windows-1251").draft
    assert WEATHER_1251.paragraphs[0] in cp1251.text
    liar = extract_article(article_page(ENERGY_RU, url, declared_charset="windows-1251"), url,
                           "text/html; charset=windows-1251").draft
    assert ENERGY_RU.paragraphs[1] in liar.text and liar.language == "ru"


def test_page_without_text_is_a_recorded_failure_not_an_exception():
    result = extract_article(b"<html><body><nav><a href='/'>home</a></nav></body></html>", "http://127.0.0.1/x")
    assert result.draft is None
    assert result.failure.startswith(("no main text", "main text too short"))


def test_language_guess_tells_ukrainian_from_russian():
    assert guess_language(" ".join(ENERGY_UK.paragraphs)) == "uk"
    assert guess_language(" ".join(ENERGY_RU.paragraphs)) == "ru"
    assert guess_language("Plain English text only.") is None


@pytest.mark.parametrize("value,expected", [
    ("2026-11-20T09:15:00+02:00", datetime(2026, 11, 20, 7, 15, tzinfo=timezone.utc)),
    ("2026-11-20T07:15:00Z", datetime(2026, 11, 20, 7, 15, tzinfo=timezone.utc)),
    ("2026-11-20 09:15:00+0200", datetime(2026, 11, 20, 7, 15, tzinfo=timezone.utc)),
    ("2026-07-01T12:00:00", datetime(2026, 7, 1, 9, 0, tzinfo=timezone.utc)),  # Kyiv summer time
    ("not a date", None),
])
def test_timestamps(value, expected):
    assert parse_timestamp(value) == expected


@needs_corpus
def test_unian_page_body_without_read_also_block():
    path = next((CORPUS / "ua" / "kraiany").glob("unian.ua__politics_991464*"))
    draft = extract_article(path.read_bytes(), "https://www.unian.ua/politics/991464.html").draft
    assert draft.text.startswith("На дебатах ПАРЄ акцент")
    assert draft.language == "uk"


@needs_corpus
def test_pravda_windows_1251_page():
    path = next((CORPUS / "ua" / "kraiany").glob("pravda.com.ua__news_2014_09_29_7039242__2014*"))
    draft = extract_article(path.read_bytes(), "http://www.pravda.com.ua/news/2014/09/29/7039242/",
                            "text/html").draft
    assert "Луганській області загинув" in draft.text
    assert draft.published_at.date().isoformat() in ("2014-09-28", "2014-09-29")


@needs_corpus
@pytest.mark.parametrize("name", ["newsru_article.html", "meddaily_article.html"])
def test_pages_that_declare_windows_1251_but_send_utf8(name):
    body = (CORPUS / "ru" / "seize" / name).read_bytes()
    draft = extract_article(body, "https://example.ru/a", "text/html; charset=windows-1251").draft
    assert "\ufffd" not in draft.text and draft.language == "ru"
    assert sum("а" <= ch <= "я" for ch in draft.text) > 200


@needs_corpus
def test_pravda_2026_gold_body_is_covered():
    folder = CORPUS / "ua" / "pravda-2026"
    gold = json.loads((folder / "Pravda.json").read_text())
    record = next(iter(gold.values())) if isinstance(gold, dict) and "body" not in gold else gold
    html = gzip.decompress((folder / "Pravda_2026_01_08.html.gz").read_bytes())
    draft = extract_article(html, "https://www.pravda.com.ua/rus/articles/2026/01/08/").draft
    paragraphs = [p for section in record["body"]["sections"] for p in section["paragraphs"]]
    found = sum(p[:60] in draft.text for p in paragraphs)
    assert found / len(paragraphs) >= 0.9
    assert draft.published_at.date().isoformat() == "2026-01-08"
