"""The error every Atlassian adapter raises: the service's own words, the status and the URL."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar


class ServiceError(Exception):
    """A service refused or failed a request. `messages` are its own words; `url` has no query or
    secret; `context` says what was being done (e.g. the JQL, or the page being created), so the
    message names the culprit on its own. Subclasses name the service in `service`."""

    service: ClassVar[str] = "the service"

    def __init__(self, status: int | None, messages: Sequence[str], url: str, *, context: str = "") -> None:
        """Keep the parts and render one readable line as the exception text."""
        self.status = status
        self.messages = [m for m in messages if m]
        self.url = url
        self.context = context
        super().__init__(self.render())

    def render(self) -> str:
        """`<context>: <the service's messages> (HTTP <status>, <url>)`."""
        text = "; ".join(self.messages) or f"no message from {self.service}"
        status = f"HTTP {self.status}" if self.status is not None else ""
        where = ", ".join(p for p in (status, self.url) if p)
        prefix = f"{self.context}: " if self.context else ""
        return f"{prefix}{text} ({where})" if where else f"{prefix}{text}"
