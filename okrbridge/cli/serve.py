"""`okrbridge serve`: the web app (Forge Remote panel endpoint, dashboard, KR pages, API) under waitress.

One process answers on `web.threads` threads. To serve more, start several processes (behind a
load balancer, on other ports or hosts): they share nothing but the database, so any of them can
answer any request.
"""

from __future__ import annotations

import os

import click

from okrbridge.cli.base import Context, cli, pass_context

HOST_ENV = "OKRBRIDGE_WEB_HOST"
PORT_ENV = "OKRBRIDGE_WEB_PORT"


def listen_address(settings_host: str, settings_port: int, host: str | None, port: int | None,
                   env: dict[str, str]) -> tuple[str, int]:
    """Where to listen: the option, else the environment variable, else `[web]` in the config."""
    chosen_host = host or env.get(HOST_ENV, "").strip() or settings_host
    if port is not None:
        return chosen_host, port
    named = env.get(PORT_ENV, "").strip()
    if not named:
        return chosen_host, settings_port
    if not named.isdigit() or not 1 <= int(named) <= 65535:
        raise click.ClickException(f"${PORT_ENV} must be a port number (1-65535), not {named!r}")
    return chosen_host, int(named)


@cli.command()
@click.option("--host", default=None, help=f"Address to listen on (default: ${HOST_ENV}, else web.host).")
@click.option("--port", type=click.IntRange(1, 65535), default=None,
              help=f"Port (default: ${PORT_ENV}, else web.port).")
@click.option("--threads", type=click.IntRange(1, 256), default=None,
              help="Worker threads (default: web.threads).")
@pass_context
def serve(ctx: Context, host: str | None, port: int | None, threads: int | None) -> None:
    """Serve the web app: Forge issue panel endpoint, dashboard, KR pages and JSON API."""
    import waitress  # only this command needs the server

    from okrbridge.web import create_app, web_context

    settings = ctx.settings
    address = listen_address(settings.web.host, settings.web.port, host, port, dict(os.environ))
    app = create_app(settings)  # an OKR file with errors is reported by the command group
    click.echo(f"okrbridge web app on http://{address[0]}:{address[1]} "
               f"(auth: {settings.web.auth}; Ctrl-C to stop)", err=True)
    try:
        waitress.serve(app, host=address[0], port=address[1], threads=threads or settings.web.threads,
                       ident="okrbridge")
    finally:
        web_context(app).close()
