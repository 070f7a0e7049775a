"""Encryption at rest for tenant secrets: Fernet keys from settings, rotation through MultiFernet."""
from __future__ import annotations

import os
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

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


ENCRYPTED_KEYS = ("im:t:*:config", "im:t:*:sf:tokens", "im:t:*:boond:tokens")


def rotate_all() -> int:
    """Re-encrypt every stored secret under the newest key (run after adding a key, before dropping the old)."""
    from config.redis_conn import get_redis

    conn, count = get_redis(), 0
    for pattern in ENCRYPTED_KEYS:
        for key in conn.scan_iter(match=pattern, count=500):
            blob = conn.get(key)
            if blob:
                conn.set(key, rotate(blob), keepttl=True)
                count += 1
    return count
