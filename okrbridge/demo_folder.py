"""The demo's folder: one directory holding everything `okrbridge demo` writes, recreated each run.

It holds the SQLite database and `okrbridge-demo.toml`, a config pointing at that database and at
the sandbox's Jira and Confluence with the bot's email and the *names* of the environment variables
its tokens are read from (tokens never go in the file). A marker file says the folder is the
demo's, so a run never wipes a directory it did not make.
"""

from __future__ import annotations

import json
import shutil
import socket
from dataclasses import dataclass
from pathlib import Path

BOT_EMAIL = "okrbot@example.com"
BOT_TOKEN = "sandbox-token-okrbot"  # the sandbox's documented, fake API token for its bot user
JIRA_TOKEN_ENV = "OKRBRIDGE_JIRA_TOKEN"
CONFLUENCE_TOKEN_ENV = "OKRBRIDGE_CONFLUENCE_TOKEN"
MARKER = ".okrbridge-demo"
CONFIG_NAME = "okrbridge-demo.toml"
DATABASE_NAME = "okrbridge-demo.db"


class DemoFolderError(ValueError):
    """The demo folder cannot be (re)created; the message names the folder and why."""


@dataclass(frozen=True)
class DemoFolder:
    """Where one demo run keeps its files."""

    path: Path

    @property
    def database(self) -> Path:
        """The demo's SQLite file."""
        return self.path / DATABASE_NAME

    @property
    def config(self) -> Path:
        """The config written for exploring the demo with the CLI afterwards."""
        return self.path / CONFIG_NAME

    @property
    def database_url(self) -> str:
        """The SQLAlchemy URL of the database (absolute, so the config works from any directory)."""
        return f"sqlite:///{self.database}"


def prepare_folder(path: Path) -> DemoFolder:
    """Empty (or create) `path` for a new demo run and mark it as the demo's.

    A folder that exists, is not empty and has no marker was not made by the demo: it is left
    alone and DemoFolderError says so, so a mistyped `--dir` never deletes someone's files.
    """
    path = path.expanduser().resolve()
    if path.exists():
        if not path.is_dir():
            raise DemoFolderError(f"--dir {path}: exists and is not a folder")
        if any(path.iterdir()) and not (path / MARKER).is_file():
            raise DemoFolderError(f"--dir {path}: the folder is not empty and was not made by "
                                  f"`okrbridge demo` (no {MARKER} file); choose another folder or empty it")
        shutil.rmtree(path)
    path.mkdir(parents=True)
    (path / MARKER).write_text("Made by `okrbridge demo`; its next run deletes and recreates this folder.\n",
                               encoding="utf-8")
    return DemoFolder(path)


def demo_env() -> dict[str, str]:
    """The sandbox bot's tokens under the variable names the demo config names."""
    return {JIRA_TOKEN_ENV: BOT_TOKEN, CONFLUENCE_TOKEN_ENV: BOT_TOKEN}


def export_line() -> str:
    """The shell line that puts the bot's sandbox tokens where the demo config looks for them."""
    return "export " + " ".join(f"{name}={value}" for name, value in demo_env().items())


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that is free on `host` right now (chosen for a server that starts later)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        port: int = probe.getsockname()[1]
        return port


def _toml(value: str) -> str:
    """A TOML basic string: JSON's escapes (`\\"`, `\\\\`, `\\uXXXX`) are TOML's too."""
    return json.dumps(value)


def write_demo_config(folder: DemoFolder, sandbox_url: str, deployment: str, web_port: int,
                      forge_app_id: str) -> Path:
    """Write the demo's config: its database, the sandbox's Jira and Confluence, the web app's address.

    `web.base_url` is where the web app listens in the demo, so the remote links the sync writes on
    epics point at a KR page there. The demo's web app lets anyone in (`auth = "anonymous"`: it
    listens on loopback only) and trusts the invocation tokens the sandbox's Forge host signs for
    `forge_app_id`, with the keys the sandbox publishes.
    """
    web_base = f"http://127.0.0.1:{web_port}"
    lines = [
        "# Written by `okrbridge demo` (recreated on every run): the bundled sample OKRs, the demo's",
        "# database, and the sandbox it started. Tokens are never kept here: the variables named by",
        "# token_env hold them (`okrbridge demo` prints the export line for the sandbox's bot).",
        f"database_url = {_toml(folder.database_url)}",
        "",
        "[jira]",
        f"url = {_toml(sandbox_url)}",
        f"deployment = {_toml(deployment)}",
        f"email = {_toml(BOT_EMAIL)}",
        f"token_env = {_toml(JIRA_TOKEN_ENV)}",
        "",
        "[confluence]",
        f"url = {_toml(sandbox_url)}",
        f"deployment = {_toml(deployment)}",
        f"email = {_toml(BOT_EMAIL)}",
        f"token_env = {_toml(CONFLUENCE_TOKEN_ENV)}",
        'space = "OKR"',
        "",
        "[web]",
        f"base_url = {_toml(web_base)}",
        'host = "127.0.0.1"',
        f"port = {web_port}",
        'auth = "anonymous"',
        f"forge_app_id = {_toml(forge_app_id)}",
        f"forge_jwks_url = {_toml(sandbox_url.rstrip('/') + '/_sandbox/forge/jwks.json')}",
        "",
    ]
    folder.config.write_text("\n".join(lines), encoding="utf-8")
    return folder.config
