"""Fixtures for the browser tests: one headless Chromium per test session (the Debian `chromium`
package driven by Playwright for Python, never a downloaded browser), a seeded sandbox served over
real HTTP, and browser contexts signed in with a sandbox user's Basic credentials.

Playwright is imported only inside the fixtures, so these tests are skipped (not broken) on a machine
without `/usr/bin/chromium` or the `playwright` package; `missing_browser()` says why.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

from sandbox.server import SandboxServer

from .support import CHROMIUM, LAUNCH_ARGS, ContextFactory, missing_browser

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """Headless Chromium from /usr/bin/chromium, shared by the whole session (per xdist worker)."""
    reason = missing_browser()
    if reason:
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture(scope="module")
def sandbox() -> Iterator[SandboxServer]:
    """The seeded sandbox (seed 1) over real HTTP, one per test module."""
    with SandboxServer(seed=1) as server:
        yield server


@pytest.fixture
def context_as(browser: Browser, sandbox: SandboxServer) -> Iterator[ContextFactory]:
    """Open a fresh browser context signed in as `<login>@example.com` with the API token
    `sandbox-token-<login>` (Basic, answered to the viewer's 401 challenge as a browser's prompt
    would be), or with no credentials for `None`; every context is closed after the test."""
    opened: list[BrowserContext] = []

    def open_context(login: str | None) -> BrowserContext:
        """A new context with the credentials of `login` (none for None)."""
        credentials = (
            {"username": f"{login}@example.com", "password": f"sandbox-token-{login}"} if login else None
        )
        context = browser.new_context(
            base_url=sandbox.url, http_credentials=credentials, viewport={"width": 1100, "height": 800}
        )
        context.set_default_timeout(10_000)
        opened.append(context)
        return context

    yield open_context
    for context in opened:
        context.close()
