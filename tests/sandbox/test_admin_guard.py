"""The sandbox's admin API cannot be driven by a web page: Host, Origin and content type are checked."""

from __future__ import annotations

import requests

from sandbox.server import SandboxServer


def _reset(sandbox: SandboxServer, **kwargs: object) -> requests.Response:
    """POST /_sandbox/reset with the given request options."""
    return requests.post(f"{sandbox.url}/_sandbox/reset", timeout=10, **kwargs)  # type: ignore[arg-type]


def test_a_cross_site_text_plain_post_does_not_reseed_the_world(cloud_sandbox: SandboxServer) -> None:
    before = cloud_sandbox.state.data_version
    answer = _reset(cloud_sandbox, data='{"seed": 7}',
                    headers={"Content-Type": "text/plain", "Origin": "http://evil.example"})
    assert answer.status_code == 403 and "cross-origin" in answer.json()["error"]
    assert cloud_sandbox.state.data_version == before


def test_a_text_plain_body_is_refused_even_without_an_origin(cloud_sandbox: SandboxServer) -> None:
    before = cloud_sandbox.state.data_version
    answer = _reset(cloud_sandbox, data='{"seed": 7}', headers={"Content-Type": "text/plain"})
    assert answer.status_code == 415 and "JSON" in answer.json()["error"]
    assert requests.put(f"{cloud_sandbox.url}/_sandbox/faults", data='{"error_rate": 1}',
                        timeout=5).status_code == 415
    assert cloud_sandbox.state.data_version == before


def test_a_rebound_host_name_is_refused(cloud_sandbox: SandboxServer) -> None:
    port = cloud_sandbox.url.rsplit(":", 1)[1]
    before = cloud_sandbox.state.data_version
    answer = _reset(cloud_sandbox, json={"seed": 7}, headers={"Host": f"attacker.example:{port}"})
    assert answer.status_code == 403 and "'attacker.example'" in answer.json()["error"]
    faults = requests.get(f"{cloud_sandbox.url}/_sandbox/faults", headers={"Host": "attacker.example"},
                          timeout=5)
    assert faults.status_code == 403
    assert cloud_sandbox.state.data_version == before


def test_json_from_the_developers_own_tools_is_accepted(cloud_sandbox: SandboxServer) -> None:
    port = cloud_sandbox.url.rsplit(":", 1)[1]
    same_origin = {"Origin": cloud_sandbox.url}
    assert _reset(cloud_sandbox, json={"seed": 1}, headers=same_origin).status_code == 200
    for host in (f"localhost:{port}", f"127.0.0.1:{port}", f"[::1]:{port}", "localhost"):
        answer = requests.put(f"{cloud_sandbox.url}/_sandbox/faults", json={"latency_ms": 0},
                              headers={"Host": host}, timeout=5)
        assert answer.status_code == 200, host
    assert requests.delete(f"{cloud_sandbox.url}/_sandbox/requests", timeout=5).status_code == 204
