"""Work division between nodes as pure functions: which host a source belongs to, each live
node's fair share of hosts, and what one node claims or hands back on a heartbeat.

A lease covers a whole host (every source whose URL is on it), not one source: Scrapy's
per-host slot then sees every request to that host, so `per_host_concurrency` and
`download_delay` hold for the cluster as they do for one node, never multiplied by the
node count. No I/O and no clock here (aggregator/node.py does the asking and the writing).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from aggregator.urls import host_of


@dataclass(frozen=True)
class Lease:
    """A row of `host_leases` as the decision needs it."""

    host: str
    node: str | None
    expires_at: datetime | None
    wanted_by: str | None = None  # a manual crawl or backfill asking for it (a live ask)

    def held_by(self, node: str, now: datetime) -> bool:
        return self.node == node and self.expires_at is not None and self.expires_at > now

    def orphaned(self, now: datetime, ttl: float) -> bool:
        """Free for longer than a lease: no node whose share it is has claimed it (its
        sources are configured on some nodes only), so any node that has them may."""
        return (not self.wanted_by and self.expires_at is not None
                and (now - self.expires_at).total_seconds() > ttl)


@dataclass(frozen=True)
class Moves:
    """One heartbeat's decision: how many free hosts to claim, which held ones to hand back."""

    claim: int
    release: tuple[str, ...]


def lease_host(url: str) -> str:
    """The host a source's crawls are leased by: its URL's host name, as Scrapy keys its
    per-host slots (the port is not part of it)."""
    return host_of(url)


def fair_share(me: str, live: Iterable[str], hosts: int) -> int:
    """Hosts this node should hold: an equal share, the remainder going to the first names,
    so the shares of all live nodes add up to exactly the hosts there are."""
    names = sorted(set(live) | {me})
    base, extra = divmod(hosts, len(names))
    return base + (1 if names.index(me) < extra else 0)


def rebalance(me: str, live: Iterable[str], leases: list[Lease], hosts: set[str],
              busy: set[str], now: datetime, ttl: float = float("inf")) -> Moves:
    """Hand back hosts no longer configured, and (idle ones only: a crawl in flight finishes
    first) hosts a manual crawl or backfill asks for and any above the fair share of the
    rest; or ask for as many free hosts as the share lacks, and for every orphaned one."""
    wanted = {lease.host for lease in leases if lease.wanted_by not in (None, me)}
    mine = sorted(lease.host for lease in leases if lease.held_by(me, now))
    gone = [host for host in mine if host not in hosts]
    asked = [host for host in mine if host in hosts and host in wanted and host not in busy]
    kept = [host for host in mine if host in hosts and host not in wanted]
    share = fair_share(me, live, len(hosts - wanted))
    surplus = max(0, len(kept) - share)
    idle = [host for host in reversed(kept) if host not in busy][:surplus]
    orphans = sum(1 for lease in leases if lease.host in hosts and lease.orphaned(now, ttl))
    if orphans or not _short(me, live, leases, len(hosts - wanted), now):
        idle = []  # surplus goes back only to a node short of its share
    return Moves(max(0, share - len(kept)) + orphans, tuple(gone + asked + idle))


def _short(me: str, live: Iterable[str], leases: list[Lease], hosts: int,
           now: datetime) -> bool:
    """Does another live node hold fewer hosts than its share?"""
    names = set(live) | {me}
    held = {name: 0 for name in names}
    for lease in leases:
        if lease.node in held and lease.held_by(lease.node, now):
            held[lease.node] += 1
    return any(held[n] < fair_share(n, names, hosts) for n in names if n != me)


def live_nodes(heartbeats: dict[str, tuple[datetime, int]], now: datetime,
               ttl: float) -> list[str]:
    """Nodes sharing the work: heard from within a lease, with hosts configured (a node
    started with no sources would take a share it cannot crawl)."""
    return sorted(name for name, (at, hosts) in heartbeats.items()
                  if (now - at).total_seconds() < ttl and hosts)
