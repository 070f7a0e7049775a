"""The pages' words are data: TOML catalogs (webhooks/admin/words.toml, a host's words.toml and connect.toml in its
folder) read by one loader, config/catalogs.py:catalog(), which refuses at load a key missing a language or with
an empty text, naming the file and the key (issue #24)."""

from __future__ import annotations

from pathlib import Path

import pytest

from config.catalogs import CatalogError, catalog
from webhooks.admin.i18n import known, say, word

ROOT = Path(__file__).resolve().parents[2]
CATALOGS = sorted([*(ROOT / "webhooks").rglob("*.toml"), *(ROOT / "handlers").rglob("*.toml")])


@pytest.mark.parametrize("path", CATALOGS, ids=lambda path: path.relative_to(ROOT).as_posix())
def test_every_shipped_catalog_has_each_key_in_french_and_english(path):
    words = catalog(path)
    assert words
    for key, (fr, en) in words.items():
        assert fr and en, key


def test_the_pages_get_the_generic_words_and_each_host_s_from_their_catalogs():
    assert word("overview", "fr") == "Vue d'ensemble" and word("overview", "en") == "Overview"
    assert word("forecast", "en") == "Forecast: the next 13 weeks"  # the forecast's words are in the same catalog
    assert say("margin_of", "fr", n=3) == "L'intercontrat de ce mois coûte la marge de 3 consultants en mission"
    assert known("sf_usage") and say("sf_usage", "en", used=5, limit=100) == "5 of 100 API calls used today"
    assert known("boond_action_type") and word("boond_action_type", "fr") == "Type d'action Boond"
    assert not known("no_such_word") and word("no_such_word", "en") == "no_such_word"


def test_a_connection_page_is_a_table_of_texts_in_each_language():
    (path,) = [path for path in CATALOGS if path.name == "connect.toml"]
    pages = catalog(path)
    fr, en = pages["bad_link"]
    assert set(fr) == set(en) == {"title", "message", "next_step"}
    assert en["title"] == "Link not valid"
    assert "next_step" not in pages["connected"][0]  # once connected, no next step


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "words.toml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ('save = { fr = "Enregistrer" }\n', "key 'save' must have exactly the languages ['fr', 'en'], not ['fr']"),
        ('save = { fr = "Enregistrer", en = "Save", de = "Speichern" }\n', "key 'save' must have exactly the languages"),
        ('save = "Enregistrer"\n', "key 'save' must have exactly the languages ['fr', 'en'], not str"),
        ('save = { fr = "Enregistrer", en = "  " }\n', "key 'save.en' must be a text that is not empty"),
        ('save = { fr = "Enregistrer", en = 3 }\n', "key 'save.en' must be a text that is not empty"),
        (
            '[page.fr]\ntitle = "Titre"\n[page.en]\ntitle = "Title"\nmessage = "Text"\n',
            "key 'page' must have the same texts in both languages",
        ),
        ('[page.fr]\ntitle = ""\n[page.en]\ntitle = "Title"\n', "key 'page.fr.title' must be a text that is not empty"),
        ('save = { fr = "Enregistrer", en = "Save"\n', "cannot read the words catalog"),
    ],
)
def test_a_catalog_missing_a_language_or_a_text_is_refused_at_load_naming_the_file_and_the_key(tmp_path, text, said):
    path = write(tmp_path, text)
    with pytest.raises(CatalogError) as refused:
        catalog(path)
    assert str(refused.value).startswith(f"{path}: ") and said in str(refused.value)


def test_a_key_s_two_languages_may_be_written_inline_or_on_two_lines(tmp_path):
    path = write(tmp_path, 'save = { fr = "Enregistrer", en = "Save" }\nlong.fr = "Un texte long"\nlong.en = "A long text"\n')
    assert catalog(path) == {"save": ("Enregistrer", "Save"), "long": ("Un texte long", "A long text")}
