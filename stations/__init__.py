"""The Textual station UI: one App with a mode per station role, its screens and styles."""

from pathlib import Path

STYLES = Path(__file__).with_name("styles")
"""The stations' Textual stylesheets (``.tcss``), loaded by each app's ``CSS_PATH``; a site
themes the stations by editing them."""
