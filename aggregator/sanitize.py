"""The article's main content as HTML a downstream site can render without risk.

Only structure and text survive: no script, style, frames, forms or embedded objects, no
event-handler or style attributes, no javascript: (or other non-web) URLs; links are kept and
made absolute. lxml_html_clean does the cleaning. Where the HTML is inlined into another page,
`id` and `name` could shadow that page's DOM (`<img name=getElementById>`) and a `target=_blank`
link could reach back through `window.opener`: both are removed or defused here.
"""

from __future__ import annotations

import copy
from urllib.parse import urljoin, urlsplit

from lxml import html as lxml_html
from lxml.etree import ParserError
from lxml_html_clean import Cleaner

_CLEANER = Cleaner(
    scripts=True, javascript=True, comments=True, style=True, inline_style=True, links=True,
    meta=True, page_structure=True, processing_instructions=True, embedded=True, frames=True,
    forms=True, annoying_tags=True, safe_attrs_only=True, add_nofollow=True,
)
_URL_ATTRS = ("href", "src")
_DOM_NAMES = ("id", "name")
_NEW_TAB_REL = "noopener noreferrer"


def safe_html(fragment: str | list, base_url: str) -> str | None:
    """Cleaned HTML of `fragment` (a snippet, not a whole page); None when nothing is left.

    The fragment is markup, or its parts as `lxml.html.fragments_fromstring` gives them (a
    leading text, then elements) when they are parsed already: those elements are copied
    with their tails, so the tree they belong to stays as it is, and nothing is parsed again.
    """
    if isinstance(fragment, str):
        if not fragment.strip():
            return None
        try:
            tree = lxml_html.fragment_fromstring(fragment, create_parent="div")
        except (ParserError, ValueError):
            return None
    else:
        tree = lxml_html.Element("div")
        for part in fragment:
            if isinstance(part, str):
                tree.text = part
            else:  # the copy becomes an lxml.html element once inside the new <div>
                tree.append(copy.deepcopy(part))
    _CLEANER(tree)  # in place: the tree is ours
    for element in tree.iter():
        _absolute_web_urls(element, base_url)
        _defuse(element)
    text = lxml_html.tostring(tree, encoding="unicode")
    return text if tree.text_content().strip() else None


def _absolute_web_urls(element, base_url: str) -> None:
    for attr in _URL_ATTRS:
        value = element.get(attr)
        if value is None:
            continue
        absolute = urljoin(base_url, value.strip())
        if urlsplit(absolute).scheme in ("http", "https"):
            element.set(attr, absolute)
        else:
            del element.attrib[attr]


def _defuse(element) -> None:
    """No DOM names, no opener: `rel` keeps only its harmless words plus noopener noreferrer
    wherever a link may open a new browsing context."""
    for attr in _DOM_NAMES:
        element.attrib.pop(attr, None)
    rel = [word for word in (element.get("rel") or "").lower().split() if word != "opener"]
    if element.get("target") is not None:
        rel += [word for word in _NEW_TAB_REL.split() if word not in rel]
    if rel:
        element.set("rel", " ".join(rel))
    else:
        element.attrib.pop("rel", None)
