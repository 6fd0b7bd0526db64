"""Tests of run execution and the local worker pool (with test-only demos)."""
