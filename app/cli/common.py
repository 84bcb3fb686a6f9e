"""What every `shipfloor` command shares: the store's engine, output, progress and errors."""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
import tempfile
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from app.access import (
    AccessRefused,
    Action,
    Caller,
    authenticate_pin,
    authenticate_token,
    require,
)
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
    """The store's engine, reachable and at this program's schema (opened once a command)."""
    engine: StoreEngine | None = getattr(args, "_engine", None)
    if engine is None:
        engine = open_engine(args)
        require_current(engine)
        args._engine = engine
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


def json_object_file(path: str) -> dict[str, Any]:
    """A settings file: a JSON object, or a CommandError (exit 1) saying why not."""
    try:
        found = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CommandError(f"cannot read {path} as UTF-8 JSON: {exc}", 1) from None
    if not isinstance(found, dict):
        raise CommandError(f"{path}: expected a JSON object", 1)
    return found


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


# ------------------------------------------------------------------ who acts


def acting_options() -> argparse.ArgumentParser:
    """The options of a command that changes the floor on someone's behalf: who they are."""
    who = argparse.ArgumentParser(add_help=False)
    group = who.add_argument_group("who acts (see the Security page of the docs)")
    group.add_argument(
        "--user",
        metavar="BADGE",
        default=None,
        help="your badge; the PIN is asked for without echo, or read from --pin-env",
    )
    group.add_argument(
        "--pin-env",
        metavar="VAR",
        default=None,
        help="read the PIN from environment variable VAR (for scripts)",
    )
    group.add_argument(
        "--token-env",
        metavar="VAR",
        default=None,
        help="act with the API token in environment variable VAR (for programs)",
    )
    return who


def _from_env(variable: str, what: str) -> str:
    value = os.environ.get(variable)
    if not value:
        raise CommandError(f"environment variable {variable} holds no {what}: set it first", 1)
    return value


def acts(args: argparse.Namespace) -> bool:
    """Whether this run of the command changes the floor: it names an action, and (for a
    command that can also only show, like the settings commands) this run changes."""
    if getattr(args, "action", None) is None:
        return False
    when: Callable[[argparse.Namespace], bool] | None = getattr(args, "acts_when", None)
    return when is None or bool(when(args))


def authorise(args: argparse.Namespace) -> None:
    """Before a command that changes the floor does anything: who runs it, proven and
    allowed, kept in ``args.caller`` for the command to act as."""
    if acts(args):
        args.caller = acting(args, current_engine(args))


def caller(args: argparse.Namespace) -> Caller:
    """Who runs this command (checked by :func:`authorise` before it started)."""
    found: Caller | None = getattr(args, "caller", None)
    if found is None:
        raise AssertionError(f"`{args.action}` ran without authorise(): declare its action")
    return found


def maybe_caller(args: argparse.Namespace) -> Caller | None:
    """Who runs this command, when this run needed to know (see :func:`acts`)."""
    found: Caller | None = getattr(args, "caller", None)
    return found


def acting(args: argparse.Namespace, engine: StoreEngine) -> Caller:
    """Who runs this command, proven (badge and PIN, or an API token) and allowed to take
    its action (``args.action``); refused with exit code 1 before anything is written."""
    action: Action = args.action
    try:
        if args.token_env is not None:
            if args.user is not None:
                raise CommandError("give --user or --token-env, not both", 1)
            who = authenticate_token(engine, _from_env(args.token_env, "API token"))
        elif args.user is not None:
            if args.pin_env is not None:
                pin = _from_env(args.pin_env, "PIN")
            elif sys.stdin.isatty():
                pin = getpass.getpass(f"PIN for {args.user}: ")
            else:
                raise CommandError(
                    f"no PIN for {args.user}: run the command in a terminal to be asked, or "
                    "give --pin-env VAR with the PIN in that environment variable",
                    1,
                )
            who = authenticate_pin(engine, args.user, pin)
        else:
            raise CommandError(
                f"`shipfloor {action}` changes the floor, so it needs to know who you are: "
                "give --user BADGE (the PIN is asked for), or --token-env VAR for a program",
                1,
            )
        require(who, action)
    except AccessRefused as refused:
        raise CommandError(str(refused), 1) from None
    return who
