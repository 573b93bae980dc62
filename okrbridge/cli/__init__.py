"""The `okrbridge` command line: thin loops over the library calls in okrbridge.workspace."""

from __future__ import annotations

from okrbridge.cli import (  # noqa: F401  (importing registers the commands)
    compact,
    daemon,
    demo,
    export,
    publish,
    records,
    serve,
    sync,
)
from okrbridge.cli.base import cli

__all__ = ["cli", "main"]


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="okrbridge")
