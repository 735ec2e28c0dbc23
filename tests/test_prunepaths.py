"""The stand-ins for trafilatura's prune expressions select exactly what the expressions do."""

from __future__ import annotations

import gzip
import sys
from pathlib import Path

import pytest
from lxml import etree
from lxml import html as lxml_html

from aggregator import prunepaths
from aggregator.extract import _parser
from bench.corpus import page
from tests.helpers import SHARED

TESTS_PAGES = sorted((Path(__file__).parent / "pages").glob("*.html"))
CORPUS = SHARED / "corpus" / "pages"
EXSLT = {"re": "http://exslt.org/regular-expressions"}

# Every branch of every expression, and the traps around them.
CRAFTED = """<html><head><style>p{}</style><script>var a</script></head><body>
<div class="infinite-scroll"><h1>kept: holds the headline</h1><p>a</p></div>
<section id="infinitescroll"><p>pruned: no headline</p></section>
<aside class="mvp-post-add-box"><h1>pruned all the same</h1></aside>
<span class="infinite-scroll">not a box</span>
<div class="x elementor-share-buttons y"><a href="/s">share</a></div>
<div id="comments"><ol class="commentlist"><li>c</li></ol></div>
<div id="Comment-7" class="body">c</div><div id="commentary">kept: commentary</div>
<ul id="disqus_thread"><li>kept: a list needs the narrower test</li></ul>
<ol id="comol"><li>c</li></ol><ul class="post-comments"><li>c</li></ul>
<details class="article-comments">c</details><list class="comment">c</list>
<div class="footer-links" id="main">f</div><div id="page-footer" class="main">f</div>
<div class="main" id="page-footer">kept: class first</div><div class="" id="footer">kept</div>
<div class="CookieBanner">c</div><p id="cmplz-notice">c</p><div class="consent_manager">c</div>
<footer><aside><p>nested</p></aside></footer><svg><g/></svg><template><p>t</p></template>
<fencedframe></fencedframe><p class="noticecookie">c</p><p>text</p>
</body></html>"""


def _trees() -> list:
    sources = [CRAFTED.encode()]
    sources += [path.read_bytes() for path in TESTS_PAGES]
    sources += [page("http://127.0.0.1:8000", site, number, 20)
                for site in range(2) for number in (1, 2, 26)]
    return [lxml_html.document_fromstring(s, parser=_parser()) for s in sources]


def _corpus_trees() -> list:
    trees = []
    for path in sorted(CORPUS.rglob("*.html")) + sorted(CORPUS.rglob("*.html.gz")):
        raw = path.read_bytes()
        trees.append(lxml_html.document_fromstring(
            gzip.decompress(raw) if path.suffix == ".gz" else raw, parser=_parser()))
    return trees


def _contexts(trees):
    """The root element, the <body> (html2txt's context) and the whole document."""
    for tree in trees:
        yield tree
        yield tree.find(".//body")
        yield tree.getroottree()


def _assert_same(trees) -> None:
    for select, expression in prunepaths.EXPRESSIONS.items():
        library = etree.XPath(expression, namespaces=EXSLT)
        for context in _contexts(trees):
            assert select(context) == library(context), select.__name__


def test_each_stand_in_selects_what_the_library_expression_selects():
    trees = _trees()
    _assert_same(trees)
    crafted = trees[0]
    kept = [e.text_content() for select in prunepaths.EXPRESSIONS for e in select(crafted)]
    assert not any("kept:" in text for text in kept)
    assert len(prunepaths.comment_boxes(crafted)) == 7
    assert len(prunepaths.scroll_boxes(crafted)) == 2


@pytest.mark.skipif(not CORPUS.exists(), reason="shared corpus not present (../shared)")
def test_each_stand_in_selects_what_the_library_expression_selects_on_real_pages():
    trees = _corpus_trees()
    assert len(trees) >= 30
    _assert_same(trees)


def test_install_puts_a_stand_in_where_the_library_has_the_expression_it_was_written_from():
    from trafilatura import xpaths

    baseline = sys.modules["trafilatura.baseline"]
    slots = [(xpaths.RAW_TREE_PRUNE_XPATH[0], prunepaths.scroll_boxes),
             (xpaths.RAW_TREE_PRUNE_XPATH[1], prunepaths.share_buttons),
             (xpaths.REMOVE_COMMENTS_AND_LISTS_XPATH[0], prunepaths.comment_boxes),
             (baseline.BASIC_CLEAN_XPATH, prunepaths.basic_clean)]
    installed = prunepaths.install()
    for current, select in slots:
        same_text = prunepaths._compact(current.path) == prunepaths.EXPRESSIONS[select]
        assert (select.__name__ in installed) == same_text
    assert prunepaths.install() == installed  # idempotent


def test_a_changed_library_expression_is_kept():
    holder = [etree.XPath(".//div[@class='changed']")]
    assert not prunepaths._swap(holder, 0, prunepaths.share_buttons)
    assert isinstance(holder[0], etree.XPath)
