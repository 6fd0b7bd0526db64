"""``python -m app`` runs the same CLI as the ``interview-lab`` console script."""

from app.cli import main

main()
