"""`okrbridge sync`: pull KR and KPI values from Jira into snapshots."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import click

from connectors.jira import JiraError
from okrbridge.cli.base import Context, cli, emit_json, pass_context
from okrbridge.sync import SyncReport
from okrbridge.sync import dry_run as plan_only
from okrbridge.workspace import jira_connection
from okrbridge.workspace import sync as sync_workspace


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


def _skipped_lines(report: SyncReport) -> list[str]:
    """What was not synced, grouped by reason (manual KRs are many and expected: one line)."""
    by_reason: dict[str, list[str]] = {}
    for subject, reason in report.skipped.items():
        by_reason.setdefault(reason, []).append(subject)
    return [f"  not synced ({reason}): {', '.join(sorted(subjects))}"
            for reason, subjects in sorted(by_reason.items())]


def summary_text(report: SyncReport) -> str:
    """The human summary of a sync (or of a dry run's plan)."""
    if report.dry_run:
        lines = [f"dry run: {report.questions} distinct question(s) would be asked; nothing was touched"]
        lines += [f"  {q}" for q in report.planned]
        return "\n".join([*lines, *_skipped_lines(report)])
    lines = [f"sync run {report.run_id} on Jira {report.deployment}: {report.status} in "
             f"{report.duration_seconds:.1f}s — {len(report.synced)} synced, {len(report.failed)} failed "
             f"({len(report.stale)} keep an older value, marked stale), {report.questions} questions, "
             f"{report.requests} requests, {report.retries} retries",
             f"initiatives: {report.initiatives} epic links; remote links written {report.links_written}, "
             f"removed {report.links_removed}"]
    lines += [f"  failed {subject}: {reason}" for subject, reason in sorted(report.failed.items())]
    lines += _skipped_lines(report)
    lines += [f"  remote link {where}: {reason}" for where, reason in sorted(report.link_errors.items())]
    return "\n".join(lines)


@cli.command()
@click.option("--dry-run", is_flag=True, help="List the planned queries; contact nothing, write nothing.")
@click.option("--only", multiple=True, help="Sync only these KR/KPI ids (repeatable).")
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
@pass_context
def sync(obj: Context, dry_run: bool, only: tuple[str, ...], as_json: bool) -> None:
    """Pull KR and KPI values from Jira and store them as snapshots. Exits 1 when any KR failed."""
    subset = frozenset(only) if only else None
    with obj.workspace() as ws:
        if dry_run:
            report = plan_only(ws.catalog, subset)
        else:
            try:
                jira = jira_connection(ws.settings)
            except ValueError as exc:
                raise click.ClickException(str(exc)) from exc
            with jira, _progress(not as_json) as progress:
                try:
                    report = sync_workspace(ws, jira, progress=progress, only=subset)
                except JiraError as exc:
                    raise click.ClickException(f"sync aborted: {exc}") from exc
    if as_json:
        emit_json(report.to_dict())
    else:
        click.echo(summary_text(report))
    if report.failed:
        sys.exit(1)
