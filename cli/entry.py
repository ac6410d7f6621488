"""The `coordinator` executable: the quickest queries are answered without loading the full command."""

from __future__ import annotations

import os
import sys


def main() -> None:
    """Answer from the read models when possible, else run the full command line."""
    from cli.fast import answer

    try:
        code = answer(sys.argv[1:])
        if code is not None:
            sys.stdout.flush()
            sys.exit(code)
    except BrokenPipeError:  # e.g. `coordinator status | head -3`: the reader has what it wanted
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(0)
    from cli.main import app

    app()
