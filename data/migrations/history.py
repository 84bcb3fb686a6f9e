"""Triggers that make history tables append-only, for migrations that add such tables.

PostgreSQL uses the trigger function ``shipfloor_refuse_history_change`` that migration 0001
creates; SQLite gets one trigger per refused statement.
"""

from __future__ import annotations

from collections.abc import Iterable

from alembic import op


def protect(tables: Iterable[str]) -> None:
    """Refuse UPDATE, DELETE (and on PostgreSQL TRUNCATE) on each table."""
    postgresql = op.get_bind().dialect.name == "postgresql"
    for table in tables:
        if postgresql:
            op.execute(
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION shipfloor_refuse_history_change()"
            )
            op.execute(
                f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                "FOR EACH STATEMENT EXECUTE FUNCTION shipfloor_refuse_history_change()"
            )
            continue
        for action in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER {table}_no_{action.lower()} BEFORE {action} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, '{table} is append-only history: "
                f"{action} refused'); END"
            )


def unprotect(tables: Iterable[str]) -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    for table in tables:
        if postgresql:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")
            continue
        for action in ("update", "delete"):
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_{action}")
