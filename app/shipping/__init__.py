"""Packages, shipping labels, packing slips, invoices and carrier manifests."""
