"""The hosts a tenant may name, each with its settings' model: the class, or its "module:Class" name imported on first
use (None: the host needs none). The standard library only, so that the host registry (handlers/hosts/registry.py,
which fills this) lists the hosts without loading pydantic or a host's client; config.tenants reads it."""

from __future__ import annotations

import importlib
from collections.abc import Iterator, Mapping
from typing import Any

_MODELS: dict[str, Any] = {}


def register(name: str, model: Any) -> None:
    """Let tenants name this host, its settings read by `model` (a class, a "module:Class" name, or None)."""
    _MODELS[name] = model


def unregister(name: str) -> None:
    """Forget a host registered by a test."""
    _MODELS.pop(name, None)


class Models(Mapping):
    """Host name → its settings' model class (or None), a named model imported when first asked for."""

    def __getitem__(self, name: str) -> Any:
        model = _MODELS[name]
        if isinstance(model, str):
            module, _, attribute = model.partition(":")
            model = _MODELS[name] = getattr(importlib.import_module(module), attribute)
        return model

    def __iter__(self) -> Iterator[str]:
        return iter(list(_MODELS))

    def __len__(self) -> int:
        return len(_MODELS)


MODELS = Models()
