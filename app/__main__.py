"""``python -m app`` and the ``interview-lab`` console script: the CLI, with the garbage
collector off from the first line when the command is ``serve``.

The collector is turned off before the CLI's imports (typer, rich, SQLAlchemy...): the
start builds ~100,000 objects that live as long as the process, and the collector's passes
over them cost ~0.1 s of CPU before the first page (``app.cli.serve_command`` turns it
back on when the server settles). Spawned demo workers never run this module
(multiprocessing skips a ``__main__`` run by ``-m``).
"""

import gc
import sys


def main() -> None:
    if sys.argv[1:2] == ["serve"]:
        gc.disable()
    from app.cli import main as cli_main  # after the collector is off

    cli_main()


if __name__ == "__main__":
    main()
