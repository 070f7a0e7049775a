"""The classifier's reasons (English, as the activity log keeps them) in the admin's language.

`handlers.domain.classify` writes a reason from a small fixed vocabulary of phrases joined by "; ". Each phrase is
rendered here; a phrase this table does not know is shown as it is (never lost, never an error).
"""
from __future__ import annotations

import re

_FR = [
    (r"planned end", "fin prévue"),
    (r"end date cleared", "date de fin effacée"),
    (r"mission (cancelled|deleted)", lambda m: "mission " + {"cancelled": "annulée", "deleted": "supprimée"}[m[1]]),
    (r"end moved later \((.+?) → (.+?)\)", r"fin repoussée (\1 → \2)"),
    (r"end moved earlier \((.+?) → (.+?)\) with no reason mapped to client or consultant: treated as natural, "
     r"to confirm", r"fin avancée (\1 → \2) sans motif associé au client ou au consultant : traitée comme une fin "
                    r"prévue, à confirmer"),
    (r"the host marks an early end by the (client|consultant)",
     lambda m: f"l'outil indique une fin anticipée par le {m[1]}"),
    (r"host state (.+?) mapped to (client|consultant)",  # the phrase before, in the activity log kept
     lambda m: f"l'outil indique une fin anticipée par le {m[2]}"),
    (r"first seen on (\S+), (\d+) days after the end \(over (\d+)\): no end-of-mission steps",
     r"vue pour la première fois le \1, \2 jours après la fin (plus de \3) : pas d'étapes de fin de mission"),
    (r"the consultant left the firm: no bench", "le consultant a quitté l'entreprise : pas d'intercontrat"),
    (r"the consultant contract ends on (\S+): no bench", r"le contrat du consultant finit le \1 : pas d'intercontrat"),
    (r"still staffed elsewhere: (.+) keeps the consultant busy", r"toujours en mission ailleurs : \1 l'occupe"),
    (r"next mission starts right after the end", "la mission suivante commence juste après la fin"),
    (r"next mission started on (\S+): bench closed", r"mission suivante commencée le \1 : intercontrat clos"),
    (r"next mission starts on (\S+): on the bench until then", r"mission suivante le \1 : intercontrat d'ici là"),
    (r"still staffed elsewhere \((.+)\) below the (\d+) % threshold: on the bench",
     r"toujours en mission ailleurs (\1), sous le seuil de \2 % : en intercontrat"),
    (r"state (\S+) \((.+)\) not mapped", r"état \1 (\2) non associé"),
    (r"next mission unknown: (.+)", r"mission suivante inconnue : \1"),
    # issue #25: missions as chains, replacements, who is never on the bench
    (r"continues in (.+) from (\S+) \(same (project|client)\): not an end, the mission ends with the chain's last one",
     lambda m: f"se poursuit dans {m[1]} à partir du {m[2]} (même {'projet' if m[3] == 'project' else 'client'}) : "
               "pas une fin, la mission finit avec la dernière de la suite"),
    (r"replaced by (.+)", lambda m: "remplacé par " + m[1].replace("another consultant", "un autre consultant")
     .replace(" from ", " à partir du ")),
    (r"replacement unknown: the host does not let us read the project's other missions|"
     r"replacement unknown: GET \S+ answered \S+",  # the phrase before, with the API path, in the activity log kept
     "remplaçant inconnu : l'outil ne laisse pas lire les autres missions du projet"),
    (r"replacement unknown: (.+)", r"remplaçant inconnu : \1"),
    (r"the consultant is external \(subcontractor or freelance\): no bench",
     "le consultant est externe (sous-traitant ou indépendant) : pas d'intercontrat"),
    (r"the consultant's record says they are on a mission: no bench",
     "la fiche du consultant le dit en mission : pas d'intercontrat"),
    (r"an old mission and the consultant's other missions are unknown: no bench",
     "une mission ancienne et les autres missions du consultant sont inconnues : pas d'intercontrat"),
    (r"consultants on or coming back to the bench ranked for the open opportunities",  # issue #29: matching runs
     "consultants en intercontrat ou qui y reviennent, rapprochés des opportunités ouvertes"),
]
_COMPILED = [(re.compile(rf"^{pattern}$"), repl) for pattern, repl in _FR]
_ISO_DAY = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")  # a day as the reasons keep it, 2026-03-30


def reason_in(lang: str, reason: str | None) -> str:
    """The reason in `lang` ('fr' translates each known phrase; other languages keep the English)."""
    if not reason or lang != "fr":
        return reason or ""
    return _ISO_DAY.sub(r"\3/\2/\1", "; ".join(_phrase(part.strip()) for part in reason.split(";")))


def _phrase(part: str) -> str:
    for pattern, repl in _COMPILED:
        if pattern.match(part):
            return pattern.sub(repl, part)
    return part
