"""One decoding for pages and feeds: unlabelled Cyrillic and Western bytes read right, lying
labels lose to the bytes, control characters never reach the text."""

from __future__ import annotations

import codecs
import os
import re
from pathlib import Path

import pytest

from aggregator.encoding import decode_html, feed_charset, sniff_charset, utf8_html
from aggregator.extract import extract_article
from aggregator.feeds import parse_feed
from tests.helpers import story
from tests.newssite import article_page, rss

UK = story("d1")
URL = "http://127.0.0.1/ukr/news/d1.html"
RU_TEXT = "Президент заявил, что переговоры продолжатся на следующей неделе в Стамбуле."
WESTERN = ("Le président a déclaré à la presse que les négociations reprendront "
           "la semaine prochaine à Genève, après l'été. Über die Brücke fahren Müller und Söhne.")


def unlabelled(page: bytes, encoding: str) -> bytes:
    """The page without its `<meta charset>`, in `encoding`."""
    text = re.sub(r'<meta charset="[^"]+">', "", page.decode("utf-8"))
    return text.encode(encoding, errors="xmlcharrefreplace")


@pytest.mark.parametrize("encoding", ["windows-1251", "koi8-u", "iso-8859-5"])
def test_an_unlabelled_cyrillic_page_is_stored_readable(encoding):
    body = unlabelled(article_page(UK, URL), encoding)
    draft = extract_article(body, URL, "text/html").draft
    assert draft.title == UK.title
    assert UK.paragraphs[0] in draft.text


@pytest.mark.parametrize("encoding", ["cp1252", "latin-1"])
def test_an_unlabelled_western_page_is_stored_readable(encoding):
    body = f"<html><body><article><h1>Genève</h1><p>{WESTERN}</p><p>{WESTERN}</p>" \
           f"</article></body></html>".encode(encoding)
    text, used = decode_html(body, "text/html")
    assert WESTERN in text and used == "cp1252"


def test_russian_text_in_each_cyrillic_encoding_is_told_apart():
    body = f"<html><body><p>{RU_TEXT}</p><p>{UK.paragraphs[1]}</p></body></html>"
    for encoding in ("windows-1251", "koi8-u", "iso-8859-5"):
        assert sniff_charset(body.encode(encoding)) == encoding


def test_labels_that_lie_lose_to_the_bytes():
    utf8_said_1251 = article_page(UK, URL, declared_charset="windows-1251")
    assert UK.paragraphs[0] in decode_html(utf8_said_1251, "text/html; charset=windows-1251")[0]
    cp1251_said_utf8 = unlabelled(article_page(UK, URL), "windows-1251")
    text, used = decode_html(cp1251_said_utf8, "text/html; charset=utf-8")
    assert UK.paragraphs[0] in text and used == "windows-1251"
    honest_koi8 = article_page(UK, URL, charset="koi8-u")
    assert UK.paragraphs[0] in decode_html(honest_koi8, "text/html")[0]


def test_control_characters_are_removed_and_text_kept():
    text, _ = decode_html("<p>Київ\x1b[2J\x07 — новини\x00\x85</p>\n\t".encode(), None)
    assert text == "<p>Київ[2J — новини</p>\n\t"


@pytest.mark.parametrize("encoding", ["windows-1251", "koi8-u", "iso-8859-5"])
def test_an_unlabelled_cyrillic_feed_is_read_with_the_same_sniffer(encoding):
    body = rss([(UK, URL)]).decode("utf-8").replace(' encoding="utf-8"', "").encode(
        encoding, errors="xmlcharrefreplace")
    assert feed_charset(body, "application/rss+xml") == encoding
    entries = parse_feed(body, URL, {"content-type": "application/rss+xml"}).entries
    assert entries[0].title == UK.title


def shared_pages() -> list[Path]:
    root = Path(os.environ.get("AGGREGATOR_SHARED", Path(__file__).parents[2] / "shared"))
    return sorted((root / "corpus" / "pages").glob("**/*.html"))


@pytest.mark.skipif(not shared_pages(), reason="../shared/corpus is absent: the real pages "
                    "re-encoded without labels are not tried (the loopback cases above are)")
def test_every_real_page_reencoded_without_labels_decodes_right():
    missed = []
    for path in shared_pages():
        text = re.sub(r"<meta[^>]+charset[^>]*>", "", decode_html(path.read_bytes())[0], flags=re.I)
        cyrillic = re.search("[\u0400-\u04ff]", text) is not None
        for encoding in (("windows-1251", "koi8-u", "iso-8859-5") if cyrillic else ("cp1252",)):
            body = text.encode(encoding, errors="ignore")
            if decode_html(body, "text/html")[0] != body.decode(encoding):
                missed.append((path.name, encoding))
    assert not missed


def test_utf8_html_is_the_decoded_text_in_utf8():
    """The bytes the extractor parses: the body itself when it is clean UTF-8, else the same
    text decode_html gives (labels, sniffing, control characters), encoded as UTF-8."""
    clean = "<p>Київ — новини</p>".encode()
    assert utf8_html(clean)[0] is clean
    dirty = "<p>Київ\x1b[2J\x07 — новини\x00\x85</p>".encode()
    labelled = ("<p>Київ — новини</p>".encode("cp1251"), "text/html; charset=windows-1251")
    for body, content_type in ((clean, None), (dirty, None), (codecs.BOM_UTF8 + clean, None),
                               labelled, ("<p>Київ - новини і події</p>".encode("koi8-u"), None)):
        assert utf8_html(body, content_type) == (decode_html(body, content_type)[0].encode(),
                                                 decode_html(body, content_type)[1])
