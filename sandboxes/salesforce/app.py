"""Flask app factory of the Salesforce sandbox: one org with OAuth, REST, triggers, a control API and faults."""
from __future__ import annotations

from flask import Flask

from . import composite, control, control_opportunities, control_story, describe, oauth, pipeline, rest
from .state import SandboxConfig, SandboxState

__all__ = ["SandboxConfig", "SandboxState", "create_app"]


def create_app(config: SandboxConfig | None = None) -> Flask:
    """A fresh sandbox app; its state is app.extensions["salesforce_sandbox"]."""
    app = Flask("salesforce_sandbox", static_folder=None)
    app.json.sort_keys = False
    app.json.ensure_ascii = False
    app.extensions["salesforce_sandbox"] = SandboxState(config=config or SandboxConfig())
    for blueprint in (oauth.bp, rest.root, rest.bp, describe.bp, composite.bp, control.bp, control_story.bp,
                      control_opportunities.bp):
        app.register_blueprint(blueprint)
    app.register_error_handler(control.ControlError, control.control_error)
    pipeline.install(app)
    app.wsgi_app = describe.ApiVersions(app.wsgi_app)
    return app
