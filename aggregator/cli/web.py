"""`aggregator web`: the desk (read API, feeds, web view) under uvicorn."""

from __future__ import annotations

import click

from aggregator.cli.context import database_of, settings_of


@click.command()
@click.option("--host", default=None, help="Address to listen on (default: web.host).")
@click.option("--port", type=click.IntRange(1, 65535), default=None,
              help="Port (default: web.port).")
@click.pass_context
def web(ctx: click.Context, host: str | None, port: int | None) -> None:
    """Serve the read API, the feeds and the web view (read-only; see docs/api.md)."""
    import uvicorn

    from aggregator.db.engine import Database
    from aggregator.desk.app import create_app
    from aggregator.desk.security import check_listen

    settings = settings_of(ctx)
    host = host or settings.web.host
    port = port or settings.web.port
    check_listen(host, settings.web.token)
    database_of(ctx).dispose()  # refuses an out-of-date schema, as the daemon does
    app = create_app(settings, Database(settings.effective_database_url, read_only=True))
    click.echo(f"aggregator web: http://{host}:{port}/", err=True)
    uvicorn.run(app, host=host, port=port, log_level=settings.log.level.lower(),
                access_log=False, server_header=False)
