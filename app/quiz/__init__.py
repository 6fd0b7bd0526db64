"""Quizzes over a slice of the bank: build (items), grade (answers), service (persistence)."""
