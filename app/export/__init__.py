"""Export and import: the question bank as an Anki deck (``app.export.anki``) and a
user's own study data as JSON (``app.export.userdata``); the command line in
``app.export.cli``."""
