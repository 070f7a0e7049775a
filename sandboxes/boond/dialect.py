"""The sandbox's two dialects: `documented` (the RAML's shapes) and `observed` (reference §10: what a recorded
real instance answered). Every difference between them is named here, and listed in docs/SANDBOXES.md."""
from __future__ import annotations

DIALECTS = ("documented", "observed")

# observed: one flat list of action types for every entity (no dict per entity)
FLAT_ACTION_TYPES = [
    {"id": 4, "value": "Note"},
    {"id": 5, "value": "Rappel / To do"},
    {"id": 9, "value": "Suivi de Mission"},
    {"id": 102, "value": "Notification", "isNotification": True},
]
# observed: "1 In progress / 2 Completed" (§10); 5, 6, 9 are sandbox additions (ASSUMPTION) so that the story's
# early ends and cancellations exist in this tenant too, under numbers that mean something else elsewhere
OBSERVED_DELIVERY_STATES = [
    {"id": 1, "value": "In progress"},
    {"id": 2, "value": "Completed"},
    {"id": 5, "value": "Stopped by the client"},
    {"id": 6, "value": "Stopped by the consultant"},
    {"id": 9, "value": "Cancelled"},
]
# the state the control API's story moves set, per dialect
STORY_STATES = {
    "documented": {"start": 0, "client": 2, "consultant": 3, "cancelled": 4},
    "observed": {"start": 1, "client": 5, "consultant": 6, "cancelled": 9, "completed": 2},
}
# observed: these optional tabs and searches answer 404 (route templates as Flask names them)
REFUSED_ROUTES = frozenset({"/api/resources/<id>/deliveries-inactivities", "/api/resources/<id>/actions",
                            "/api/deliveries-groupments"})
OBSERVED_ACTIONS_PAGE = 30  # observed: /actions and the actions tabs answer 30 rows whatever maxResults asks
RESOURCE_DETAIL_HIDDEN = ("email1", "reference")  # observed: absent from GET /resources/{id}, present in the list
# observed: `GET /actions?keywords=` is a case-insensitive substring match on this attribute, one the product never
# writes (so `COMP7` finds none of its actions), instead of the documented prefixed reference of the parent (§5)
KEYWORD_FIELD = "location"


def story_state(dialect: str, move: str) -> int | None:
    """The delivery state a story move sets in this dialect (None when the dialect has no such state)."""
    return STORY_STATES[dialect].get(move)


def keyword_match(dialect: str, keywords: str, parent: tuple[str, str], attributes: dict) -> bool:
    """Whether an action answers `GET /actions?keywords=`: documented, a prefixed reference of its parent
    (`COMP7`, `CCON11`, `PRJ45`, `AO50`); observed, the words found anywhere in its KEYWORD_FIELD."""
    if not keywords:
        return True
    if dialect == "observed":
        return keywords.lower() in str(attributes.get(KEYWORD_FIELD) or "").lower()
    named = keyword_parent(keywords)
    return named is None or named == parent  # words it cannot read: ignored, as Boond ignores unknown filters


def keyword_parent(keywords: str) -> tuple[str, str] | None:
    """keywords=COMP7 → ("resource", "7"): Boond's prefixed references (§5); None for anything else."""
    keywords = keywords.upper()
    for kind, prefix in (("resource", "COMP"), ("contact", "CCON"), ("project", "PRJ"), ("opportunity", "AO")):
        rest = keywords[len(prefix):]
        if keywords.startswith(prefix) and rest.isdigit():
            return kind, rest
    return None


def thin_included(included: list[dict]) -> list[dict]:
    """observed: the project with only `reference` and `company`, the consultant with only his names (§10)."""
    out = []
    for item in included:
        if item["type"] == "project":
            out.append({"id": item["id"], "type": "project",
                        "attributes": {"reference": item["attributes"].get("reference")},
                        "relationships": {"company": item["relationships"].get("company", {"data": None})}})
        elif item["type"] == "resource" and item.get("_consultant"):
            out.append({"id": item["id"], "type": "resource",
                        "attributes": {k: item["attributes"].get(k) for k in ("firstName", "lastName")}})
    return out
