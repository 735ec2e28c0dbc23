"""Command line: thin commands over settings, sources, storage, spiders and export."""

from __future__ import annotations

import sys
from datetime import datetime, timezone

import click

from aggregator import logs
from aggregator.errors import AggregatorError
from aggregator.cli_context import database_of, parse_since, settings_of
from aggregator.cli_screenshots import describe_shot, screenshots
from aggregator.settings import load_settings
from aggregator.sources import load_sources


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--config", "config_dir", metavar="DIR", default=None,
    help="Config directory (aggregator.yaml, sources/). Default: $AGGREGATOR_CONFIG or ./config.",
)
@click.pass_context
def cli(ctx: click.Context, config_dir: str | None) -> None:
    """Collect Ukrainian news with provenance."""
    settings = load_settings(config_dir)
    logs.configure(settings.log)
    ctx.obj = {"settings": settings}


@cli.command()
@click.pass_context
def run(ctx: click.Context) -> None:
    """Run the daemon: crawl every enabled source on its schedule until stopped."""
    from aggregator import daemon

    sys.exit(daemon.run(settings_of(ctx)))


@cli.command()
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
        chosen = _named(ctx, names)
    from spiders.runner import crawl_once

    started = datetime.now(timezone.utc)
    summaries = crawl_once(settings, chosen)
    _print_summaries(summaries, (datetime.now(timezone.utc) - started).total_seconds())


def _named(ctx: click.Context, names) -> list:
    """The valid sources of those names; a usage error (with the files' problems) if any is not."""
    loaded = load_sources(settings_of(ctx).sources_dir)
    unknown = [n for n in names if loaded.by_name(n) is None]
    if unknown:
        for problem in loaded.problems:
            click.echo(f"invalid: {problem}", err=True)
        raise click.UsageError(f"no valid source named {', '.join(unknown)}")
    return [loaded.by_name(n) for n in names]


def _print_summaries(summaries, seconds: float) -> None:
    """The crawl table; exits 1 if a source's feed (or sitemap, or listing) failed."""
    click.echo(f"{'source':<24} {'fetched':>7} {'new':>5} {'unchanged':>9} {'failed':>6}")
    for s in summaries:
        click.echo(f"{s.source:<24} {s.fetched:>7} {s.new:>5} {s.unchanged:>9} {s.failed:>6}")
        for error in s.errors:
            click.echo(f"  error: {error}")
    total_new = sum(s.new for s in summaries)
    click.echo(f"{len(summaries)} sources, {total_new} new articles in {seconds:.1f}s")
    if any(s.errors for s in summaries):
        sys.exit(1)


@cli.command()
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

    (source,) = _named(ctx, [name])
    if source.kind == "feed":
        raise click.UsageError(f"{name} is a feed: feeds keep no archive to walk back through")
    started = datetime.now(timezone.utc)
    summaries = crawl_once(settings_of(ctx), [source], Backfill(since, until, limit))
    with database_of(ctx).session() as session:
        left = planned(session, source.name)
    click.echo(f"{left} pages still planned: run the same command again to resume"
               if left else "backfill complete")
    _print_summaries(summaries, (datetime.now(timezone.utc) - started).total_seconds())


@cli.command()
@click.pass_context
def status(ctx: click.Context) -> None:
    """One line per source: state, last success, next run, new articles in 24h, last error."""
    from aggregator.db.queries import source_status
    from aggregator.status import render

    settings = settings_of(ctx)
    database = database_of(ctx)
    with database.session() as session:
        rows = source_status(session, datetime.now(timezone.utc))
    loaded = load_sources(settings.sources_dir)
    click.echo(render(rows, loaded, settings, datetime.now(timezone.utc)))


@cli.group()
def sources() -> None:
    """Inspect the source files."""


@sources.command("test")
@click.argument("name")
@click.option("--url", default=None, help="Extract this article page instead of the source's.")
@click.option("--limit", default=3, show_default=True, help="Article pages fetched at most.")
@click.pass_context
def sources_test(ctx: click.Context, name: str, url: str | None, limit: int) -> None:
    """Dry run: fetch live, parse and extract as a crawl would, print it, store nothing."""
    from aggregator.dryrun import Fetcher, dry_run, render
    from aggregator.errors import FeedError

    (source,) = _named(ctx, [name])
    try:
        trial = dry_run(source, Fetcher(source, settings_of(ctx)), url, limit)
    except FeedError as exc:
        raise click.ClickException(f"{source.name}: {exc}") from exc
    click.echo(render(source, trial))
    if not any(draft for _, draft, _ in trial.pages):
        sys.exit(1)


@sources.command("check")
@click.pass_context
def sources_check(ctx: click.Context) -> None:
    """Validate every source file; print one line per problem and exit 1 if any."""
    loaded = load_sources(settings_of(ctx).sources_dir)
    for problem in loaded.problems:
        click.echo(str(problem), err=True)
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
        click.echo(f"{s.name:<20} {s.language} {s.kind:<5} {state:<8} {every:<20} {s.url}")
    for problem in loaded.problems:
        click.echo(f"invalid: {problem}", err=True)


@cli.group()
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


@cli.group()
def articles() -> None:
    """Read stored articles."""


@articles.command("list")
@click.option("--source", default=None, help="Only this source.")
@click.option("--limit", default=20, show_default=True, help="How many, newest first.")
@click.pass_context
def articles_list(ctx: click.Context, source: str | None, limit: int) -> None:
    """List the newest stored articles."""
    from aggregator.db.queries import iter_articles

    database = database_of(ctx)
    with database.session() as session:
        for a in iter_articles(session, source=source, limit=limit, newest_first=True):
            when = a.published_at.strftime("%Y-%m-%d %H:%M") if a.published_at else "-"
            click.echo(f"{a.id:>6} {a.source:<16} {a.language or '--'} {when:<16} {a.title or a.url}")


@articles.command("show")
@click.argument("article_id", type=int)
@click.option("--raw", is_flag=True, help="Print the archived HTTP response (WARC) instead.")
@click.option("--history", is_flag=True, help="Print every revision as a diff of the one before.")
@click.pass_context
def articles_show(ctx: click.Context, article_id: int, raw: bool, history: bool) -> None:
    """Show one article with its story, provenance and revisions."""
    from aggregator.db.queries import get_article, revisions

    database = database_of(ctx)
    with database.session() as session:
        a = get_article(session, article_id)
        history_rows = revisions(session, article_id) if history else []
    if a is None:
        raise click.ClickException(f"no article {article_id}")
    if raw:
        _print_raw(ctx, a)
        return
    if history:
        _print_history(history_rows)
        return
    for label, value in (
        ("title", a.title), ("source", f"{a.source} ({a.source_title})"), ("url", a.url),
        ("canonical", a.canonical_url), ("guid", a.guid), ("published", a.published_at),
        ("updated", a.updated_at), ("fetched", a.fetched_at), ("language", a.language),
        ("authors", ", ".join(a.authors)), ("categories", ", ".join(a.categories)),
        ("image", a.image_url), ("content hash", a.content_hash),
    ):
        click.echo(f"{label + ':':<14}{value if value not in (None, '') else '-'}")
    st = a.story
    click.echo(f"{'story:':<14}{st.story_id} ({'primary' if st.is_primary else st.match})")
    click.echo(f"{'revisions:':<14}{st.revisions}")
    click.echo(f"{'warc:':<14}" + (f"{st.warc.file}@{st.warc.offset}+{st.warc.length}"
                                   if st.warc else st.warc_error or "-"))
    for label, copies in (("duplicate", st.duplicates), ("alternate", st.alternates)):
        for c in copies:
            click.echo(f"  {label:<16}{c.url}  ({c.source}, {c.language or '--'}, #{c.id})")
    click.echo("provenance:")
    for link in a.provenance:
        click.echo(f"  {link.kind:<16}{link.url or '-'}" + (f"  ({link.label})" if link.label else ""))
    click.echo(f"{'screenshot:':<14}{describe_shot(a.screenshot, settings_of(ctx).data_dir)}")
    click.echo("")
    click.echo(a.text)


def _print_raw(ctx: click.Context, a) -> None:
    from aggregator import archive

    if a.story.warc is None:
        raise click.ClickException(f"article {a.id} has no archived response"
                                   + (f": {a.story.warc_error}" if a.story.warc_error else ""))
    data = archive.read(settings_of(ctx).data_dir / "warc", a.story.warc)
    sys.stdout.buffer.write(data)
    sys.stdout.buffer.flush()


def _print_history(rows) -> None:
    from aggregator.provenance import revision_diff

    previous = ""
    for r in rows:
        click.echo(f"revision {r.number} fetched {r.fetched_at:%Y-%m-%d %H:%M:%S}Z: {r.title or ''}")
        current = f"{r.title or ''}\n\n{r.text}\n"
        click.echo(revision_diff(previous, current, f"revision {r.number - 1}",
                                 f"revision {r.number}"))
        previous = current


@cli.command()
@click.option("--format", "fmt", type=click.Choice(["jsonl"]), default="jsonl", show_default=True)
@click.option("--since", callback=parse_since, metavar="TIMESTAMP",
              help="Only articles first stored at or after this ISO-8601 time (UTC if no zone).")
@click.option("--source", default=None, help="Only this source.")
@click.pass_context
def export(ctx: click.Context, fmt: str, since: datetime | None, source: str | None) -> None:
    """Write articles to stdout, one JSON object per line (see docs/export.md)."""
    from aggregator.db.queries import iter_articles
    from aggregator.export import write_jsonl

    database = database_of(ctx)
    with database.session() as session:
        count = write_jsonl(iter_articles(session, since=since, source=source), sys.stdout)
    click.echo(f"exported {count} articles", err=True)


cli.add_command(screenshots)


def main() -> None:
    try:
        cli(standalone_mode=True)
    except AggregatorError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
