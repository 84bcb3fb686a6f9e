"""The pick station: claim a pick list, load the totes, confirm every pick, and its benchmark."""
