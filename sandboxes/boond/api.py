"""The /api blueprint: application, deliveries, resources, projects, contacts (Boond's shapes)."""
from __future__ import annotations

from flask import Blueprint, g, jsonify, request

from .api_common import debug_mode, json_body, paged_document, publish, sandbox
from .deliveries import create_delivery, delete_delivery, parse_date, parse_state, update_delivery
from .dialect import RESOURCE_DETAIL_HIDDEN, thin_included
from .dictionary import dictionary_data
from .envelope import document, invalid, meta, resource_object
from .state import sorted_items, today_text
from .views import DELIVERY_ITEM, current_user, delivery_item, inactivity_item, included_closure, profile, require

bp = Blueprint("boond_api", __name__, url_prefix="/api")

DELIVERY_WRITABLE = ("title", "startDate", "endDate", "state")


# Application ---------------------------------------------------------------------------------

@bp.get("/application/dictionary")
def dictionary():
    """The tenant dictionary (action types per entity, states); observed: flat action list and no `meta`."""
    dialect = sandbox().config.dialect
    if dialect == "observed":
        return jsonify({"data": dictionary_data(dialect)})
    return document(dictionary_data(dialect))


@bp.get("/application/current-user")
def application_current_user():
    """The user behind the JWT's userToken."""
    return document(current_user(sandbox(), g.boond_identity))


# Deliveries ----------------------------------------------------------------------------------

def delivery_document(delivery_id: str):
    """A delivery profile with its project, client, consultant and managers included."""
    state = sandbox()
    with state.lock:
        data = profile(state, "delivery", delivery_id)
        included = included_closure(state, "delivery", delivery_id)
        if state.config.dialect == "observed":
            consultant = (data["relationships"]["dependsOn"]["data"] or {}).get("id")
            included = thin_included([{**i, "_consultant": i["type"] == "resource" and i["id"] == consultant}
                                      for i in included])
        return document(data, included=included)


@bp.get("/deliveries/<id>")
def get_delivery(id):
    """GET a delivery."""
    return delivery_document(id)


def _delivery_changes(attributes: dict) -> dict:
    """Validated attribute changes of a delivery PUT."""
    changes = {}
    for name, value in attributes.items():
        if name not in DELIVERY_WRITABLE:
            if debug_mode():
                raise invalid(name)
            continue
        try:
            if name == "state":
                changes[name] = parse_state(value, sandbox().config.dialect)
            elif name == "title":
                changes[name] = str(value)
            else:
                changes[name] = "" if value in ("", None) and name == "endDate" else parse_date(value, name)
        except ValueError:
            raise invalid(name) from None
    return changes


def _related_id(relationships: dict, name: str, kind: str) -> str:
    """The id of a required to-one relationship of a given type that exists, or 422 1002."""
    member = relationships.get(name)
    data = member.get("data") if isinstance(member, dict) else None
    if not isinstance(data, dict) or data.get("type") != kind or not sandbox().get(kind, data.get("id")):
        raise invalid(f"/data/relationships/{name}")
    return str(data["id"])


@bp.post("/deliveries")
def post_delivery():
    """Create a delivery: relationships project and dependsOn (a resource) are required."""
    data = json_body().get("data")
    data = data if isinstance(data, dict) else {}
    relationships = data.get("relationships") if isinstance(data.get("relationships"), dict) else {}
    fields = {"project": _related_id(relationships, "project", "project"),
              "resource": _related_id(relationships, "dependsOn", "resource"),
              "startDate": today_text(), **_delivery_changes(data.get("attributes") or {})}
    try:
        delivery_id = create_delivery(sandbox(), fields)
    except ValueError:
        raise invalid("endDate") from None
    publish("delivery", delivery_id, "create")
    return delivery_document(delivery_id)


@bp.put("/deliveries/<id>")
def put_delivery(id):
    """Update a delivery's dates, state or title (fires an update webhook)."""
    state = sandbox()
    body = json_body()
    with state.lock:
        require(state, "delivery", id)
        data = body.get("data") if isinstance(body.get("data"), dict) else {}
        try:
            update_delivery(state, id, _delivery_changes(data.get("attributes") or {}))
        except ValueError:
            raise invalid("endDate") from None
    publish("delivery", id, "update")
    return delivery_document(id)


@bp.delete("/deliveries/<id>")
def remove_delivery(id):
    """Delete a delivery (fires a delete webhook)."""
    state = sandbox()
    with state.lock:
        require(state, "delivery", id)
        delete_delivery(state, id)
    publish("delivery", id, "delete")
    return jsonify({"meta": meta()})


def _window() -> tuple[str, str]:
    """The startDate/endDate query window ('' when absent)."""
    bounds = []
    for name in ("startDate", "endDate"):
        value = request.args.get(name, "")
        try:
            bounds.append(parse_date(value, name) if value else "")
        except ValueError:
            raise invalid(name) from None
    return bounds[0], bounds[1]


def _within(day: str, start: str, end: str) -> bool:
    """True when a YYYY-MM-DD day falls in the (open-ended) window."""
    return bool(day) and (not start or day >= start) and (not end or day <= end)


def _period_match(attrs: dict, period: str, start: str, end: str) -> bool:
    """Boond's `period` filter; unknown periods are ignored like Boond does."""
    if period == "updated":
        return _within(attrs["updateDate"][:10], start, end)
    if period == "stopped":
        return _within(attrs["endDate"], start, end)
    if period == "started":
        return _within(attrs["startDate"], start, end)
    if period == "running":
        return (not end or attrs["startDate"] <= end) and (
            not attrs["endDate"] or not start or attrs["endDate"] >= start)
    return True


def _wanted_ids() -> tuple[set[int], str | None]:
    """deliveryStates[] and the MIS<id> keyword filters."""
    states = {int(v) for v in request.args.getlist("deliveryStates[]") if v.lstrip("-").isdigit()}
    keywords = request.args.get("keywords", "").strip().upper()
    return states, keywords[3:] if keywords.startswith("MIS") else None


@bp.get("/deliveries-groupments")
def search_deliveries():
    """Search deliveries by period (updated|running|stopped|started), state and MIS<id>."""
    state = sandbox()
    period, (start, end) = request.args.get("period", ""), _window()
    states, only_id = _wanted_ids()
    with state.lock:
        items = [resource_object("delivery", did, rec, rels=("project", "dependsOn"))
                 for did, rec in sorted_items(state.db["delivery"])
                 if _period_match(rec["attributes"], period, start, end)
                 and (not states or rec["attributes"]["state"] in states)
                 and (only_id is None or did == only_id)]
    return paged_document(items)


# Resources, projects, contacts ---------------------------------------------------------------

@bp.get("/resources")
def list_resources():
    """The resources list: `keywords` matches a name (any word) or a COMP<id> reference; 30 rows at most."""
    state = sandbox()
    words = request.args.get("keywords", "").strip().lower()
    wanted = int(request.args.get("maxResults", "30") or 30)
    with state.lock:
        rows = []
        for rid, rec in sorted_items(state.db["resource"]):
            attrs = rec.get("attributes") or rec
            name = f"{attrs.get('firstName', '')} {attrs.get('lastName', '')}".lower()
            if not words or words == f"comp{rid}" or all(w in name for w in words.split()):
                rows.append(profile(state, "resource", rid))
        return paged_document(rows[:wanted])


@bp.get("/resources/<id>")
def get_resource(id):
    """A resource with its managers (observed: without email1 nor reference, which only the list has, and its
    managers as references only: their names need GET /resources/{id} of each)."""
    state = sandbox()
    with state.lock:
        data = profile(state, "resource", id)
        if state.config.dialect == "observed":
            data["attributes"] = {k: v for k, v in data["attributes"].items() if k not in RESOURCE_DETAIL_HIDDEN}
            return document(data, included=[])
        return document(data, included=included_closure(state, "resource", id))


@bp.get("/resources/<id>/deliveries-inactivities")
def resource_deliveries(id):
    """The resource's deliveries, then its inactivities (internal time, absences)."""
    state = sandbox()
    with state.lock:
        require(state, "resource", id)
        items = [delivery_item(did, rec) for did, rec in state.deliveries_of(id)]
        items += [inactivity_item(iid, rec) for iid, rec in state.inactivities_of(id)]
    return paged_document(items)


@bp.get("/projects/<id>/deliveries-groupments")
def project_deliveries(id):
    """The project's deliveries, each with its consultant (`dependsOn`) as a reference only (shape [INF])."""
    state = sandbox()
    with state.lock:
        require(state, "project", id)
        items = [resource_object("delivery", did, rec, only=DELIVERY_ITEM, rels=("project", "dependsOn"))
                 for did, rec in sorted_items(state.db["delivery"])
                 if rec["rels"].get("project") == ("project", id) and not rec["attributes"].get("isDeleted")]
    return paged_document(items)


@bp.get("/inactivities/<id>")
def get_inactivity(id):
    """An inactivity with its resource (RAML `GET /inactivities/{id}`)."""
    state = sandbox()
    with state.lock:
        return document(profile(state, "inactivity", id))


@bp.get("/projects/<id>")
def get_project(id):
    """A project with its company, contact, manager and opportunity (observed: the opportunity only as a reference,
    its manager and contact need GET /opportunities/{id})."""
    state = sandbox()
    with state.lock:
        included = included_closure(state, "project", id)
        if state.config.dialect == "observed":
            included = [i for i in included if i["type"] != "opportunity"]
        return document(profile(state, "project", id), included=included)


@bp.get("/contacts/<id>")
def get_contact(id):
    """A client contact with its company."""
    state = sandbox()
    with state.lock:
        return document(profile(state, "contact", id), included=included_closure(state, "contact", id))


@bp.get("/companies/<id>")
def get_company(id):
    """A client company."""
    with sandbox().lock:
        return document(profile(sandbox(), "company", id))


@bp.get("/opportunities/<id>")
def get_opportunity(id):
    """An opportunity."""
    with sandbox().lock:
        return document(profile(sandbox(), "opportunity", id))
