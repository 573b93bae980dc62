"""Shared by the publish tests: a small tree of pages, the bot's credentials, the sandbox's readers
and its request log."""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

import requests

from okrbridge.page_spec import PageSpec
from sandbox.server import SandboxServer

BOT_EMAIL = "okrbot@example.com"
SANDBOX_SIZE = 200
"""Enough issues for a seeded world; publishing reads none of them."""

STATUS = ('<p><ac:structured-macro ac:name="status"><ac:parameter ac:name="colour">Green</ac:parameter>'
          '<ac:parameter ac:name="title">On track</ac:parameter></ac:structured-macro></p>')


def tree() -> list[PageSpec]:
    """A root, a period under it, and three audience pages: open, sales (two groups), executives."""
    return [
        PageSpec("period:2026/audience:company", "Company overview", "period:2026",
                 f"<h1>Company</h1>{STATUS}", labels=("okr", "okr-2026")),
        PageSpec("root", "OKRs", None, "<p>All cycles.</p>", labels=("okr",)),
        PageSpec("period:2026", "OKRs 2026", "root", "<p>The year 2026.</p>"),
        PageSpec("period:2026/audience:sales", "Team: Sales", "period:2026", "<p>Sales pipeline 4.2M</p>",
                 read_groups=("okr-sales", "okr-executives"), labels=("okr",)),
        PageSpec("period:2026/audience:exec", "Executive summary", "period:2026", "<p>Board only</p>",
                 read_groups=("okr-executives",)),
    ]


def confluence_env(deployment: str) -> dict[str, str]:
    """The bot's Confluence credential in the environment: API token (Cloud) or PAT (Data Center)."""
    token = "sandbox-token-okrbot" if deployment == "cloud" else "sandbox-pat-okrbot"
    return {"OKRBRIDGE_CONFLUENCE_TOKEN": token}


def reader(sandbox: SandboxServer, login: str) -> Callable[..., requests.Response]:
    """A request function signed in as a seeded person, on the deployment's Confluence API root."""
    session = requests.Session()
    session.headers["Authorization"] = "Basic " + base64.b64encode(
        f"{login}@example.com:sandbox-token-{login}".encode()).decode()
    cloud = sandbox.state.deployment == "cloud"
    root = f"{sandbox.url}/wiki/rest/api" if cloud else f"{sandbox.url}/rest/api"

    def call(method: str, path: str, **kwargs: Any) -> requests.Response:
        return session.request(method, f"{root}/{path}", timeout=10, **kwargs)
    return call


def clear_log(sandbox: SandboxServer) -> None:
    """Empty the sandbox's request log."""
    requests.delete(f"{sandbox.url}/_sandbox/requests", timeout=10).raise_for_status()


def writes(sandbox: SandboxServer) -> list[tuple[str, str]]:
    """(method, path) of every request since the log was cleared that was not a read."""
    logged = requests.get(f"{sandbox.url}/_sandbox/requests", timeout=10).json()["requests"]
    return [(r["method"], r["path"]) for r in logged if r["method"] not in ("GET", "HEAD")]
