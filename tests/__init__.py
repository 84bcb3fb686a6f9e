"""Shipfloor's test suites, mirroring the project's folders."""
