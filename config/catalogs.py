"""The one loader of the words catalogs: the pages' and the actions' texts in French and English are data, TOML files
beside the code that shows them (webhooks/admin/words.toml, a host's words.toml, handlers/domain/plan.toml), each key
with its two languages side by side; a catalog that cannot serve both languages is refused when it is loaded."""

from __future__ import annotations

import tomllib
from pathlib import Path

LANGUAGES = ("fr", "en")


class CatalogError(ValueError):
    """A words catalog that cannot give each of its texts in both languages (raised when it is loaded, naming the file and
    the key)."""


def catalog(path: str | Path) -> dict[str, tuple]:
    """A TOML words catalog as `{key: (French, English)}`.

    Each key holds its two languages side by side, `key = { fr = "…", en = "…" }` (or `key.fr = …` / `key.en = …`); a
    language's text is a string or, for a page of several texts, a table of strings with the same fields in both
    languages. Every key must have both languages and no other, and no text may be empty: anything else is refused
    here, at load, with the file and the key, never on a page."""
    path = Path(path)
    try:
        with path.open("rb") as file:
            found = tomllib.load(file)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise CatalogError(f"{path}: cannot read the words catalog: {exc}") from exc
    words: dict[str, tuple] = {}
    for key, entry in found.items():
        if not isinstance(entry, dict) or set(entry) != set(LANGUAGES):
            have = sorted(entry) if isinstance(entry, dict) else type(entry).__name__
            raise CatalogError(f"{path}: key {key!r} must have exactly the languages {list(LANGUAGES)}, not {have}")
        fr, en = (_text(path, f"{key}.{lang}", entry[lang]) for lang in LANGUAGES)
        if isinstance(fr, dict) != isinstance(en, dict) or (isinstance(fr, dict) and set(fr) != set(en)):
            raise CatalogError(f"{path}: key {key!r} must have the same texts in both languages")
        words[key] = (fr, en)
    return words


def _text(path: Path, where: str, value):
    """One language's text: a non-empty string, or a table of them."""
    if isinstance(value, dict):
        return {name: _text(path, f"{where}.{name}", text) for name, text in value.items()}
    if not isinstance(value, str) or not value.strip():
        raise CatalogError(f"{path}: key {where!r} must be a text that is not empty")
    return value
