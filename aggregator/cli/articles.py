"""`aggregator articles list | show` and `aggregator export`: reading what is stored."""

from __future__ import annotations

import sys
from datetime import datetime

import click

from aggregator.cli.context import database_of, parse_since, settings_of
from aggregator.cli.screenshots import describe_shot
from aggregator.cli.translations import describe_translation
from aggregator.terminal import block, one_line


@click.group()
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
            language = a.language or "--"
            click.echo(one_line(f"{a.id:>6} {a.source:<16} {language} {when:<16} "
                                f"{a.title or a.url}"))


@articles.command("show")
@click.argument("article_id", type=int)
@click.option("--raw", is_flag=True, help="Print the archived HTTP response (WARC) instead.")
@click.option("--history", is_flag=True, help="Print every revision as a diff of the one before.")
@click.option("--cite", "cite_language", metavar="LANG", default=None,
              help="Print the citation block in this language (see citation.yaml).")
@click.option("--translation", "translation_language", metavar="LANG", default=None,
              help="Print the newest translation into LANG, under its citation block.")
@click.option("--format", "cite_format", type=click.Choice(["text", "markdown", "html"]),
              default="text", show_default=True, help="Format of the citation block.")
@click.pass_context
def articles_show(ctx: click.Context, article_id: int, raw: bool, history: bool,
                  cite_language: str | None, translation_language: str | None,
                  cite_format: str) -> None:
    """Show one article with its story, provenance, revisions and translations."""
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
    if cite_language or translation_language:
        _print_cited(ctx, a, cite_language or translation_language, translation_language,
                     cite_format)
        return
    for label, value in (
        ("title", a.title), ("source", f"{a.source} ({a.source_title})"), ("url", a.url),
        ("canonical", a.canonical_url), ("guid", a.guid), ("published", a.published_at),
        ("updated", a.updated_at), ("fetched", a.fetched_at), ("language", a.language),
        ("authors", ", ".join(a.authors)), ("categories", ", ".join(a.categories)),
        ("image", a.image_url), ("content hash", a.content_hash),
    ):
        click.echo(f"{label + ':':<14}{one_line(value) if value not in (None, '') else '-'}")
    st = a.story
    click.echo(f"{'story:':<14}{st.story_id} ({'primary' if st.is_primary else st.match})")
    click.echo(f"{'revisions:':<14}{st.revisions}")
    click.echo(f"{'warc:':<14}" + one_line(f"{st.warc.file}@{st.warc.offset}+{st.warc.length}"
                                            if st.warc else st.warc_error or "-"))
    for label, copies in (("duplicate", st.duplicates), ("alternate", st.alternates)):
        for c in copies:
            click.echo(one_line(f"  {label:<16}{c.url}  ({c.source}, {c.language or '--'}, "
                                f"#{c.id})"))
    click.echo("provenance:")
    for link in a.provenance:
        label = f"  ({link.label})" if link.label else ""
        click.echo(one_line(f"  {link.kind:<16}{link.url or '-'}{label}"))
    shot = describe_shot(a.screenshot, settings_of(ctx).data_dir)
    click.echo(f"{'screenshot:':<14}{one_line(shot)}")
    click.echo("translations:" + ("" if a.translations else " -"))
    for t in a.translations:
        click.echo(f"  {one_line(describe_translation(t))}")
    click.echo("")
    click.echo(block(a.text))


def _print_cited(ctx: click.Context, a, language: str, translated: str | None,
                 fmt: str) -> None:
    """The citation block in `language`; with a translation, the translated title and text
    under it (without templates for the language, the translation alone, with a warning)."""
    from aggregator.citation import citer, load_citation_config
    from aggregator.sources import load_sources

    settings = settings_of(ctx)
    config = load_citation_config(settings.config_dir)
    done = [t for t in a.translations if t.language == translated and t.status == "done"]
    if translated and not done:
        raise click.ClickException(f"article {a.id} has no finished translation into {translated}")
    if config is not None and language in config.languages:
        cited = citer(config, load_sources(settings.sources_dir).sources)(a)[language]
        click.echo(block(getattr(cited, fmt)))
    else:
        known = ", ".join(config.languages) if config else "none: citation.yaml is missing"
        message = f"no citation templates for {language!r} (configured: {known})"
        if not done:
            raise click.ClickException(message)
        click.echo(f"warning: {message}", err=True)
    if done:
        click.echo(block(f"\n{done[-1].title or ''}\n\n{done[-1].text}"))


def _print_raw(ctx: click.Context, a) -> None:
    """The archived bytes as they are when piped; on a terminal, as text without controls."""
    from aggregator import archive

    if a.story.warc is None:
        raise click.ClickException(one_line(
            f"article {a.id} has no archived response"
            + (f": {a.story.warc_error}" if a.story.warc_error else "")))
    data = archive.read(settings_of(ctx).data_dir / "warc", a.story.warc)
    if sys.stdout.isatty():
        click.echo(block(data.decode("utf-8", errors="replace")))
        return
    sys.stdout.buffer.write(data)
    sys.stdout.buffer.flush()


def _print_history(rows) -> None:
    from aggregator.provenance import revision_diff

    previous = ""
    for r in rows:
        click.echo(one_line(f"revision {r.number} fetched {r.fetched_at:%Y-%m-%d %H:%M:%S}Z: "
                            f"{r.title or ''}"))
        current = f"{r.title or ''}\n\n{r.text}\n"
        click.echo(block(revision_diff(previous, current, f"revision {r.number - 1}",
                                       f"revision {r.number}")))
        previous = current


@click.command()
@click.option("--format", "fmt", type=click.Choice(["jsonl"]), default="jsonl", show_default=True)
@click.option("--since", callback=parse_since, metavar="TIMESTAMP",
              help="Only articles first stored at or after this ISO-8601 time (UTC if no zone).")
@click.option("--source", default=None, help="Only this source.")
@click.pass_context
def export(ctx: click.Context, fmt: str, since: datetime | None, source: str | None) -> None:
    """Write articles to stdout, one JSON object per line (see docs/export.md)."""
    from aggregator.citation import citer, load_citation_config
    from aggregator.db.queries import iter_articles
    from aggregator.export import write_jsonl
    from aggregator.sources import load_sources

    settings = settings_of(ctx)
    cite = citer(load_citation_config(settings.config_dir),
                 load_sources(settings.sources_dir).sources)
    database = database_of(ctx)
    with database.session() as session:
        count = write_jsonl(iter_articles(session, since=since, source=source), sys.stdout, cite)
    click.echo(f"exported {count} articles", err=True)
