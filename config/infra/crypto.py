"""Encryption at rest for tenant secrets: Fernet keys from settings, rotation through MultiFernet."""
from __future__ import annotations

import os
import re
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from config import keys as redis_keys  # (`keys` here are Fernet keys)
from config.settings import get_settings

__all__ = ["encrypt", "decrypt", "InvalidToken", "reset_keys"]


def _key_file_keys() -> list[bytes]:
    """Keys kept under the data folder when none are configured (demo and development)."""
    path = get_settings().data_dir / "secret.key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(Fernet.generate_key())
    return [path.read_bytes().strip()]


@lru_cache(maxsize=1)
def _fernet() -> MultiFernet:
    raw = get_settings().secret_keys
    keys = [k.strip().encode() for k in raw.split(",") if k.strip()] if raw else _key_file_keys()
    return MultiFernet([Fernet(k) for k in keys])


def encrypt(plain: bytes) -> bytes:
    """Encrypt with the newest key."""
    return _fernet().encrypt(plain)


def decrypt(token: bytes) -> bytes:
    """Decrypt with any configured key (raises InvalidToken otherwise)."""
    return _fernet().decrypt(token)


def rotate(token: bytes) -> bytes:
    """Re-encrypt a value under the newest key."""
    return _fernet().rotate(token)


def reset_keys() -> None:
    """Forget cached keys (after settings change)."""
    _fernet.cache_clear()


def generate_key() -> str:
    """A new Fernet key to put first in INTERMISSION_SECRET_KEYS."""
    return Fernet.generate_key().decode()


ENCRYPTED_KEYS = tuple(build("*") for build in redis_keys.ENCRYPTED)
SEALED_IN_HASHES = (redis_keys.surveys("*", "*"),)  # JSON hash values holding "fernet:…" strings (survey link tokens)
_SEALED = re.compile(rb'"fernet:([A-Za-z0-9_=-]+)"')
_SET_IF_SAME = ("if redis.call('HGET', KEYS[1], ARGV[1]) == ARGV[2] then "
                "return redis.call('HSET', KEYS[1], ARGV[1], ARGV[3]) end return -1")


def rotate_all() -> int:
    """Re-encrypt every stored secret under the newest key (run after adding a key, before dropping the old)."""
    from config.infra.redis_conn import get_redis

    conn, count = get_redis(), 0
    for pattern in ENCRYPTED_KEYS:
        for key in conn.scan_iter(match=pattern, count=500):
            blob = conn.get(key)
            if blob:
                conn.set(key, rotate(blob), keepttl=True)
                count += 1
    return count + _rotate_sealed(conn)


def _rotate_sealed(conn) -> int:
    """Re-encrypt the sealed strings inside JSON hash values; a value changed meanwhile is left to the next run."""
    count = 0
    for pattern in SEALED_IN_HASHES:
        for key in conn.scan_iter(match=pattern, count=500):
            for field, value in conn.hgetall(key).items():
                fresh = _SEALED.sub(lambda m: b'"fernet:' + rotate(m.group(1)) + b'"', value)
                if fresh != value and conn.eval(_SET_IF_SAME, 1, key, field, value, fresh) != -1:
                    count += 1
    return count
