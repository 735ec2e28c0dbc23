"""`aggregator run | crawl | backfill`: the daemon, and crawls run once from the command line."""

from __future__ import annotations

import sys
from datetime import datetime, timezone

import click

from aggregator.cli.context import database_of, named_sources, parse_since, settings_of
from aggregator.sources import load_sources
from aggregator.terminal import one_line


@click.command()
@click.pass_context
def run(ctx: click.Context) -> None:
    """Run the daemon: crawl every enabled source on its schedule until stopped."""
    from aggregator import daemon

    sys.exit(daemon.run(settings_of(ctx)))


@click.command()
@click.argument("names", nargs=-1)
@click.option("--all", "crawl_all", is_flag=True, help="Crawl every enabled source.")
@click.pass_context
def crawl(ctx: click.Context, names: tuple[str, ...], crawl_all: bool) -> None:
    """Crawl the named sources once, print a summary and exit (1 if a feed failed)."""
    settings = settings_of(ctx)
    if crawl_all:
        chosen = [s for s in load_sources(settings.sources_dir).sources if s.enabled]
    elif not names:
        raise click.UsageError("name at least one source, or use --all")
    else:
        chosen = named_sources(ctx, names)
    from spiders.runner import crawl_once

    started = datetime.now(timezone.utc)
    summaries = crawl_once(settings, chosen)
    _print_summaries(summaries, (datetime.now(timezone.utc) - started).total_seconds())


def _print_summaries(summaries, seconds: float) -> None:
    """The crawl table; exits 1 if a source's feed (or sitemap, or listing) failed."""
    click.echo(f"{'source':<24} {'fetched':>7} {'new':>5} {'unchanged':>9} {'failed':>6}")
    for s in summaries:
        click.echo(f"{s.source:<24} {s.fetched:>7} {s.new:>5} {s.unchanged:>9} {s.failed:>6}")
        for error in s.errors:
            click.echo(f"  error: {one_line(error)}")
    total_new = sum(s.new for s in summaries)
    click.echo(f"{len(summaries)} sources, {total_new} new articles in {seconds:.1f}s")
    if any(s.errors for s in summaries):
        sys.exit(1)


@click.command()
@click.argument("name")
@click.option("--since", callback=parse_since, required=True, metavar="DATE",
              help="Oldest publication date wanted (ISO-8601; UTC if no zone).")
@click.option("--until", callback=parse_since, metavar="DATE",
              help="Only entries published before this date.")
@click.option("--limit", type=click.IntRange(min=1), default=None,
              help="Sitemap or listing pages walked in this run; the rest stay planned.")
@click.pass_context
def backfill(ctx: click.Context, name: str, since: datetime, until: datetime | None,
             limit: int | None) -> None:
    """Walk a sitemap or listing source back in time; resumable, nothing fetched twice."""
    from aggregator.db.discovery import planned
    from spiders.run import Backfill
    from spiders.runner import crawl_once

    (source,) = named_sources(ctx, [name])
    if source.kind == "feed":
        raise click.UsageError(f"{name} is a feed: feeds keep no archive to walk back through")
    started = datetime.now(timezone.utc)
    summaries = crawl_once(settings_of(ctx), [source], Backfill(since, until, limit))
    with database_of(ctx).session() as session:
        left = planned(session, source.name)
    click.echo(f"{left} pages still planned: run the same command again to resume"
               if left else "backfill complete")
    _print_summaries(summaries, (datetime.now(timezone.utc) - started).total_seconds())
