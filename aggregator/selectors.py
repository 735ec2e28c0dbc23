"""CSS or XPath selectors from source files, compiled once; the only cssselect user.

A selector that starts with `/`, `./` or `(` is XPath; anything else is CSS. Sources name
selectors as plain strings so rules stay picklable on their way to the extraction workers.
"""

from __future__ import annotations

import copy
from functools import lru_cache

from cssselect import HTMLTranslator, SelectorError
from lxml import etree

_BLOCKS = {"p", "div", "h1", "h2", "h3", "h4", "h5", "h6", "li", "blockquote", "pre", "tr",
           "section", "article", "figure", "figcaption", "ul", "ol", "table", "br", "header"}


_BREAK = "\u2029"  # PARAGRAPH SEPARATOR: allowed in XML text, absent from markup


def is_xpath(selector: str) -> bool:
    return selector.lstrip().startswith(("/", "./", "("))


@lru_cache(maxsize=512)
def compile_selector(selector: str) -> etree.XPath:
    """Raise ValueError with a readable reason when the selector is not valid."""
    try:
        expr = selector if is_xpath(selector) else HTMLTranslator().css_to_xpath(selector)
        return etree.XPath(expr)
    except (SelectorError, etree.XPathSyntaxError) as exc:
        raise ValueError(f"invalid selector {selector!r}: {exc}") from exc


def select(tree, selector: str) -> list:
    """Matches in document order: elements, or strings for an XPath ending in /@attr or text()."""
    found = compile_selector(selector)(tree)
    return found if isinstance(found, list) else [found]


def drop(tree, selectors: tuple[str, ...]) -> list:
    """Remove every element matched by any selector (with its content, keeping its tail);
    return the removed elements."""
    removed = []
    for selector in selectors:
        for element in select(tree, selector):
            if isinstance(element, etree._Element) and element.getparent() is not None:
                element.drop_tree()
                removed.append(element)
    return removed


def text_of(node) -> str:
    """One line of text for a match: an element's text content or a matched string."""
    raw = node.text_content() if hasattr(node, "text_content") else str(node)
    return " ".join(raw.split())


def block_text(element) -> str:
    """An element's text with one line per block (paragraph, heading, list item)."""
    element = copy.deepcopy(element)
    for block in element.iter():
        if isinstance(block.tag, str) and block.tag.lower() in _BLOCKS:
            block.tail = _BREAK + (block.tail or "")
            if block.tag.lower() != "br":
                block.text = _BREAK + (block.text or "")
    # Newlines in the markup are spaces; only block boundaries break lines.
    lines = (" ".join(part.split()) for part in element.text_content().split(_BREAK))
    return "\n".join(line for line in lines if line)
