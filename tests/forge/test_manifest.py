"""forge/manifest.yml passes Forge's own full validation (`@forge/manifest`, pinned in
forge/package.json and installed by `npm ci --omit=optional` in forge/, as .ci/run does), and says
what okrbridge relies on: an issue panel and a global page resolved by endpoints on one remote."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

FORGE = Path(__file__).resolve().parents[2] / "forge"
NODE = shutil.which("node")


def test_the_manifest_passes_forges_full_validation() -> None:
    if NODE is None:
        pytest.skip("node is not installed, so Forge's manifest validator cannot run")
    if not (FORGE / "node_modules" / "@forge" / "manifest").is_dir():
        pytest.fail("forge/node_modules is missing: run `npm ci --omit=optional` in forge/ (.ci/run does)")
    done = subprocess.run([NODE, str(FORGE / "validate.js"), str(FORGE / "manifest.yml")], cwd=FORGE,
                          capture_output=True, text=True, timeout=120, check=False)
    result = json.loads(done.stdout) if done.stdout.strip().startswith("{") else None
    assert result is not None, done.stderr
    assert result["errors"] == [], result["errors"]
    assert result["success"] is True
    assert done.returncode == 0


def test_the_panel_and_page_resolve_through_endpoints_on_the_okrbridge_remote() -> None:
    manifest = yaml.safe_load((FORGE / "manifest.yml").read_text(encoding="utf-8"))
    modules = manifest["modules"]
    endpoints = {e["key"]: e for e in modules["endpoint"]}
    remotes = {r["key"]: r for r in manifest["remotes"]}
    for kind in ("jira:issuePanel", "jira:globalPage"):
        (module,) = modules[kind]
        endpoint = endpoints[module["resolver"]["endpoint"]]
        assert endpoint["remote"] in remotes
    assert remotes["okrbridge"]["operations"] == ["compute"]
    assert "permissions" not in manifest  # no Atlassian API is called from Forge, so no scope is asked
