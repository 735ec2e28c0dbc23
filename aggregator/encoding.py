"""Bytes to text for HTML pages, trusting the bytes over a charset label that lies.

Pages declare windows-1251 and send UTF-8 (and the reverse). Strict UTF-8 decoding almost
never succeeds on non-ASCII text in another encoding, so valid UTF-8 wins; otherwise w3lib
weighs BOM, HTTP header, <meta> and content sniffing.
"""

from __future__ import annotations

import codecs

from w3lib.encoding import html_to_unicode

_BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))


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
