"""``python -m app`` runs the same CLI as the ``interview-lab`` console script."""

import gc
import sys

if sys.argv[1:2] == ["serve"]:
    # Before the CLI's imports too (the serve command turns the collector off itself,
    # after them): see ``app.cli.serve_command``. Spawned demo workers never run this
    # module (multiprocessing skips a ``__main__`` run by ``-m``).
    gc.disable()

from app.cli import main  # noqa: E402 - after the collector is off

main()
