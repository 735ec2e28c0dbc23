"""Which URLs may be fetched: the one rule for every request the product makes.

The crawl (a downloader middleware and the DNS resolver), robots.txt, the dry run and every
request of the screenshot browser ask here. A request is refused when its scheme is not a
web one, when its host is (or resolves to) a loopback, private, link-local or otherwise
non-global address and its source does not allow those (test sites only), or when a page
lies outside the source's allowed domains. Host spellings are normalised first: `127.1`,
`0x7f.1`, `2130706433`, `0177.0.0.1`, IPv4-mapped IPv6 and trailing dots all name loopback.
Pure functions, except `resolve`, which asks the system's resolver.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable
from urllib.parse import urlsplit

from aggregator.sources import Source
from aggregator.urls import same_site
from aggregator.vocabulary import RequestKind

WEB_SCHEMES = ("http", "https")
SOCKET_SCHEMES = ("ws", "wss")
# The page's own bytes, not a request to any host: a captured page may use them.
INLINE_SCHEMES = ("data", "blob", "about")
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


def host_address(host: str) -> Address | None:
    """The address a host names literally, in any spelling the system resolver accepts
    (dotted, short, hex, octal, decimal, IPv6, IPv4-mapped), or None for a name."""
    host = host.strip("[]").rstrip(".")
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        try:
            address = ipaddress.IPv4Address(socket.inet_aton(host))  # 127.1, 0x7f.1, 2130706433
        except (OSError, ValueError):
            return None
    return _unmapped(address)


def _unmapped(address: Address) -> Address:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def is_local_name(host: str) -> bool:
    """Names that mean this machine whatever DNS says (RFC 6761): localhost and *.localhost."""
    host = host.lower().rstrip(".")
    return host == "localhost" or host.endswith(".localhost")


def address_refusal(address: str | Address, source: Source | None) -> str | None:
    """Why a connection to `address` is refused for `source`, or None."""
    ip = _unmapped(ipaddress.ip_address(address) if isinstance(address, str) else address)
    if ip.is_global or (source is not None and source.allows_private(ip)):
        return None
    return f"private or loopback address {ip} (source does not allow it)"


def refusal(url: str, source: Source | None, kind: RequestKind,
            allowed: Iterable[str] | None = None) -> str | None:
    """Why `url` may not be fetched for `source` as a request of `kind`, or None.

    Pages stay on the source's allowed domains; its own URLs (roots) may be on any host, and
    so may robots.txt, which is only asked for hosts a checked request goes to.
    Subresources of a captured page are judged by `allowed` (hosts and their subdomains;
    None means any public host): the screenshot worker's third-party blocking.
    Resolved addresses are judged separately (`address_refusal`), where the connection is made.
    """
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if kind is RequestKind.SUBRESOURCE and scheme in INLINE_SCHEMES:
        return None
    web = WEB_SCHEMES + (SOCKET_SCHEMES if kind is RequestKind.SUBRESOURCE else ())
    if scheme not in web:
        return f"scheme {parts.scheme!r} is not fetched"
    host = (parts.hostname or "").rstrip(".")
    if not host:
        return "no host"
    private_ok = source is not None and source.allow_private_addresses is True
    literal = host_address(host)
    if literal is not None and (problem := address_refusal(literal, source)):
        return problem
    if literal is None and is_local_name(host) and not private_ok:
        return f"local name {host} (source does not allow private addresses)"
    if kind is RequestKind.SUBRESOURCE:
        if allowed is not None and not same_site(url, tuple(allowed)):
            return f"third-party host {host} is blocked for this source"
        return None
    page = kind is RequestKind.PAGE and source is not None
    if page and not same_site(url, source.allowed_domains):
        return f"host {host} is outside the source's allowed domains"
    return None


def resolve(host: str, port: int | None = None) -> list[Address]:
    """Every address the system resolver gives for `host` (a literal gives itself)."""
    literal = host_address(host)
    if literal is not None:
        return [literal]
    infos = socket.getaddrinfo(host.rstrip("."), port or 80, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(_unmapped(ipaddress.ip_address(info[4][0])) for info in infos))
