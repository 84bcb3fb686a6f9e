"""Order intake: read channel files, verify each order, store good ones in bulk."""
