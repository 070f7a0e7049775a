"""Kept for `python -m config.cli` in tests/bench (issue #18's files at the time of the move): the CLI is intermission_cli."""

import sys

from intermission_cli.main import main

if __name__ == "__main__":
    sys.exit(main())
