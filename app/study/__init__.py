"""Studying: the FSRS scheduler wrapper (``scheduler``) and the flashcard-review services
(``review``) that own the SQL for queues, ratings, undo and study settings."""
