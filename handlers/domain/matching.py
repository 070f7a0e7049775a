"""Match consultants coming back to the bench with open opportunities, and say why in words.

Pure: no Redis, no host call (handlers.sync.matching reads the inputs and writes the tasks). A match needs:
- skills: the opportunity's skills (tools, expertise and activity areas, a mapped skills field) compared with the
  consultant's (technical data, a mapped field) as normalised tokens (lower case, no accents, no spaces or
  punctuation but + and #, a trailing "js" dropped); two tokens of 5 characters or more are the same skill when
  rapidfuzz's ratio is at least FUZZY ("postgres" / "postgresql"); at least MIN_SHARE of the wanted skills;
- the start: the opportunity's start (or today when it says "immediate" or nothing) no more than EARLY_DAYS before
  the consultant is free, before their next known mission, and no more than AHEAD_DAYS after they are free;
- the score: SKILL_WEIGHT × the share of wanted skills held + DATE_WEIGHT × how close the start is to the first
  free day (1 within a week, 0 two months away) + PLACE_WEIGHT × the place (1 a place the consultant accepts,
  0.5 unknown, 0 another one).
Each consultant is offered to at most `per_consultant` opportunities (their best), each opportunity lists its
consultants best first.
"""
from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass
from datetime import date
from itertools import chain
from heapq import heappush, heapreplace
from math import ceil

from rapidfuzz import fuzz, process

from handlers.domain.model import Person

FUZZY = 85
MIN_SHARE = 0.4
EARLY_DAYS = 14
AHEAD_DAYS = 91
SKILL_WEIGHT, DATE_WEIGHT, PLACE_WEIGHT = 0.7, 0.2, 0.1
PLACE_SCORE = {"same": 1.0, "unknown": 0.5, "other": 0.0}
SPLIT = re.compile(r"[,;/|\n\r\t•]+|\s+-\s+")
KEEP = re.compile(r"[^a-z0-9+#]")


@dataclass(frozen=True)
class Need:
    """An open opportunity, as matching reads it."""

    id: str
    title: str
    skills: tuple[str, ...]
    start: date | None = None  # None: "immediate" or not said
    place: str | None = None


@dataclass(frozen=True)
class Opening:
    """An open opportunity with who works it: the business engineer, and the host record a task hangs on."""

    need: Need
    owner: Person | None
    record: Person


@dataclass(frozen=True)
class Candidate:
    """A consultant on or coming back to the bench, as matching reads them."""

    id: str
    name: str
    skills: tuple[str, ...]
    free_from: date  # the first bench day
    until: date | None = None  # the day before the next known mission
    places: tuple[str, ...] = ()  # places the consultant accepts (empty: unknown)


@dataclass(frozen=True)
class Match:
    """One consultant for one opportunity, with what the score is made of."""

    need: str
    candidate: str
    score: float
    held: int  # wanted skills the consultant holds
    wanted: int
    free_from: date  # the first bench day (in the past for someone on the bench today)
    start: date | None  # the opportunity's start (None: immediate)
    place: str  # "same", "other" or "unknown"
    now: bool = False  # on the bench already

    def reason(self, lang: str) -> str:
        """'4 compétences sur 5, disponible le 01/12, même lieu' / '4 of 5 skills, free from 1 Dec, same place'.

        Nothing in it moves with the day alone (someone already on the bench is "free now")."""
        late = 0 if self.start is None or self.now else (self.free_from - self.start).days
        if lang == "en":
            free = "free now" if self.now else f"free from {self.free_from.day} {self.free_from:%b}"
            parts = [f"{self.held} of {self.wanted} skills", free]
            if late > 0:
                parts[-1] += f" ({late} days after the start)"
            parts += [{"same": "same place", "other": "another place"}.get(self.place, "place not said")]
        else:
            free = "disponible dès maintenant" if self.now else f"disponible le {self.free_from:%d/%m}"
            parts = [f"{self.held} compétence{'s' if self.held > 1 else ''} sur {self.wanted}", free]
            if late > 0:
                parts[-1] += f" ({late} jours après le démarrage)"
            parts += [{"same": "même lieu", "other": "autre lieu"}.get(self.place, "lieu non précisé")]
        return ", ".join(parts)


def tokens(skills: tuple[str, ...] | list[str]) -> set[str]:
    """Normalised skill tokens of a list of skills or free texts ('Java, Spring Boot' → {'java', 'springboot'})."""
    out = set()
    for text in skills:
        for part in SPLIT.split(text or ""):
            token = _normal(part)
            if token:
                out.add(token)
    return out


def _normal(text: str) -> str:
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    token = KEEP.sub("", plain)
    return token[:-2] if token.endswith("js") and len(token) > 4 else token


class Vocabulary:
    """Every token seen, each with the tokens that spell the same skill (itself included)."""

    def __init__(self, words: set[str]):
        self.same: dict[str, set[str]] = {w: {w} for w in words}
        long = sorted(w for w in words if len(w) >= 5)
        for word in long:
            for other, _, _ in process.extract(word, long, scorer=fuzz.ratio, score_cutoff=FUZZY, limit=None):
                self.same[word].add(other)


def rank(candidates: list[Candidate], needs: list[Need], today: date, *, per_consultant: int = 3,
         ) -> dict[str, list[Match]]:
    """Opportunity id → its matches, best first; each consultant in at most `per_consultant` opportunities.

    Written for 300 consultants × 2,000 opportunities in well under a second (tests/bench/run.py match): skills
    are counted through an inverted index, and each consultant keeps a heap of their best `per_consultant`."""
    wanted = [tokens(n.skills) for n in needs]
    held = [tokens(c.skills) for c in candidates]
    words = Vocabulary(set().union(*wanted, *held))
    holders: dict[str, set[int]] = {}
    for index, mine in enumerate(held):
        for token in mine:
            for same in words.same[token]:
                holders.setdefault(same, set()).add(index)
    now = today.toordinal()
    free = [max(c.free_from.toordinal(), now) for c in candidates]
    until = [c.until.toordinal() if c.until else 10**7 for c in candidates]
    places = [frozenset(c.places) for c in candidates]
    best: list[list[tuple[float, int]]] = [[] for _ in candidates]
    for n, need in enumerate(needs):
        size = len(wanted[n])
        floor = max(1, ceil(MIN_SHARE * size - 1e-9))
        start = need.start.toordinal() if need.start else now
        for index, count in Counter(chain.from_iterable(holders.get(t, ()) for t in wanted[n])).items():
            f = free[index]
            if count < floor or start < f - EARLY_DAYS or start > f + AHEAD_DAYS or start > until[index]:
                continue
            place = "unknown" if not need.place or not places[index] else "same" if need.place in places[index] else "other"
            score = _score(count / size, abs(start - f), place)
            heap = best[index]
            if len(heap) < per_consultant:
                heappush(heap, (score, -n))
            elif (score, -n) > heap[0]:
                heapreplace(heap, (score, -n))
    out: dict[str, list[Match]] = {}
    for index, heap in enumerate(best):
        for _, minus_n in heap:
            need = needs[-minus_n]
            found = _match(need, candidates[index], len(wanted[-minus_n] & _held(held[index], words)),
                           len(wanted[-minus_n]), today)
            out.setdefault(need.id, []).append(found)
    return {need: sorted(rows, key=_order) for need, rows in out.items()}


def _held(mine: set[str], words: Vocabulary) -> set[str]:
    """The consultant's tokens and their spelling variants."""
    return {same for token in mine for same in words.same[token]}


def _score(share: float, gap: int, place: str) -> float:
    """Skills held, days between the start and the first free day, the place: the module's formula."""
    closeness = 1.0 if gap <= 7 else max(0.0, 1 - (gap - 7) / 53)
    return SKILL_WEIGHT * share + DATE_WEIGHT * closeness + PLACE_WEIGHT * PLACE_SCORE[place]


def _order(found: Match) -> tuple:
    return -found.score, found.free_from, found.need, found.candidate


def _match(need: Need, who: Candidate, count: int, wanted: int, today: date) -> Match:
    """The match of a pair the ranking kept, with its score's parts (the same formula, on dates)."""
    start, free = need.start or today, max(who.free_from, today)
    place = "unknown" if not need.place or not who.places else "same" if need.place in who.places else "other"
    score = _score(count / wanted, abs((start - free).days), place)
    return Match(need.id, who.id, round(score, 4), count, wanted, who.free_from, need.start, place,
                 now=who.free_from <= today)


REPLACEMENT_STEP = "replacement_offer"  # the playbook's "find a replacement" step (`consultant.replacement_offer`)
REPLACEMENTS = {"fr": "Consultants disponibles dont les compétences correspondent (les meilleurs d'abord) :",
                "en": "Available consultants whose skills fit (best first):"}


def with_replacements(actions: list, lines: list[str], language: str) -> list:
    """The plan's actions with the replacement candidates listed in its "find a replacement" step."""
    if not lines:
        return actions
    block = REPLACEMENTS[language] + "\n" + "\n".join(f"{n}. {line}" for n, line in enumerate(lines, 1))
    return [a.model_copy(update={"text": f"{a.text.rstrip()}\n\n{block}"}) if a.step_id.endswith(REPLACEMENT_STEP)
            else a for a in actions]
