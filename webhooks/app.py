"""The web process: receive host webhooks, answer in milliseconds, never call a host."""
from __future__ import annotations

import logging

from flask import Flask, jsonify
from werkzeug.exceptions import HTTPException

from config.infra.logs import RedactingFilter
from config.settings import get_settings

log = logging.getLogger(__name__)


SAFE_HEADERS = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer", "X-Content-Type-Options": "nosniff",
                "Content-Security-Policy": "frame-ancestors 'none'"}


def create_app() -> Flask:
    """The app factory used by gunicorn, `intermission serve`, the demo and the tests."""
    from config.playbook import default_playbook

    default_playbook()  # a broken playbook stops the start-up with a message naming file, step and field
    logging.getLogger("werkzeug").addFilter(RedactingFilter())
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = get_settings().max_webhook_bytes
    from webhooks.proxies import TrustedProxies

    from handlers.hosts.registry import HOSTS, load
    from webhooks.plain import PlainRoute, PlainRoutes

    plain_routes = []
    for host in list(HOSTS.values()):  # each host's webhooks and connect flow, as its registry line names them
        for ref in host.web.webhooks + host.web.connect:
            found = load(ref)
            if isinstance(found, PlainRoute):  # answered in front of Flask (webhooks/plain.py)
                plain_routes.append(found)
            else:
                app.register_blueprint(found)
    # X-Forwarded-* believed from named proxies only, for the plain routes and Flask's alike
    app.wsgi_app = TrustedProxies(PlainRoutes(app.wsgi_app, plain_routes), get_settings().trusted_proxies)
    from webhooks.surveys.pages import bp as surveys_bp
    app.register_blueprint(surveys_bp)
    from webhooks.surveys.optout import bp as survey_optout_bp; app.register_blueprint(survey_optout_bp)  # noqa: E702
    from webhooks.admin import bp as admin_bp

    app.register_blueprint(admin_bp)

    from webhooks.ops import install as install_ops

    install_ops(app)  # /healthz, /readyz, /metrics; request ids, one JSON log line per request, webhook counts

    from webhooks.people_errors import for_a_person, person_page

    @app.after_request
    def _safe_headers(response):
        """Every page, whoever made it (connect, callback, Boond configure, errors): not cached, no Referer carrying
        a link's token, not framed (the admin and survey pages set their own frame-ancestors)."""
        for name, value in SAFE_HEADERS.items():
            response.headers.setdefault(name, value)
        return response

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        if for_a_person() and exc.code in (404, 405, 500):  # a page for people, JSON for hosts and scripts
            return person_page(exc.code, "not_found" if exc.code in (404, 405) else "error")
        return jsonify(error=exc.name, message=exc.description), exc.code

    @app.errorhandler(Exception)
    def unexpected(exc: Exception):
        from webhooks.plain import is_unreadable_body, to_flask, unreadable_body

        from config.tenants import KeyMismatch

        if isinstance(exc, KeyMismatch):  # logged once with the tenant and the fix (config.tenants.parse)
            return jsonify(error="Service Unavailable", message="temporary failure, please retry"), 503
        if is_unreadable_body(exc):  # a malformed chunked body: the client's fault, and no traceback quoting it
            log.info("unreadable request body: %s", type(exc).__name__)
            return to_flask(unreadable_body())
        log.exception("unexpected error")
        if for_a_person():
            return person_page(503, "error")
        return jsonify(error="Service Unavailable", message="temporary failure, please retry"), 503

    return app
