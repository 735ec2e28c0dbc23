"""Equal, faster stand-ins for four of trafilatura's XPath expressions.

libxml2 evaluates `.//*[self::div or self::section][re:test(@class, '...')]` by running its
predicate machinery on every element and calling back into Python for each EXSLT `re:test`.
The raw-tree prunes trafilatura runs on every page, and the page measure (`html2txt`) it
runs on short articles, cost 2.8 ms of a 15.7 ms extraction on the bench pages. A walk over
the same tags with lxml's C-level tag filter and Python's `re` on the same attributes finds
the same elements in the same (document) order in a fraction of that.

A stand-in replaces the library's expression only where that expression's text is the one
it was written from (`install`): a trafilatura release that changes one keeps its own.
tests/test_prunepaths.py holds each stand-in to the library's expression, compiled from the
same text, on the test pages, crafted markup and the shared corpus.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Callable, Iterator

from lxml import etree

log = logging.getLogger(__name__)

_SCROLL = re.compile(r"mvp-post-add-(?:box|wrap)|infinite-?scroll")
_MVP = re.compile(r"mvp-post-add-(?:box|wrap)")
_COMMENT_ID = re.compile(r"^(?:[Cc]omment(?!ary)|comol|disqus_thread|dsq-comments)")
_COMMENT_LIST_ID = re.compile(r"^(?:[Cc]omment(?!ary)|comol)")
_COMMENT_CLASS = re.compile(r"^[Cc]omment(?!ary)|(?:article|post)-comments")
_COOKIE = re.compile(
    r"cookie[-_]?(?:banner|bar|consent|law|notice|policy|description)|notice[-_]{0,2}cookie"
    r"|consent[-_]?(?:banner|manager|sdk)|borlabs|cookiebot|cmplz|onetrust|moove[-_]?gdpr",
    re.IGNORECASE)
_BOXES = ("div", "section", "aside")
_COMMENT_BOXES = ("div", "list", "section", "details", "ol", "ul")
_CLEANED = frozenset(("aside", "fencedframe", "footer", "script", "style", "svg", "template"))


def _descendants(tree, *tags: str) -> Iterator:
    """What `.//` reaches from the context: an element's descendants, or a document's all."""
    if isinstance(tree, etree._ElementTree):
        return tree.getroot().iter(*tags)
    return tree.iterdescendants(*tags)


def _attrs(element) -> tuple[str, str]:
    """(@id, @class) as XPath's string() sees them: '' where absent."""
    return element.get("id") or "", element.get("class") or ""


def _boxes(tree, tags: tuple[str, ...], wanted, kept) -> list:
    """Elements of `tags` passing both of an expression's predicates, each given (@id, @class)
    (`kept` also the element)."""
    found = []
    for element in _descendants(tree, *tags):
        id_, cls = _attrs(element)
        if wanted(id_, cls) and kept(element, id_, cls):
            found.append(element)
    return found


def scroll_boxes(tree) -> list:
    """RAW_TREE_PRUNE_XPATH[0]: infinite-scroll containers of appended articles."""
    return _boxes(tree, _BOXES, lambda id_, cls: _SCROLL.search(id_) or _SCROLL.search(cls),
                  lambda element, id_, cls: _MVP.search(id_) or _MVP.search(cls)
                  or next(element.iterdescendants("h1"), None) is None)


def share_buttons(tree) -> list:
    """RAW_TREE_PRUNE_XPATH[1]: Elementor's share bars."""
    return [element for element in _descendants(tree, *_BOXES)
            if "elementor-share-buttons" in (element.get("class") or "")]


def comment_boxes(tree) -> list:
    """REMOVE_COMMENTS_AND_LISTS_XPATH[0]: comment sections, and lists of comments."""
    return _boxes(tree, _COMMENT_BOXES,
                  lambda id_, cls: _COMMENT_ID.search(id_) or _COMMENT_CLASS.search(cls),
                  lambda element, id_, cls: element.tag not in ("ol", "ul")
                  or _COMMENT_LIST_ID.search(id_) or _COMMENT_CLASS.search(cls))


def _first_of_class_or_id(element) -> str:
    """`@class|@id` as string(): the value of whichever of the two comes first in the tag."""
    for name, value in element.items():
        if name in ("class", "id"):
            return value
    return ""


def basic_clean(tree) -> list:
    """BASIC_CLEAN_XPATH: asides, footers, scripts, styles, SVG, templates, cookie banners."""
    found = []
    for element in _descendants(tree, etree.Element):
        tag = element.tag
        if tag in _CLEANED:
            found.append(element)
            continue
        cls, id_ = element.get("class"), element.get("id")
        if cls is None and id_ is None:
            continue
        if ((tag == "div" and "footer" in _first_of_class_or_id(element))
                or (cls and _COOKIE.search(cls)) or (id_ and _COOKIE.search(id_))):
            found.append(element)
    return found


class StandIn:
    """Called like the lxml XPath it stands in for: context -> matching elements in document
    order. `path` is the library's expression text it was written from."""

    def __init__(self, path: str, select: Callable[[object], list]) -> None:
        self.path = path
        self._select = select

    def __call__(self, tree) -> list:
        return self._select(tree)

    def __repr__(self) -> str:
        return f"StandIn({self._select.__name__})"


def _compact(path: str) -> str:
    return " ".join(path.split())


# The library's expressions (trafilatura 2.3, xpaths.py and settings.py), whitespace folded,
# written with the same patterns the stand-ins use.
_BOX = "self::div or self::section or self::aside"
_COMMENT_BOX = "self::div or self::list or self::section or self::details or self::ol or self::ul"
EXPRESSIONS = {
    scroll_boxes: (
        f".//*[{_BOX}][ re:test(@id, '{_SCROLL.pattern}') or re:test(@class, "
        f"'{_SCROLL.pattern}')][ not(.//h1) or re:test(@id, '{_MVP.pattern}') or "
        f"re:test(@class, '{_MVP.pattern}')]"),
    share_buttons: f".//*[{_BOX}][contains(@class, 'elementor-share-buttons')]",
    comment_boxes: (
        f".//*[{_COMMENT_BOX}][ re:test(@id, '{_COMMENT_ID.pattern}') or re:test(@class, "
        f"'{_COMMENT_CLASS.pattern}')][ not(self::ol or self::ul) or re:test(@id, "
        f"'{_COMMENT_LIST_ID.pattern}') or re:test(@class, '{_COMMENT_CLASS.pattern}')]"),
    basic_clean: (
        ".//aside|.//div[contains(@class|@id, 'footer')]|.//fencedframe|.//footer|.//script|"
        f".//style|.//svg|.//template|.//*[re:test(@class, '{_COOKIE.pattern}', 'i') or "
        f"re:test(@id, '{_COOKIE.pattern}', 'i')]"),
}


def _swap(holder, key, select) -> bool:
    """Put the stand-in for `select` at holder[key] (a list slot or a module attribute) if
    what is there is the expression it was written from."""
    current = holder[key] if isinstance(holder, list) else getattr(holder, key)
    if isinstance(current, StandIn):
        return True
    if _compact(getattr(current, "path", "")) != EXPRESSIONS[select]:
        log.info("trafilatura's expression for %s differs: kept the library's", select.__name__)
        return False
    standin = StandIn(current.path, select)
    if isinstance(holder, list):
        holder[key] = standin
    else:
        setattr(holder, key, standin)
    return True


def install() -> list[str]:
    """Swap the stand-ins into trafilatura (idempotent); the names of those now in place."""
    from trafilatura import xpaths

    baseline = sys.modules["trafilatura.baseline"]  # `trafilatura.baseline` is a function
    slots = ((xpaths.RAW_TREE_PRUNE_XPATH, 0, scroll_boxes),
             (xpaths.RAW_TREE_PRUNE_XPATH, 1, share_buttons),
             (xpaths.REMOVE_COMMENTS_AND_LISTS_XPATH, 0, comment_boxes),
             (baseline, "BASIC_CLEAN_XPATH", basic_clean))
    if len(xpaths.RAW_TREE_PRUNE_XPATH) != 2 or len(xpaths.REMOVE_COMMENTS_AND_LISTS_XPATH) != 1:
        log.info("trafilatura's prune lists changed: kept the library's expressions")
        slots = slots[3:]
    return [select.__name__ for holder, key, select in slots if _swap(holder, key, select)]
