"""The code stays lint-clean and type-clean: CI runs ruff and mypy through the test suite."""

from __future__ import annotations

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


def test_connectors_never_import_okrbridge() -> None:
    offenders = [str(path.relative_to(ROOT)) for path in (ROOT / "connectors").rglob("*.py")
                 if any(line.lstrip().startswith(("import okrbridge", "from okrbridge"))
                        for line in path.read_text(encoding="utf-8").splitlines())]
    assert offenders == []
