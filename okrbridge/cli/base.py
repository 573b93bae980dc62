"""The `okrbridge` command group and what its commands share: config, workspace, output, errors."""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from okrbridge.cycles import InstantOutOfRange, user_instant
from okrbridge.safe_text import printable

if TYPE_CHECKING:  # imported when used: `--help` and `validate` never load the store or SQLAlchemy
    from okrbridge.config import Settings
    from okrbridge.workspace import Mode, Workspace


def json_text(data: Any) -> str:
    """`data` as indented JSON, UTF-8 as it is, anything JSON has no type for as its `str()`.

    Encoded by orjson: the standard library's encoder runs in Python whenever it indents, which is
    most of `grades --json` at 10,000 KRs. The layout is `json.dumps(data, indent=2)`'s; numbers
    are the same, written in their shortest form (1e16 rather than 1e+16). Data orjson refuses (an
    integer beyond 64 bits) falls back to the standard library.
    """
    import orjson

    options = orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS | orjson.OPT_PASSTHROUGH_DATETIME \
        | orjson.OPT_PASSTHROUGH_DATACLASS | orjson.OPT_PASSTHROUGH_SUBCLASS
    try:
        return orjson.dumps(data, default=str, option=options).decode("utf-8")
    except (orjson.JSONEncodeError, TypeError):
        return json.dumps(data, indent=2, default=str, ensure_ascii=False)


def emit_json(data: Any) -> None:
    """Print data as indented JSON (dates as ISO-8601)."""
    click.echo(json_text(data))


def json_item_text(data: Any) -> str:
    """`data` as `json_text` encodes it, indented as an item of a list `emit_json` prints (what
    `emit_json_items` takes: the encoding, indentation included, may run in another process)."""
    # an indented list puts each item on new lines indented two more spaces; the item's own text
    # holds no raw line break other than its indentation (JSON escapes them)
    return json_text(data).replace("\n", "\n  ")


def emit_json_items(items: Iterable[str]) -> None:
    """Print a list as `emit_json` prints it, from its items' `json_item_text`s, one at a time (each
    is written and dropped before the next is taken: `grades --nested --json` at 10,000 KRs writes
    140 MB)."""
    first = True
    for text in items:
        click.echo(("[\n  " if first else ",\n  ") + text, nl=False)
        first = False
    click.echo("[]" if first else "\n]")


def parse_moment(value: str | None, name: str) -> datetime | None:
    """A `--at` value: an ISO date or date-time, taken as UTC when it has no offset, within the
    range cycles.user_instant accepts."""
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError as exc:
        raise click.BadParameter(f"{value!r} is not a date (2026-05-31) or date-time",
                                 param_hint=name) from exc
    try:
        return user_instant(moment)
    except InstantOutOfRange as exc:
        raise click.BadParameter(str(exc), param_hint=name) from exc


class Context:
    """What every command shares: where the config comes from, loaded lazily."""

    def __init__(self, config: Path | None) -> None:
        self.config = config
        self._settings: Settings | None = None

    @property
    def settings(self) -> Settings:
        """The validated settings (a ConfigError becomes a message naming the file and key, see
        `user_message`)."""
        from okrbridge.config import load_settings

        if self._settings is None:
            self._settings = load_settings(self.config, os.environ)
        return self._settings

    @contextmanager
    def workspace(self, mode: Mode) -> Iterator[Workspace]:
        """The workspace opened for `mode` ("read" writes nothing), closed when the block ends; errors
        become messages in `user_message`."""
        from okrbridge.workspace import open_workspace

        ws = open_workspace(self.settings, mode=mode)
        try:
            yield ws
        finally:
            ws.close()


def _loaded(module: str, name: str) -> type[BaseException] | None:
    """Exception class `name` of `module` if that module is loaded: an exception of a module that was
    never imported cannot have been raised, and importing it here would slow every command's start."""
    found = getattr(sys.modules.get(module), name, None)
    return found if isinstance(found, type) and issubclass(found, BaseException) else None


def _is(exc: BaseException, module: str, name: str) -> bool:
    """Whether `exc` is an instance of `module.name` (see `_loaded`)."""
    cls = _loaded(module, name)
    return cls is not None and isinstance(exc, cls)


def safe_url(url: str) -> str:
    """A database URL with any password replaced by ***, even when the URL does not parse."""
    return re.sub(r"(?<=://)([^/@:]*):[^/@]*@", r"\1:***@", url)


def _database_message(exc: BaseException, url: str) -> str:
    """A SQLAlchemy or alembic error as what happened to which database (no password, no traceback)."""
    where = f"database_url {safe_url(url)!r}"
    if _is(exc, "sqlalchemy.exc", "NoSuchModuleError"):  # an ArgumentError too: test it first
        return f"{where} names a database okrbridge cannot use: SQLite (sqlite:///...) and PostgreSQL " \
               "(postgresql+psycopg://...) are supported"
    if _is(exc, "sqlalchemy.exc", "ArgumentError"):
        return f"{where} is not a database URL: write sqlite:///path/okrbridge.db or " \
               "postgresql+psycopg://user@host/dbname"
    if _is(exc, "alembic.util.exc", "CommandError"):
        return f"{where} cannot be migrated: {exc} (was it written by a newer okrbridge?)"
    reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0] if str(exc).strip() else \
        type(exc).__name__
    reason = safe_url(reason)
    if "database is locked" in reason:
        from okrbridge.store.engine import SQLITE_BUSY_TIMEOUT_MS

        return f"{where} is locked by another process (waited {SQLITE_BUSY_TIMEOUT_MS / 1000:g} s); " \
               "try again when it has finished"
    if "file is not a database" in reason:
        return f"{where} names a file that is not a SQLite database"
    if _is(exc, "sqlalchemy.exc", "OperationalError") or _is(exc, "sqlalchemy.exc", "InterfaceError"):
        return f"cannot use the {where}: {reason}"
    return f"database error on {where}: {reason}"


def user_message(exc: BaseException, obj: Context | None) -> str | None:
    """What to tell the user about an error a command raised, or None when it is a bug (a traceback).

    The one error-to-message layer of the command line: configuration, OKR file, calendar, store,
    bad values and database errors become a message naming the culprit.
    """
    from okrbridge.catalog import CatalogError
    from okrbridge.config import ConfigError

    if isinstance(exc, CatalogError):
        return f"the OKR file has errors:\n{exc}"
    if isinstance(exc, ConfigError):
        return str(exc)
    database = _loaded("sqlalchemy.exc", "SQLAlchemyError"), _loaded("alembic.util.exc", "CommandError")
    if any(cls is not None and isinstance(exc, cls) for cls in database):
        url = obj.settings.database_url if obj is not None and obj._settings is not None else "(unknown)"
        return _database_message(exc, url)
    if _is(exc, "okrbridge.store.records", "StoreError") or _is(exc, "okrbridge.cycles", "CycleError"):
        return str(exc)
    if isinstance(exc, ValueError | OSError):
        return str(exc)
    return None


class CommandGroup(click.Group):
    """The `okrbridge` group: every command's errors go through `user_message`."""

    def invoke(self, ctx: click.Context) -> Any:
        """Run the command; an error the user can fix becomes a one-message exit 1, not a traceback."""
        try:
            return super().invoke(ctx)
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except Exception as exc:
            message = user_message(exc, ctx.find_object(Context))
            if message is None:
                raise
            raise click.ClickException(printable(message)) from exc


pass_context = click.make_pass_decorator(Context)


@click.group(cls=CommandGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--config", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Config file (default: $OKRBRIDGE_CONFIG, else ./okrbridge.toml, else embedded defaults).")
@click.version_option(package_name="okrbridge")
@click.pass_context
def cli(ctx: click.Context, config: Path | None) -> None:
    """okrbridge: OKRs and KPIs as code, kept current from Jira, graded and published to Confluence."""
    ctx.obj = Context(config)
