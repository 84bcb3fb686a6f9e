"""Station styles live in ``.tcss`` files a site can theme: no screen, modal or app in
``stations/`` carries inline CSS, every ``CSS_PATH`` names a file that exists and parses,
and every stylesheet is loaded and shipped with the package."""

from __future__ import annotations

import fnmatch
import importlib
import inspect
import pkgutil
import tomllib
from collections.abc import Iterator
from pathlib import Path, PurePath

from textual.app import App
from textual.css.stylesheet import Stylesheet
from textual.screen import Screen
from textual.widget import Widget

import stations
from stations import STYLES

ROOT = Path(stations.__file__).parent
PYPROJECT = ROOT.parent / "pyproject.toml"

REUSABLE_WIDGETS: frozenset[str] = frozenset()
"""Widgets made to be reused (a scale readout, a tote grid) may keep their ``DEFAULT_CSS``
next to their code, as Textual's own widgets do; none is written yet."""


def station_classes() -> Iterator[type]:
    """Every class defined in a module of ``stations``."""
    for info in pkgutil.walk_packages(stations.__path__, "stations."):
        module = importlib.import_module(info.name)
        for _name, found in inspect.getmembers(module, inspect.isclass):
            if found.__module__ == module.__name__:
                yield found


def css_paths(owner: type) -> list[Path]:
    """The files an app's or screen's own ``CSS_PATH`` names, as Textual resolves them."""
    value = vars(owner).get("CSS_PATH")
    if not value:
        return []
    entries = value if isinstance(value, list) else [value]
    here = Path(inspect.getfile(owner)).parent
    return [here / entry if not PurePath(entry).is_absolute() else Path(entry) for entry in entries]


def test_the_classes_are_found() -> None:
    names = {c.__name__ for c in station_classes()}
    assert {"StationApp", "ScanWatchApp", "PickScreen", "LoginScreen", "HelpScreen"} <= names
    assert {"SupervisorScreen", "ShortModal", "QuantityModal", "TypedQuestion"} <= names


def test_no_screen_modal_or_app_has_inline_css() -> None:
    inline = []
    for found in station_classes():
        if not issubclass(found, App | Widget):
            continue
        reusable = (
            issubclass(found, Widget)
            and not issubclass(found, Screen)
            and found.__name__ in REUSABLE_WIDGETS
        )
        for attribute in ("CSS", "DEFAULT_CSS"):
            text = vars(found).get(attribute)
            if isinstance(text, str) and text.strip() and not reusable:
                inline.append(f"{found.__module__}.{found.__name__}.{attribute}")
    assert inline == [], "move these styles into stations/styles/*.tcss"


def test_every_css_path_exists_parses_and_every_stylesheet_is_loaded() -> None:
    loaded: set[Path] = set()
    for found in station_classes():
        for path in css_paths(found):
            assert path.is_file(), f"{found.__name__}.CSS_PATH names {path}, which is missing"
            loaded.add(path.resolve())
    files = {p.resolve() for p in STYLES.glob("*.tcss")}
    assert files, "no stylesheets under stations/styles"
    assert files == loaded, "a stylesheet that no CSS_PATH loads, or one outside styles/"
    sheet = Stylesheet(variables=App().get_css_variables())
    for path in sorted(files):
        sheet.read(path)
    sheet.parse()  # raises StylesheetParseError naming the file and line


def test_the_stylesheets_ship_with_the_package() -> None:
    data = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))
    patterns = data["tool"]["setuptools"]["package-data"]["stations"]
    for path in STYLES.glob("*.tcss"):
        relative = path.relative_to(ROOT).as_posix()
        assert any(fnmatch.fnmatch(relative, p) for p in patterns), relative
