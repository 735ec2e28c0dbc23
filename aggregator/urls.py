"""URL identity: the canonical form of an article URL (w3lib does the work).

Fragments and tracking parameters go; host case and query order are normalised, so the same
page reached through a newsletter link and through the feed has one identity.
"""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import urlsplit

from w3lib.url import canonicalize_url, url_query_cleaner

_TRACKING = re.compile(
    r"^(utm_\w+|fbclid|gclid|dclid|gbraid|wbraid|yclid|msclkid|mc_cid|mc_eid|igshid|"
    r"_ga|_gl|ref_src|cmpid|at_medium|at_campaign)$",
    re.IGNORECASE,
)


def host_of(url: str) -> str:
    return (urlsplit(url).hostname or "").lower()


def strip_tracking(url: str) -> str:
    params = [p.split("=", 1)[0] for p in urlsplit(url).query.split("&") if p]
    tracking = [p for p in params if _TRACKING.match(p)]
    if not tracking:
        return url
    return url_query_cleaner(url, tracking, remove=True, unique=False, keep_fragments=True)


def canonical_url(url: str) -> str:
    """Identity form: no fragment, no tracking parameters, sorted query, lower-case host."""
    return canonicalize_url(strip_tracking(url), keep_fragments=False)


def is_private_host(host: str) -> bool:
    """Loopback, private, link-local or otherwise non-global: never a news site."""
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return not address.is_global


def same_site(url: str, domains: tuple[str, ...]) -> bool:
    """True when `url`'s host is one of `domains` or a subdomain of one."""
    host = host_of(url)
    return any(host == d or host.endswith("." + d) for d in domains)


def choose_canonical(page_url: str, declared: str | None, domains: tuple[str, ...]) -> str:
    """The page's rel=canonical/og:url when it stays on the source's site, else the page URL."""
    if declared and urlsplit(declared).scheme in ("http", "https") and same_site(declared, domains):
        return canonical_url(declared)
    return canonical_url(page_url)
