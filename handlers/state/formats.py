"""The one version of everything Intermission keeps in Redis: snapshots, ledgers, activity, surveys, indexes.

Each stored form is read in its current form only (`store`, `ledger`, `packing`, `surveys.records`): nothing was
released with an earlier one. `FORMAT` is written once in a new database; a worker started against a database
written in another format refuses to start and says what to do, rather than misreading it.
"""
from __future__ import annotations

import redis

from config import keys

FORMAT = 1  # 0.1.0; raise it with any change to a stored form, and add its upgrade step to docs/OPERATIONS.md


class FormatMismatch(RuntimeError):
    """The database was written by another version of the stored forms."""


def ensure(conn: redis.Redis) -> int:
    """Record `FORMAT` in a database that has none; raise FormatMismatch for one written in another format."""
    conn.set(keys.FORMAT, FORMAT, nx=True)
    found = int(conn.get(keys.FORMAT) or FORMAT)
    if found != FORMAT:
        raise FormatMismatch(
            f"this Redis database holds data stored in format {found}, and this version of Intermission reads format "
            f"{FORMAT} only. Nothing has been released with another format: empty the database (FLUSHDB) or point "
            "REDIS_URL at a new one, then run `intermission backfill` for each tenant (docs/OPERATIONS.md, Upgrading)."
        )
    return found
