"""Per-source extraction rules (drop, body, title, date, author) and the quality policy."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest

from aggregator import quality
from aggregator.extract import extract_article
from aggregator.quality import Outcomes
from aggregator.records import ArticleDraft, ExtractRules
from aggregator.sources import Source, load_source_file
from aggregator.vocabulary import DatePrecision, DateSource, ExtractionPath
from bench.gold import all_pages, shared_dir
from bench.quality import f1
from tests.newssite import article_page
from tests.stories import ENERGY_UK

URL = "http://127.0.0.1/ukr/news/energy-uk.html"
RBC_DROP = (".lang-publication", ".share", ".read-in-google", ".intext-tags", "ins")


def page(**changes) -> bytes:
    return article_page(ENERGY_UK, URL, **changes)


def test_rbc_body_rule_keeps_the_article_minus_its_furniture():
    rules = ExtractRules(body="article", drop=RBC_DROP)
    draft = extract_article(page(), URL, "text/html", "uk", rules).draft
    assert draft.text.splitlines() == ENERGY_UK.paragraphs
    assert "Google News" not in draft.text and "Читати російською" not in draft.text
    assert draft.title == ENERGY_UK.title


def test_body_selector_wins_over_trafilatura_and_may_be_xpath():
    rules = ExtractRules(body="//div[@class='txt'] | //aside[@class='related']")
    draft = extract_article(page(), URL, "text/html", "uk", rules).draft
    lines = draft.text.splitlines()  # the union's matches in document order
    assert [line for line in lines if line in ENERGY_UK.paragraphs] == ENERGY_UK.paragraphs
    assert lines[-3:] == ["Читайте також", "Уряд ухвалив нове рішення щодо тарифів",
                          "Що відомо про нові правила перетину кордону"]
    result = extract_article(page(), URL, "text/html", "uk", ExtractRules(body="div.nothing"))
    assert result.draft is None and result.outcome == "empty_text"


def test_drop_applies_before_trafilatura():
    rules = ExtractRules(drop=("div.txt p:nth-of-type(1)",))
    draft = extract_article(page(), URL, "text/html", "uk", rules).draft
    assert ENERGY_UK.paragraphs[0] not in draft.text
    assert ENERGY_UK.paragraphs[1] in draft.text


def test_title_date_and_author_selectors_override():
    rules = ExtractRules(title="aside.related li a", date=".article_info .time",
                         author="//div[@class='logo']/a")
    draft = extract_article(page(), URL, "text/html", "uk", rules).draft
    assert draft.title == "Уряд ухвалив нове рішення щодо тарифів"
    # "20.11.2026, 09:15" in Kyiv (UTC+2 in November)
    assert draft.published_at == datetime(2026, 11, 20, 7, 15, tzinfo=timezone.utc)
    assert draft.authors == ("РБК-Україна",)


def test_rules_are_plain_data_from_the_source_file():
    source = Source(name="r", title="R", kind="feed", url="https://www.rbc.ua/rss", language="uk",
                    extract={"body": "article", "drop": list(RBC_DROP)},
                    include=[r"/news/"], exclude=[r"/styler/"])
    assert source.rules == ExtractRules(body="article", drop=RBC_DROP)
    assert source.wants("https://www.rbc.ua/ukr/news/x.html")
    assert not source.wants("https://www.rbc.ua/ukr/styler/news/x.html")
    assert not source.wants("https://www.rbc.ua/ukr/travel/x.html")


def test_layout_change_is_flagged_against_the_sources_own_baseline():
    usual = Outcomes(pages=100, short_text=2, no_date=3, no_author=20)
    assert quality.layout_changed(Outcomes(pages=10, no_author=2), usual) == ()
    broken = Outcomes(pages=10, no_date=9, no_author=10)
    assert quality.layout_changed(broken, usual) == ("date", "author")
    assert quality.layout_changed(Outcomes(pages=2, empty_text=2), usual) == ()  # too few pages
    never = Outcomes(pages=100, no_author=95)  # a source that never names authors
    assert quality.layout_changed(Outcomes(pages=10, no_author=10), never) == ()
    assert quality.fill(Outcomes(pages=4, empty_text=2, no_date=1)) == "50/50/100"
    assert quality.fill(Outcomes()) == "-"


SHIPPED = Path(__file__).resolve().parent.parent / "config" / "sources"
CORPUS = shared_dir()
needs_corpus = pytest.mark.skipif(CORPUS is None, reason="shared corpus not present")


def shipped_rules(name: str) -> ExtractRules:
    source, problems = load_source_file(SHIPPED / f"{name}.yaml")
    assert not problems, problems
    return source.rules


@needs_corpus
def test_pravda_rules_on_the_publishers_own_page():
    page = next(p for p in all_pages() if p.name == "Pravda")
    draft = extract_article(page.html, page.url, None, "uk", shipped_rules("pravda")).draft
    plain = extract_article(page.html, page.url, None, "uk").draft
    assert f1(draft.text, page.body) >= max(0.98, f1(plain.text, page.body))
    assert draft.title == page.title
    assert draft.authors == ("Ярослав Кузишин", "Антон Зелинский", "Карина Гасимова")
    assert "Источник: Фундация DEJURE" not in draft.text and "Реклама" not in draft.text
    assert not draft.text.endswith("Карина Гасимова")  # the byline repeated under the text
    assert draft.date_source == DateSource.STRUCTURED
    assert draft.published_at == datetime(2026, 1, 8, 15, 46, tzinfo=timezone.utc)


@needs_corpus
def test_unian_rules_keep_the_read_also_teaser_out():
    for html in sorted((CORPUS / "pages/ua/kraiany").glob("unian.ua__politics_991464*.html")):
        draft = extract_article(html.read_bytes(), "http://www.unian.ua/politics/991464.html",
                                None, "uk", shipped_rules("unian")).draft
        assert draft.text.startswith("На дебатах ПАРЄ акцент")
        assert "Читайте також" not in draft.text and "Муйжнієкс" not in draft.text
        assert draft.published_at == datetime(2014, 10, 2, 4, 21, tzinfo=timezone.utc)
        assert (draft.date_source, draft.date_precision) == (DateSource.PAGE,
                                                             DatePrecision.SECOND)
        assert draft.extraction_path == ExtractionPath.FAST


def test_a_source_whose_pages_are_mostly_another_language_is_flagged():
    assert quality.language_disagrees(Outcomes(pages=10, language_mismatch=2)) is None
    assert quality.language_disagrees(Outcomes(pages=10, language_mismatch=6)) == 0.6
    assert quality.language_disagrees(Outcomes(pages=3, language_mismatch=3)) is None  # too few
    ru_page = ArticleDraft(url="u", text="t", language="ru")
    assert quality.of_draft(ru_page, "uk").language_mismatch == 1
