"""The `okrbridge` command line: thin loops over the library calls in okrbridge.workspace."""

from __future__ import annotations

from okrbridge.cli import daemon, demo, publish, records, serve, sync  # noqa: F401  (importing registers the commands)
from okrbridge.cli.base import cli

__all__ = ["cli", "main"]


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="okrbridge")
