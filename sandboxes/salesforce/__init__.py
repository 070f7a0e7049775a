"""Salesforce sandbox: a small Flask app speaking Salesforce's OAuth, REST and trigger shapes (docs/SANDBOXES.md)."""
from .app import SandboxConfig, create_app

__all__ = ["SandboxConfig", "create_app"]
