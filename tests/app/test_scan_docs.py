"""Every barcode the operators' pages show scans: the site barcode table of
docs/admin/devices.md, each example through `shipfloor scan parse` (the support tool)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from app.barcodes import SITE_PREFIXES
from tests.cli import main

DEVICES_PAGE = Path(__file__).resolve().parents[2] / "docs" / "admin" / "devices.md"


def table_examples() -> list[tuple[str, str]]:
    """(prefix, example) of each row of the site barcode table."""
    text = DEVICES_PAGE.read_text(encoding="utf-8")
    table = text[text.index("| prefix | what | example |") :].split("\n\n", 1)[0]
    rows = re.findall(r"^\| `([A-Z]+-)` \| [^|]+ \| `([^`]+)` \|$", table, flags=re.MULTILINE)
    return rows


def test_the_table_shows_every_site_prefix() -> None:
    assert sorted(p for p, _ in table_examples()) == sorted(f"{p}-" for p in SITE_PREFIXES)


@pytest.mark.parametrize(("prefix", "example"), table_examples())
def test_each_example_in_the_table_is_accepted(
    prefix: str, example: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert example.startswith(prefix)
    assert main(["scan", "parse", example]) == 0, capsys.readouterr().err
    said = capsys.readouterr().out
    assert f"site {SITE_PREFIXES[prefix[:-1]]} barcode" in said
