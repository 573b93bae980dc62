"""`okrbridge sandbox` serves Jira and Confluence over HTTP as a real process."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest
import requests

AUTH = ("alice@example.com", "sandbox-token-alice")


def _free_port() -> int:
    """A port nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def sandbox_process() -> Iterator[str]:
    """`okrbridge sandbox --port N` in a child process; yields its URL once it answers."""
    port = _free_port()
    process = subprocess.Popen([sys.executable, "-c", "from okrbridge.cli import main; main()", "sandbox",
                                "--port", str(port)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                requests.get(f"{url}/rest/api/3/serverInfo", timeout=1)
                break
            except requests.ConnectionError:
                time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_sandbox_command_serves_jira_and_confluence(sandbox_process: str) -> None:
    info = requests.get(f"{sandbox_process}/rest/api/3/serverInfo", auth=AUTH, timeout=5).json()
    assert info["deploymentType"] == "Cloud"
    count = requests.post(f"{sandbox_process}/rest/api/3/search/approximate-count", auth=AUTH, timeout=5,
                          json={"jql": "project = ENG"}).json()
    assert count["count"] > 0
    space = requests.get(f"{sandbox_process}/wiki/rest/api/space/OKR", auth=AUTH, timeout=5)
    assert space.status_code == 200 and space.json()["key"] == "OKR"
    gone = requests.get(f"{sandbox_process}/rest/api/3/search", params={"jql": "project = ENG"},
                        auth=AUTH, timeout=5)
    assert gone.status_code == 410
