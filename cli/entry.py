"""The `coordinator` executable: the quickest queries are answered without loading the full command."""

from __future__ import annotations

import sys


def main() -> None:
    """Answer from the read models when possible, else run the full command line."""
    from cli.fast import answer

    code = answer(sys.argv[1:])
    if code is not None:
        sys.exit(code)
    from cli.main import app

    app()
