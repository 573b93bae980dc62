"""Running the sandbox: the background `SandboxServer` and the `python -m sandbox` CLI."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

from sandbox.server import SandboxServer

from .conftest import basic_auth

REPO = Path(__file__).resolve().parents[2]


def test_sandbox_server_serves_on_a_free_port_until_stopped() -> None:
    with SandboxServer(deployment="datacenter", seed=1, size=200) as sandbox:
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+", sandbox.url)
        info = requests.get(f"{sandbox.url}/rest/api/2/serverInfo", timeout=5).json()
        assert info["deploymentType"] == "Server" and info["baseUrl"] == sandbox.url
        url = sandbox.url
    try:
        requests.get(f"{url}/rest/api/2/serverInfo", timeout=1)
    except requests.ConnectionError:
        pass
    else:
        raise AssertionError("the server still answers after stop()")


def test_concurrent_clients_are_answered_in_parallel(cloud_sandbox: SandboxServer) -> None:
    requests.put(f"{cloud_sandbox.url}/_sandbox/faults", json={"latency_ms": 300})
    url = f"{cloud_sandbox.url}/rest/api/3/myself"
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(lambda _: requests.get(url, headers=basic_auth("alice"), timeout=10),
                                range(8)))
    wall = time.perf_counter() - started
    assert all(a.status_code == 200 and a.elapsed.total_seconds() >= 0.3 for a in answers)
    assert wall < 8 * 0.3 / 2   # one after another they would take 2.4 s
    log = requests.get(f"{cloud_sandbox.url}/_sandbox/requests").json()["summary"]
    assert log["requests"] >= 8


def test_command_line_prints_the_url_and_credentials_and_serves() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "sandbox", "--port", "0", "--deployment", "datacenter",
         "--size", "300", "--seed", "2"],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        assert process.stdout is not None
        lines = []
        for line in process.stdout:
            lines.append(line)
            if line.startswith("Ctrl-C"):
                break
        banner = "".join(lines)
        url = re.search(r"at (http://\S+)", banner).group(1)  # type: ignore[union-attr]
        for credential in ("alice@example.com", "sandbox-token-alice", "sandbox-pat-alice"):
            assert credential in banner
        me = requests.get(f"{url}/rest/api/2/myself", headers={"Authorization": "Bearer sandbox-pat-erin"},
                          timeout=5)
        assert me.json()["name"] == "erin"
    finally:
        process.terminate()
        process.wait(timeout=10)
