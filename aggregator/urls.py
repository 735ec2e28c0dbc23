"""URL identity: canonical article URLs and the pairing of language editions.

courlan removes tracking parameters (its strict mode is not used: it drops every parameter
outside a whitelist, which would merge ?news_id= pages), w3lib canonicalises query order and
encoding; here only what they do not know: AMP and mobile variants of news pages (m./amp.
hosts are taken to mirror www.), and the language segments (/ukr/, /rus/) of editions.
"""

from __future__ import annotations

import hashlib
import re
from urllib.parse import urlsplit, urlunsplit

from courlan import extract_domain, normalize_url
from w3lib.url import canonicalize_url

_MOBILE_HOST = re.compile(r"^(?:m|mobile|amp)\.")
_AMP_QUERY = re.compile(r"(?:^|&)(?:amp|amp=[^&]*|outputType=amp)(?=&|$)", re.IGNORECASE)
_AMP_PATH = re.compile(r"/amp(?=/|$)|\.amp(?=\.html?$|$)", re.IGNORECASE)
# Path segments naming an edition's language on Ukrainian sites (rbc.ua /ukr/ /rus/ ...).
LANGUAGE_SEGMENTS = {"ukr": "uk", "ua": "uk", "uk": "uk", "rus": "ru", "ru": "ru",
                     "eng": "en", "en": "en"}
_SWAPS = {"uk": ("ukr", "ua", "uk"), "ru": ("rus", "ru"), "en": ("eng", "en")}
_ARTICLE_ID = re.compile(r"\d{5,}")


def host_of(url: str) -> str:
    return (urlsplit(url).hostname or "").lower()


def registered_domain(url: str) -> str:
    """'politico.eu' for https://www.politico.eu/...; host:port where there is no TLD."""
    return extract_domain(url) or urlsplit(url).netloc.lower()


def _fold_variants(url: str) -> str:
    """The desktop, non-AMP form: m./amp. hosts, /amp paths and ?amp queries folded away."""
    parts = urlsplit(url)
    host = _MOBILE_HOST.sub("www.", parts.netloc.lower())
    path = _AMP_PATH.sub("", parts.path) or "/"
    query = _AMP_QUERY.sub("", parts.query).lstrip("&")
    return urlunsplit((parts.scheme, host, path, query, ""))


def canonical_url(url: str) -> str:
    """Identity form: no fragment or tracking parameters, AMP/mobile folded, sorted query."""
    folded = _fold_variants(url)
    try:
        folded = normalize_url(folded)
    except ValueError:  # courlan rejects what it cannot parse; w3lib still canonicalises it
        pass
    return canonicalize_url(folded, keep_fragments=False)


def url_key(canonical: str) -> str:
    """The unique key of an article: the sha256 of its canonical URL (an index of keys holds
    any URL; a B-tree index of long URLs does not)."""
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def same_site(url: str, domains: tuple[str, ...]) -> bool:
    """True when `url`'s host is one of `domains` or a subdomain of one."""
    host = host_of(url)
    return any(host == d or host.endswith("." + d) for d in domains)


def choose_canonical(page_url: str, declared: str | None, domains: tuple[str, ...]) -> str:
    """The page's rel=canonical/og:url when it stays on the source's site, else the page URL."""
    if declared and urlsplit(declared).scheme in ("http", "https") and same_site(declared, domains):
        return canonical_url(declared)
    return canonical_url(page_url)


def edition_counterparts(url: str) -> list[str]:
    """Canonical URLs the same article would have in the other language editions:
    /ukr/news/x <-> /rus/news/x, and /news/x <-> /rus/news/x where one edition has no prefix."""
    parts = urlsplit(canonical_url(url))
    segments = parts.path.lstrip("/").split("/")
    own = LANGUAGE_SEGMENTS.get(segments[0].lower())
    rest = segments[1:] if own else segments
    out = [] if own is None else ["/" + "/".join(rest)]
    for language, names in _SWAPS.items():
        if language != own:
            out += ["/" + "/".join([name, *rest]) for name in names]
    return [urlunsplit(parts._replace(path=path)) for path in out]


def edition_key(url: str) -> str | None:
    """Site + numeric article id ('rbc.ua:1700000000'): editions share the id, not the slug."""
    path = urlsplit(url).path
    found = _ARTICLE_ID.findall(path)
    if not found:
        return None
    host = _MOBILE_HOST.sub("", host_of(url)).removeprefix("www.")
    port = urlsplit(url).port
    return f"{host}{':' + str(port) if port else ''}:{found[-1]}"
