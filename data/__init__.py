"""The order store: typed models, engine set-up, unit of work, migrations and demo data."""
