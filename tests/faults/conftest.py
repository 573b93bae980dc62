"""Fixtures of the fault suite: the store tests' throwaway PostgreSQL database, shared."""

from __future__ import annotations

from tests.store.conftest import postgres_database, postgres_url  # noqa: F401  # fixtures, used by name
