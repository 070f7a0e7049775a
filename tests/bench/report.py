"""What a benchmark tells besides its figures: progress and details on stderr (quiet with --json)."""
from __future__ import annotations

import sys

VERBOSE = {"on": True}


def note(text: str) -> None:
    """One line of detail on stderr."""
    if VERBOSE["on"]:
        print(f"  {text}", file=sys.stderr, flush=True)
