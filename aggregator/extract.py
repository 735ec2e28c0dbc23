"""Page bytes + final URL -> ExtractionResult; the only trafilatura user.

The main text comes one of four ways (ExtractionPath): the source's body rule; the
publisher's own structured body when it is complete; trafilatura's fast mode when its result
passes a cheap check (aggregator/bodycheck.py); else trafilatura's full cascade. Headline,
publication date and structured body are what the publisher states (aggregator/pagefacts.py);
trafilatura's own date guess is never used, because it reads years out of the text. The
language is detected from the text (aggregator/language.py).
"""

from __future__ import annotations

import re
from functools import lru_cache
from html import escape
from urllib.parse import urljoin, urlsplit

from lxml import etree
from lxml import html as lxml_html
from lxml.etree import ParserError
from trafilatura import bare_extraction
from trafilatura import metadata as library_meta
from trafilatura.baseline import block_text as library_block_text
from trafilatura.htmlprocessing import convert_to_html
from trafilatura.meta import reset_caches
from trafilatura.settings import Document, Extractor
from trafilatura.utils import line_processing

from aggregator import bodycheck, language, pagefacts, prunepaths
from aggregator.dates import parse_loose, precision_of
from aggregator.encoding import utf8_html
from aggregator.pagescan import Marked, PageScan, descendant_links
from aggregator.records import ArticleDraft, ExtractionResult, ExtractRules
from aggregator.sanitize import safe_html
from aggregator.selectors import block_text, drop, select, text_of
from aggregator.vocabulary import DatePrecision, DateSource, ExtractionOutcome, ExtractionPath

_RESET_EVERY = 1000
MIN_TEXT_CHARS = 50
# A byline or dateline of digits and separators only, e.g. "20.11.2026, 09:15".
_DATELINE = re.compile(r"^[\d\s.:,/-]{6,25}$")
# A dateline followed by a short byline, as a body selector keeps it: "20.11.2026, 09:15 Name".
_BYLINE = re.compile(r"^\d{1,2}\.\d{1,2}\.\d{4}\b.{0,60}$")
_NO_RULES = ExtractRules()
_ABSOLUTE = re.compile(r"(?i)(https?:|//)")
# Links inside paragraphs, quotes and list items, one path; an absolute href has ":" or "//"
# (tested first: it drops a menu's relative links before the costlier ancestor test).
_TEXT_LINKS = etree.XPath("//a[contains(@href, ':') or contains(@href, '//')]"
                          "[ancestor::p or ancestor::blockquote or ancestor::li]")
_calls = 0
prunepaths.install()  # this module is the only trafilatura user


@lru_cache(maxsize=2)
def _options(fast: bool = True) -> Extractor:
    """`fast` skips trafilatura's fallback extractors: on the shared corpus's real pages it
    halved the time (65.7 -> 29.7 ms a page); the full cascade runs only where bodycheck
    says the fast result looks wrong (bench/quality.py measures both)."""
    return Extractor(output_format="python", with_metadata=False, comments=False, tables=True,
                     fast=fast)  # the metadata comes from _metadata, once


def _metadata(tree, scan: PageScan) -> Document:
    """trafilatura's metadata (`extract_metadata`, its order and its helpers) for the fields we
    store: title, author, description, sitename, image, categories, tags. Not its date (never
    used: pagefacts.publication_date) nor its licence, which took a third of its time."""
    meta = library_meta.examine_meta(tree)
    if meta.author and " " not in meta.author:
        meta.author = None
    try:
        meta = library_meta.extract_meta_json(tree, meta)
    except Exception:  # noqa: BLE001 - as trafilatura does: bugs in its JSON-LD reader
        pass
    meta.title = meta.title or library_meta.extract_title(tree)
    meta.author = meta.author or library_meta.extract_author(tree)
    meta.url = meta.url or library_meta.extract_url(tree)
    meta.sitename = meta.sitename or library_meta.extract_sitename(tree)
    if meta.sitename:
        meta.sitename = meta.sitename.lstrip("@")
        if meta.sitename and "." not in meta.sitename and not meta.sitename[0].isupper():
            meta.sitename = meta.sitename.title()
    elif meta.url and (found := library_meta.META_URL.match(meta.url)):
        meta.sitename = found[1]
    candidates = _holders(scan)
    meta.categories = meta.categories or _catstags(tree, candidates, _CATEGORY_HOLDERS,
                                                   "category")
    meta.tags = meta.tags or _catstags(tree, candidates, _TAG_HOLDERS, "tag")
    meta.clean_and_trim()
    return meta


def _starts(m: Marked, *prefixes: str) -> bool:
    return m.cls is not None and m.cls.startswith(prefixes)


def _holds(m: Marked, *parts: str) -> bool:
    return m.cls is not None and any(part in m.cls for part in parts)


# trafilatura's CATEGORIES_XPATHS and TAGS_XPATHS (trafilatura/xpaths.py, 2.x) as tests of one
# scanned element each, in their order: `//div[...]//a[@href]` evaluated for every element was
# a millisecond a page (tests/test_extract.py holds them to the library's own results).
_CATEGORY_HOLDERS = (
    lambda m: (m.tag == "div" and m.cls is not None and re.match(
        r"(?:post-?info|post-?meta|meta|entry-meta|entry-info|entry-utility)", m.cls) is not None)
    or (m.tag == "div" and m.id is not None and m.id.startswith("postpath")),
    lambda m: m.tag == "p" and (_starts(m, "postmeta", "entry-categories") or m.cls == "postinfo"
                                or m.id == "filedunder"),
    lambda m: m.tag == "footer" and _starts(m, "entry-meta", "entry-footer"),
    lambda m: m.tag in ("li", "span") and (
        m.cls in ("post-category", "postcategory", "entry-category") or _holds(m, "cat-links")),
    lambda m: m.tag == "header" and m.cls == "entry-header",
    lambda m: m.tag == "div" and m.cls in ("row", "tags"),
)
_TAG_HOLDERS = (
    lambda m: m.tag == "div" and m.cls == "tags",
    lambda m: m.tag == "p" and _starts(m, "entry-tags"),
    lambda m: m.tag == "div" and (m.cls in ("row", "jp-relatedposts", "entry-utility") or (
        m.cls is not None and re.match(r"(?:tag|postmeta|meta)", m.cls) is not None)),
    lambda m: m.cls == "entry-meta" or _holds(m, "topics", "tags-links"),
)


# What every holder above has in its class or id: a sieve before the tests.
_HOLDER_CLASS = re.compile(
    r"^(?:post|meta|entry|tag|row|jp-relatedposts)|cat-links|topics|tags-links")
_HOLDER_ID = re.compile(r"^(?:postpath|filedunder$)")


def _holders(scan: PageScan) -> list[Marked]:
    return [m for m in scan.marked if (m.cls is not None and _HOLDER_CLASS.search(m.cls))
            or (m.id is not None and _HOLDER_ID.match(m.id))]


def _catstags(tree, marked: list[Marked], holders, metatype: str) -> list[str]:
    """trafilatura's `extract_catstags` over the scanned elements: the links of the first kind
    of holder that has any to a category (tag) page, else (categories) article:section."""
    wanted = re.compile("/" + metatype.rstrip("y") + "(?:y|ies|s)?/")
    results: list[str] = []
    for test in holders:
        links = descendant_links(m.element for m in marked if test(m))
        results.extend(library_block_text(a) for a in links if wanted.search(a.attrib["href"]))
        if results:
            break
    if metatype == "category" and not results:
        results.extend(element.attrib["content"] for element in tree.xpath(
            './/head//meta[@property="article:section" or contains(@name, "subject")][@content]'))
    return [r for r in dict.fromkeys(line_processing(x) for x in results if x) if r]


def _page_facts(tree, url: str) -> dict:
    """What the markup states outright: canonical, alternates, declared lang."""
    canonical = tree.xpath('//link[@rel="canonical"]/@href') or tree.xpath(
        '//meta[@property="og:url"]/@content'
    )
    alternates = tuple(
        (str(link.get("hreflang")).lower(), urljoin(url, link.get("href")))
        for link in tree.xpath('//link[@rel="alternate"][@hreflang][@href]')
    )
    lang = (tree.xpath("/html/@lang") or [""])[0].split("-")[0].strip().lower()
    return {
        "canonical_url": urljoin(url, canonical[0].strip()) if canonical else None,
        "alternates": alternates,
        "declared_language": lang if re.fullmatch(r"[a-z]{2}", lang or "") else None,
    }


def _body(text: str, title: str | None) -> str:
    """Main text without the headline and datelines trafilatura keeps above the first paragraph."""
    lines = [line.strip() for line in text.strip().splitlines()]
    while lines and (not lines[0] or lines[0] == title or _DATELINE.match(lines[0])
                     or _BYLINE.match(lines[0])):
        lines.pop(0)
    return "\n".join(lines)


def _without_signature(body: str, authors: tuple[str, ...]) -> str:
    """The text without the byline repeated at its end ("... реваншем. Name, Name")."""
    lines = body.splitlines()
    if not authors or not lines:
        return body
    cut = lines[-1].rfind(authors[0])
    if cut >= 0 and _flat_names(lines[-1][cut:]) == _flat_names(", ".join(authors)):
        lines[-1] = lines[-1][:cut].rstrip()
    return "\n".join(line for line in lines if line.strip())


def _flat_names(text: str) -> str:
    return " ".join(re.findall(r"\w+", text.casefold()))


def _body_links(tree, url: str, text: str) -> tuple[tuple[str, str], ...]:
    """Links to other hosts from paragraphs that made it into the main text (for cites)."""
    host = urlsplit(url).netloc.lower()
    flat = " ".join(text.split())
    links = {}
    for anchor in _TEXT_LINKS(tree):
        href = anchor.get("href").strip()
        if not _ABSOLUTE.match(href):
            continue  # a relative link stays on the page's host: no need to resolve it
        href = urljoin(url, href)
        parts = urlsplit(href)
        if parts.scheme not in ("http", "https") or parts.netloc.lower() == host:
            continue
        block = anchor.xpath("ancestor::*[self::p or self::blockquote or self::li][1]")[0]
        said = " ".join(block.text_content().split())[:80]
        if said and said in flat:
            links.setdefault(href, " ".join(anchor.text_content().split()))
    return tuple(links.items())


def _split(value: str | None) -> tuple[str, ...]:
    if not value:
        return ()
    return tuple(dict.fromkeys(p.strip() for p in re.split(r"[;,]\s*", value) if p.strip()))


def _rule_overrides(tree, rules: ExtractRules) -> dict:
    """What the source's own selectors say about title, date and authors (first match wins)."""
    out: dict = {}
    if rules.title and (found := select(tree, rules.title)):
        out["title"] = text_of(found[0])
    if rules.date and (found := select(tree, rules.date)):
        node = found[0]
        value = node if isinstance(node, str) else (
            node.get("datetime") or node.get("content") or text_of(node))
        out["published_at"] = parse_loose(value)
        out["precision"] = precision_of(value)
    if rules.author:
        names = map(text_of, select(tree, rules.author))
        out["authors"] = tuple(dict.fromkeys(n for n in names if n))
    return {key: value for key, value in out.items() if value}


def _main_html(tree, rules: ExtractRules, doc, url: str, path: ExtractionPath,
               text: str) -> str | None:
    """The main content as safe HTML: the body selector's elements, the structured body's
    paragraphs, else trafilatura's tree (elements go to the sanitiser as they are)."""
    if path == ExtractionPath.STRUCTURED:
        return safe_html("".join(f"<p>{escape(line)}</p>" for line in text.splitlines()), url)
    if rules.body:
        return safe_html([m for m in select(tree, rules.body) if not isinstance(m, str)], url)
    if doc is not None and doc.body is not None:
        body = convert_to_html(doc.body)[0]  # <html><body>: its content, as parsing it gave
        lead = [body.text] if body.text and body.text.strip() else []
        return safe_html([*lead, *body], url)
    return None


def _rule_body(tree, rules: ExtractRules) -> str | None:
    """The text of the body selector's matches, or None when the source has no body rule."""
    if not rules.body:
        return None
    return "\n".join(block_text(m) for m in select(tree, rules.body) if not isinstance(m, str))


def _library(tree, url: str, links: set[str], page_chars: int,
             structured: str | None):
    """trafilatura's fast mode, or its full cascade when the fast result looks wrong
    (trafilatura works on its own copy of the tree; the text only, no metadata)."""
    fast = bare_extraction(tree, url=url, options=_options(True))
    text = fast.text if fast is not None else ""
    if text.strip() and not bodycheck.looks_wrong(text, page_chars, links, structured):
        return fast, ExtractionPath.FAST
    full = bare_extraction(tree, url=url, options=_options(False))
    if full is not None and len((full.text or "").strip()) > len(text.strip()):
        return full, ExtractionPath.FULL
    return fast, ExtractionPath.FAST


def _main_text(tree, rules: ExtractRules, url: str, ld: list[dict], scan: PageScan):
    """(trafilatura's document or None, main text, path) by the source's rule, the
    publisher's complete structured body, or the library (checked)."""
    ruled = _rule_body(tree, rules)
    if ruled is not None:
        return None, ruled, ExtractionPath.RULE
    bodycheck.drop_comments(tree, scan)
    links, caps = bodycheck.link_texts(tree), bodycheck.captions(tree, scan)
    structured = pagefacts.structured_body(tree, ld)
    marked = bodycheck.marked_body(tree, scan)  # itemprop="articleBody": a yardstick only
    doc, path = _library(tree, url, links, bodycheck.paragraph_chars(tree), structured or marked)
    text = bodycheck.clean_lines(doc.text if doc is not None else "", links, caps)
    if bodycheck.complete(structured, text):
        return doc, bodycheck.clean_lines(structured, links, caps), ExtractionPath.STRUCTURED
    return doc, text, path


def extract_article(
    body: bytes, url: str, content_type: str | None = None, fallback_language: str | None = None,
    rules: ExtractRules | None = None,
) -> ExtractionResult:
    """Extract one page. Never raises for bad content: failures come back as a reason.

    A source's rules run first: `drop` removes elements before anything sees the page, a
    `body` selector replaces the main text, title/date/author selectors override."""
    global _calls
    _calls += 1
    if _calls % _RESET_EVERY == 0:
        reset_caches()  # trafilatura's caches grow for the life of the process
    page, _encoding = utf8_html(body, content_type)
    try:
        tree = lxml_html.document_fromstring(page, parser=_parser())
    except (ParserError, ValueError) as exc:
        return ExtractionResult(None, f"unparseable HTML: {exc}")
    rules = rules or _NO_RULES
    facts = _page_facts(tree, url)
    overrides = _rule_overrides(tree, rules)
    ld, metas = pagefacts.json_ld(tree), pagefacts.meta_map(tree)
    scan = PageScan(tree)  # elements by class, id, itemprop: one walk for every pass
    stated = pagefacts.publication_date(tree, ld, metas, scan)
    updated = pagefacts.modified_date(metas, ld)
    scan.forget(drop(tree, rules.drop))
    doc, main, path = _main_text(tree, rules, url, ld, scan)
    if not (main or "").strip():
        return ExtractionResult(None, "no main text found on the page",
                                ExtractionOutcome.EMPTY_TEXT)
    meta = _metadata(tree, scan)
    sitename = meta.sitename or None
    title = overrides.get("title") or pagefacts.headline(
        tree, ld, metas, (meta.title or "").strip() or None, sitename)
    description = (meta.description or "").strip() or None
    body = _body(main, title)
    if path != ExtractionPath.RULE:
        body = bodycheck.lead(tree, description, body)
    if len(body) < MIN_TEXT_CHARS:
        return ExtractionResult(None, f"main text too short ({len(body)} characters)",
                                ExtractionOutcome.SHORT_TEXT)
    if "published_at" in overrides:
        date = (overrides["published_at"], DateSource.PAGE, overrides["precision"])
    elif stated is not None:
        date = (stated.when, stated.source, stated.precision)
    else:
        date = (None, None, DatePrecision.NONE)
    detected, confidence = language.detect(body)
    authors = pagefacts.authors(tree, ld, overrides.get("authors", ()), _split(meta.author),
                                scan=scan)
    body = _without_signature(body, authors)
    draft = ArticleDraft(
        url=url,
        text=body,
        title=title,
        authors=authors,
        published_at=date[0],
        date_source=date[1],
        date_precision=date[2],
        updated_at=updated,
        language=detected or facts["declared_language"] or fallback_language,
        language_confidence=confidence if detected else None,
        extraction_path=path,
        description=description,
        image_url=meta.image or None,
        categories=tuple(c for c in meta.categories or () if c),
        tags=tuple(t for t in meta.tags or () if t),
        canonical_url=facts["canonical_url"],
        sitename=sitename,
        alternates=facts["alternates"],
        links=_body_links(tree, url, main),
        html=_main_html(tree, rules, doc, url, path, body),
    )
    return ExtractionResult(draft)


@lru_cache(maxsize=1)
def _parser():
    """lxml.html's parser, with its element classes chosen in C: lxml.html's own lookup is a
    Python call for every element a pass (ours or trafilatura's) touches, about 0.8 ms a page;
    it only adds the form and input classes, which nothing here uses."""
    parser = lxml_html.HTMLParser(encoding="utf-8", remove_comments=True, huge_tree=False)
    parser.set_element_class_lookup(etree.ElementDefaultClassLookup(
        element=lxml_html.HtmlElement, comment=lxml_html.HtmlComment,
        pi=lxml_html.HtmlProcessingInstruction, entity=lxml_html.HtmlEntity))
    return parser
