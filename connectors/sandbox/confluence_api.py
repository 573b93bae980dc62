"""Confluence v1 REST endpoints of the sandbox (filled in by the Confluence part of the sandbox)."""

from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    """Mount the Confluence endpoints on the sandbox app (none yet)."""
