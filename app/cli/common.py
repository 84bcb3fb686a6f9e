"""What every `shipfloor` command shares: the store's engine, output, progress and errors."""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from data.migrate import StoreTooNew, current_revision, head_revision, known_revision
from data.store import (
    StoreEngine,
    StoreUnavailable,
    StoreURLError,
    make_engine,
    masked,
    ping,
    resolve_url,
    sqlite_path,
)

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)


class CommandError(Exception):
    """A problem the person running the command can fix; printed without a traceback."""

    def __init__(self, message: str, exit_code: int = 2) -> None:
        super().__init__(message)
        self.exit_code = exit_code


# ------------------------------------------------------------------ helpers


def print_json(value: object) -> None:
    """One JSON object on stdout and nothing else, for scripts."""
    sys.stdout.write(json.dumps(value, separators=(",", ":")) + "\n")


def open_engine(args: argparse.Namespace, *, create: bool = False) -> StoreEngine:
    """The store's engine, once it is known to be reachable.

    Only commands that build a store (`db upgrade`, `demo`) may create an SQLite file;
    the others refuse a path where there is none rather than leave an empty file behind.
    """
    try:
        url = resolve_url(args.db)
    except StoreURLError as exc:
        raise CommandError(str(exc)) from None
    path = sqlite_path(url)
    if path is not None:
        if not path.parent.exists():
            raise CommandError(
                f"{path.parent} does not exist; create the folder or choose another --db"
            )
        if not create and not path.exists():
            raise CommandError(
                f"there is no store at {path}; create it with `shipfloor db upgrade` "
                "(or `shipfloor demo`), or point --db at an existing one"
            )
    engine = make_engine(url)
    try:
        ping(engine)
    except StoreUnavailable as exc:
        raise CommandError(str(exc)) from None
    return engine


def require_current(engine: StoreEngine) -> None:
    """Refuse to work on a store whose schema is older or newer than this program."""
    current, head = current_revision(engine), head_revision()
    if current != head:
        where = engine.url.render_as_string(hide_password=True)
        if current is None:
            raise CommandError(f"the store at {where} is empty; run `shipfloor db upgrade` first")
        if not known_revision(current):
            raise CommandError(f"{where}: {StoreTooNew(current, head)}")
        raise CommandError(
            f"the store at {where} is at schema {current}, this program needs {head}; "
            "run `shipfloor db upgrade`"
        )


def current_engine(args: argparse.Namespace) -> StoreEngine:
    """The store's engine, reachable and at this program's schema."""
    engine = open_engine(args)
    require_current(engine)
    return engine


@contextmanager
def progress(enabled: bool) -> Iterator[Callable[[str, int, int], None]]:
    """A progress bar on stderr (stdout stays clean for --json); a no-op when disabled."""
    if not enabled:
        yield lambda _stage, _done, _total: None
        return
    bar = Progress(
        TextColumn("{task.description:<8}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=False,
    )
    tasks: dict[str, object] = {}

    def update(stage: str, done: int, total: int) -> None:
        if stage not in tasks:
            tasks[stage] = bar.add_task(stage, total=total)
        bar.update(tasks[stage], completed=done, total=total)  # type: ignore[arg-type]

    with bar:
        yield update


# ------------------------------------------------------------------ commands


def positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} is not 1 or more")
    return value


def write_crash_report(args: argparse.Namespace, exc: BaseException) -> Path:
    """The traceback of an error no message foresaw, in a file (passwords masked)."""
    folder = Path(tempfile.gettempdir()) / "shipfloor-errors"
    folder.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    path = folder / f"{stamp}-{os.getpid()}.txt"
    command = " ".join(sys.argv[1:]) or str(getattr(args, "command", ""))
    details = "".join(traceback.format_exception(exc))
    path.write_text(masked(f"shipfloor {command}\n\n{details}"), encoding="utf-8")
    return path
