"""`intermission serve`: the web app under gunicorn, configured from deploy/gunicorn.conf.py when present."""
from __future__ import annotations

from pathlib import Path

from gunicorn.app.base import Application

from webhooks.app import create_app


class _Gunicorn(Application):
    def __init__(self, options: dict):
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        conf = Path(__file__).resolve().parent.parent / "deploy" / "gunicorn.conf.py"
        if conf.exists():
            self.load_config_from_file(str(conf))
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def init(self, parser, opts, args):
        return None

    def load(self):
        return create_app()


def serve(*, bind: str, workers: int) -> None:
    """Run gunicorn in the foreground (a public bind only behind a proxy: config/infra/web_bind.py)."""
    from config.infra.urls import exit_unless_operator_settings_pass
    from config.infra.web_bind import checked_bind

    checked_bind(bind)
    exit_unless_operator_settings_pass()
    _Gunicorn({"bind": bind, "workers": workers}).run()
