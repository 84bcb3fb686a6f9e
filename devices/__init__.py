"""Scanners, scales and printer transports, and simulators of each (built by a later issue)."""
