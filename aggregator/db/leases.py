"""Nodes and host leases in the database: heartbeats, claims, renewals, hand-backs.

A claim takes free or expired rows with `FOR UPDATE SKIP LOCKED`, so nodes claiming at the
same moment never take the same host and never wait for each other. Times come from the
database's clock (`now()` on PostgreSQL), so nodes on machines with skewed clocks still agree
on when a lease ran out.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from aggregator.db.models import HostLease, Node
from aggregator.leases import Lease
from aggregator.views import NodeView


def db_now(session: Session) -> datetime:
    """The database's clock (SQLite has one node only: the process clock will do)."""
    if session.get_bind().dialect.name == "postgresql":
        return session.scalar(select(func.now())).astimezone(timezone.utc)
    return datetime.now(timezone.utc)


def _insert(session: Session, model):
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    return dialect.insert(model)


def heartbeat(session: Session, name: str, hostname: str, pid: int, http: str | None,
              hosts: int, now: datetime) -> None:
    """Say this node is alive (the first heartbeat creates its row)."""
    values = {"hostname": hostname, "pid": pid, "http": http, "hosts": hosts,
              "heartbeat_at": now}
    statement = _insert(session, Node).values(name=name, started_at=now, **values)
    session.execute(statement.on_conflict_do_update(index_elements=["name"], set_=values))


def heartbeats(session: Session) -> dict[str, tuple[datetime, int]]:
    """Each node's last heartbeat and how many hosts it has configured."""
    return {r.name: (r.heartbeat_at, r.hosts)
            for r in session.execute(select(Node.name, Node.heartbeat_at, Node.hosts))}


def add_hosts(session: Session, hosts: set[str], now: datetime) -> None:
    """A lease row for every configured host, free (since now) until claimed."""
    if hosts:
        statement = _insert(session, HostLease).values(
            [{"host": h, "expires_at": now} for h in sorted(hosts)])
        session.execute(statement.on_conflict_do_nothing(index_elements=["host"]))


def leases(session: Session, now: datetime | None = None, ttl: float = 0) -> list[Lease]:
    """Every lease; asks of manual crawls older than `ttl` at `now` are dead (not shown)."""
    def ask(row: HostLease) -> str | None:
        live = now is None or (row.wanted_at is not None
                               and row.wanted_at > now - timedelta(seconds=ttl))
        return row.wanted_by if live else None

    return [Lease(r.host, r.node, r.expires_at, ask(r))
            for r in session.scalars(select(HostLease))]


def _unasked(node: str, now: datetime, ttl: float):
    return or_(HostLease.wanted_by.is_(None), HostLease.wanted_by == node,
               HostLease.wanted_at <= now - timedelta(seconds=ttl))


def ask(session: Session, node: str, hosts: set[str], now: datetime, ttl: float) -> None:
    """A manual crawl or backfill asks for hosts (renewed while it waits or crawls);
    another live ask for a host is not overridden."""
    if hosts:
        session.execute(update(HostLease)
                        .where(HostLease.host.in_(sorted(hosts)), _unasked(node, now, ttl))
                        .values(wanted_by=node, wanted_at=now))


def done_asking(session: Session, node: str, hosts: list[str] | None = None) -> None:
    query = update(HostLease).where(HostLease.wanted_by == node)
    if hosts is not None:
        query = query.where(HostLease.host.in_(hosts))
    session.execute(query.values(wanted_by=None, wanted_at=None))


def renew(session: Session, node: str, now: datetime, ttl: float) -> dict[str, datetime]:
    """Push this node's leases out by `ttl`; returns what it still holds, until when (a lease
    another node took after it ran out is not among them)."""
    until = now + timedelta(seconds=ttl)
    held = session.scalars(update(HostLease).where(HostLease.node == node)
                           .values(expires_at=until).returning(HostLease.host)).all()
    return {host: until for host in held}


def claim(session: Session, node: str, hosts: set[str], count: int, now: datetime,
          ttl: float, steal: bool = False) -> list[str]:
    """Take up to `count` of `hosts` that are free or whose lease ran out (`steal`: any,
    for the only node of an SQLite database); rows another node is claiming are skipped."""
    if count <= 0 or not hosts:
        return []
    free = or_(HostLease.node.is_(None), HostLease.expires_at.is_(None),
               HostLease.expires_at <= now)
    query = (select(HostLease).where(HostLease.host.in_(sorted(hosts)))
             .where(HostLease.node.is_distinct_from(node), _unasked(node, now, ttl))
             .order_by(HostLease.host).limit(count).with_for_update(skip_locked=True))
    if not steal:
        query = query.where(free)
    rows = session.scalars(query).all()
    for row in rows:
        row.node, row.acquired_at = node, now
        row.expires_at = now + timedelta(seconds=ttl)
    return [row.host for row in rows]


def release(session: Session, node: str, hosts: list[str] | None = None) -> None:
    """Hand leases back at once (all of this node's when `hosts` is None); `expires_at`
    keeps when."""
    query = update(HostLease).where(HostLease.node == node)
    if hosts is not None:
        query = query.where(HostLease.host.in_(hosts))
    session.execute(query.values(node=None, expires_at=db_now(session), acquired_at=None))


def leave(session: Session, node: str) -> None:
    """A graceful stop: every lease back, and the node's row gone."""
    release(session, node)
    done_asking(session, node)
    session.execute(delete(Node).where(Node.name == node))


def forget_nodes(session: Session, before: datetime, keep: str) -> None:
    """Rows of nodes silent since `before` (killed long ago), and for SQLite every other
    node's (it has only one)."""
    session.execute(delete(Node).where(Node.name != keep, Node.heartbeat_at < before))


def nodes(session: Session) -> list[NodeView]:
    """For `aggregator nodes`: every node row, by name."""
    return [NodeView(n.name, n.hostname, n.pid, n.http, n.hosts, n.started_at, n.heartbeat_at)
            for n in session.scalars(select(Node).order_by(Node.name))]


CHANNEL = "aggregator_leases"  # NOTIFY payload: the node that handed back or joined


def notify(session: Session, node: str) -> None:
    """Tell the other nodes (delivered at commit) to look at the leases now, not at their
    next heartbeat: hosts were handed back, or a node joined and wants its share."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(select(func.pg_notify(CHANNEL, node)))
