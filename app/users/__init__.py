"""Users: the built-in local user of the embedded default, and accounts with login."""
