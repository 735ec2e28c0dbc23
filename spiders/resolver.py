"""The crawler's DNS resolver: Scrapy's caching resolver that never hands out a non-global
address for a name, unless a source that names that host allows that address.

This is where the connection's address comes from, so a name that resolves to loopback or a
private network (or changes its answer between the guard's look-up and the connection) never
gets a socket; the middleware's per-source check gives the readable reason first.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence
from urllib.parse import urlsplit

from scrapy.resolver import CachingThreadedResolver
from twisted.internet.defer import Deferred
from twisted.internet.error import DNSLookupError

from aggregator.sources import Source
from aggregator.urls import same_site

_sources: dict[str, Source] = {}  # by name: the sources the spider has crawled


def register(sources: Iterable[Source]) -> None:
    """Sources whose hosts may resolve to the private addresses they allow."""
    for source in sources:
        if source.allow_private_addresses:
            _sources[source.name] = source
        else:
            _sources.pop(source.name, None)


def private_allowed(name: str, address: str) -> bool:
    """Whether a registered source names this host and allows this address."""
    ip = ipaddress.ip_address(address)
    url = f"http://{name}/"
    return any(source.allows_private(ip) and (
        same_site(url, source.allowed_domains)
        or same_site(url, ((urlsplit(source.url).hostname or "").lower(),)))
        for source in _sources.values())


class GuardedResolver(CachingThreadedResolver):
    def getHostByName(self, name: str, timeout: Sequence[int] = ()) -> Deferred[str]:  # noqa: N802
        return super().getHostByName(name, timeout).addCallback(self._checked, name)

    @staticmethod
    def _checked(address: str, name: str) -> str:
        if ipaddress.ip_address(address).is_global or private_allowed(name.rstrip("."), address):
            return address
        raise DNSLookupError(f"{name} resolves to {address}, a non-global address: refused")
