"""Boond's words on the admin pages, in French and English: words.toml beside this module (its registry line's
`web.words`; the admin pages' i18n adds them)."""

from __future__ import annotations

from pathlib import Path

from config.catalogs import catalog

WORDS = catalog(Path(__file__).with_name("words.toml"))
