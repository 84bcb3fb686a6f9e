"""Build hook: the command reference is rendered from the `shipfloor` command's own parser.

At every build, :func:`on_files` adds ``reference/commands.md`` to the site, made by
walking ``app.cli.build_parser()`` (its subcommands, recursively): each command's usage,
help and options with their help texts. Nothing generated is kept in the repository, so
the reference cannot drift from the code; ``tests/test_docs.py`` checks every command is
in it.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from typing import NamedTuple

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.structure.files import File, Files

PAGE = "reference/commands.md"
"""Where the reference appears in the site (it is in the nav under that name)."""
USAGE_WIDTH = 88
"""Usage lines are wrapped at this width whatever the terminal building the docs."""

INTRO = """\
# Command reference

Every `shipfloor` command, its usage and options. This page is generated from the
command's own parser each time the docs are built, so it says what the installed version
accepts; `shipfloor COMMAND --help` prints the same. How `--db`, `--json` and exit codes
work for every command is in [Getting started](../getting-started.md#the-shipfloor-command).
"""


class Command(NamedTuple):
    """One command of the tree: its words (``("shipfloor", "wave", "plan")``), its parser,
    and the one-line help its parent gave it."""

    path: tuple[str, ...]
    parser: argparse.ArgumentParser
    help: str

    @property
    def name(self) -> str:
        return " ".join(self.path)

    @property
    def anchor(self) -> str:
        """The heading's id, as the Markdown table of contents makes it."""
        return "-".join(self.path).lower()


def walk(
    parser: argparse.ArgumentParser, path: tuple[str, ...] = ("shipfloor",)
) -> Iterator[Command]:
    """The parser and every subcommand under it, depth first, in the order they were added."""
    yield from _walk(parser, path, parser.description or "")


def _walk(
    parser: argparse.ArgumentParser, path: tuple[str, ...], help_text: str
) -> Iterator[Command]:
    yield Command(path, parser, help_text)
    for sub, name, sub_help in _subcommands(parser):
        yield from _walk(sub, (*path, name), sub_help)


def _subcommands(
    parser: argparse.ArgumentParser,
) -> Iterator[tuple[argparse.ArgumentParser, str, str]]:
    seen: set[int] = set()
    for action in parser._actions:
        if not isinstance(action, argparse._SubParsersAction):
            continue
        helps = {a.dest: a.help for a in getattr(action, "_choices_actions", [])}
        for name, sub in action.choices.items():
            if id(sub) in seen:  # an alias of a command already listed
                continue
            seen.add(id(sub))
            help_text = helps.get(name)
            if help_text == argparse.SUPPRESS:
                continue
            yield sub, name, help_text or ""


def render(parser: argparse.ArgumentParser) -> str:
    """The reference page (Markdown) for ``parser`` and all its subcommands."""
    commands = list(walk(parser))
    root_db = _db_help(parser)
    out = [INTRO]
    for command in commands:
        out.append(_section(command, root_db))
    return "\n".join(out).rstrip() + "\n"


def _section(command: Command, root_db: str | None) -> str:
    level = "#" * min(max(len(command.path), 2), 6)
    lines = [f"{level} {command.name}", ""]
    if command.help:
        lines += [_text(_sentence(command.help)), ""]
    description = command.parser.description
    if description and description != command.help:
        lines += [_text(description), ""]
    lines += ["```text", _usage(command.parser).rstrip(), "```", ""]
    subs = list(_subcommands(command.parser))
    if subs:
        lines += ["Commands:", ""]
        for sub, name, sub_help in subs:
            child = Command((*command.path, name), sub, sub_help)
            dash = f" — {_text(sub_help)}" if sub_help else ""
            lines.append(f"- [`{child.name}`](#{child.anchor}){dash}")
        lines.append("")
    arguments = [a for a in command.parser._actions if _shown(a, root_db, len(command.path))]
    if arguments:
        lines += ["Arguments and options:", ""]
        lines += [_argument(a) for a in arguments]
        lines.append("")
    if command.parser.epilog:
        lines += [_text(command.parser.epilog), ""]
    return "\n".join(lines)


def _usage(parser: argparse.ArgumentParser) -> str:
    def formatter(prog: str) -> argparse.HelpFormatter:
        return argparse.HelpFormatter(prog, width=USAGE_WIDTH)

    parser.formatter_class = formatter
    return parser.format_usage()


def _db_help(parser: argparse.ArgumentParser) -> str | None:
    return next((a.help for a in parser._actions if "--db" in a.option_strings), None)


def _shown(action: argparse.Action, root_db: str | None, depth: int) -> bool:
    """Options and positionals worth a line: not --help, not the subcommand slot, and
    ``--db`` only on the top level (every command takes it with the same meaning)."""
    if isinstance(action, argparse._HelpAction | argparse._SubParsersAction):
        return False
    if action.help == argparse.SUPPRESS:
        return False
    return not (depth > 1 and "--db" in action.option_strings and action.help == root_db)


def _argument(action: argparse.Action) -> str:
    signature = _signature(action)
    notes: list[str] = []
    if action.option_strings and action.required:
        notes.append("required")
    if action.choices is not None and action.metavar is not None:
        choices = [str(c) for c in action.choices]
        if not all(c in (action.help or "") for c in choices):
            notes.append("one of " + ", ".join(f"`{c}`" for c in choices))
    text = _text(_expand(action)) if action.help else ""
    if notes:
        text = f"{text} ({'; '.join(notes)})" if text else f"({'; '.join(notes)})"
    return f"- `{signature}`" + (f" — {text}" if text else "")


def _metavar(action: argparse.Action) -> str:
    if isinstance(action.metavar, str):
        return action.metavar
    if isinstance(action.metavar, tuple):
        return " ".join(action.metavar)
    if action.choices is not None:
        return "{" + ",".join(str(c) for c in action.choices) + "}"
    return action.dest if not action.option_strings else action.dest.upper()


def _signature(action: argparse.Action) -> str:
    metavar = _metavar(action)
    nargs = action.nargs
    if nargs == 0:
        value = ""
    elif nargs == argparse.OPTIONAL:
        value = f"[{metavar}]"
    elif nargs == argparse.ZERO_OR_MORE:
        value = f"[{metavar} ...]"
    elif nargs == argparse.ONE_OR_MORE:
        value = f"{metavar} [{metavar} ...]"
    elif isinstance(nargs, int):
        value = " ".join([metavar] * nargs)
    else:
        value = metavar
    if not action.option_strings:
        return value
    flags = ", ".join(action.option_strings)
    return f"{flags} {value}" if value else flags


def _expand(action: argparse.Action) -> str:
    """A help text with argparse's ``%(default)s``-style fields filled in, as --help does."""
    help_text = action.help or ""
    if "%" not in help_text:
        return help_text
    params = {k: v for k, v in vars(action).items() if v is not argparse.SUPPRESS}
    if params.get("choices") is not None:
        params["choices"] = ", ".join(str(c) for c in params["choices"])
    try:
        return help_text % params
    except (KeyError, TypeError, ValueError):
        return help_text


def _sentence(text: str) -> str:
    text = text.strip()
    return text[:1].upper() + text[1:] if text else text


def _text(text: str) -> str:
    """Help text as Markdown: backticks stay code, nothing else is read as markup."""
    out = []
    for i, part in enumerate(text.split("`")):
        if i % 2:
            out.append(f"`{part}`")
            continue
        part = part.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        for char in "\\*_[]":
            part = part.replace(char, "\\" + char)
        out.append(part)
    return "".join(out)


def on_files(files: Files, config: MkDocsConfig) -> Files:
    """Add the generated reference page to the site's files."""
    from app.cli import build_parser

    files.append(File.generated(config, PAGE, content=render(build_parser())))
    return files
