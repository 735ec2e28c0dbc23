"""The crawler's DNS resolver: Scrapy's caching resolver that never hands out a non-global
address for a name, except names of sources that allow private addresses (test sites).

This is where the connection's address comes from, so a name that resolves to loopback or a
private network (or changes its answer between the guard's look-up and the connection) never
gets a socket; the middleware's per-source check gives the readable reason first.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from scrapy.resolver import CachingThreadedResolver
from twisted.internet.defer import Deferred
from twisted.internet.error import DNSLookupError

from aggregator import guard
from aggregator.sources import Source

_private_names: set[str] = set()


def allow_private_names(sources: Iterable[Source]) -> None:
    """Names that may resolve to private addresses: the hosts of sources allowing them."""
    from urllib.parse import urlsplit

    for source in sources:
        if source.allow_private_addresses:
            _private_names.add((urlsplit(source.url).hostname or "").lower())
            _private_names.update(source.allowed_domains)


class GuardedResolver(CachingThreadedResolver):
    def getHostByName(self, name: str, timeout: Sequence[int] = ()) -> Deferred[str]:  # noqa: N802
        return super().getHostByName(name, timeout).addCallback(self._checked, name)

    @staticmethod
    def _checked(address: str, name: str) -> str:
        host = name.lower().rstrip(".")
        allowed = any(host == n or host.endswith("." + n) for n in _private_names)
        if not allowed and guard.address_refusal(address, None):
            raise DNSLookupError(f"{name} resolves to {address}, a non-global address: refused")
        return address
