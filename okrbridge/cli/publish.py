"""`okrbridge publish`: publish the Confluence status pages, writing only what changed."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import click

from okrbridge.cli.base import Context, cli, emit_json, pass_context
from okrbridge.safe_text import printable

if TYPE_CHECKING:  # publishing (connectors, templates, the store) loads only when `publish` runs
    from okrbridge.publish import PublishReport


@contextmanager
def _progress(enabled: bool) -> Iterator[Callable[[int, int], None] | None]:
    """A progress bar on stderr while pages are written, when stderr is a terminal."""
    if not enabled or not sys.stderr.isatty():
        yield None
        return
    state = {"shown": 0}
    with click.progressbar(length=1, label="publishing", file=sys.stderr) as bar:
        def advance(done: int, total: int) -> None:
            bar.length = total
            bar.update(done - state["shown"])
            state["shown"] = done
        yield advance


def report_text(report: PublishReport, *, diffs: bool) -> str:
    """One line per page (outcome, title, page id, reason), a summary, and the diffs of a dry run."""
    width = max((len(p.outcome) for p in report.pages), default=7)
    lines = [f"{'would be ' if report.dry_run else ''}{page.outcome:<{width}}  {page.title}"
             f"{f' (page {page.page_id})' if page.page_id else ''}: {page.reason}" for page in report.pages]
    counts = ", ".join(f"{n} {outcome}" for outcome, n in sorted(report.counts().items())) or "no pages"
    lines.append(f"{'dry run, nothing written: ' if report.dry_run else ''}{counts}")
    lines = [printable(line) for line in lines]  # titles and Confluence's reasons: one line each
    if diffs:  # a diff spans lines by design; each of its lines is escaped
        lines += ["\n".join(printable(d) for d in page.diff.rstrip("\n").split("\n"))
                  for page in report.pages if page.diff]
    return "\n".join(lines)


@cli.command()
@click.option("--dry-run", is_flag=True,
              help="Read Confluence and show what would change (with diffs); write nothing.")
@click.option("--force", is_flag=True, help="Overwrite pages someone else edited since okrbridge wrote them.")
@click.option("--period", default=None, help="Publish one period's pages only (2026, 2026-Q4, 2026-05).")
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
@pass_context
def publish(obj: Context, dry_run: bool, force: bool, period: str | None, as_json: bool) -> None:
    """Publish the Confluence status pages; unchanged pages are not written. Exits 1 when a page failed."""
    from connectors.confluence import ConfluenceError
    from okrbridge.publish_plan import PlanError
    from okrbridge.workspace import confluence_connection
    from okrbridge.workspace import publish as publish_workspace

    with obj.workspace("record") as ws:  # publishing keeps its publish records in the store
        if period is not None:
            period = ws.loaded.calendar.parse(period).label  # CycleError names a bad one
        try:
            confluence = confluence_connection(ws.settings)
        except ValueError as exc:
            raise click.ClickException(str(exc)) from exc
        with confluence, _progress(not as_json and not dry_run) as progress:
            try:
                report = publish_workspace(ws, confluence, dry_run=dry_run, force=force, period=period,
                                           progress=progress)
            except (ConfluenceError, PlanError) as exc:
                raise click.ClickException(f"publish aborted: {exc}") from exc
    if as_json:
        emit_json(report.to_dict())
    else:
        click.echo(report_text(report, diffs=dry_run))
    if report.failed:
        sys.exit(1)
