"""The daemon's catalog reload never waits on a special file and never reports a file caught mid-write."""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from okrbridge import daemon_jobs
from okrbridge.catalog import bundled_sample
from okrbridge.config import load_settings
from okrbridge.daemon_jobs import CatalogKeeper
from okrbridge.workspace import Workspace, open_workspace


@pytest.fixture
def workspace(tmp_path: Path) -> Iterator[Workspace]:
    """A workspace on a copy of the sample OKRs and a SQLite file in tmp_path."""
    okrs = tmp_path / "okrs.toml"
    okrs.write_text(bundled_sample("okrs.toml").read_text(encoding="utf-8"), encoding="utf-8")
    config = tmp_path / "okrbridge.toml"
    config.write_text(f'okrs = "{okrs}"\ndatabase_url = "sqlite:///{tmp_path / "o.db"}"\n', encoding="utf-8")
    ws = open_workspace(load_settings(config, {}), mode="record")
    yield ws
    ws.close()


def test_an_okrs_path_turned_into_a_fifo_is_not_waited_on(workspace: Workspace) -> None:
    keeper = CatalogKeeper(workspace)
    workspace.settings.okrs.unlink()
    os.mkfifo(workspace.settings.okrs)
    done = threading.Event()
    worker = threading.Thread(target=lambda: (keeper.refresh(workspace), done.set()), daemon=True)
    worker.start()
    worker.join(30)
    assert done.is_set(), "refresh waited on a FIFO"
    assert workspace.catalog.key_result("CO-1.1") is not None  # the last good catalog stays


def test_a_file_that_changes_while_it_is_read_is_judged_once_it_is_still(
        workspace: Workspace, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    keeper = CatalogKeeper(workspace)
    okrs = workspace.settings.okrs
    good = okrs.read_text(encoding="utf-8")
    real_load = daemon_jobs.load_catalog

    def load_mid_write(path: Path) -> object:
        """Read the file as an editor left it half-way (empty), then let the editor finish."""
        okrs.write_text("", encoding="utf-8")
        try:
            return real_load(path)
        finally:
            okrs.write_text(good + "\n# edited\n", encoding="utf-8")

    okrs.write_text(good + "\n# editing\n", encoding="utf-8")
    monkeypatch.setattr(daemon_jobs, "load_catalog", load_mid_write)
    with caplog.at_level(logging.INFO):
        keeper.refresh(workspace)
        assert "catalog_invalid" not in caplog.text  # an empty read of a file being written is not reported
        monkeypatch.setattr(daemon_jobs, "load_catalog", real_load)
        keeper.refresh(workspace)
    assert "catalog_invalid" not in caplog.text and "event=catalog_reloaded" in caplog.text
    assert workspace.catalog.key_result("CO-1.1") is not None
