"""Import an order file: parse, verify every record first, then store good orders in bulk."""

from __future__ import annotations

import multiprocessing
import os
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from app.actor import Actor
from app.intake.parse import read_file
from app.intake.records import ParsedOrder, Rejection
from app.intake.verify import ReferenceData, verify
from data import catalog
from data.orders import LostInsertRace, NewOrder, StoredBatch, store_new_orders
from data.store import StoreEngine, make_engine
from data.types import utcnow
from data.uow import UnitOfWork, is_retryable, run_in_transaction

BATCH_SIZE = 1000
RACE_ATTEMPTS = 5
# Below this many records, starting worker processes costs more than it saves.
PARALLEL_FROM = 5 * BATCH_SIZE
MAX_WORKERS = 8

Progress = Callable[[int, int], None]
"""Called with (records done, records in all) as the import proceeds."""


@dataclass
class ImportSummary:
    """What an import did, order by order."""

    imported: int = 0
    """Orders stored and verified."""
    held: int = 0
    """Orders stored but held for a person, with their reasons."""
    duplicates: int = 0
    """Orders already in the store (or earlier in the same file): nothing changed."""
    rejected: list[Rejection] = field(default_factory=list)
    """Records that could not be stored at all."""
    seconds: float = 0.0

    @property
    def records(self) -> int:
        return self.imported + self.held + self.duplicates + len(self.rejected)

    @property
    def orders_per_second(self) -> float:
        return self.records / self.seconds if self.seconds > 0 else 0.0


def load_reference(engine: StoreEngine) -> ReferenceData:
    """Channels, products, promos and nodes, read once for a whole import."""
    with UnitOfWork(engine, read_only=True) as uow:
        return ReferenceData(
            channels=catalog.channels(uow.session),
            products=catalog.products_by_sku(uow.session),
            promos=catalog.promo_codes(uow.session),
            nodes=catalog.nodes(uow.session),
            now=utcnow(),
        )


def import_file(
    engine: StoreEngine, path: Path, actor: Actor, progress: Progress | None = None
) -> ImportSummary:
    """Import every order in a JSON Lines or CSV file (see the README for the formats)."""
    return import_records(engine, read_file(path), actor, progress)


def import_records(
    engine: StoreEngine,
    records: Iterable[ParsedOrder | Rejection],
    actor: Actor,
    progress: Progress | None = None,
    *,
    parallel: bool = True,
) -> ImportSummary:
    """Verify and store parsed records; each order is stored whole or not at all.

    Records go in batches: a batch is verified completely, then its good orders are
    stored in one transaction. A large import on a machine with more than one core runs
    batches in worker processes, each with its own connection; the store's unique key
    and ON CONFLICT keep that safe even when a file repeats an order across batches.
    `parallel=False` keeps one process, so ids are given in file order (the demo relies on
    that to build the same store from the same seed).
    """
    started = time.perf_counter()
    summary = ImportSummary()
    ref = load_reference(engine)
    items = list(records)
    total = len(items)
    chunks = [items[i : i + BATCH_SIZE] for i in range(0, len(items), BATCH_SIZE)]
    workers = min(os.cpu_count() or 1, MAX_WORKERS)
    done = 0
    if not parallel or workers < 2 or total < PARALLEL_FROM:
        results: Iterable[ImportSummary] = (
            _import_chunk(engine, ref, actor, chunk) for chunk in chunks
        )
        for result in results:
            done = _merge(summary, result, done, total, progress)
    else:
        url = engine.url.render_as_string(hide_password=False)
        # spawn, not fork: a forked child would share this process's open connections.
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(
            max_workers=workers,
            mp_context=context,
            initializer=_start_worker,
            initargs=(url, ref, actor),
        ) as pool:
            for result in pool.map(_import_chunk_in_worker, chunks):
                done = _merge(summary, result, done, total, progress)
    summary.rejected.sort(key=lambda r: r.line)
    summary.seconds = time.perf_counter() - started
    return summary


def _merge(
    summary: ImportSummary, part: ImportSummary, done: int, total: int, progress: Progress | None
) -> int:
    summary.imported += part.imported
    summary.held += part.held
    summary.duplicates += part.duplicates
    summary.rejected.extend(part.rejected)
    done += part.records
    if progress:
        progress(done, total)
    return done


def _import_chunk(
    engine: StoreEngine, ref: ReferenceData, actor: Actor, chunk: list[ParsedOrder | Rejection]
) -> ImportSummary:
    """Verify one batch, then store its good orders."""
    summary = ImportSummary()
    ready: list[NewOrder] = []
    source_lines: dict[tuple[int, str], int] = {}
    for item in chunk:
        outcome = item if isinstance(item, Rejection) else verify(item, ref)
        if isinstance(outcome, Rejection):
            summary.rejected.append(outcome)
        else:
            assert isinstance(item, ParsedOrder)
            ready.append(outcome)
            source_lines.setdefault(outcome.key, item.source_line)
    if ready:
        _store_batch(engine, ready, actor, summary, source_lines)
    return summary


@dataclass
class _Worker:
    """What a worker process holds between batches."""

    engine: StoreEngine
    ref: ReferenceData
    actor: Actor


_worker: _Worker | None = None


def _start_worker(url: str, ref: ReferenceData, actor: Actor) -> None:
    global _worker
    _worker = _Worker(make_engine(url), ref, actor)


def _import_chunk_in_worker(chunk: list[ParsedOrder | Rejection]) -> ImportSummary:
    assert _worker is not None, "worker process started without its set-up"
    return _import_chunk(_worker.engine, _worker.ref, _worker.actor, chunk)


def _store_batch(
    engine: StoreEngine,
    batch: Sequence[NewOrder],
    actor: Actor,
    summary: ImportSummary,
    source_lines: dict[tuple[int, str], int],
) -> None:
    try:
        stored, duplicates = _store(engine, batch, actor)
    except Exception as exc:
        if is_retryable(exc):
            raise
        # Something the checks above did not foresee: store the orders one by one so the
        # good ones still land and the bad one is reported by name.
        for order in batch:
            try:
                stored, duplicates = _store(engine, [order], actor)
            except Exception as single_exc:
                if is_retryable(single_exc):
                    raise
                summary.rejected.append(
                    Rejection(
                        source_lines.get(order.key, 0),
                        order.external_id,
                        "store",
                        f"the store refused the order: {_first_line(single_exc)}",
                    )
                )
            else:
                _count(summary, [order], stored, duplicates)
        return
    _count(summary, batch, stored, duplicates)


def _store(
    engine: StoreEngine, batch: Sequence[NewOrder], actor: Actor
) -> tuple[set[tuple[int, str]], int]:
    for _attempt in range(RACE_ATTEMPTS):
        try:
            result = run_in_transaction(engine, lambda uow: _insert(uow, batch, actor))
        except LostInsertRace:
            # Another import stored some of these orders after we looked; the rolled-back
            # transaction left nothing behind, and the next attempt sees them as duplicates.
            continue
        return set(result.stored), len(result.duplicates)
    raise RuntimeError(
        f"another import kept storing the same orders; gave up after {RACE_ATTEMPTS} attempts"
    )


def _insert(uow: UnitOfWork, batch: Sequence[NewOrder], actor: Actor) -> StoredBatch:
    result = store_new_orders(
        uow.session,
        batch,
        actor=actor.name,
        user_id=actor.user_id,
        station_id=actor.station_id,
        at=utcnow(),
    )
    uow.commit()
    return result


def _count(
    summary: ImportSummary,
    batch: Sequence[NewOrder],
    stored: set[tuple[int, str]],
    duplicates: int,
) -> None:
    seen: set[tuple[int, str]] = set()
    for order in batch:
        # A second copy of an order in the same batch is one of the duplicates.
        if order.key in stored and order.key not in seen:
            seen.add(order.key)
            if order.holds:
                summary.held += 1
            else:
                summary.imported += 1
    summary.duplicates += duplicates


def _first_line(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc)
    return text.strip().splitlines()[0] if text.strip() else type(exc).__name__
