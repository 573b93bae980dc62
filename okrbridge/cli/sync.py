"""`okrbridge sync`: pull KR and KPI values from Jira into snapshots."""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import click

from okrbridge.cli.base import Context, cli, emit_json, pass_context


class Terminated(KeyboardInterrupt):
    """SIGTERM (systemd, docker stop) received during a sync: it ends the sync as Ctrl-C does."""


@contextmanager
def _sigterm_interrupts() -> Iterator[None]:
    """While the block runs, SIGTERM raises `Terminated` in the main thread, as Ctrl-C raises
    KeyboardInterrupt, so the sync marks its run failed before the process ends."""
    if threading.current_thread() is not threading.main_thread():
        yield  # signal handlers can only be set from the main thread
        return

    def terminate(signum: int, _frame: object) -> None:
        """Turn the signal into the interrupt the sync already handles."""
        raise Terminated(f"terminated by {signal.Signals(signum).name}")

    previous = signal.signal(signal.SIGTERM, terminate)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextmanager
def _progress(enabled: bool) -> Iterator[Callable[[int, int], None] | None]:
    """A progress bar on stderr while questions are answered, when stderr is a terminal."""
    if not enabled or not sys.stderr.isatty():
        yield None
        return
    state: dict[str, int] = {"shown": 0}
    with click.progressbar(length=1, label="asking Jira", file=sys.stderr) as bar:
        def advance(done: int, total: int) -> None:
            bar.length = total
            bar.update(done - state["shown"])
            state["shown"] = done
        yield advance


@cli.command()
@click.option("--dry-run", is_flag=True, help="List the planned queries; contact nothing, write nothing.")
@click.option("--only", multiple=True, help="Sync only these KR/KPI ids (repeatable).")
@click.option("--full", is_flag=True,
              help="Ask Jira everything again, even what its change probes say is unchanged.")
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
@pass_context
def sync(obj: Context, dry_run: bool, only: tuple[str, ...], full: bool, as_json: bool) -> None:
    """Pull KR and KPI values from Jira and store them as snapshots. Exits 1 when any KR failed."""
    from connectors.jira import JiraError
    from okrbridge.sync import SyncAborted
    from okrbridge.workspace import dry_run as plan_only
    from okrbridge.workspace import jira_connection, sync_summary
    from okrbridge.workspace import sync as sync_workspace

    # the sync machinery (connectors, HTTP, the store) loads only when `sync` runs
    subset = frozenset(only) if only else None
    if dry_run:
        report = plan_only(obj.settings, subset)  # reads okrs.toml only: no Jira, no database
    else:
        with obj.workspace("record") as ws:
            try:
                jira = jira_connection(ws.settings)
            except ValueError as exc:
                raise click.ClickException(str(exc)) from exc
            with jira, _sigterm_interrupts(), _progress(not as_json) as progress:
                try:
                    report = sync_workspace(ws, jira, progress=progress, only=subset, full=full)
                except SyncAborted as exc:
                    raise click.ClickException(str(exc)) from exc
                except JiraError as exc:
                    raise click.ClickException(f"sync aborted: {exc}") from exc
    if as_json:
        emit_json(report.to_dict())
    else:
        click.echo(sync_summary(report))
    if report.failed:
        sys.exit(1)
