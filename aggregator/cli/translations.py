"""`aggregator translations ...`: the translation queue from the command line."""

from __future__ import annotations

from datetime import datetime, timezone

import click

from aggregator.cli.context import database_of, settings_of
from aggregator.cli.status import translation_line
from aggregator.terminal import one_line
from aggregator.views import TranslationView
from aggregator.vocabulary import TranslationStatus


def describe_translation(t: TranslationView) -> str:
    """One line: what the job is and where it stands."""
    head = f"{t.language:<3} revision {t.revision:<3} {t.status:<8}"
    if t.status == "done":
        engine = " ".join(x for x in (t.engine_name, t.engine_version) if x)
        old = "" if t.current else ", an earlier revision"
        return f"{head}{engine} {t.translated_at:%Y-%m-%d %H:%M:%S}Z{old}: {t.title or ''}"
    return f"{head}after {t.attempts} attempt(s)" + (f": {t.error}" if t.error else "")


@click.group()
def translations() -> None:
    """Machine translations of stored articles (docs/configuration.md, "Translation")."""


@translations.command("run")
@click.option("--once", is_flag=True, help="Translate what is due now, then exit.")
@click.pass_context
def translations_run(ctx: click.Context, once: bool) -> None:
    """Work through the translation queue until stopped (SIGINT/SIGTERM), or once."""
    import signal
    import threading

    from aggregator.translation.worker import TranslationWorker

    settings = settings_of(ctx)
    if not settings.translation.enabled:
        raise click.UsageError("translation is off: set translation.targets (and the engine) "
                               "in aggregator.yaml")
    worker = TranslationWorker(settings, database_of(ctx))
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    outcomes = worker.run(stop, once=once)
    click.echo(f"translations: {outcomes['done']} done, {outcomes['failed']} failed, "
               f"{outcomes['retry']} to retry later, {outcomes['waiting']} waiting for the engine")
    if worker.waiting_until is not None and outcomes["waiting"]:
        click.echo(f"the engine is unavailable; jobs wait until {worker.waiting_until:%H:%M:%S}Z "
                   "(see `aggregator translations list`)")


@translations.command("retry")
@click.option("--article", "article_id", type=int, default=None, help="Only this article.")
@click.pass_context
def translations_retry(ctx: click.Context, article_id: int | None) -> None:
    """Queue failed translations again, with a fresh set of attempts."""
    from aggregator.db.translations import requeue_failed

    with database_of(ctx).session() as session:
        count = requeue_failed(session, datetime.now(timezone.utc), article_id)
    click.echo(f"{count} failed translations queued again")


@translations.command("list")
@click.option("--status", type=click.Choice([s.value for s in TranslationStatus]), default=None)
@click.option("--limit", default=20, show_default=True, help="How many, newest first.")
@click.pass_context
def translations_list(ctx: click.Context, status: str | None, limit: int) -> None:
    """List translation jobs, newest first, with a count per status."""
    from aggregator.db.translations import listing, summary

    with database_of(ctx).session() as session:
        rows, counts = listing(session, status, limit), summary(session)
    for t in rows:
        click.echo(one_line(f"{t.id:>6} article {t.article_id:<6} {describe_translation(t)}"))
    click.echo(translation_line(counts, datetime.now(timezone.utc)))
