"""`aggregator screenshots ...`: the capture queue from the command line (docs/screenshots.md)."""

from __future__ import annotations

from datetime import datetime, timezone

import click

from aggregator.cli.context import database_of, settings_of
from aggregator.sources import load_sources
from aggregator.terminal import one_line
from aggregator.vocabulary import CaptureOutcome


def describe_shot(shot, data_dir) -> str:
    """One line: where the capture is and what it shows, or why there is none (yet)."""
    if shot is None:
        return "-"
    if shot.capture is None:
        why = f": {shot.error}" if shot.error else ""
        return f"{shot.outcome} after {shot.attempts} attempt(s){why}"
    c = shot.capture
    busy = "" if c.settled else ", page still loading"
    return (f"{data_dir / c.path} {c.width}x{c.height} {c.format} sha256 {c.sha256} "
            f"(HTTP {c.http_status}, {c.browser} {c.browser_version}, "
            f"{c.captured_at:%Y-%m-%d %H:%M:%S}Z{busy})")


@click.group()
def screenshots() -> None:
    """Screenshots of the articles' original pages (docs/screenshots.md)."""


@screenshots.command("run")
@click.option("--once", is_flag=True, help="Capture what is due now, then exit.")
@click.pass_context
def screenshots_run(ctx: click.Context, once: bool) -> None:
    """Work through the capture queue until stopped (SIGINT/SIGTERM), or once with --once."""
    import asyncio
    import signal

    from aggregator.capture import ScreenshotWorker

    settings = settings_of(ctx)
    sources = load_sources(settings.sources_dir).sources
    worker = ScreenshotWorker(settings, sources, database_of(ctx))

    async def main():
        stop = asyncio.Event()
        for signum in (signal.SIGINT, signal.SIGTERM):
            asyncio.get_running_loop().add_signal_handler(signum, stop.set)
        return await worker.run(stop, once=once)

    outcomes = asyncio.run(main())
    click.echo(f"screenshots: {outcomes['captured']} captured, {outcomes['failed']} failed, "
               f"{outcomes['retry']} to retry later")


@screenshots.command("retry")
@click.option("--article", "article_id", type=int, default=None, help="Only this article.")
@click.pass_context
def screenshots_retry(ctx: click.Context, article_id: int | None) -> None:
    """Queue failed captures again, with a fresh set of attempts."""
    from aggregator.db.capture_queue import requeue_failed

    with database_of(ctx).session() as session:
        count = requeue_failed(session, datetime.now(timezone.utc), article_id)
    click.echo(f"{count} failed captures queued again")


@screenshots.command("list")
@click.option("--outcome", type=click.Choice([o.value for o in CaptureOutcome]), default=None)
@click.option("--limit", default=20, show_default=True, help="How many, newest first.")
@click.pass_context
def screenshots_list(ctx: click.Context, outcome: str | None, limit: int) -> None:
    """List captures, newest first, with a count per outcome."""
    from aggregator.db.capture_queue import listing, outcome_counts

    with database_of(ctx).session() as session:
        shots, counts = listing(session, outcome, limit), outcome_counts(session)
    for shot in shots:
        detail = shot.capture.path if shot.capture else (shot.error or "")
        click.echo(one_line(f"{shot.id:>6} article {shot.article_id:<6} {shot.outcome:<9} "
                            f"{shot.attempts} {shot.requested_url}  {detail}"))
    click.echo(", ".join(f"{counts.get(k, 0)} {k}" for k in CaptureOutcome))
