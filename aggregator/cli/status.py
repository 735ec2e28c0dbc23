"""The `aggregator status` table: one line per source an operator reads at a glance."""

from __future__ import annotations

from datetime import datetime, timezone

import click

from aggregator import policy, quality
from aggregator.cli.context import database_of, settings_of
from aggregator.db.engine import redact
from aggregator.leases import Lease, lease_host
from aggregator.settings import Settings
from aggregator.sources import LoadedSources, load_sources
from aggregator.terminal import one_line
from aggregator.views import SourceStatus, TranslationSummary
from aggregator.vocabulary import TranslationStatus


@click.command()
@click.pass_context
def status(ctx: click.Context) -> None:
    """One line per source: state, last success, next run, new articles in 24h, last error."""
    from aggregator.db.leases import leases
    from aggregator.db.queries import source_status
    from aggregator.db.translations import summary

    settings = settings_of(ctx)
    with database_of(ctx).session() as session:
        rows = source_status(session, datetime.now(timezone.utc))
        translations = summary(session)
        held = leases(session)
    loaded = load_sources(settings.sources_dir)
    click.echo(render(rows, loaded, settings, datetime.now(timezone.utc), held))
    if settings.translation.enabled or translations.counts:
        click.echo(translation_line(translations, datetime.now(timezone.utc)))


def translation_line(summary: TranslationSummary, now: datetime) -> str:
    """Jobs per status, and why the newest waiting or failed one is not done."""
    counts = ", ".join(f"{summary.counts.get(s, 0)} {s}" for s in TranslationStatus)
    line = f"translations: {counts}"
    if summary.last_error:
        error = one_line(redact(summary.last_error))[:200]
        line += f"; last error {ago(summary.last_error_at, now)}: {error}"
    return line


def ago(when: datetime | None, now: datetime) -> str:
    """'3m ago', 'in 2h', or '-'."""
    if when is None:
        return "-"
    seconds = (now - when).total_seconds()
    text = _span(abs(seconds))
    return f"{text} ago" if seconds >= 0 else f"in {text}"


def _span(seconds: float) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds / size:.0f}{unit}"
    return f"{seconds:.0f}s"


def holder(lease: Lease | None, now: datetime) -> str:
    """Which node crawls the source's host, and until when its lease runs unless renewed."""
    if lease is None or lease.node is None or lease.expires_at is None:
        return "-"
    if lease.expires_at <= now:
        return f"{lease.node} (ran out)"
    return f"{lease.node} (till {lease.expires_at:%H:%M:%S})"


def render(rows: list[SourceStatus], loaded: LoadedSources, settings: Settings,
           now: datetime, held: list[Lease] = ()) -> str:
    configured = {s.name: s for s in loaded.sources}
    by_host = {lease.host: lease for lease in held}

    def node(name: str) -> str:
        source = configured.get(name)
        return holder(by_host.get(lease_host(source.url)) if source else None, now)

    header = (f"{'source':<20} {'state':<9} {'last success':<13} {'next run':<10} {'new 24h':>7}"
              f"  {'fill t/d/a':<11} {'node (lease until)':<30} last error")
    lines = [header, "-" * len(header)]
    seen = set()
    for row in rows:
        seen.add(row.name)
        source = configured.get(row.name)
        state = policy.configured_state(now, row.health, source and source.schedule.base_seconds,
                                        settings.stale_factor)
        error = one_line(redact(row.last_error or ""))
        dropped = quality.layout_changed(row.recent, row.baseline)
        if dropped:
            error = f"layout changed? ({', '.join(dropped)} fill dropped) {error}".strip()
        if (share := quality.language_disagrees(row.recent)) is not None:
            declared = source.language if source else "?"
            error = f"language disagrees? ({share:.0%} not {declared}) {error}".strip()
        lines.append(
            f"{row.name:<20} {state:<9} {ago(row.health.last_success_at, now):<13} "
            f"{ago(row.health.next_run_at, now) if source else '-':<10} {row.new_24h:>7}  "
            f"{quality.fill(row.recent):<11} {node(row.name):<30} "
            f"{error[:70] + ('...' if len(error) > 70 else '')}"
        )
    for name in sorted(set(configured) - seen):
        lines.append(f"{name:<20} {'new':<9} {'-':<13} {'-':<10} {0:>7}  {'-':<11} "
                     f"{node(name):<30}")
    for problem in loaded.problems:
        lines.append(f"invalid config: {one_line(problem)}")
    return "\n".join(lines)
