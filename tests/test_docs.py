"""The docs: every command they show parses, the command reference covers every command,
and the site builds with no broken link (as `make docs` and CI build it)."""

from __future__ import annotations

import argparse
import importlib.util
import re
import shlex
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from app.cli import build_parser

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
PREFIXES = ("$ shipfloor ", ".venv/bin/shipfloor ", "shipfloor ")
FENCE = re.compile(r"^\s*(```|~~~)")


def shown_commands() -> Iterator[tuple[str, str]]:
    """(where, arguments) for every `shipfloor …` line in a fenced code block of the docs."""
    for page in PAGES:
        inside = False
        for number, line in enumerate(page.read_text(encoding="utf-8").splitlines(), 1):
            if FENCE.match(line):
                inside = not inside
                continue
            text = line.strip()
            if not inside:
                continue
            for prefix in PREFIXES:
                if text.startswith(prefix) or text == prefix.strip():
                    where = f"{page.relative_to(ROOT)}:{number}"
                    yield where, text[len(prefix) :]
                    break


COMMANDS = list(shown_commands())


def test_the_docs_show_commands() -> None:
    assert len(COMMANDS) > 50, [where for where, _ in COMMANDS]


@pytest.mark.parametrize("arguments", [c[1] for c in COMMANDS], ids=[c[0] for c in COMMANDS])
def test_every_command_in_the_docs_parses(
    arguments: str, capsys: pytest.CaptureFixture[str]
) -> None:
    try:
        build_parser().parse_args(shlex.split(arguments, comments=True))
    except SystemExit:
        pytest.fail(f"`shipfloor {arguments}` does not parse: {capsys.readouterr().err}")


@pytest.mark.parametrize("arguments", [c[1] for c in COMMANDS], ids=[c[0] for c in COMMANDS])
def test_every_command_in_the_docs_that_changes_the_floor_says_who_runs_it(
    arguments: str,
) -> None:
    from app.cli.common import acts

    args = build_parser().parse_args(shlex.split(arguments, comments=True))
    if acts(args):
        assert args.user is not None or args.token_env is not None, (
            f"`shipfloor {arguments}` would be refused: show --user BADGE or --token-env VAR"
        )


def walk(parser: argparse.ArgumentParser, path: tuple[str, ...]) -> Iterator[tuple[str, ...]]:
    yield path
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from walk(sub, (*path, name))


def _reference() -> Callable[[argparse.ArgumentParser], str]:
    path = ROOT / "docs" / "hooks" / "commands.py"
    spec = importlib.util.spec_from_file_location("shipfloor_docs_commands", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    render: Callable[[argparse.ArgumentParser], str] = module.render
    return render


def test_the_command_reference_has_every_command_and_option() -> None:
    page = _reference()(build_parser())
    sections: dict[str, str] = {}
    heading = ""
    for line in page.splitlines():
        found = re.fullmatch(r"#{2,6} (shipfloor.*)", line)
        if found:
            heading = found.group(1)
            sections[heading] = ""
        elif heading:
            sections[heading] += line + "\n"
    paths = list(walk(build_parser(), ("shipfloor",)))
    assert len(paths) > 60
    for words in paths:
        name = " ".join(words)
        assert name in sections, f"{name} is not in the command reference"
    # Each command's own options are listed under it, with their help.
    wave_plan = sections["shipfloor wave plan"]
    assert "usage: shipfloor wave plan" in wave_plan
    assert "- `--node CODE` — " in wave_plan
    assert "- `--json` — print one JSON object on stdout" in wave_plan
    assert "- `FILE`" in sections["shipfloor orders import"]
    assert "(required)" in sections["shipfloor print deliver"]  # its --station
    assert "[`shipfloor wave release`](#shipfloor-wave-release)" in sections["shipfloor wave"]


@pytest.mark.slow
def test_the_docs_site_builds_strictly(tmp_path: Path) -> None:
    """A broken link or anchor, a page left out of the nav or a missing snapshot fails it."""
    site = tmp_path / "site"
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    pick = (site / "stations" / "pick" / "index.html").read_text(encoding="utf-8")
    assert "Scan your badge (or key its id and Enter)" in pick  # the login snapshot
    reference = (site / "reference" / "commands" / "index.html").read_text(encoding="utf-8")
    assert "usage: shipfloor wave release" in reference


def test_the_security_page_shows_the_permission_table_the_program_checks() -> None:
    from app.access import PERMISSIONS
    from data.models import Role

    page = (ROOT / "docs" / "admin" / "security.md").read_text(encoding="utf-8")
    header = next(line for line in page.splitlines() if line.startswith("| command |"))
    roles = [Role(cell.strip()) for cell in header.strip("|").split("|")[1:]]
    shown: dict[str, frozenset[Role]] = {}
    for line in page.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("| `") and len(cells) == len(roles) + 1:
            shown[cells[0].strip("`")] = frozenset(
                r for r, cell in zip(roles, cells[1:], strict=True) if cell == "yes"
            )
    assert shown == {a.value: roles_ for a, roles_ in PERMISSIONS.items()}
