"""Flask app factory of the BoondManager sandbox (real API shapes, control API, faults, webhooks)."""
from __future__ import annotations

from flask import Flask

from . import api, api_actions, api_marketplace, api_opportunities, control, control_marketplace, pipeline
from .state import SandboxConfig, SandboxState

__all__ = ["SandboxConfig", "SandboxState", "create_app"]


def create_app(config: SandboxConfig | None = None) -> Flask:
    """A fresh sandbox app; its state is app.extensions["boond_sandbox"]."""
    app = Flask("boond_sandbox", static_folder=None)
    app.json.sort_keys = False
    app.json.ensure_ascii = False
    app.extensions["boond_sandbox"] = SandboxState(config=config or SandboxConfig())
    app.register_blueprint(api.bp)
    app.register_blueprint(api_actions.bp)
    app.register_blueprint(control.bp)
    app.register_blueprint(api_marketplace.bp)
    app.register_blueprint(control_marketplace.bp)
    app.register_blueprint(api_opportunities.bp)  # issue #29: opportunities, technical data, positionings
    app.register_blueprint(api_opportunities.control_bp)
    pipeline.install(app)
    return app
