"""Printed documents (labels, slips, invoices, manifests) as pure functions (a later issue)."""
