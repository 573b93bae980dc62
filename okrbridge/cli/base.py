"""The `okrbridge` command group and what its commands share: config, workspace, output, errors."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from okrbridge.catalog import CatalogError
from okrbridge.config import ConfigError, Settings, load_settings
from okrbridge.cycles import CycleError
from okrbridge.store import StoreError, UnknownSubject
from okrbridge.workspace import Mode, Workspace, open_workspace


def emit_json(data: Any) -> None:
    """Print data as indented JSON (dates as ISO-8601)."""
    click.echo(json.dumps(data, indent=2, default=str, ensure_ascii=False))


def parse_moment(value: str | None, name: str) -> datetime | None:
    """A `--at` value: an ISO date or date-time, taken as UTC when it has no offset."""
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError as exc:
        raise click.BadParameter(f"{value!r} is not a date (2026-05-31) or date-time",
                                 param_hint=name) from exc
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


@contextmanager
def okr_file_errors() -> Iterator[None]:
    """Turn the errors of an OKR file that does not load into one clear CLI message."""
    try:
        yield
    except CatalogError as exc:
        raise click.ClickException(f"the OKR file has errors:\n{exc}") from exc


class Context:
    """What every command shares: where the config comes from, loaded lazily."""

    def __init__(self, config: Path | None) -> None:
        self.config = config
        self._settings: Settings | None = None

    @property
    def settings(self) -> Settings:
        """The validated settings; a ConfigError becomes a clear CLI error naming the file and key."""
        if self._settings is None:
            try:
                self._settings = load_settings(self.config, os.environ)
            except ConfigError as exc:
                raise click.ClickException(str(exc)) from exc
        return self._settings

    @contextmanager
    def workspace(self, mode: Mode) -> Iterator[Workspace]:
        """Open the workspace for `mode` ("read" writes nothing), turning the errors a user can fix
        into messages, not tracebacks."""
        try:
            with okr_file_errors():
                ws = open_workspace(self.settings, mode=mode)
        except StoreError as exc:
            raise click.ClickException(str(exc)) from exc
        try:
            yield ws
        except (UnknownSubject, CycleError, StoreError, ValueError) as exc:
            raise click.ClickException(str(exc)) from exc
        finally:
            ws.close()


pass_context = click.make_pass_decorator(Context)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--config", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Config file (default: $OKRBRIDGE_CONFIG, else ./okrbridge.toml, else embedded defaults).")
@click.version_option(package_name="okrbridge")
@click.pass_context
def cli(ctx: click.Context, config: Path | None) -> None:
    """okrbridge: OKRs and KPIs as code, kept current from Jira, graded and published to Confluence."""
    ctx.obj = Context(config)
