"""Alembic migrations of the store, run by `okrbridge.store.engine.migrate` (no alembic.ini needed)."""
