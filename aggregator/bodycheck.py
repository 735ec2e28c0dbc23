"""Checks and clean-up of a main text against the page it came from.

trafilatura's fast mode is right on most pages and twice as fast as its full cascade, but
now and then takes a wrong container (a related-stories rail, a teaser) and says nothing.
`looks_wrong` is the cheap test that sends only those pages through the full cascade;
`clean_lines` takes out what the library keeps but a reader does not want in the body:
teasers of other stories (text inside links), photo captions and credits, "read also" lines.
"""

from __future__ import annotations

import re

from aggregator.pagescan import PageScan
from aggregator.selectors import text_of

SHORT_SHARE = 0.45  # of the page's own paragraph text: less means a wrong container
MIN_PAGE_TEXT = 800  # characters of paragraph text before the comparison means anything
LINK_SHARE = 0.5  # of a result's characters inside links: a list of links, not an article
STRUCTURED_SHARE = 0.6  # a structured body at least this share of the fast text is complete
MIN_LINK_LINE = 25  # link texts shorter than this are words in a sentence, not teasers

_READ_ALSO = re.compile(
    r"(?i)^(?:читайте також|читайте также|читати також|дивіться також|смотрите также|"
    r"read also|read more|see also|more must-reads|по темі|по теме|також читайте|"
    r"подписывайтесь|підписуйтесь|subscribe)(?:\b|(?=[А-ЯІЇЄҐ]))")  # "Читайте такожУкраїна..."
_CREDIT = re.compile(  # a credit line: a label and a name, "© ...", or an agency alone
    r"(?i)^(?:(?:фото|photo|photograph|ілюстрація|иллюстрация|джерело фото|источник фото|"
    r"image|credit)\s*(?:[:©/].{0,120})?|©.{0,80}|(?:getty images|reuters|afp|ap photo|epa|"
    r"shutterstock|depositphotos)(?:\s*/\s*\S.{0,60})?)$")
_BULLET = re.compile(r"^[-•*]\s+")  # how trafilatura writes list items
_NOT_BODY = ("ancestor::nav", "ancestor::footer", "ancestor::aside", "ancestor::a",
             "ancestor::figure", "ancestor::form")
_PARAGRAPHS = f"//p[not({' or '.join(_NOT_BODY)})]"


def _flat(text: str) -> str:
    return " ".join(text.split())


def link_texts(tree) -> set[str]:
    """Texts a page shows as links: whole <a> elements and the blocks inside them."""
    found = set()
    for node in tree.xpath("//a | //a//p | //a//h1 | //a//h2 | //a//h3 | //a//h4 | //a//div"):
        raw = node.text_content()  # no shorter once spaces are collapsed: most links stop here
        if len(raw) >= MIN_LINK_LINE and len(text := " ".join(raw.split())) >= MIN_LINK_LINE:
            found.add(text)
    return found


def captions(tree, scan: PageScan | None = None) -> set[str]:
    """Texts of <figcaption> and class="caption" elements."""
    marked = (scan or PageScan(tree)).marked
    nodes = [*tree.iter("figcaption"), *(m.element for m in marked if m.cls == "caption")]
    return {text for n in nodes if (text := text_of(n))}


def clean_lines(text: str, links: set[str], caps: set[str]) -> str:
    """The text without lines that are a link's text, a caption, a credit or "read also"."""
    kept = []
    for line in text.splitlines():
        flat = _BULLET.sub("", _flat(line))
        if flat and (flat in links or flat in caps or _CREDIT.match(flat)
                     or (_READ_ALSO.match(flat) and len(flat) < 300)):
            continue
        kept.append(line)
    return "\n".join(kept)


def paragraph_chars(tree) -> int:
    """Characters of the page's densest run of paragraphs: the most paragraph text any one
    element holds as its children (outside navigation, links and figures). An article's
    paragraphs are siblings; a sidebar's are few."""
    by_parent: dict = {}
    for p in tree.xpath(_PARAGRAPHS):
        parent = p.getparent()
        by_parent[parent] = by_parent.get(parent, 0) + len(text_of(p))
    return max(by_parent.values(), default=0)


def marked_body(tree, scan: PageScan | None = None) -> str | None:
    """The text of the element the page marks itemprop="articleBody" (microdata), if any."""
    marked = (scan or PageScan(tree)).marked
    found = next((m.element for m in marked if m.itemprop == "articleBody"), None)
    return text_of(found) if found is not None else None


def link_share(text: str, links: set[str]) -> float:
    lines = [_flat(line) for line in text.splitlines() if line.strip()]
    total = sum(map(len, lines))
    return sum(len(line) for line in lines if line in links) / total if total else 1.0


def looks_wrong(text: str, page_chars: int, links: set[str], structured: str | None) -> bool:
    """Fast mode's text is suspect: much shorter than the page's paragraphs or the
    publisher's own body, or mostly link texts."""
    size = len(_flat(text))
    if page_chars >= MIN_PAGE_TEXT and size < SHORT_SHARE * page_chars:
        return True
    if structured and size < SHORT_SHARE * len(_flat(structured)):
        return True
    return link_share(text, links) >= LINK_SHARE


def complete(structured: str | None, text: str) -> bool:
    """The publisher's structured body can stand for the article's text."""
    return bool(structured) and len(_flat(structured)) >= max(
        STRUCTURED_SHARE * len(_flat(text)), 200)


_COMMENTS = re.compile(r"(?i)(?:^|[_-])(?:comments?|disqus)(?:$|[_-])")
_COMMENT_MARK = re.compile("omment|OMMENT|isqus")  # in a class or id: a cheap first sieve
_MAX_COMMENT_SHARE = 0.6  # an element holding more of the page's paragraphs is the article


def drop_comments(tree, scan: PageScan | None = None) -> None:
    """Remove reader comments and comment forms (id or class named "comment..."), which
    trafilatura's `comments=False` does not recognise on every site; never a container that
    holds most of the page's paragraphs. The scan forgets what was removed."""
    scan = scan or PageScan(tree)
    total, removed = None, []
    for m in scan.marked:
        said = f"{m.cls or ''} {m.id or ''}"
        if not _COMMENT_MARK.search(said):
            continue
        node = m.element
        if not any(_COMMENTS.search(n) for n in said.split()) or node.getparent() is None:
            continue
        if node.xpath("boolean(.//h1)"):
            continue
        total = total or max(paragraph_chars(tree), 1)
        own = sum(len(text_of(p)) for p in node.xpath(".//p"))
        if own <= _MAX_COMMENT_SHARE * total:
            node.getparent().remove(node)
            removed.append(node)
    scan.forget(removed)


def lead(tree, description: str | None, text: str) -> str:
    """The text with the article's standfirst first, when the page shows its description as
    a paragraph of its own and the extracted text left it out."""
    wanted = _flat(description or "")
    if len(wanted) < 40 or wanted in _flat(text):
        return text
    for node in tree.xpath("//body//p | //body//h2 | //body//div[not(*)]"):
        if text_of(node) == wanted:
            return f"{wanted}\n{text}"
    return text
