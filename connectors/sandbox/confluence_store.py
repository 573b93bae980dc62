"""In-memory Confluence content store for the sandbox (pages, versions, labels, restrictions)."""

from __future__ import annotations


class ConfluenceStore:
    """Placeholder; the Confluence part of the sandbox fills this in."""
