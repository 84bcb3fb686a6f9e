"""Tests of the order store."""
