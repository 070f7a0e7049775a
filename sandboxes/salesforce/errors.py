"""Salesforce's error shapes: REST error arrays, per-record errors, OAuth errors."""
from __future__ import annotations

from flask import Response, jsonify

SESSION_INVALID = "Session expired or invalid"
NOT_FOUND_MESSAGE = "The requested resource does not exist"


class SfError(Exception):
    """A REST error answered as `[{"message","errorCode"[,"fields"]}]`."""

    def __init__(self, status: int, code: str, message: str, fields: list[str] | None = None,
                 headers: dict | None = None):
        super().__init__(f"{code}: {message}")
        self.status, self.code, self.message = status, code, message
        self.fields, self.headers = fields, headers or {}

    def body(self) -> list[dict]:
        """The error array."""
        item = {"message": self.message, "errorCode": self.code}
        if self.fields is not None:
            item["fields"] = list(self.fields)
        return [item]

    def response(self) -> Response:
        """The Flask response."""
        resp = jsonify(self.body())
        resp.status_code = self.status
        resp.headers.update(self.headers)
        return resp


class RecordError(Exception):
    """A per-record DML failure (collections put it in `errors`; single calls answer 400)."""

    def __init__(self, code: str, message: str, fields: list[str] | None = None, status: int = 400):
        super().__init__(f"{code}: {message}")
        self.code, self.message, self.fields, self.status = code, message, list(fields or []), status

    def item(self) -> dict:
        """The collections error object."""
        return {"statusCode": self.code, "message": self.message, "fields": self.fields}

    def as_sf_error(self) -> SfError:
        """The same failure as a single-record REST error."""
        return SfError(self.status, self.code, self.message, self.fields)


class OAuthError(Exception):
    """An OAuth endpoint error: `{"error","error_description"}`."""

    def __init__(self, error: str, description: str, status: int = 400):
        super().__init__(f"{error}: {description}")
        self.error, self.description, self.status = error, description, status

    def response(self) -> Response:
        """The Flask response."""
        resp = jsonify({"error": self.error, "error_description": self.description})
        resp.status_code = self.status
        resp.headers["Cache-Control"] = "no-store"
        return resp


def not_found() -> SfError:
    """404 NOT_FOUND."""
    return SfError(404, "NOT_FOUND", NOT_FOUND_MESSAGE)


def invalid_session() -> SfError:
    """401 INVALID_SESSION_ID."""
    return SfError(401, "INVALID_SESSION_ID", SESSION_INVALID, headers={"WWW-Authenticate": "Token"})


def malformed_query(message: str) -> SfError:
    """400 MALFORMED_QUERY."""
    return SfError(400, "MALFORMED_QUERY", message)


def no_such_column(name: str, sobject: str) -> SfError:
    """400 INVALID_FIELD for an unknown field."""
    return SfError(400, "INVALID_FIELD", f"No such column '{name}' on entity '{sobject}'. If you are attempting "
                   "to use a custom field, be sure to append the '__c' after the custom field name. Please "
                   "reference your WSDL or the describe call for the appropriate names.")


def invalid_type(name: str) -> SfError:
    """400 INVALID_TYPE for an unknown object."""
    return SfError(400, "INVALID_TYPE", f"sObject type '{name}' is not supported. If you are attempting to use "
                   "a custom object, be sure to append the '__c' after the entity name. Please reference your "
                   "WSDL or the describe call for the appropriate names.")


def json_parser_error(message: str, field: str | None = None) -> SfError:
    """400 JSON_PARSER_ERROR (the whole request is refused); `fields` names the field when known."""
    return SfError(400, "JSON_PARSER_ERROR", message, [field] if field else None)
