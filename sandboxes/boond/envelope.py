"""Boond's JSON:API envelope, error objects and relationship helpers."""
from __future__ import annotations

from flask import jsonify
from werkzeug.http import HTTP_STATUS_CODES

VERSION = "9.1.78.1"


def meta(*, logged: bool = True, rows: int | None = None) -> dict:
    """The `meta` member every answer carries."""
    out = {"version": VERSION, "isLogged": logged, "language": "fr"}
    if rows is not None:
        out["totals"] = {"rows": rows}
    return out


def rel(ref: tuple[str, str] | None) -> dict:
    """A to-one relationship: {"data": {"id", "type"}} or {"data": null}."""
    if ref is None:
        return {"data": None}
    return {"data": {"id": str(ref[1]), "type": ref[0]}}


def resource_object(kind: str, entity_id: str, rec: dict, *, only: tuple[str, ...] | None = None,
                    rels: tuple[str, ...] | None = None) -> dict:
    """A JSON:API resource object built from a stored record."""
    attrs = rec["attributes"]
    if only is not None:
        attrs = {key: attrs.get(key) for key in only}
    names = rec["rels"] if rels is None else rels
    return {"id": str(entity_id), "type": kind, "attributes": dict(attrs),
            "relationships": {name: rel(rec["rels"].get(name)) for name in names}}


def document(data, *, included: list | None = None, rows: int | None = None):
    """A 200 answer in Boond's envelope."""
    body = {"meta": meta(rows=rows), "data": data}
    if included is not None:
        body["included"] = included
    return jsonify(body)


class BoondError(Exception):
    """An error answered in Boond's error envelope."""

    def __init__(self, status: int, detail: str, *, code: str | None = None,
                 parameter: str | None = None, headers: dict | None = None,
                 logged: bool = False):
        super().__init__(detail)
        self.status, self.detail, self.code = status, detail, code or str(status)
        self.parameter, self.headers, self.logged = parameter, headers or {}, logged

    def body(self) -> dict:
        """The JSON body of the error."""
        error = {"status": str(self.status), "code": self.code, "detail": self.detail}
        if self.parameter is not None:
            error["source"] = {"parameter": self.parameter}
        else:
            error["title"] = HTTP_STATUS_CODES.get(self.status, "Error")
        return {"meta": meta(logged=self.logged), "errors": [error]}

    def response(self):
        """The Flask response for this error."""
        resp = jsonify(self.body())
        resp.status_code = self.status
        resp.headers.update(self.headers)
        return resp


def invalid(parameter: str, *, code: str = "1002", detail: str | None = None) -> BoondError:
    """A 422 business error (1002 wrong attribute, 1017 missing attribute, ...)."""
    texts = {"1002": "1002 - Wrong or missing attribute", "1017": "1017 - Missing required attribute"}
    return BoondError(422, detail or texts.get(code, code), code=code, parameter=parameter,
                      logged=True)


def not_found(detail: str = "Not found") -> BoondError:
    """A 404 on an unknown record id (the caller is logged in)."""
    return BoondError(404, detail, logged=True)
