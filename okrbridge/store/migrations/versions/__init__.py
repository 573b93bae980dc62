"""Migration revisions, oldest first by number; alembic orders them by their down_revision chain."""
