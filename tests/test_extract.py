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


HOLDERS = """<html><head><title>Holders</title></head><body>
<div class="post-meta x"><a href="/category/one/">One</a><a href="/about/">About</a></div>
<div id="postpath-2"><a href="/categories/two/">Two</a></div>
<p class="entry-categories"><a href="/category/three/">Three</a></p>
<p id="filedunder"><a href="/category/four/">Four</a></p>
<footer class="entry-footer"><a href="/category/five/">Five</a></footer>
<ul><li class="cat-links big"><a href="/category/six/">Six <b>and</b> more</a></li></ul>
<span class="postcategory"><a href="/category/seven/">Seven</a></span>
<header class="entry-header"><a href="/category/eight/">Eight</a></header>
<div class="row"><div class="row"><a href="/tag/nested/">Nested</a></div></div>
<div class="tags"><a href="/tags/alpha/">Alpha</a><a href="/tag/beta/">Beta</a></div>
<p class="entry-tags-list"><a href="/tag/gamma/">Gamma</a></p>
<div class="jp-relatedposts"><a href="/tag/delta/">Delta</a></div>
<div class="tagcloud"><a href="/tag/epsilon/">Epsilon</a></div>
<section class="hot topics"><a href="/tag/zeta/">Zeta</a></section>
<a class="tags-links" href="/tag/self/">Self</a>
<div class="metadata"><p>Text <a href="/category/nine/">Nine</a></p></div>
</body></html>"""


def test_categories_and_tags_are_trafilaturas_own():
    """Our one-walk holders give what trafilatura's extract_catstags gives, holder by holder:
    each kind alone on a page, then all of them together."""
    from lxml import html as lxml_html
    from trafilatura.metadata import extract_catstags

    from aggregator import extract
    from aggregator.pagescan import PageScan

    lines = HOLDERS.splitlines()
    pages = [HOLDERS] + ["\n".join([*lines[:1], line, *lines[-1:]]) for line in lines[1:-1]]
    pages.append('<html><head><meta property="article:section" content="Sec"></head>'
                 '<body><div class="tags"><a href="/tag/a/">A</a></div></body></html>')
    found = set()
    for page in pages:
        tree = lxml_html.document_fromstring(page)
        candidates = extract._holders(PageScan(tree))
        for kind, holders in (("category", extract._CATEGORY_HOLDERS),
                              ("tag", extract._TAG_HOLDERS)):
            ours = extract._catstags(tree, candidates, holders, kind)
            assert ours == extract_catstags(kind, tree), (kind, page)
            found.update(ours)
    assert {"One", "Two", "Five", "Six and more", "Nested", "Alpha", "Zeta", "Sec"} <= found


def test_the_page_tree_survives_the_library_for_our_later_passes():
    """trafilatura gets the parsed tree itself; it must work on its own copy, or the passes
    after it (links, lead, byline, the main HTML) would read a pruned page."""
    from lxml import html as lxml_html

    from aggregator import extract

    url = "http://127.0.0.1/ukr/news/energy-uk.html"
    tree = lxml_html.document_fromstring(article_page(ENERGY_UK, url), parser=extract._parser())
    before = lxml_html.tostring(tree)
    doc, _path = extract._library(tree, url, set(), 0, None)
    assert doc is not None and ENERGY_UK.paragraphs[0] in doc.text
    assert lxml_html.tostring(tree) == before
