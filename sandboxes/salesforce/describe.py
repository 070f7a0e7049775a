"""Describe resources (global, basic, full) and the URL forms Salesforce serves: any version, trailing slashes.

Global describe: https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/resources_describeGlobal.htm
Basic information: https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/resources_sobject_basic_info.htm
Describe: https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/resources_sobject_describe.htm
"""
from __future__ import annotations

import json
import re

from flask import Blueprint, current_app, jsonify

from .errors import not_found
from .schema import KEY_PREFIX, WRITABLE_OBJECTS, object_named, objects
from .state import API_PREFIX, NEWEST_VERSION, OLDEST_VERSION, RETIRED_BELOW, VERSION_KEY, api_prefix

bp = Blueprint("salesforce_describe", __name__, url_prefix=API_PREFIX)
_VERSIONED = re.compile(r"/services/data/v(\d+)\.0(/.*)?\Z")
_LABELS = {67: "Summer '26", 66: "Spring '26", 65: "Winter '26", 64: "Summer '25", 63: "Spring '25",
           62: "Winter '25", 61: "Summer '24", 60: "Spring '24", 59: "Winter '24", 58: "Summer '23",
           57: "Spring '23", 56: "Winter '23", 55: "Summer '22", 54: "Spring '22", 53: "Winter '22",
           52: "Summer '21"}


def versions_list() -> list[dict]:
    """GET /services/data: every served version, oldest first, as Salesforce lists them."""
    return [{"label": _LABELS.get(n, f"v{n}.0"), "url": f"/services/data/v{n}.0", "version": f"{n}.0"}
            for n in range(OLDEST_VERSION, NEWEST_VERSION + 1)]


def _config():
    return current_app.extensions["salesforce_sandbox"].config


def _urls(name: str) -> dict:
    prefix = api_prefix()
    return {"sobject": f"{prefix}/sobjects/{name}", "describe": f"{prefix}/sobjects/{name}/describe",
            "rowTemplate": f"{prefix}/sobjects/{name}/{{ID}}"}


def summary(name: str) -> dict:
    """One object's entry in the global describe (and `objectDescribe` of the basic information)."""
    writable = name in WRITABLE_OBJECTS
    return {"name": name, "label": name.replace("__c", "").replace("_", " "), "keyPrefix": KEY_PREFIX.get(name),
            "custom": name.endswith("__c"), "queryable": True, "retrieveable": True, "searchable": True,
            "createable": writable, "updateable": writable, "deletable": writable, "urls": _urls(name)}


@bp.get("/sobjects")
def global_describe():
    """Every object of the org: name, keyPrefix, custom, CRUD flags, urls."""
    names = objects(_config())
    return jsonify({"encoding": "UTF-8", "maxBatchSize": 200, "sobjects": [summary(n) for n in names]})


@bp.get("/sobjects/<sobject>")
def basic_information(sobject):
    """An object's summary and its recently viewed records (none here)."""
    name = object_named(_config(), sobject)
    if name is None:
        raise not_found()
    return jsonify({"objectDescribe": summary(name), "recentItems": []})


def full(name: str) -> dict:
    """GET /sobjects/{object}/describe: the summary plus the fields."""
    fields = [{"name": f.name, "label": f.name, "type": f.type, "length": f.length or 0,
               "externalId": f.external_id, "unique": f.unique, "createable": f.writable, "updateable": f.writable,
               "nillable": f.type not in ("id", "boolean", "picklist"), "calculated": False,
               "referenceTo": list(f.refs), "relationshipName": _relationship(f.name) if f.refs else None,
               "picklistValues": [{"value": v, "label": v, "active": True, "defaultValue": False} for v in f.values]}
              for f in objects(_config())[name].values()]
    return {**summary(name), "fields": fields}


def _relationship(field: str) -> str:
    return field[:-3] + "__r" if field.endswith("__c") else field[:-2]


def canonical_path(path: str) -> str | None:
    """A /services/data/vNN.0/… path of a served version as the routes know it (v67.0, no trailing slash), else None."""
    found = _VERSIONED.match(path)
    if not found or not OLDEST_VERSION <= int(found.group(1)) <= NEWEST_VERSION:
        return None
    rest = found.group(2) or ""
    return API_PREFIX + (rest.rstrip("/") if len(rest) > 1 else rest)


class ApiVersions:
    """WSGI middleware: /services/data/vNN.0/… for every served version reaches the routes; trailing slashes too.

    The rewritten path keeps the resource; the requested version is kept in `environ[VERSION_KEY]`. A retired
    version answers 410 GONE, an unknown one 404 NOT_FOUND, both in Salesforce's error-array shape.
    """

    VERSION_KEY = VERSION_KEY

    def __init__(self, wsgi_app):
        self.wsgi_app = wsgi_app

    def __call__(self, environ, start_response):
        """Route the request to the served version's resources, or refuse the version."""
        path = environ.get("PATH_INFO", "")
        found = _VERSIONED.match(path)
        if found:
            number, rest = int(found.group(1)), found.group(2) or ""
            if number < RETIRED_BELOW:
                return _refuse(start_response, "410 GONE", "GONE",
                               f"Version {number}.0 of the REST API has been retired.")
            if not OLDEST_VERSION <= number <= NEWEST_VERSION:
                return _refuse(start_response, "404 NOT FOUND", "NOT_FOUND", "The requested resource does not exist")
            if len(rest) > 1 and rest.endswith("/"):
                rest = rest.rstrip("/")
            environ[self.VERSION_KEY] = f"v{number}.0"
            environ["PATH_INFO"] = API_PREFIX + (rest or "")
        return self.wsgi_app(environ, start_response)


def _refuse(start_response, status: str, code: str, message: str):
    body = json.dumps([{"message": message, "errorCode": code}]).encode()
    start_response(status, [("Content-Type", "application/json;charset=UTF-8"), ("Content-Length", str(len(body)))])
    return [body]
