"""Alembic migrations: the only way the store's schema is created or changed."""
