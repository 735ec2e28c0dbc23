"""What every command needs: the settings, and a database at the current schema revision."""

from __future__ import annotations

from datetime import datetime, timezone

import click

from aggregator.settings import Settings
from aggregator.terminal import one_line


def settings_of(ctx: click.Context) -> Settings:
    return ctx.find_root().obj["settings"]


def parse_since(_ctx, _param, value: str | None) -> datetime | None:
    """A click callback: an ISO-8601 date or timestamp, UTC when it names no zone."""
    if value is None:
        return None
    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise click.BadParameter(f"{value!r} is not an ISO-8601 date or timestamp") from exc
    return when if when.tzinfo else when.replace(tzinfo=timezone.utc)


def database_of(ctx: click.Context):
    from aggregator.db.engine import Database
    from aggregator.db.migrate import require_current

    db = Database(settings_of(ctx).effective_database_url)
    require_current(db.engine)
    return db


def named_sources(ctx: click.Context, names) -> list:
    """The valid sources of those names; a usage error (with the files' problems) if any is not."""
    from aggregator.sources import load_sources

    loaded = load_sources(settings_of(ctx).sources_dir)
    unknown = [n for n in names if loaded.by_name(n) is None]
    if unknown:
        for problem in loaded.problems:
            click.echo(f"invalid: {one_line(problem)}", err=True)
        raise click.UsageError(f"no valid source named {', '.join(unknown)}")
    return [loaded.by_name(n) for n in names]
