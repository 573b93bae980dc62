"""`okrbridge compact`: what the daemon's nightly compaction does, on demand."""

from __future__ import annotations

from datetime import UTC, datetime

import click

from okrbridge.cli.base import Context, cli, emit_json, pass_context


@cli.command()
@click.option("--dry-run", is_flag=True, help="Count what would be removed; change nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
@pass_context
def compact(obj: Context, dry_run: bool, as_json: bool) -> None:
    """Remove what no answer depends on: readings stored twice, old sync runs nothing refers to.

    Sync runs are kept for [scheduler] keep_runs_days. Grades, history, trends and forecasts read
    the same before and after.
    """
    from okrbridge.store.compaction import compact as compact_store  # the store loads here

    with obj.workspace("read" if dry_run else "record") as ws:  # a dry run writes nothing
        report = compact_store(ws.store, now=datetime.now(UTC),
                               keep_runs_days=ws.settings.scheduler.keep_runs_days, dry_run=dry_run)
    if as_json:
        emit_json(report.to_dict())
        return
    runs = ", ".join(f"{n} {status}" for status, n in sorted(report.runs_deleted.items())) or "none"
    verb = "would remove" if dry_run else "removed"
    click.echo(f"{verb} {report.rows_removed:,} row(s): {report.readings_merged:,} reading(s) stored twice "
               f"merged, {sum(report.runs_deleted.values()):,} sync run(s) nothing refers to ({runs})")
    vacuumed = " (vacuumed)" if report.vacuumed else ""
    click.echo(f"database: {report.bytes_before:,} bytes before, {report.bytes_after:,} after{vacuumed}")
