"""The unit of work: one session per user action, rolled back unless committed, and the
retry of a whole transaction that another one got in the way of."""

from __future__ import annotations

import random
import threading
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

_FACTORY = "_shipfloor_session_factory"
_FACTORY_LOCK = threading.Lock()


def session_factory(engine: Engine) -> sessionmaker[Session]:
    """The engine's session factory: made once, on first use, and kept on the engine itself
    (a registry keyed by engine would keep every engine alive through its factory's bind)."""
    found: sessionmaker[Session] | None = engine.__dict__.get(_FACTORY)
    if found is None:
        with _FACTORY_LOCK:
            found = engine.__dict__.get(_FACTORY)
            if found is None:
                found = sessionmaker(bind=engine, expire_on_commit=False)
                engine.__dict__[_FACTORY] = found
    return found


class StaleRead(Exception):
    """A write's guard did not hold: a row the transaction read and checked was changed by
    another one meanwhile. Nothing of the transaction stays; it is run again whole, and the
    new run reads (and checks) what is there now."""


class UnitOfWork:
    """A transaction around one piece of work.

    Leaving the block without `commit()` rolls everything back, so a failure half-way
    through never leaves half-written orders behind. The same unit of work may be entered
    again after it was left (each time a new session): that is how a retried transaction
    runs again.
    """

    def __init__(self, engine: Engine, *, read_only: bool = False) -> None:
        self.engine = engine
        self._factory = session_factory(engine)
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
    if isinstance(exc, StaleRead):
        return True
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
    store: Engine | UnitOfWork,
    work: Callable[[UnitOfWork], T],
    *,
    attempts: int = 5,
    base_delay: float = 0.02,
) -> T:
    """Run `work` in a unit of work, retrying the whole transaction on contention.

    `store` is the engine, or the unit of work to run in (a test hands in one of its own).
    Only serialization, deadlock and busy errors, and a read gone stale under a guarded
    write, are retried, at most `attempts` times, with exponential back-off and full
    jitter. `work` must commit itself.
    """
    uow = store if isinstance(store, UnitOfWork) else UnitOfWork(store)
    for attempt in range(1, attempts + 1):
        try:
            with uow:
                return work(uow)
        except (DBAPIError, StaleRead) as exc:
            if attempt == attempts or not is_retryable(exc):
                raise
            time.sleep(random.uniform(0, base_delay * 2**attempt))
    raise AssertionError("unreachable: the loop returns or raises")


StoreSession = Session
"""The session type, for the application core's annotations (it never imports SQLAlchemy)."""
