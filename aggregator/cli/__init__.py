"""Command line: thin commands over settings, sources, storage, spiders and export.

One module per group of commands; this one holds the root group and wires them together.
"""

from __future__ import annotations

import sys

import click

from aggregator import logs
from aggregator.errors import AggregatorError
from aggregator.settings import load_settings
from aggregator.terminal import one_line


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


def _register() -> None:
    from aggregator.cli import (
        articles,
        crawl,
        database,
        nodes,
        screenshots,
        sources,
        status,
        translations,
        web,
    )

    for command in (crawl.run, crawl.crawl, crawl.backfill, status.status, sources.sources,
                    database.db, articles.articles, articles.export, screenshots.screenshots,
                    translations.translations, web.web, nodes.nodes):
        cli.add_command(command)


_register()


def main() -> None:
    try:
        cli(standalone_mode=True)
    except AggregatorError as exc:
        click.echo(f"error: {one_line(exc)}", err=True)
        sys.exit(2)
