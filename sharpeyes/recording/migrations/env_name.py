"""The store's alembic version table (shared by env.py and the store)."""

VERSION_TABLE = "recording_alembic_version"
