"""BoondManager sandbox: a small Flask app speaking Boond's API shapes (see docs/SANDBOXES.md)."""
from .app import SandboxConfig, create_app

__all__ = ["SandboxConfig", "create_app"]
