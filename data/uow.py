"""The unit of work: one session per user action, rolled back unless committed."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from types import TracebackType
from typing import TypeVar

from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from data.store import READ_ONLY

T = TypeVar("T")

# PostgreSQL SQLSTATEs worth retrying: serialization failure, deadlock, lock timeout.
_RETRYABLE_SQLSTATES = {"40001", "40P01", "55P03"}


class UnitOfWork:
    """A transaction around one piece of work.

    Leaving the block without `commit()` rolls everything back, so a failure half-way
    through never leaves half-written orders behind.
    """

    def __init__(self, engine: Engine, *, read_only: bool = False) -> None:
        self._factory = sessionmaker(bind=engine, expire_on_commit=False)
        self._read_only = read_only
        self.session: Session

    def __enter__(self) -> UnitOfWork:
        self.session = self._factory()
        if self._read_only:
            self.session.connection(execution_options={READ_ONLY: True})
        else:
            # Begin now, so that on SQLite the write lock is taken before the first read.
            self.session.connection()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            self.session.rollback()
        finally:
            self.session.close()

    def commit(self) -> None:
        """Make the work durable."""
        if self._read_only:
            raise RuntimeError("a read-only unit of work cannot commit")
        self.session.commit()


def is_retryable(exc: BaseException) -> bool:
    """True for errors that mean "another transaction got in the way; try again"."""
    if isinstance(exc, DBAPIError):
        orig = exc.orig
        sqlstate = getattr(orig, "sqlstate", None)
        if sqlstate in _RETRYABLE_SQLSTATES:
            return True
        if isinstance(exc, OperationalError):
            text = str(orig).lower()
            return "database is locked" in text or "database is busy" in text
    return False


def run_in_transaction(
    engine: Engine,
    work: Callable[[UnitOfWork], T],
    *,
    attempts: int = 5,
    base_delay: float = 0.02,
) -> T:
    """Run `work` in a fresh unit of work, retrying the whole transaction on contention.

    Only serialization, deadlock and busy errors are retried, at most `attempts` times,
    with exponential back-off and full jitter. `work` must commit itself.
    """
    for attempt in range(1, attempts + 1):
        try:
            with UnitOfWork(engine) as uow:
                return work(uow)
        except DBAPIError as exc:
            if attempt == attempts or not is_retryable(exc):
                raise
            time.sleep(random.uniform(0, base_delay * 2**attempt))
    raise AssertionError("unreachable: the loop returns or raises")


StoreSession = Session
"""The session type, for the application core's annotations (it never imports SQLAlchemy)."""
