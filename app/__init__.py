"""The application core: orders, intake, inventory, and the `shipfloor` command."""
