"""The admin pages' words in French and English: words.toml here and each registered host's words.toml in its folder,
read by config/catalogs.py:catalog()."""
from __future__ import annotations

from pathlib import Path

from config.catalogs import catalog

WORDS = catalog(Path(__file__).with_name("words.toml"))


UNITS = {("business", "fr"): ("jour ouvré", "jours ouvrés"), ("business", "en"): ("working day", "working days"),
         ("calendar", "fr"): ("jour", "jours"), ("calendar", "en"): ("day", "days")}
ANCHORS = {"end": ("la fin", "the end"), "notice": ("l'annonce de la fin", "the early-end notice"),
           "bench": ("le premier jour d'intercontrat", "the first bench day")}

ZERO = {"end": ("le jour de la fin", "on the end day"), "notice": ("le jour de l'annonce", "on the day of the notice"),
        "bench": ("le premier jour d'intercontrat", "on the first bench day")}


def label(prefix: str, code: str | None, lang: str) -> str:
    """The admin's word for a code (`label('case', 'natural', 'fr')` → 'Fin naturelle'); the code if unknown."""
    key = f"{prefix}_{code}"
    return word(key, lang) if known(key) else (code or "")


def offset_label(days: int, unit: str, anchor: str, *, lang: str) -> str:
    """'30 jours ouvrés avant la fin', 'on the first bench day', '2 days after the early-end notice'."""
    fr_anchor, en_anchor = ANCHORS.get(anchor, (anchor, anchor))
    if days == 0:
        fr, en = ZERO.get(anchor, (anchor, anchor))
        return en if lang == "en" else fr
    one, many = UNITS.get((unit, "en" if lang == "en" else "fr"), (unit, unit))
    count = f"{abs(days)} {one if abs(days) == 1 else many}"
    if lang == "en":
        return f"{count} {'before' if days < 0 else 'after'} {en_anchor}"
    return f"{count} {'avant' if days < 0 else 'après'} {fr_anchor}"


def of(name: str, lang: str) -> str:
    """'de Boond' / "d'Acme" in French (elision before a vowel or a mute h), 'of Acme' in English."""
    if lang == "en":
        return f"of {name}"
    return f"d'{name}" if name[:1].lower() in "aeiouyhàâéèêëîïôûü" else f"de {name}"


def say(key: str, lang: str, **values) -> str:
    """A message with its values filled in (`say('resume_refused', 'fr', tenant=of('Acme', 'fr'))`)."""
    return word(key, lang).format(**values)


def word(key: str, lang: str) -> str:
    """One UI word in `lang` (French by default)."""
    fr, en = _words().get(key, (key, key))
    return en if lang == "en" else fr


def known(key: str) -> bool:
    """Whether `key` is a word (the generic ones or a registered host's)."""
    return key in _words()


_HOSTS_ADDED: set[str] = set()  # the hosts' `web.words` already added


def _words() -> dict:
    """WORDS with each registered host's own added, once per host (its registry line's `web.words`)."""
    from handlers.hosts.registry import HOSTS, load

    for host in list(HOSTS.values()):
        if host.web.words and host.web.words not in _HOSTS_ADDED:
            _HOSTS_ADDED.add(host.web.words)
            WORDS.update(load(host.web.words))
    return WORDS






PLACEHOLDER_WORDS = {"consultant": ("le consultant", "the consultant"), "client": ("le client", "the client"),
                     "end_date": ("la date de fin", "the end date"), "mission": ("la mission", "the mission")}


def placeholders_as_words(text: str, lang: str) -> str:
    """What the step editor shows: '{consultant}' → '{le consultant}' (the braces say it is replaced)."""
    out = text or ""
    for name, (fr, en) in PLACEHOLDER_WORDS.items():
        out = out.replace("{" + name + "}", "{" + (en if lang == "en" else fr) + "}")
    return out


def placeholders_from_words(text: str) -> str:
    """What the step editor saves: '{le consultant}' or '{the consultant}' → '{consultant}' (any case)."""
    import re

    out = text or ""
    for name, pair in PLACEHOLDER_WORDS.items():
        for said in pair:
            out = re.sub(r"\{\s*" + re.escape(said) + r"\s*\}", "{" + name + "}", out, flags=re.I)
    return out


def placeholders_in_words(text: str, lang: str) -> str:
    """A playbook text with its placeholders as words: '{consultant} libre le {end_date}' → 'le consultant libre le
    la date de fin' (what the admin reads; the host gets the values)."""
    out = text or ""
    for name, (fr, en) in PLACEHOLDER_WORDS.items():
        out = out.replace("{" + name + "}", en if lang == "en" else fr)
    return out





