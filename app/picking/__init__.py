"""Picking: warehouse layouts, pick-path routing, order batching and waves."""
