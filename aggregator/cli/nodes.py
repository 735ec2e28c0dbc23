"""`aggregator nodes`: the cluster as the database sees it (live nodes, their leases)."""

from __future__ import annotations

from datetime import datetime

import click

from aggregator.cli.context import database_of, settings_of
from aggregator.cli.status import ago
from aggregator.leases import Lease, live_nodes
from aggregator.views import NodeView


@click.command()
@click.pass_context
def nodes(ctx: click.Context) -> None:
    """Nodes (live, idle: no sources, or silent), last heartbeat, hosts held until when."""
    from aggregator.db import leases

    settings = settings_of(ctx)
    with database_of(ctx).session() as session:
        now = leases.db_now(session)
        rows, held = leases.nodes(session), leases.leases(session)
    click.echo(render(rows, held, now, settings.node.lease_ttl))


def render(rows: list[NodeView], held: list[Lease], now: datetime, ttl: float) -> str:
    heard = set(live_nodes({n.name: (n.heartbeat_at, 1) for n in rows}, now, ttl))
    header = (f"{'node':<24} {'state':<6} {'heartbeat':<10} {'pid':>7}  {'http':<21} "
              "hosts held (lease ends)")
    lines = [header, "-" * len(header)]
    for node in rows:
        mine = sorted((lease for lease in held if lease.held_by(node.name, now)),
                      key=lambda lease: lease.host)
        hosts = ", ".join(f"{lease.host} ({ago(lease.expires_at, now)})" for lease in mine)
        state = "silent" if node.name not in heard else "live" if node.hosts else "idle"
        lines.append(f"{node.name:<24} {state:<6} "
                     f"{ago(node.heartbeat_at, now):<10} {node.pid:>7}  {node.http or '-':<21} "
                     f"{hosts or '-'}")
    free = sorted(lease.host for lease in held
                  if not any(lease.held_by(n.name, now) for n in rows))
    lines.append(f"hosts without a live lease: {', '.join(free) if free else 'none'}")
    return "\n".join(lines)
