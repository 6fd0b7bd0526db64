"""The web process: routers for pages and the JSON API. Never imports torch."""
