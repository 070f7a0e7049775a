"""The /_control story routes of opportunity matching (issue #29): open, change, win or lose an Opportunity (its
trigger notifications sent like a mission's), and set a consultant's skills and places on their Contact."""
from __future__ import annotations

from flask import Blueprint

from .control import ControlError, body, sandbox
from .control_story import _answer
from .missions import _values
from .rest import render
from .schema import KEY_PREFIX
from .seed import ACCOUNT, HUGO
from .state import now_stamp

bp = Blueprint("salesforce_opportunities", __name__, url_prefix="/_control")

CLOSED = {"Closed Won": (True, True), "Closed Lost": (True, False)}  # StageName → (IsClosed, IsWon)


def _stage(rec: dict) -> None:
    """IsClosed and IsWon follow the stage, as the org's stage settings make them."""
    rec["IsClosed"], rec["IsWon"] = CLOSED.get(rec.get("StageName") or "", (False, False))


def _checked(state, sobject: str, data: dict) -> dict:
    """The body's values for that object, or a 400 naming the problem."""
    try:
        return _values(state, sobject, data)
    except ValueError as exc:
        raise ControlError(str(exc)) from None


@bp.post("/opportunities")
def new_opportunity():
    """Open an Opportunity {"Name", "StageName" (Prospecting), "OwnerId" (Hugo), "Required_Skills__c",
    "Start_Date__c", "Location__c", "CloseDate"}: event `created`."""
    data, state = body(), sandbox()
    with state.lock:
        values = _checked(state, "Opportunity", data)
        record_id = state.new_id(KEY_PREFIX["Opportunity"])
        stamp = now_stamp()
        rec = {"Id": record_id, "IsDeleted": False, "CreatedDate": stamp, "LastModifiedDate": stamp,
               "Name": f"Opportunity {record_id[-6:]}", "StageName": "Prospecting", "CloseDate": None,
               "OwnerId": HUGO, "AccountId": ACCOUNT, "Required_Skills__c": None, "Start_Date__c": None,
               "Location__c": None, **values}
        _stage(rec)
        state.table("Opportunity")[record_id] = rec
    return _answer("Opportunity", rec, "created", data, 201)


@bp.post("/opportunities/<record_id>/update")
def update_opportunity(record_id):
    """Change an Opportunity ({"StageName": "Closed Won"} wins it): event `updated`."""
    data, state = body(), sandbox()
    with state.lock:
        rec = state.table("Opportunity").get(record_id)
        if rec is None:
            raise ControlError(f"unknown opportunity {record_id}", 404)
        rec.update(_checked(state, "Opportunity", data))
        _stage(rec)
        rec["LastModifiedDate"] = now_stamp()
    return _answer("Opportunity", rec, "updated", data)


@bp.post("/contacts/<record_id>/update")
def update_contact(record_id):
    """Change a Contact's fields (a consultant's Skills__c, Locations__c…); no notification."""
    data, state = body(), sandbox()
    with state.lock:
        rec = state.table("Contact").get(record_id)
        if rec is None:
            raise ControlError(f"unknown contact {record_id}", 404)
        rec.update(_checked(state, "Contact", data))
        rec["LastModifiedDate"] = now_stamp()
        return render("Contact", rec)
