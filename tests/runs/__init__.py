"""Tests of a run's life: caps, fairness, the single owner of its status, resends."""
