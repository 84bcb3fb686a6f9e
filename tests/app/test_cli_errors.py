"""Every `shipfloor` command, given bad input, answers with a sentence and an exit code:
never a traceback, never the last-resort "does not know how to explain" message, and never
a password from the URL it was given."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from app import demo
from app.cli import build_parser, main
from app.cli.parser import UNEXPECTED
from data.migrate import upgrade
from data.store import make_engine

ROOT = Path(__file__).resolve().parents[2]
BAD = "NO-SUCH-THING"
# Commands that run until stopped or start the terminal UI: their set-up errors are still
# checked (a missing store, a password in the URL), but not with a store under them.
LONG_RUNNING = {("devices", "simulate"), ("scan", "watch"), ("demo",), ("bench",)}


def leaves(
    parser: argparse.ArgumentParser, path: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], argparse.ArgumentParser]]:
    """Every runnable command: (its words, its parser)."""
    subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if parser.get_default("run") is not None:
        yield path, parser
    for action in subs:
        for name, sub in action.choices.items():
            yield from leaves(sub, (*path, name))


def bad_arguments(parser: argparse.ArgumentParser) -> list[str]:
    """Arguments that parse but name nothing that exists: positionals and required options."""
    words: list[str] = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction | argparse._HelpAction):
            continue
        if action.option_strings and not action.required:
            continue
        if action.choices is not None:
            value = str(next(iter(action.choices)))
        elif action.type in (int, float) or getattr(action.type, "__name__", "") == "positive":
            value = "999999"
        else:
            value = BAD
        words += [action.option_strings[0], value] if action.option_strings else [value]
    for group in parser._mutually_exclusive_groups:
        if group.required:  # one of them must be given: the first, naming nothing real
            words += [group._group_actions[0].option_strings[0], BAD]
    return words


COMMANDS = sorted(leaves(build_parser()), key=lambda leaf: leaf[0])
IDS = [" ".join(path) or "shipfloor" for path, _ in COMMANDS]


def test_every_command_is_covered() -> None:
    assert len(COMMANDS) > 40, IDS


def _explained(code: int, out: str, err: str) -> None:
    assert code in (0, 1, 2), (code, out, err)
    assert "Traceback" not in out + err, out + err
    assert UNEXPECTED not in err, err
    if code != 0:
        assert err.strip(), "an error must say what went wrong"


@pytest.fixture(scope="module")
def demo_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The small demo site with released work: every kind of thing a command may name."""
    url = f"sqlite:///{tmp_path_factory.mktemp('cli-errors') / 'demo.db'}"
    engine = make_engine(url)
    upgrade(engine)
    demo.seed(engine, "small", 1, lambda _stage, _done, _total: None)
    demo.release_demo_work(engine, lambda _stage, _done, _total: None)
    engine.dispose()
    return url


def test_bad_input_on_a_real_store(demo_url: str, tmp_path: Path) -> None:
    """Each command, as a process of its own, with arguments that name nothing real."""
    runs = [
        ["--db", demo_url, *path, *bad_arguments(parser)]
        for path, parser in COMMANDS
        if path[:2] not in LONG_RUNNING and path[:1] not in LONG_RUNNING
    ]
    env = {**os.environ, "SHIPFLOOR_DEVICES": str(tmp_path / "no-devices.toml")}

    def run(argv: list[str]) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "app.cli", *argv],
            capture_output=True,
            text=True,
            cwd=tmp_path,
            env=env,
            stdin=subprocess.DEVNULL,
            timeout=120,
        )

    with ThreadPoolExecutor(max_workers=2) as pool:
        done = list(pool.map(run, runs))
    failures = []
    for argv, result in zip(runs, done, strict=True):
        try:
            _explained(result.returncode, result.stdout, result.stderr)
        except AssertionError as exc:
            failures.append(f"shipfloor {' '.join(argv[2:])}: {exc}")
    assert not failures, "\n\n".join(failures)


STORE_COMMANDS = [
    (path, parser)
    for path, parser in COMMANDS
    if path[:2] not in LONG_RUNNING and path[:1] not in LONG_RUNNING
]


@pytest.mark.parametrize(
    ("path", "parser"), STORE_COMMANDS, ids=[" ".join(p) for p, _ in STORE_COMMANDS]
)
def test_no_store_and_a_password_never_shown(
    path: tuple[str, ...],
    parser: argparse.ArgumentParser,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SHIPFLOOR_DEVICES", str(tmp_path / "no-devices.toml"))
    for url in (
        f"sqlite:///{tmp_path}/missing/store.db",
        "postgresql://clerk:pa55word-77@127.0.0.1:1/nowhere",
    ):
        code = main(["--db", url, *path, *bad_arguments(parser)])
        out, err = capsys.readouterr()
        _explained(code, out, err)
        assert "pa55word-77" not in out + err
