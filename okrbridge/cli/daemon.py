"""`okrbridge daemon`: the scheduled jobs (sync, publish, stale check, compaction) under one leader."""

from __future__ import annotations

import sys

import click

from okrbridge.cli.base import Context, cli, pass_context


@cli.command()
@click.option("--once", is_flag=True,
              help="Run each job once (if this daemon gets the lease), then exit: 0 ok, 1 a job failed, "
                   "2 another daemon leads.")
@pass_context
def daemon(obj: Context, once: bool) -> None:
    """Sync, publish, check for stale KRs and compact on the [scheduler] timetable; logs to stderr.

    Several daemons may share one database: the one holding the leader lease runs the jobs, the
    others stand by and take over when it stops renewing. SIGTERM/SIGINT finish the running job
    and exit 0.
    """
    # the scheduler, the store and the connectors load here, not when any other command starts
    from sqlalchemy.exc import SQLAlchemyError

    from okrbridge.catalog import CatalogError, load_catalog
    from okrbridge.scheduler import Daemon, configure_logging
    from okrbridge.store import Store
    from okrbridge.workspace import Workspace, jira_connection

    settings = obj.settings
    try:
        loaded = load_catalog(settings.okrs)
    except CatalogError as exc:
        raise click.ClickException(f"the OKR file has errors:\n{exc}") from exc
    try:
        jira = jira_connection(settings)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc
    configure_logging()
    store = Store(settings.database_url)
    try:
        # The catalog is recorded by the leader's first job, not here: a standby writes nothing.
        store.migrate()
    except SQLAlchemyError as exc:
        store.close()
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        raise click.ClickException(f"cannot open the database {store!r}: {reason}") from exc
    ws = Workspace(settings, loaded, store, "record")  # the daemon records: CatalogKeeper, then its jobs
    with jira:
        try:
            try:
                runner = Daemon(ws, jira)
            except ValueError as exc:  # a crontab expression APScheduler refuses, named by its setting
                raise click.ClickException(str(exc)) from exc
            code = runner.run_once() if once else runner.run_forever()
        finally:
            ws.close()
    sys.exit(code)
