"""This process as one node of a cluster: its name, heartbeats and host leases.

Each heartbeat reads the cluster in one transaction (renewing this node's leases on the way),
decides on the event loop (aggregator/leases.py, against the crawls running at that instant,
so a host handed back is never one a crawl is starting on), then hands back and claims in a
second transaction. SQLite has one node only: an exclusive lock on a file beside the database
keeps a second daemon out, and the one node holds every host.
"""

from __future__ import annotations

import fcntl
import logging
import os
import socket
import threading
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import make_url

from aggregator import leases
from aggregator.db import leases as lease_rows
from aggregator.db.engine import Database
from aggregator.errors import NodeRefused
from aggregator.settings import Settings

log = logging.getLogger(__name__)

NAME_LOCK = 7_320_015  # pg_advisory_lock(NAME_LOCK, crc32(name)): one process per node name
FORGET_AFTER = timedelta(days=1)  # rows of nodes silent this long are removed


@dataclass(frozen=True)
class Cluster:
    """What one heartbeat read: the database's clock, live nodes and every lease."""

    now: datetime
    live: list[str]
    leases: list[leases.Lease]
    held: dict[str, datetime]


def lock_sqlite(url: str) -> object | None:
    """Hold an exclusive lock on `<database>.lock` for the life of the process, or refuse."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    path = Path(parsed.database).resolve().with_name(Path(parsed.database).name + ".lock")
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = open(path, "a+")  # noqa: SIM115 - held open until the process ends
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        holder = handle.read().strip() or "another process"
        handle.close()
        raise NodeRefused(
            f"another `aggregator run` ({holder}) is using the SQLite database "
            f"{parsed.database}: SQLite is single-node, so a second daemon on the same file "
            "would crawl every source twice. Stop the other one, or point every node at one "
            "PostgreSQL database (docs/scale-out.md)."
        ) from None
    handle.seek(0)
    handle.truncate()
    handle.write(f"pid {os.getpid()} on {socket.gethostname()}\n")
    handle.flush()
    return handle


class NodeKeeper:
    """Heartbeats, leases held and until when; `holds(host)` is the crawl gate."""

    def __init__(self, settings: Settings, db: Database, http: str | None = None):
        self.name = settings.node_name
        self.ttl, self.every = settings.node.lease_ttl, settings.node.heartbeat
        self.db, self.http = db, http
        self.exclusive = db.engine.dialect.name == "sqlite"
        self.held: dict[str, datetime] = {}
        self.draining: set[str] = set()  # held, but a manual crawl asks for them
        self._skew = timedelta(0)  # database clock minus ours
        self._name_lock = None if self.exclusive else self._lock_name()
        self._writing = threading.Lock()  # a heartbeat in its thread never outlives leave()
        self.left = False
        self._announced = False

    def _lock_name(self):
        """A session advisory lock on the name, on a connection of its own: a second
        process with the same name is refused, a killed one's lock goes with its
        connection."""
        conn = self.db.engine.connect()
        taken = conn.scalar(text("SELECT pg_try_advisory_lock(:a, :b)"),
                            {"a": NAME_LOCK, "b": zlib.crc32(self.name.encode()) - 2**31})
        conn.commit()
        if not taken:
            conn.close()
            raise NodeRefused(f"a node named {self.name!r} is already running on this "
                              "database: give each node its own node.name")
        return conn

    def read(self, hosts: set[str]) -> Cluster:
        """Heartbeat, renew, and read the cluster (one transaction, off the event loop)."""
        with self._writing, self.db.session() as session:
            if self.left:
                return Cluster(datetime.now(timezone.utc), [self.name], [], {})
            now = lease_rows.db_now(session)
            lease_rows.heartbeat(session, self.name, socket.gethostname(), os.getpid(),
                                 self.http, len(hosts), now)
            if not self._announced and hosts and not self.exclusive:
                lease_rows.notify(session, self.name)  # joining: holders rebalance now
                self._announced = True
            lease_rows.add_hosts(session, hosts, now)
            held = lease_rows.renew(session, self.name, now, self.ttl)
            if self.exclusive:
                lease_rows.forget_nodes(session, now + timedelta(days=1), self.name)
                live = [self.name]
            else:
                lease_rows.forget_nodes(session, now - FORGET_AFTER, self.name)
                live = leases.live_nodes(lease_rows.heartbeats(session), now, self.ttl)
            cluster = Cluster(now, live, lease_rows.leases(session, now, self.ttl), held)
        self._skew = now - datetime.now(timezone.utc)
        lost = set(self.held) - set(held)
        if lost:
            log.warning("leases lost to other nodes: %s", ", ".join(sorted(lost)))
        self.held = held
        return cluster

    def decide(self, cluster: Cluster, hosts: set[str], busy: set[str]) -> leases.Moves:
        """On the event loop: hosts handed back stop being crawlable at once."""
        moves = leases.rebalance(self.name, cluster.live, cluster.leases, hosts, busy,
                                 cluster.now, self.ttl)
        self.draining = {lease.host for lease in cluster.leases
                         if lease.wanted_by not in (None, self.name)} & set(self.held)
        for host in moves.release:
            self.held.pop(host, None)
        return moves

    def apply(self, cluster: Cluster, hosts: set[str], moves: leases.Moves) -> list[str]:
        """Hand back and claim (one transaction, off the event loop); returns the claimed."""
        if not moves.release and not moves.claim:
            return []
        with self._writing, self.db.session() as session:
            if self.left:
                return []
            if moves.release:
                lease_rows.release(session, self.name, list(moves.release))
                lease_rows.notify(session, self.name)
            now = lease_rows.db_now(session)
            taken = lease_rows.claim(session, self.name, hosts - set(self.held), moves.claim,
                                     now, self.ttl, steal=self.exclusive)
        for host in taken:
            self.held[host] = now + timedelta(seconds=self.ttl)
        if moves.release:
            log.info("handed back %s (above the fair share of %d nodes)",
                     ", ".join(moves.release), len(cluster.live))
        if taken:
            log.info("took over %s", ", ".join(taken))
        return taken

    def holds(self, host: str) -> bool:
        """May a crawl of `host` start now: leased, not running out, not asked for."""
        if host in self.draining:
            return False
        until = self.held.get(host)
        return until is not None and until > datetime.now(timezone.utc) + self._skew

    def leave(self) -> None:
        """Graceful stop: every lease back at once, so other nodes take over now."""
        with self._writing, self.db.session() as session:
            lease_rows.leave(session, self.name)
            lease_rows.notify(session, self.name)
            self.left = True
        self.held = {}
        if self._name_lock is not None:
            self._name_lock.close()
        log.info("node %s left: leases handed back", self.name)


class LeaseListener:
    """LISTEN for lease news from other nodes on a connection of its own (a thread), and set
    `wake` on the event loop, so a node takes over hosts handed back, or hands back its
    surplus to a joining node, within moments rather than at its next heartbeat."""

    def __init__(self, url: str, name: str, wake: Callable[[], None]):
        self.conninfo = make_url(url).set(drivername="postgresql").render_as_string(
            hide_password=False)
        self.name, self.wake = name, wake
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._run, name="lease-listener", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        import psycopg

        while not self.stopped.is_set():
            try:
                with psycopg.connect(self.conninfo, autocommit=True, connect_timeout=10) as conn:
                    conn.execute(f"LISTEN {lease_rows.CHANNEL}")
                    while not self.stopped.is_set():
                        for note in conn.notifies(timeout=1.0):
                            if note.payload != self.name:
                                self.wake()
            except Exception:  # noqa: BLE001 - heartbeats go on without it; try again
                self.stopped.wait(5.0)

    def stop(self) -> None:
        self.stopped.set()


class Visitor:
    """A manual crawl or backfill (`aggregator crawl`, `backfill`) on PostgreSQL: it asks for
    its sources' hosts, the daemons holding them hand them over between crawls, and it
    crawls a host only while it holds the lease, so a host's budget is never doubled by a
    crawl started by hand. It takes no share of the daemons' work."""

    def __init__(self, settings: Settings, db: Database, name: str):
        self.name = name
        self.ttl, self.every = settings.node.lease_ttl, settings.node.heartbeat
        self.db = db
        self.needed: dict[str, int] = {}  # host -> sources still to crawl there
        self.asking: set[str] = set()  # hosts a crawl waits for or runs on
        self.held: set[str] = set()

    def plan(self, hosts: list[str]) -> None:
        for host in hosts:
            self.needed[host] = self.needed.get(host, 0) + 1

    def _tick(self, want: str | None = None) -> bool:
        """Renew what is held, refresh the asks, claim `want` if free; True when held."""
        with self.db.session() as session:
            now = lease_rows.db_now(session)
            lease_rows.add_hosts(session, set(self.needed), now)
            self.held = set(lease_rows.renew(session, self.name, now, self.ttl))
            lease_rows.ask(session, self.name, self.asking, now, self.ttl)
            if want is not None and want not in self.held:
                self.held |= set(lease_rows.claim(session, self.name, {want}, 1, now,
                                                  self.ttl))
        return want in self.held

    async def acquire(self, host: str) -> None:
        """Wait until this crawl holds `host` (its holder hands it over between crawls)."""
        import asyncio

        started = asyncio.get_running_loop().time()
        self.asking.add(host)
        while not await asyncio.to_thread(self._tick, host):
            await asyncio.sleep(min(1.0, self.every))
        waited = asyncio.get_running_loop().time() - started
        if waited > 1:
            log.info("waited %.0fs for the lease of %s", waited, host)

    async def keep(self) -> None:
        """Renew leases and asks every heartbeat, for as long as the crawl runs."""
        import asyncio

        while True:
            await asyncio.sleep(self.every)
            try:
                await asyncio.to_thread(self._tick)
            except Exception:  # noqa: BLE001 - the next tick tries again
                log.exception("cannot renew the crawl's leases")

    def done(self, host: str) -> None:
        """One source of `host` crawled; the host goes back when its last one is."""
        self.needed[host] -= 1
        if self.needed[host] <= 0:
            del self.needed[host]
            self.asking.discard(host)
            with self.db.session() as session:
                lease_rows.release(session, self.name, [host])
                lease_rows.done_asking(session, self.name, [host])
            self.held.discard(host)

    def leave(self) -> None:
        with self.db.session() as session:
            lease_rows.release(session, self.name)
            lease_rows.done_asking(session, self.name)
