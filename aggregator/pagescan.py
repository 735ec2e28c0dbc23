"""One walk over a parsed page for the passes that look for elements by class, id or itemprop.

Comment containers, dated and byline elements, captions, the microdata body and trafilatura's
category and tag containers were each an XPath `//*[...]`, and lxml evaluates such a
predicate at about a microsecond an element: a millisecond a pass on a news page. The walk
keeps every element that has one of those attributes, in document order, once; each pass
filters that list in Python. When elements leave the page, `forget` drops them (and what
they held) from the list, so a later pass never sees what an earlier one removed.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from lxml import etree


class Marked(NamedTuple):
    """An element with its class, id and itemprop (None where the attribute is absent)."""

    element: etree._Element
    tag: str
    cls: str | None
    id: str | None
    itemprop: str | None


_new = tuple.__new__  # a Marked without the generated __new__ (a Python call an element)


class PageScan:
    """The elements of a page with a class, id or itemprop, in document order."""

    def __init__(self, tree):
        self.marked: list[Marked] = []
        for element in tree.iter(etree.Element):  # .get, not .attrib: no object an element
            cls, ident = element.get("class"), element.get("id")
            prop = element.get("itemprop")
            if cls is not None or ident is not None or prop is not None:
                self.marked.append(_new(Marked, (element, element.tag, cls, ident, prop)))

    def forget(self, removed: list) -> None:
        """Leave out elements taken off the page, and everything inside them."""
        if removed:
            gone = {node for element in removed for node in element.iter()}
            self.marked = [m for m in self.marked if m.element not in gone]

    def classed(self, pattern: re.Pattern, tags: set[str] | None = None) -> list:
        """Elements whose lower-cased class matches `pattern` (XPath `//*[@class]`, filtered)."""
        return [m.element for m in self.marked if m.cls is not None
                and (tags is None or m.tag in tags) and pattern.search(m.cls.lower())]


def descendant_links(containers) -> list:
    """`<a href>` elements inside the containers (not the containers themselves), each once,
    in document order: what XPath `//container//a[@href]` gives."""
    seen: set = set()
    links = []
    for container in containers:
        for anchor in container.iter("a"):
            if anchor is not container and anchor.get("href") is not None and anchor not in seen:
                seen.add(anchor)
                links.append(anchor)
    return links
