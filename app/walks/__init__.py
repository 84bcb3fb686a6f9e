"""Walks: warehouse layouts and the path a picker walks through them."""
