"""A long-running process's start-up objects kept out of the garbage collector's full passes."""
from __future__ import annotations

import gc


def freeze_startup() -> None:
    """Move every object alive now (modules, classes, the tables read at start-up: ~63,000 in a worker) to the
    collector's permanent generation, once start-up is done.

    A full collection then walks only what was made since. Before, each one walked them all: 16-25 ms a pass on an
    idle machine and 45-100 ms on a busy one (measured in the `latency` benchmark's workers and web processes, three
    or so a minute each), a pause of every thread of the process, a job's or a webhook's latency. Start-up's own
    garbage is collected first, so nothing already dead is kept for the process's life."""
    gc.collect()
    gc.freeze()
