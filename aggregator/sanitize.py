"""The article's main content as HTML a downstream site can render without risk.

Only structure and text survive: no script, style, frames, forms or embedded objects, no
event-handler or style attributes, no javascript: (or other non-web) URLs; links are kept and
made absolute. lxml_html_clean does the cleaning.
"""

from __future__ import annotations

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


def safe_html(fragment: str, base_url: str) -> str | None:
    """Cleaned HTML of `fragment` (a snippet, not a whole page); None when nothing is left."""
    if not fragment.strip():
        return None
    try:
        tree = lxml_html.fragment_fromstring(fragment, create_parent="div")
    except (ParserError, ValueError):
        return None
    tree = _CLEANER.clean_html(tree)
    for element in tree.iter():
        for attr in _URL_ATTRS:
            value = element.get(attr)
            if value is None:
                continue
            absolute = urljoin(base_url, value.strip())
            if urlsplit(absolute).scheme in ("http", "https"):
                element.set(attr, absolute)
            else:
                del element.attrib[attr]
    text = lxml_html.tostring(tree, encoding="unicode")
    return text if tree.text_content().strip() else None
