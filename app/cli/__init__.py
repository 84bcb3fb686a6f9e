"""The `shipfloor` command: the composition root that wires the store, the core and the UI.

One module per command group (`db`, `orders`, `route`, `waves`, `devices`, …), each with an
`add_commands(commands, common)` that adds its part of the parser; `common` holds what they
share (the store's engine, output, progress, `CommandError`). Domain packages never import
argparse or rich: only this package talks to the person at the shell.
"""

from __future__ import annotations

from app.cli.parser import build_parser, main

__all__ = ["build_parser", "main"]
