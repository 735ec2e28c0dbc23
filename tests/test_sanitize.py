"""HTML kept for downstream rendering carries no script, handler or javascript: URL."""

from __future__ import annotations

from aggregator.extract import extract_article
from aggregator.sanitize import safe_html
from tests.newssite import article_page
from tests.stories import BRIDGE

HOSTILE = """<p onclick="steal()">Перший абзац <a href="javascript:alert(1)">посилання</a>
<a href="/ukr/news/other.html" onmouseover="x()">інша новина</a></p>
<script>document.cookie</script><style>p{}</style><iframe src="http://127.0.0.1/ad"></iframe>
<p style="color:red">Другий <img src="data:image/png;base64,AAAA" onerror="x()"> абзац
<img src="/img/photo.jpg"></p><form action="/x"><input name="q"></form>"""


def test_safe_html_keeps_text_and_web_links_only():
    html = safe_html(HOSTILE, "http://127.0.0.1/ukr/news/bridge.html")
    lowered = html.lower()
    for banned in ("script", "onclick", "onmouseover", "onerror", "javascript:", "style",
                   "iframe", "<form", "<input", "data:image"):
        assert banned not in lowered, banned
    assert "Перший абзац" in html and "Другий" in html
    assert 'href="http://127.0.0.1/ukr/news/other.html"' in html
    assert 'src="http://127.0.0.1/img/photo.jpg"' in html
    assert safe_html("<script>x()</script>", "http://127.0.0.1/") is None


def test_extracted_article_html_is_sanitised():
    url = "http://127.0.0.1/ukr/news/bridge.html"
    page = article_page(BRIDGE, url).decode().replace(
        f"<p>{BRIDGE.paragraphs[0]}</p>",
        f'<p onclick="steal()">{BRIDGE.paragraphs[0]} <a href="javascript:alert(1)">тут</a></p>'
        "<script>alert('x')</script>")
    draft = extract_article(page.encode(), url, "text/html").draft
    assert BRIDGE.paragraphs[1] in draft.html
    assert "onclick" not in draft.html and "javascript:" not in draft.html
    assert "<script" not in draft.html


def test_kept_html_cannot_reach_back_or_shadow_the_page_it_is_inlined_into():
    html = safe_html('<p id="content" name="x">Текст <a href="https://example.org/" '
                     'target="_blank" rel="opener">нова вкладка</a> <a href="/a" '
                     'rel="opener nofollow">тут</a> <img name="getElementById" '
                     'src="/i.jpg"><a name="anchor" href="/b" target="_top">b</a></p>',
                     "http://127.0.0.1/ukr/news/bridge.html")
    from lxml import html as lxml_html
    tree = lxml_html.fragment_fromstring(html)
    assert not tree.xpath("//*[@id or @name]")
    rels = {a.get("href"): set((a.get("rel") or "").split()) for a in tree.iter("a")}
    assert rels["https://example.org/"] >= {"noopener", "noreferrer"}
    assert rels["http://127.0.0.1/b"] >= {"noopener", "noreferrer"}
    assert all("opener" not in rel for rel in rels.values())
    assert "Текст" in html and 'src="http://127.0.0.1/i.jpg"' in html


def test_parsed_elements_give_the_same_safe_html_and_stay_as_they_were():
    """The extractor hands the sanitiser the page's own elements (a rule's matches, the
    library's tree) instead of their markup: the same output, the page's tree untouched."""
    from lxml import html as lxml_html

    url = "http://127.0.0.1/ukr/news/bridge.html"
    page = lxml_html.document_fromstring(f"<html><body><div>{HOSTILE}</div>після</body></html>")
    parts = list(page.find("body/div"))
    before = lxml_html.tostring(page)
    markup = "".join(lxml_html.tostring(p, encoding="unicode") for p in parts)
    assert safe_html(parts, url) == safe_html(markup, url)
    assert safe_html(["Вступ ", *parts], url) == safe_html("Вступ " + markup, url)
    assert lxml_html.tostring(page) == before
    assert safe_html([], url) is None
