"""The UI names only the core's own types: no name a stations module imports from ``app``
is a store type (a model, an enum, a session) that ``app`` merely passes on. import-linter
sees modules, not names, so ``from app.x import SomeStoreEnum`` would pass its contracts;
this test does not let it."""

from __future__ import annotations

import ast
import importlib
from collections.abc import Iterator
from pathlib import Path

import stations

ROOT = Path(stations.__file__).parent


def imported_names() -> Iterator[tuple[str, str, str]]:
    """(stations file, app module, name) for every ``from app… import name``."""
    for path in sorted(ROOT.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, ast.ImportFrom) or node.level or not node.module:
                continue
            if node.module.split(".")[0] == "app":
                for alias in node.names:
                    yield path.name, node.module, alias.name


def test_stations_import_names_from_the_core() -> None:
    assert any(module == "app.picking.flow" for _f, module, _n in imported_names())


def test_no_store_type_reaches_stations_through_the_core() -> None:
    store_types = []
    for file, module, name in imported_names():
        found = getattr(importlib.import_module(module), name)
        home = getattr(found, "__module__", None) or ""
        if home == "data" or home.startswith(("data.", "sqlalchemy")):
            store_types.append(f"{file}: {name} from {module} is {home}.{name}")
    assert store_types == [], "give the core its own frozen type for these"
