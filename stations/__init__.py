"""The Textual station UI: one App with a mode per station role (built by a later issue)."""
