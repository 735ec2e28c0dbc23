"""`aggregator db upgrade | check`: the schema, and orphans left by a crash."""

from __future__ import annotations

import sys

import click

from aggregator.cli.context import database_of, settings_of


@click.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
@click.pass_context
def db_upgrade(ctx: click.Context) -> None:
    """Create or upgrade the schema to the current revision."""
    from aggregator.db.engine import redact
    from aggregator.db.migrate import upgrade

    url = settings_of(ctx).effective_database_url
    upgrade(url)
    click.echo(f"database at head: {redact(url)}")


@db.command("check")
@click.option("--fix", is_flag=True, help="Repair what is found (delete, truncate, requeue).")
@click.pass_context
def db_check(ctx: click.Context, fix: bool) -> None:
    """Find orphans after a crash: WARC bytes and screenshot files without rows, rows without
    files, entries marked stored without their article; exit 1 if any is left unfixed."""
    from aggregator.db.check import check

    with database_of(ctx).session() as session:
        findings = check(session, settings_of(ctx).data_dir, fix)
    for finding in findings:
        click.echo(str(finding))
    left = [f for f in findings if not f.fixed]
    click.echo(f"{len(findings)} problems found, {len(findings) - len(left)} fixed")
    if left:
        sys.exit(1)
