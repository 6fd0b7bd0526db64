"""Demo runs as the web process sees them: create (cache, limits), read, cancel. The
workers that execute them live in ``app.worker``; the demos in ``app.demos``."""
