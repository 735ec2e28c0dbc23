"""Bytes to text for HTML pages, trusting the bytes over a charset label that lies.

Pages declare windows-1251 and send UTF-8 (and the reverse). Strict UTF-8 decoding almost
never succeeds on non-ASCII text in another encoding, so valid UTF-8 wins; otherwise w3lib
weighs BOM, HTTP header, <meta> and content sniffing.
"""

from __future__ import annotations

import codecs
import re

from w3lib.encoding import html_to_unicode

_BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"),
         (codecs.BOM_UTF16_BE, "utf-16"))


def decode_html(body: bytes, content_type: str | None = None) -> tuple[str, str]:
    """Return (text, encoding name used)."""
    for bom, name in _BOMS:
        if body.startswith(bom):
            return body.decode(name, errors="replace"), name
    try:
        return body.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    encoding, text = html_to_unicode(content_type, body)
    return text, encoding


_DECLARED = re.compile(rb"^\s*<\?xml[^>]*\bencoding\s*=", re.IGNORECASE)


def feed_charset(body: bytes, content_type: str | None) -> str | None:
    """The charset to parse a feed with when its labels lie or are missing, else None.

    Valid UTF-8 wins over any label (feeds served as windows-1251 that are UTF-8). Unlabelled
    Cyrillic bytes are windows-1251 or KOI8-U: news text is mostly lower case, which sits at
    0xE0-0xFF in windows-1251 and at 0xC0-0xDF in KOI8-U.
    """
    if body.startswith(codecs.BOM_UTF8):
        return None
    try:
        body.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError:
        pass
    if "charset=" in (content_type or "").lower() or _DECLARED.match(body[:200]):
        return None
    upper = sum(1 for b in body if b >= 0xE0)
    lower = sum(1 for b in body if 0xC0 <= b < 0xE0)
    return "windows-1251" if upper >= lower else "koi8-u"
