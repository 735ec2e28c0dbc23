"""`aggregator sources check | list | test`: the source files, and a dry run of one source."""

from __future__ import annotations

import sys

import click

from aggregator.cli.context import named_sources, settings_of
from aggregator.sources import load_sources
from aggregator.terminal import one_line


@click.group()
def sources() -> None:
    """Inspect the source files."""


@sources.command("test")
@click.argument("name")
@click.option("--url", default=None, help="Extract this article page instead of the source's.")
@click.option("--limit", default=3, show_default=True, help="Article pages fetched at most.")
@click.pass_context
def sources_test(ctx: click.Context, name: str, url: str | None, limit: int) -> None:
    """Dry run: fetch live, parse and extract as a crawl would, print it, store nothing."""
    from aggregator.cli.dryrun import dry_run, render
    from aggregator.cli.fetcher import Fetcher
    from aggregator.errors import FeedError

    (source,) = named_sources(ctx, [name])
    try:
        trial = dry_run(source, Fetcher(source, settings_of(ctx)), url, limit)
    except FeedError as exc:
        raise click.ClickException(one_line(f"{source.name}: {exc}")) from exc
    click.echo(render(source, trial))
    if not any(page.draft for page in trial.pages):
        sys.exit(1)


@sources.command("check")
@click.pass_context
def sources_check(ctx: click.Context) -> None:
    """Validate every source file; print one line per problem and exit 1 if any."""
    loaded = load_sources(settings_of(ctx).sources_dir)
    for problem in loaded.problems:
        click.echo(one_line(problem), err=True)
    bad_files = len({p.file for p in loaded.problems})
    click.echo(f"{len(loaded.sources)} sources valid, {bad_files} files invalid")
    if loaded.problems:
        sys.exit(1)


@sources.command("list")
@click.pass_context
def sources_list(ctx: click.Context) -> None:
    """List the configured sources."""
    loaded = load_sources(settings_of(ctx).sources_dir)
    for s in loaded.sources:
        every = s.schedule.cron or f"every {s.schedule.every}"
        state = "enabled" if s.enabled else "disabled"
        click.echo(one_line(f"{s.name:<20} {s.language} {s.kind:<5} {state:<8} {every:<20} "
                            f"{s.url}"))
    for problem in loaded.problems:
        click.echo(f"invalid: {one_line(problem)}", err=True)
