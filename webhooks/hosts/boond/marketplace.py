"""POST /boond/install, /boond/uninstall, /boond/validate: Boond marketplace calls, each carrying a signedRequest.

The app URL declared in Boond is `<public base URL>/boond`; `/boond/configure` (the iframe) is the admin pages'.
"""
from __future__ import annotations

import logging

from flask import Blueprint, jsonify, request

from connectors.boond.settings import boond_env
from connectors.boond.marketplace import BadSignedRequest, claim_once, decode_signed_request
from handlers.hosts.boond.marketplace import MarketplaceError, handle_install, handle_uninstall, handle_validate

bp = Blueprint("boond_marketplace", __name__)
log = logging.getLogger(__name__)
DEFAULT_MAX_AGE = 3600  # seconds, when INTERMISSION_BOOND_SIGNED_REQUEST_MAX_AGE is unset
HANDLERS = {"install": handle_install, "uninstall": handle_uninstall, "validate": handle_validate}


@bp.post("/boond/<any(install, uninstall, validate):call>")
def lifecycle(call: str):
    """Verify the signedRequest with the app key (constant time), then apply the call; {"result": true}."""
    key = boond_env().boond_app_key
    if not key:
        return _refused(503, "the Boond marketplace is not set up on this server: set INTERMISSION_BOOND_APP_KEY "
                             "to the Key shown on the app's page in Boond")
    max_age = boond_env().boond_signed_request_max_age or DEFAULT_MAX_AGE
    try:
        value = signed_request()
        payload = decode_signed_request(value, key, max_age=max_age)
        if call != "install" or "appToken" in payload:  # the installation-code check changes nothing: not claimed
            claim_once(value, max_age)  # a captured signedRequest cannot be played again
    except BadSignedRequest as exc:
        log.warning("boond %s refused: %s", call, exc)
        return _refused(401, f"signedRequest refused: {exc}")
    try:
        outcome = HANDLERS[call](payload)
    except MarketplaceError as exc:
        log.warning("boond %s refused: %s", call, exc)
        return _refused(exc.status, str(exc))
    log.info("boond %s: %s", call, outcome)
    return jsonify(result=True)


def signed_request() -> str | None:
    """The `signedRequest` form field (Boond's way), or the same member of a JSON body."""
    value = request.form.get("signedRequest")
    if value is None and request.is_json:
        try:
            body = request.get_json(silent=True)
        except RecursionError:  # nested past the parser's depth: no signedRequest to read
            body = None
        value = body.get("signedRequest") if isinstance(body, dict) else None
    return value


def _refused(status: int, message: str):
    return jsonify(result=False, error=message), status
