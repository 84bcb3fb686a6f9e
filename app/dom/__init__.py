"""Distributed order management: which node fulfils which order line, and why."""
