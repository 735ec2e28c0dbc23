"""URL identity, editions, cites, primary choice and the WARC archive, without a network."""

from __future__ import annotations

import random
import re
import sys
from datetime import datetime, timedelta, timezone

import pytest

from aggregator import archive, provenance
from aggregator.dedup import NearIndex, StoryMember, choose_primary, content_hash, fingerprint
from aggregator.provenance import attributions, cited_sources, revision_diff
from aggregator.records import RawPage
from aggregator.urls import canonical_url, choose_canonical, edition_counterparts, edition_key


def test_a_text_hashes_the_same_whatever_its_whitespace_case_or_unicode_form():
    """Every character a regex `\\s` matches separates words; NFC and case do not count."""
    spaces = [chr(c) for c in range(sys.maxunicode + 1) if re.fullmatch(r"\s", chr(c))]
    assert len(spaces) == 29
    plain = content_hash("Збройні сили України й Café")
    assert content_hash(" ЗБРОЙНІ" + "".join(spaces) + "сили\tУкраїни й Cafe\u0301\n") == plain
    assert content_hash("Збройні сили України і Café") != plain


@pytest.mark.parametrize("variant", [
    "https://www.rbc.ua/ukr/news/eu-1763600000.html?utm_source=fb&utm_medium=social#comments",
    "https://m.rbc.ua/ukr/news/eu-1763600000.html",
    "https://www.rbc.ua/ukr/news/eu-1763600000.html/amp",
    "https://www.rbc.ua/ukr/news/eu-1763600000.html?amp&fbclid=IwAR0x",
    "https://WWW.RBC.UA/ukr/news/eu-1763600000.html?gclid=1",
])
def test_variants_of_one_page_share_a_canonical_url(variant):
    assert canonical_url(variant) == "https://www.rbc.ua/ukr/news/eu-1763600000.html"


def test_real_query_parameters_are_kept_and_sorted():
    assert canonical_url("https://x.ua/n?news_id=5&page=2") == "https://x.ua/n?news_id=5&page=2"
    assert canonical_url("https://x.ua/n?page=2&news_id=5") == "https://x.ua/n?news_id=5&page=2"


def test_declared_canonical_is_trusted_only_on_the_same_site():
    page = "https://www.rbc.ua/ukr/news/a-1.html?utm_source=x"
    assert choose_canonical(page, "https://evil.example/a", ("rbc.ua",)) == canonical_url(page)
    assert choose_canonical(page, "https://www.rbc.ua/ukr/news/a.html", ("rbc.ua",)) == \
        "https://www.rbc.ua/ukr/news/a.html"


def test_editions_pair_by_language_segment_and_article_id():
    uk = "https://www.rbc.ua/ukr/news/eu-package-1763600000.html"
    assert "https://www.rbc.ua/rus/news/eu-package-1763600000.html" in edition_counterparts(uk)
    assert edition_key(uk) == edition_key("https://www.rbc.ua/rus/news/es-paket-1763600000.html")
    pravda_ru = "https://www.pravda.com.ua/rus/news/2026/01/08/7500000/"
    assert "https://www.pravda.com.ua/news/2026/01/08/7500000/" in edition_counterparts(pravda_ru)


@pytest.mark.parametrize("text,outlet", [
    ("ЄС готує пакет допомоги, повідомляє РБК-Україна з посиланням на видання Politico.",
     "Politico"),
    ("За даними Reuters, переговори тривають.", "Reuters"),
    ("Об этом сообщает издание «Коммерсантъ».", "Коммерсантъ"),
    ("Со ссылкой на агентство Bloomberg.", "Bloomberg"),
    ("The talks stalled, according to The Wall Street Journal.", "The Wall Street Journal"),
    ("Das berichtet der Sender unter Berufung auf Der Spiegel.", "Der Spiegel"),
    ("Reuters reports that the talks stalled.", "Reuters"),
])
def test_attributions_in_four_languages(text, outlet):
    assert outlet in attributions(text)


def test_every_letter_the_case_blind_regex_takes_for_a_lead_in_letter_is_folded_to_it():
    """The lead-ins are found with str.find in the folded text: folding keeps every offset,
    and every character the regex would match case-blind folds to the letter it stands for."""
    letters = set("".join(provenance._LEAD_INS)) - {" "}
    everything = "".join(chr(i) for i in range(sys.maxunicode + 1) if not 0xD800 <= i <= 0xDFFF)
    taken = set(re.findall("[" + re.escape("".join(letters)) + "]", everything, re.I))
    assert len(taken) > len(letters)  # the upper cases and the odd ones
    for char in everything:  # so offsets in the folded text are offsets in the text
        assert len(char.translate(provenance._ALSO_MATCHING).lower()) == 1, hex(ord(char))
    for char in taken:
        folded = char.translate(provenance._ALSO_MATCHING).lower()
        assert folded in letters and re.fullmatch(re.escape(folded), char, re.I), hex(ord(char))


def test_attributions_found_from_lead_ins_are_what_the_regex_finds_everywhere():
    """Random texts of lead-ins in any case (odd letters, overlaps, lead-ins inside names,
    the İ whose lower case is two letters), media words and names: the same matches."""
    pieces = [*provenance._LEAD_INS, *(w.upper() + " " for w in provenance._LEAD_INS),
              "ПОВІДОМЛЯЄ", "За Даними", "пᲂвідомляє", "İ", "ıı",
              "CITING", "видання ", "«Українська правда»", "Reuters", "The Wall Street Journal",
              "Пише", " ", "  ", ", ", ". ", "\n", "пише повідомляє", "Politico ", "я", "Das"]
    rng = random.Random(16)
    texts = ["".join(rng.choice(pieces) for _ in range(rng.randint(1, 30)))
             for _ in range(3000)]
    found = 0
    for text in texts:
        expected = [(m.span(), m.group("name")) for m in provenance._ATTRIBUTION.finditer(text)]
        assert [(m.span(), m.group("name")) for m in provenance._attributed(text)] == expected
        found += len(expected)
    assert found > 1000


def test_headline_prefix_and_body_links_become_cites_but_not_the_outlet_itself():
    cites = cited_sources(
        "Про це повідомляє РБК-Україна з посиланням на Politico. За даними джерел видання, ...",
        "Politico: ЄС готує пакет",
        (("https://www.politico.eu/article/x/", "Politico"), ("https://www.rbc.ua/ukr/a", "тут")),
        "https://www.rbc.ua/ukr/news/a.html", ("РБК-Україна",),
    )
    assert [(c.outlet, c.url) for c in cites] == [("Politico", "https://www.politico.eu/article/x/")]


def test_primary_is_the_cited_copy_then_the_first_seen():
    t0 = datetime(2026, 11, 20, tzinfo=timezone.utc)
    original = StoryMember(1, "https://rbc.ua/a", "rbc.ua", True, t0 + timedelta(hours=1), None)
    copy = StoryMember(2, "https://korr.ua/b", "korr.ua", True, t0, None,
                       frozenset({"https://rbc.ua/a"}), frozenset({"rbc.ua"}))
    assert choose_primary([original, copy]) == 1
    plain = StoryMember(2, "https://korr.ua/b", "korr.ua", True, t0, None)
    assert choose_primary([original, plain]) == 2


def test_similarity_of_a_copy_with_a_new_lead():
    text = " ".join(f"слово{i}" for i in range(200))
    index = NearIndex()
    index.add(1, fingerprint(text))
    [(key, score)] = index.matches(fingerprint("Новий вступ до тексту. " + text))
    assert key == 1 and score > 0.9
    assert index.matches(fingerprint(text.replace("слово", "інше"))) == []


def test_revision_diff_shows_the_changed_line():
    diff = revision_diff("Заголовок\nтекст\n", "Новий заголовок\nтекст\n")
    assert "-Заголовок" in diff and "+Новий заголовок" in diff


def test_warc_records_read_back_and_roll(tmp_path):
    store = archive.WarcArchive(tmp_path, max_file_bytes=1)
    when = datetime(2026, 11, 20, tzinfo=timezone.utc)
    pages = [RawPage(f"https://rbc.ua/{i}", 200, (("Content-Type", "text/html"),),
                     f"<p>сторінка {i}</p>".encode(), when) for i in range(3)]
    pointers = [store.write(p) for p in pages]
    assert len({p.file for p in pointers}) == 3  # rolled after every record
    raw = archive.read(tmp_path, pointers[1])
    assert raw.startswith(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n")
    assert raw.endswith("<p>сторінка 1</p>".encode())
    with pytest.raises(ValueError):
        archive.read(tmp_path, pointers[1].__class__(pointers[1].file, 0, 10, pointers[1].sha256))


def test_warc_files_are_standard_gzip_that_other_readers_read_whole(tmp_path):
    """Records are compressed with ISA-L (archive.COMPRESS_LEVEL): a file of several of them
    must still be one multi-member gzip that the standard library and warcio read through."""
    import gzip

    from warcio.archiveiterator import ArchiveIterator

    store = archive.WarcArchive(tmp_path)
    when = datetime(2026, 11, 20, tzinfo=timezone.utc)
    bodies = [("<p>" + "новина " * (500 * i + 1) + "</p>").encode() for i in range(3)]
    pointers = store.write_all([RawPage(f"https://rbc.ua/{i}", 200, (), body, when)
                                for i, body in enumerate(bodies)])
    (warc,) = tmp_path.iterdir()
    whole = gzip.decompress(warc.read_bytes())
    assert whole.count(b"WARC/1.") == 3 and all(body in whole for body in bodies)
    with warc.open("rb") as stream:
        records = [(r.rec_headers.get_header("WARC-Target-URI"), r.content_stream().read())
                   for r in ArchiveIterator(stream)]
    assert records == [(f"https://rbc.ua/{i}", body) for i, body in enumerate(bodies)]
    assert sum(p.length for p in pointers) == warc.stat().st_size < len(whole)


def test_a_failing_archive_never_loses_the_article(tmp_path, sqlite_url):
    from sqlalchemy import create_engine, select

    from aggregator.db.engine import Database
    from aggregator.db.models import Article, Fetch
    from aggregator.ingest import Arrival, Ingestor
    from aggregator.ledger import CrawlLedger
    from aggregator.records import ArticleDraft, FetchRecord
    from aggregator.sources import Source

    blocked = tmp_path / "warc"
    blocked.write_text("a file where the directory should be")
    db = Database(sqlite_url)
    ingestor = Ingestor(db, archive=archive.WarcArchive(blocked))
    source = Source.model_validate({"name": "rbc", "title": "РБК-Україна", "kind": "feed",
                                    "url": "https://www.rbc.ua/rss", "language": "uk",
                                    "schedule": {"every": "10m"}, "allowed_domains": ["rbc.ua"]})
    when = datetime(2026, 11, 20, tzinfo=timezone.utc)
    url = "https://www.rbc.ua/ukr/news/a-1.html"
    fetch = FetchRecord(url, url, 200, when, 10, "0" * 64, "page")
    draft = ArticleDraft(url=url, text="Текст статті " * 30, title="Заголовок")
    raw = RawPage(url, 200, (), b"<html></html>", when)
    source_id = CrawlLedger(db).register(source)
    stored = ingestor.store_article(Arrival(source, source_id, [], None, fetch, draft, raw))
    db.dispose()
    engine = create_engine(sqlite_url)
    with engine.connect() as conn:
        assert conn.scalar(select(Article.title).where(Article.id == stored.id)) == "Заголовок"
        error = conn.scalar(select(Fetch.warc_error))
    engine.dispose()
    assert error and "WARC write failed" in error


def test_near_index_finds_copies_in_the_sorted_part_and_among_recent_additions():
    import random

    from aggregator import dedup

    rng = random.Random(7)
    words = [f"слово{i}" for i in range(5000)]
    texts = [" ".join(rng.choices(words, k=120)) for _ in range(300)]
    index = dedup.NearIndex()
    index.add_many([(i, dedup.fingerprint(t)) for i, t in enumerate(texts)])  # bulk: sorted
    late = " ".join(rng.choices(words, k=120))
    index.add(1000, dedup.fingerprint(late))  # one more: waits among the recent ones
    edited = texts[42] + " Оновлено: додано коментар речника."
    assert [k for k, _ in index.matches(dedup.fingerprint(edited))] == [42]
    assert [k for k, _ in index.matches(dedup.fingerprint(late + " кінець"))] == [1000]
    assert index.matches(dedup.fingerprint(" ".join(rng.choices(words, k=120)))) == []
    revised = " ".join(rng.choices(words, k=120))
    index.add(42, dedup.fingerprint(revised))  # a revision replaces the old text
    assert index.matches(dedup.fingerprint(edited)) == []
    assert [k for k, _ in index.matches(dedup.fingerprint(revised))] == [42]
