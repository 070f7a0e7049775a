"""The WSGI entry point: `gunicorn --config deploy/gunicorn.conf.py webhooks.wsgi:app` (see deploy/Procfile)."""
from webhooks.app import create_app

app = create_app()
