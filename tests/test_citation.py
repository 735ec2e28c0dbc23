"""The citation block: an rbc.ua-like article citing Politico, in every shipped language, from
the shipped citation.yaml and source file; escaping; template validation."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timezone
from pathlib import Path

import pytest

from aggregator.citation import citations, cite, facts_of, load_citation_config, outlet_name
from aggregator.errors import ConfigError
from aggregator.export import article_record
from aggregator.sources import load_source_file
from aggregator.views import ArticleView, LinkView, ScreenshotView, TranslationView

CONFIG = Path(__file__).resolve().parents[1] / "config"
URL = "https://www.rbc.ua/ukr/news/yes-gotuye-noviy-paket-dopomogi-1763621700.html"
WHEN = datetime(2026, 11, 20, 7, 15, tzinfo=timezone.utc)  # 09:15 in Kyiv (EET)


def article(screenshot: str | None = "captured", cites=(("Politico", None),),
            translations=()) -> ArticleView:
    shot = None if screenshot is None else ScreenshotView(
        id=1, article_id=7, requested_url=URL, outcome=screenshot, attempts=1,
        requested_at=WHEN, next_attempt_at=None, error=None, capture=None)
    return ArticleView(
        id=7, source="rbc-ukr", source_title="РБК-Україна (українською)", url=URL,
        canonical_url=URL, guid=URL, title="Politico: ЄС готує новий пакет допомоги",
        authors=[], published_at=WHEN, updated_at=None, fetched_at=WHEN, first_seen_at=WHEN,
        last_seen_at=WHEN, language="uk", description=None, image_url=None, categories=[],
        tags=[], text="Текст.", content_hash="0" * 64,
        provenance=[LinkView("original", URL, "РБК-Україна"),
                    *(LinkView("cites", url, name) for name, url in cites)],
        screenshot=shot, translations=list(translations))


def rbc():
    source, problems = load_source_file(CONFIG / "sources" / "rbc-ukr.yaml")
    assert not problems
    return source


def translation(language: str, engine_name: str, revision: int = 1) -> TranslationView:
    return TranslationView(id=revision, article_id=7, revision=revision, content_hash="0" * 64,
                           source_language="uk", language=language, status="done", attempts=1,
                           created_at=WHEN, engine="libretranslate", engine_name=engine_name,
                           title="[de] Titel", text="[de] Text.", translated_at=WHEN)


EXPECTED = {
    "de": ["Bildschirmfoto des Originalartikels auf rbc.ua",
           "Dies berichtet RBK-Ukrajina unter Berufung auf Politico.",
           "Veröffentlicht am 20.11.2026 um 09:15 Uhr (Kyjiwer Zeit)",
           f"Originalartikel: {URL}"],
    "en": ["Screenshot of the original article on rbc.ua",
           "RBC-Ukraine reports, citing Politico.",
           "Published 2026-11-20 at 09:15 Kyiv time",
           f"Original: {URL}"],
    "uk": ["Знімок екрана оригінальної статті на rbc.ua",
           "Про це повідомляє РБК-Україна з посиланням на Politico.",
           "Опубліковано 20.11.2026 о 09:15 за київським часом",
           f"Оригінал: {URL}"],
    "ru": ["Скриншот оригинальной статьи на rbc.ua",
           "Об этом сообщает РБК-Украина со ссылкой на Politico.",
           "Опубликовано 20.11.2026 в 09:15 по киевскому времени",
           f"Оригинал: {URL}"],
}


@pytest.mark.parametrize("language", ["de", "en", "uk", "ru"])
def test_rbc_article_citing_politico_in_each_language(language):
    config = load_citation_config(CONFIG)
    facts = facts_of(article(), rbc())
    with_shot = cite(facts, config.languages[language], language)
    assert with_shot.text.splitlines() == EXPECTED[language]
    without = cite(facts_of(article(screenshot=None), rbc()), config.languages[language], language)
    assert without.text.splitlines() == EXPECTED[language][1:]
    failed = facts_of(article(screenshot="failed"), rbc())  # no capture to show: no caption
    assert cite(failed, config.languages[language], language).text == without.text
    queued = facts_of(article(screenshot="pending"), rbc())  # the caption stands for the queue
    assert cite(queued, config.languages[language], language).text == with_shot.text
    assert with_shot.markdown.split("\n\n")[1] == EXPECTED[language][1]
    assert f'<a href="{URL}">{URL}</a>' in with_shot.html
    assert with_shot.html.startswith(f'<div class="citation" lang="{language}"><p class=')


def test_a_translation_opens_with_the_machine_translation_note():
    config = load_citation_config(CONFIG)
    facts = facts_of(article(translations=[translation("de", "LibreTranslate")]), rbc())
    blocks = citations(facts, config)
    assert list(blocks) == ["uk", "ru", "en", "de"]
    assert blocks["de"].text.splitlines()[0] == (
        "Dies ist eine maschinelle Übersetzung (LibreTranslate), die nicht redaktionell "
        "geprüft wurde.")
    assert blocks["de"].text.splitlines()[1:] == EXPECTED["de"]
    assert blocks["en"].text.splitlines() == EXPECTED["en"]  # no English translation: no note
    assert '<p class="machine-translation">' in blocks["de"].html


def test_cited_outlets_are_named_per_language_or_as_found():
    config = load_citation_config(CONFIG)
    cites = (("Politico", None), ("Reuters", "https://www.reuters.com/world/x"),
             ("Інститут вивчення війни", None), ("Kommersant-Vlast", None))
    facts = facts_of(article(screenshot=None, cites=cites), rbc())
    de = cite(facts, config.languages["de"], "de").text.splitlines()[0]
    assert de == ("Dies berichtet RBK-Ukrajina unter Berufung auf Politico, Reuters, das "
                  "Institute for the Study of War (ISW) und Kommersant-Vlast.")
    assert outlet_name("Українська правда", None, "en") == "Ukrainska Pravda"
    assert outlet_name("whatever", "https://www.pravda.com.ua/news/1/", "de") == "Ukrajinska Prawda"
    assert outlet_name("Рейтер", None, "en") == "Reuters"


def test_a_source_without_names_falls_back_to_the_outlet_table_then_its_title():
    config = load_citation_config(CONFIG)
    plain = rbc().model_copy(update={"names": ()})
    assert cite(facts_of(article(), plain), config.languages["en"], "en").text.splitlines()[1] \
        == "RBC-Ukraine reports, citing Politico."
    elsewhere = dataclasses.replace(article(screenshot=None), url="https://example.org/a",
                                    source_title="Example Daily")
    assert cite(facts_of(elsewhere, None), config.languages["en"], "en").text.splitlines()[0] \
        == "Example Daily reports, citing Politico."


def test_html_and_markdown_escape_every_value():
    config = load_citation_config(CONFIG)
    hostile = article(screenshot=None, cites=(('<img src=x onerror="alert(1)">', None),
                                              ("*Bold* [link](javascript:x)", None)))
    hostile = dataclasses.replace(hostile, url='https://www.rbc.ua/a"><script>x</script>',
                                  source_title="<b>RBC</b>")
    block = cite(facts_of(hostile, None), config.languages["en"], "en")
    assert "<script>" not in block.html and "<img" not in block.html and "<b>" not in block.html
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in block.html
    assert 'href="https://www.rbc.ua/a&quot;&gt;&lt;script&gt;x&lt;/script&gt;"' in block.html
    assert r"\*Bold\* \[link\](javascript:x)" in block.markdown
    assert "](https://www.rbc.ua/a%22%3E%3Cscript%3Ex%3C/script%3E)" in block.markdown
    script = dataclasses.replace(hostile, url="javascript:alert(1)")
    assert "href" not in cite(facts_of(script, None), config.languages["en"], "en").html


@pytest.mark.parametrize("change,message", [
    ("{source.__class__}", "unknown placeholder"),
    ("{secret}", "unknown placeholder"),
    ("{source} reports", "must contain {cited}"),
    ("{source", "reports_citing"),
])
def test_templates_are_validated_once_at_load(tmp_path, change, message):
    text = (CONFIG / "citation.yaml").read_text(encoding="utf-8")
    broken = text.replace('"{source} reports, citing {cited}."', f'"{change}"')
    (tmp_path / "citation.yaml").write_text(broken, encoding="utf-8")
    with pytest.raises(ConfigError, match=message) as raised:
        load_citation_config(tmp_path)
    assert "citation.yaml" in str(raised.value) and "en" in str(raised.value)


def test_no_file_means_no_block_and_an_empty_export_field(tmp_path):
    assert load_citation_config(tmp_path) is None
    assert citations(facts_of(article(), rbc()), None) == {}
    record = article_record(article())
    assert record["citation"] == {} and record["translations"] == []


def test_export_carries_the_blocks_and_finished_translations():
    config = load_citation_config(CONFIG)
    pending = dataclasses.replace(translation("en", "x", revision=2), status="pending",
                                  title=None, text=None)
    view = article(translations=[translation("de", "LibreTranslate"), pending])
    record = article_record(view, citations(facts_of(view, rbc()), config))
    assert record["citation"]["de"]["text"].startswith("Dies ist eine maschinelle Übersetzung")
    assert set(record["citation"]["en"]) == {"text", "markdown", "html"}
    assert [(t["language"], t["title"], t["engine_name"]) for t in record["translations"]] == [
        ("de", "[de] Titel", "LibreTranslate")]
