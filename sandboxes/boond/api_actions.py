"""The /api action routes: create, read, update, delete and list actions (notes, reminders)."""
from __future__ import annotations

from flask import Blueprint, g, jsonify, request

from .actions import parse_action
from .dialect import OBSERVED_ACTIONS_PAGE, keyword_match
from .api_common import debug_mode, json_body, paged_document, publish, sandbox
from .envelope import document, meta, resource_object
from .state import now_text, sorted_items
from .views import included_closure, profile, require

bp = Blueprint("boond_api_actions", __name__, url_prefix="/api")


def entity_actions(kind: str, entity_id: str):
    """The actions attached to an entity, by id, paged (maxResults > 100 falls back to 30)."""
    state = sandbox()
    with state.lock:
        require(state, kind, entity_id)
        items = [resource_object("action", aid, rec) for aid, rec in state.actions_of(kind, entity_id)]
    return paged_document(items, fallback_over=state.config.actions_max_page, fixed=_fixed_page(state))


def _fixed_page(state) -> int | None:
    """observed: 30 rows a page on every actions listing, whatever maxResults asks (§10)."""
    return OBSERVED_ACTIONS_PAGE if state.config.dialect == "observed" else None


@bp.get("/resources/<id>/actions")
def resource_actions(id):
    """Actions on a resource."""
    return entity_actions("resource", id)


@bp.get("/contacts/<id>/actions")
def contact_actions(id):
    """Actions on a contact."""
    return entity_actions("contact", id)


@bp.get("/projects/<id>/actions")
def project_actions(id):
    """Actions on a project."""
    return entity_actions("project", id)


@bp.get("/opportunities/<id>/actions")
def opportunity_actions(id):
    """Actions on an opportunity."""
    return entity_actions("opportunity", id)


@bp.get("/actions")
def search_actions():
    """Every action, by id, paged; `keywords` as the dialect reads them (dialect.keyword_match)."""
    state = sandbox()
    words = request.args.get("keywords", "").strip()
    with state.lock:
        items = [resource_object("action", aid, rec) for aid, rec in sorted_items(state.db["action"])
                 if keyword_match(state.config.dialect, words, rec["rels"]["dependsOn"], rec["attributes"])]
    return paged_document(items, fallback_over=state.config.actions_max_page, fixed=_fixed_page(state))


def action_document(action_id: str):
    """An action with the records it points to included."""
    state = sandbox()
    with state.lock:
        return document(profile(state, "action", action_id),
                        included=included_closure(state, "action", action_id))


@bp.post("/actions")
def create_action():
    """Create an action (a note or reminder) on a resource, contact, project, ..."""
    state, who = sandbox(), g.boond_identity
    attrs, rels = parse_action(state, json_body(), debug=debug_mode())
    stamp = now_text()
    with state.lock:
        action_id = state.next_id("action")
        state.db["action"][action_id] = {
            "attributes": {"title": "", "text": "", "startDate": stamp, **attrs,
                           "creationDate": stamp, "updateDate": stamp},
            "rels": {"mainManager": ("resource", who.resource_id), **rels,
                     "createdBy": ("resource", who.resource_id)}}
    publish("action", action_id, "create")
    return action_document(action_id)


@bp.get("/actions/<id>")
def get_action(id):
    """GET an action."""
    return action_document(id)


@bp.put("/actions/<id>")
def put_action(id):
    """Replace the given attributes of an action (same validation as POST)."""
    state = sandbox()
    body = json_body()
    with state.lock:
        existing = require(state, "action", id)
        attrs, rels = parse_action(state, body, debug=debug_mode(), existing=existing)
        existing["attributes"].update({**attrs, "updateDate": now_text()})
        existing["rels"].update(rels)
    publish("action", id, "update")
    return action_document(id)


@bp.delete("/actions/<id>")
def delete_action(id):
    """Delete an action."""
    state = sandbox()
    with state.lock:
        require(state, "action", id)
        del state.db["action"][id]
    publish("action", id, "delete")
    return jsonify({"meta": meta()})
