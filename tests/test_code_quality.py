"""The code stays lint-clean and type-clean: CI runs ruff and mypy through the test suite."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]


@pytest.mark.parametrize("command", [
    [sys.executable, "-m", "ruff", "check", "."],
    [sys.executable, "-m", "mypy", "--cache-dir", "/dev/null"],
], ids=["ruff", "mypy"])
def test_the_code_passes(command: list[str]) -> None:
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def _importers(package: str, *imported: str) -> list[str]:
    """Files under `package` that import any of the `imported` top-level packages (read with ast)."""
    offenders = []
    for path in sorted((ROOT / package).rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = ([alias.name for alias in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) and node.level == 0
                     else [])
            if any(name.split(".")[0] in imported for name in names):
                offenders.append(str(path.relative_to(ROOT)))
                break
    return offenders


def test_connectors_import_neither_okrbridge_nor_the_sandbox() -> None:
    assert _importers("connectors", "okrbridge", "sandbox") == []


def test_the_sandbox_never_imports_okrbridge() -> None:
    assert _importers("sandbox", "okrbridge") == []
