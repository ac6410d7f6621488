"""The `coordinator` executable."""

from __future__ import annotations

import os
import sys


def main() -> None:
    """Run the command line; a reader that stops reading (`coordinator events | head -1`) ends it quietly, exit 0."""
    from cli.main import app

    try:
        app()
    except BrokenPipeError:
        _quiet_stdout()
        sys.exit(0)
    except SystemExit as done:
        if _pipe_closed():
            _quiet_stdout()
            sys.exit(0)
        raise done from None


def _pipe_closed() -> bool:
    """Whether the command line stopped because standard output's reader went away (it then wraps the streams)."""
    return type(sys.stdout).__name__ == "PacifyFlushWrapper"


def _quiet_stdout() -> None:
    """Point standard output at /dev/null, so flushing it at exit raises nothing more."""
    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
