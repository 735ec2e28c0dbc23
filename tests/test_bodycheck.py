"""The cheap checks that decide between trafilatura's fast mode and its full cascade, and the
clean-up of lines a reader does not want in the body."""

from __future__ import annotations

from lxml import html as lxml_html

from aggregator import bodycheck, pagefacts

ARTICLE = " ".join(["Речення статті про відбудову мосту через річку Ірпінь."] * 8)
TEASER = "Інша новина про школу в Бучі після відбудови. " * 2
PAGE = f"""<html><body>
<div class="rail"><a href="/a"><p>{TEASER}</p></a></div>
<div class="text">{''.join(f'<p>{ARTICLE}</p>' for _ in range(5))}</div>
<figure><img src="x.jpg"><figcaption>Міст після ремонту</figcaption></figure>
<div id="comments"><p>Коментар читача про міст.</p></div>
</body></html>"""


def tree():
    return lxml_html.document_fromstring(PAGE)


def test_a_result_much_shorter_than_the_pages_paragraphs_looks_wrong():
    page = tree()
    links = bodycheck.link_texts(page)
    assert bodycheck.paragraph_chars(page) == 5 * len(ARTICLE)  # the densest run only
    assert bodycheck.looks_wrong(ARTICLE, bodycheck.paragraph_chars(page), links, None)
    whole = "\n".join([ARTICLE] * 5)
    assert not bodycheck.looks_wrong(whole, bodycheck.paragraph_chars(page), links, None)
    assert bodycheck.looks_wrong(whole, 0, links, "x" * 3 * len(whole))  # publisher's is longer


def test_a_result_made_of_link_texts_looks_wrong():
    page = tree()
    links = bodycheck.link_texts(page)
    assert bodycheck.looks_wrong(TEASER.strip(), 0, links, None)


def test_captions_credits_read_also_and_teasers_are_cleaned_out():
    page = tree()
    text = "\n".join(["Перший абзац статті.", "Міст після ремонту", "Фото: УНІАН",
                      "Читайте також: Інша новина", "- Інша новина про школу в Бучі після "
                      "відбудови. Інша новина про школу в Бучі після відбудови.",
                      "Останній абзац."])
    cleaned = bodycheck.clean_lines(text, bodycheck.link_texts(page), bodycheck.captions(page))
    assert cleaned.splitlines() == ["Перший абзац статті.", "Останній абзац."]


def test_reader_comments_go_but_never_the_article():
    page = tree()
    bodycheck.drop_comments(page)
    assert "Коментар читача" not in page.text_content() and ARTICLE in page.text_content()
    whole = lxml_html.document_fromstring(
        f"<html><body><div class='post-comments-enabled'><p>{ARTICLE}</p></div></body></html>")
    bodycheck.drop_comments(whole)  # the container holding the article's paragraphs stays
    assert ARTICLE in whole.text_content()


def test_a_structured_body_counts_only_when_complete():
    assert bodycheck.complete("x" * 900, "y" * 1000)
    assert not bodycheck.complete("x" * 300, "y" * 1000)  # a teaser, not the body
    assert not bodycheck.complete(None, "y")


def test_headline_without_site_name_and_bylines_without_labels():
    assert pagefacts.strip_site("Курс долара | РБК-Україна", ("РБК-Україна",)) == "Курс долара"
    assert pagefacts.strip_site("Новина — УНІАН", ("УНІАН",)) == "Новина"
    assert pagefacts.clean_authors(("Фото: УНІАН", "Андрій Мельник, 23.11.2026 18:42",
                                    "Джерело: Reuters", "2 жовтня, 2014", "By Jane Doe",
                                    "Byron Smith")) == (
        "Андрій Мельник", "Jane Doe", "Byron Smith")


def test_a_paragraph_that_only_starts_like_a_credit_stays():
    text = "Reuters: the talks continue next week, officials said.\nReuters\n© РБК-Україна"
    assert bodycheck.clean_lines(text, set(), set()) == text.splitlines()[0]
