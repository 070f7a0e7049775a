"""Opportunities, consultants' technical data and positionings (Boond's RAML shapes), and their /_control story.

Documented (RAML `opportunitiesInformationBody-put`, `resourcesTechnicalDataBody-put`, `positioningsBody-post`):
an opportunity's criteria (`tools`, `expertiseArea`, `activityAreas`, `place`, `startDate` a date or "immediate",
`state`), its `mainManager`; a resource's `skills` (text), `tools` [{tool, level}], `expertiseAreas`,
`activityAreas`, `languages`; a positioning's `state`, `startDate`, `endDate`, `informationComments` with its
`opportunity` and `dependsOn`, and the query flags `sendMailToDependsOnManager` / `sendMailToOpportunityManager`.
Sandbox choices (docs/SANDBOXES.md, "Opportunities"): the search answers each row's criteria; tools and areas
are stored as the words an admin sees (a real tenant may hold dictionary ids); the opportunity states.
"""
from __future__ import annotations

from flask import Blueprint, jsonify, request

from . import webhooks
from .api_common import json_body, paged_document, publish, sandbox
from .envelope import document, invalid, resource_object
from .state import ADMIN_USER_TOKEN, now_text, record, sorted_items
from .views import profile, require

bp = Blueprint("boond_api_opportunities", __name__, url_prefix="/api")
control_bp = Blueprint("boond_control_opportunities", __name__, url_prefix="/_control")

CRITERIA = ("title", "reference", "state", "startDate", "endDate", "place", "tools", "expertiseArea", "activityAreas",
            "criteria", "creationDate", "updateDate")
TECHNICAL = ("title", "skills", "tools", "expertiseAreas", "activityAreas", "languages")
MAIL_FLAGS = ("sendMailToDependsOnManager", "sendMailToOpportunityManager")
POSITIONING = ("state", "startDate", "endDate", "informationComments", "creationDate", "updateDate")


def _repeat(name: str) -> set[str]:
    """A repeated query parameter (`tools=a&tools=b`, or `tools[]=a`)."""
    return {v for key in (name, f"{name}[]") for v in request.args.getlist(key) if v != ""}


@bp.get("/opportunities")
def search_opportunities():
    """Search: `opportunityStates`, `tools`, `expertiseAreas`, `places` filters (RAML), paged, each row's criteria."""
    state, states = sandbox(), _repeat("opportunityStates")
    tools, areas, places = _repeat("tools"), _repeat("expertiseAreas"), _repeat("places")
    with state.lock:
        rows = [(oid, rec) for oid, rec in sorted_items(state.db["opportunity"])
                if (not states or str(rec["attributes"].get("state", 0)) in states)
                and (not tools or tools & set(rec["attributes"].get("tools") or []))
                and (not areas or rec["attributes"].get("expertiseArea") in areas)
                and (not places or rec["attributes"].get("place") in places)]
        items = [resource_object("opportunity", oid, rec, only=CRITERIA, rels=("mainManager", "company"))
                 for oid, rec in rows]
    return paged_document(items)


@bp.get("/opportunities/<id>/information")
def opportunity_information(id):
    """The opportunity's information tab."""
    with sandbox().lock:
        return document(profile(sandbox(), "opportunity", id))


@bp.get("/resources/<id>/technical-data")
def technical_data(id):
    """The consultant's technical data (empty lists when nothing was entered)."""
    state = sandbox()
    with state.lock:
        require(state, "resource", id)
        attrs = {key: [] if key not in ("title", "skills") else "" for key in TECHNICAL}
        attrs.update(state.db.setdefault("technical", {}).get(id, {}))
    return document({"id": id, "type": "resource", "attributes": attrs, "relationships": {}})


@bp.get("/resources/<id>/information")
def resource_information(id):
    """The consultant's information tab (names, e-mail, `mobilityAreas`: the places they accept)."""
    state = sandbox()
    with state.lock:
        rec = require(state, "resource", id)
        attrs = {**rec["attributes"], "mobilityAreas": list(rec["attributes"].get("mobilityAreas") or [])}
    return document({"id": id, "type": "resource", "attributes": attrs, "relationships": {}})


@bp.get("/positionings")
def search_positionings():
    """Positionings, optionally of one opportunity (`keywords=AO<id>`) or one resource (`COMP<id>`)."""
    state, keywords = sandbox(), request.args.get("keywords", "")
    with state.lock:
        items = [resource_object("positioning", pid, rec) for pid, rec in sorted_items(state.db.setdefault("positioning", {}))
                 if not keywords or _keyword_of(rec) in keywords.split()]
    return paged_document(items)


def _keyword_of(rec: dict) -> str:
    return f"AO{rec['rels']['opportunity'][1]}"


@bp.get("/opportunities/<id>/positionings")
def opportunity_positionings(id):
    """The positionings on one opportunity, paged."""
    state = sandbox()
    with state.lock:
        require(state, "opportunity", id)
        items = [resource_object("positioning", pid, rec) for pid, rec in sorted_items(state.db.setdefault("positioning", {}))
                 if rec["rels"]["opportunity"] == ("opportunity", id)]
    return paged_document(items)


@bp.put("/positionings/<id>")
def update_positioning(id):
    """Update a positioning's attributes (state, comments, dates)."""
    data, state = json_body().get("data") or {}, sandbox()
    attrs = data.get("attributes") or {}
    if set(attrs) - set(POSITIONING):
        raise invalid("data/attributes")
    with state.lock:
        rec = state.db.setdefault("positioning", {}).get(id)
        if rec is None:
            raise invalid("id")
        rec["attributes"].update(attrs, updateDate=now_text())
        answer = resource_object("positioning", id, rec)
    publish("positioning", id, "update")
    return document(answer)


@bp.post("/positionings")
def create_positioning():
    """A positioning of a resource on an opportunity; both e-mail flags must be sent false (no e-mail in tests)."""
    data, state = json_body().get("data") or {}, sandbox()
    attrs, rels = data.get("attributes") or {}, data.get("relationships") or {}
    opportunity = ((rels.get("opportunity") or {}).get("data") or {}).get("id")
    depends = (rels.get("dependsOn") or {}).get("data") or {}
    if not isinstance(attrs.get("state", 0), int) or set(attrs) - set(POSITIONING):
        raise invalid("data/attributes")
    with state.lock:
        require(state, "opportunity", str(opportunity))
        require(state, depends.get("type") or "resource", str(depends.get("id")))
        table = state.db.setdefault("positioning", {})
        positioning_id = str(max([2999, *map(int, table)]) + 1)
        table[positioning_id] = record({"state": 0, **attrs, "creationDate": now_text(), "updateDate": now_text()},
                                       opportunity=("opportunity", str(opportunity)),
                                       dependsOn=(depends.get("type") or "resource", str(depends["id"])))
        table[positioning_id]["mails"] = {flag: request.args.get(flag) for flag in MAIL_FLAGS}
        answer = resource_object("positioning", positioning_id, state.db["positioning"][positioning_id])
    publish("positioning", positioning_id, "create")
    return document(answer)


@bp.delete("/positionings/<id>")
def delete_positioning(id):
    """Delete a positioning."""
    state = sandbox()
    with state.lock:
        if state.db.setdefault("positioning", {}).pop(id, None) is None:
            raise invalid("id")
    publish("positioning", id, "delete")
    return jsonify({"meta": {}})


# /_control: the story ------------------------------------------------------------------------

@control_bp.post("/opportunities")
def new_opportunity():
    """Add an opportunity {"title", "tools", "expertiseArea", "activityAreas", "place", "startDate", "mainManager"
    ("3"), "state" (0)}: its id; fires the `create` webhook (`deliver: false` to record it only)."""
    data, state = request.get_json(silent=True) or {}, sandbox()
    with state.lock:
        opportunity_id = str(max(int(oid) for oid in state.db["opportunity"]) + 1)
        attrs = {key: data[key] for key in CRITERIA if key in data}
        attrs.setdefault("state", 0)
        attrs.update(reference=f"AO{opportunity_id}", creationDate=now_text(), updateDate=now_text())
        state.db["opportunity"][opportunity_id] = record(
            attrs, mainManager=("resource", str(data.get("mainManager", "3"))), company=("company", "10"),
            contact=("contact", "11"))
    return _changed(opportunity_id, "create", data)


@control_bp.post("/opportunities/<id>")
def change_opportunity(id):
    """Change an opportunity's criteria or state ({"state": 1} wins it); fires the `update` webhook."""
    data, state = request.get_json(silent=True) or {}, sandbox()
    with state.lock:
        rec = state.get("opportunity", id)
        if rec is None:
            return jsonify({"error": f"unknown opportunity {id}"}), 404
        rec["attributes"].update({key: data[key] for key in CRITERIA if key in data}, updateDate=now_text())
    return _changed(id, "update", data)


@control_bp.post("/resources/<id>/technical-data")
def set_technical_data(id):
    """Set a consultant's technical data {"skills", "tools": [{"tool","level"}], "expertiseAreas", …} and the places
    they accept ("mobilityAreas", on their information tab)."""
    data, state = request.get_json(silent=True) or {}, sandbox()
    with state.lock:
        if state.get("resource", id) is None:
            return jsonify({"error": f"unknown resource {id}"}), 404
        state.db.setdefault("technical", {})[id] = {key: data[key] for key in TECHNICAL if key in data}
        if "mobilityAreas" in data:
            state.db["resource"][id]["attributes"]["mobilityAreas"] = list(data["mobilityAreas"])
    return jsonify({"ok": True})


@control_bp.get("/positionings")
def all_positionings():
    """Every positioning, with the e-mail flags each was created with."""
    with sandbox().lock:
        return jsonify({"data": [{**resource_object("positioning", pid, rec), "mails": rec.get("mails")}
                                 for pid, rec in sorted_items(sandbox().db.setdefault("positioning", {}))]})


def _changed(opportunity_id: str, change: str, data: dict):
    state = sandbox()
    events = webhooks.record_change(state, "opportunity", opportunity_id, change, ADMIN_USER_TOKEN)
    sent = webhooks.publish(state, events, send=data.get("deliver", True) is not False)
    return jsonify({"id": opportunity_id, "events": [e["payload"] for e in events], "deliveries": sent})
